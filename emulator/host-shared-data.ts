// Shared data: get and set (with cas) in the VM's namespace of shared-data.ts's store.
import { WasmResult } from "./abi.ts";
import type { CountCall, HostContext, HostTable } from "./host-context.ts";

/** proxy_get_shared_data and proxy_set_shared_data. */
export function sharedDataFunctions(ctx: HostContext, count: CountCall): HostTable {
  const { mem } = ctx;
  return {
    proxy_get_shared_data: (kp: number, ks: number, ptrPtr: number, sizePtr: number, casPtr: number) => {
      count("proxy_get_shared_data");
      const key = mem.readBytes(kp, ks);
      if (key === null) return WasmResult.InvalidMemoryAccess;
      const e = ctx.sharedData.get(ctx.opts.vmId ?? "", key);
      if (!e) return WasmResult.NotFound;
      const r = mem.copyToPointerSize(e.value, ptrPtr, sizePtr);
      if (r !== WasmResult.Ok) return r;
      return mem.setWord(casPtr, e.cas) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_set_shared_data: (kp: number, ks: number, vp: number, vs: number, cas: number) => {
      count("proxy_set_shared_data");
      const key = mem.readBytes(kp, ks);
      const value = mem.read(vp, vs);
      if (key === null || value === null) return WasmResult.InvalidMemoryAccess;
      return ctx.sharedData.set(ctx.opts.vmId ?? "", key, value, cas >>> 0);
    },
  };
}

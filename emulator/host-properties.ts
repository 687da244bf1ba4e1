// Properties: proxy_get_property answers from properties.ts; proxy_set_property writes the stream's filter state.
import { WasmResult } from "./abi.ts";
import type { CountCall, HostContext, HostTable } from "./host-context.ts";

// Filter-state keys (wasm.<path>) by where the module keeps the path, checked byte for byte: a module passes
// the same constant on every request, and decoding it each time would put the emulator's cost in benchmarks.
const stateKeys = new Map<number, { path: Uint8Array; key: string }>();
function stateKey(u8: Uint8Array, ptr: number, size: number): string {
  const id = ptr * 4096 + (size & 4095);
  const hit = stateKeys.get(id);
  if (hit && hit.path.length === size) {
    let same = true;
    for (let i = 0; i < size; i++) if (hit.path[i] !== u8[ptr + i]) { same = false; break; }
    if (same) return hit.key;
  }
  const path = u8.slice(ptr, ptr + size);
  const key = `wasm.${Buffer.from(path).toString("latin1")}`;
  if (stateKeys.size >= 1024) stateKeys.clear();
  stateKeys.set(id, { path, key });
  return key;
}

/** proxy_get_property and proxy_set_property. */
export function propertyFunctions(ctx: HostContext, count: CountCall): HostTable {
  const { mem } = ctx;
  return {
    proxy_get_property: (pathPtr: number, pathSize: number, ptrPtr: number, sizePtr: number) => {
      count("proxy_get_property");
      const path = mem.readBytes(pathPtr, pathSize);
      if (path === null) return WasmResult.InvalidMemoryAccess;
      const v = ctx.properties.get(path, ctx.cur.plugin?.options, ctx.cur.stream);
      if (v === null) return WasmResult.NotFound;
      return mem.copyToPointerSize(v, ptrPtr, sizePtr);
    },
    proxy_set_property: (pathPtr: number, pathSize: number, valuePtr: number, valueSize: number) => {
      count("proxy_set_property");
      // Envoy keeps it as the stream's filter state wasm.<path> (bytes): NotFound outside a stream.
      const u8 = mem.u8();
      pathPtr >>>= 0; pathSize >>>= 0; valuePtr >>>= 0; valueSize >>>= 0;
      if (pathPtr + pathSize > u8.length || valuePtr + valueSize > u8.length) return WasmResult.InvalidMemoryAccess;
      const fs = ctx.cur.filterState;
      if (!fs) return WasmResult.NotFound;
      (fs.entries ??= []).push(stateKey(u8, pathPtr, pathSize), u8.slice(valuePtr, valuePtr + valueSize));
      return WasmResult.Ok;
    },
  };
}

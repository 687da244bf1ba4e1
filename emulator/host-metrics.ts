// Metrics: define, increment, record and get, on metrics.ts's table.
import { WasmResult } from "./abi.ts";
import type { CountCall, HostContext, HostTable } from "./host-context.ts";

/** proxy_define_metric, proxy_increment_metric, proxy_record_metric and proxy_get_metric. */
export function metricFunctions(ctx: HostContext, count: CountCall): HostTable {
  const { mem, metrics } = ctx;
  return {
    proxy_define_metric: (type: number, np: number, ns: number, idPtr: number) => {
      count("proxy_define_metric");
      // proxy-wasm-cpp-host reads the name before Envoy checks the type.
      const name = mem.readText(np, ns);
      if (name === null) return WasmResult.InvalidMemoryAccess;
      type >>>= 0;
      if (type > 2) return WasmResult.BadArgument;
      return mem.setWord(idPtr, metrics.define(type, name)) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_increment_metric: (id: number, offset: bigint) => {
      count("proxy_increment_metric");
      return metrics.increment(id >>> 0, offset);
    },
    proxy_record_metric: (id: number, value: bigint) => {
      count("proxy_record_metric");
      return metrics.record(id >>> 0, value);
    },
    proxy_get_metric: (id: number, resultPtr: number) => {
      count("proxy_get_metric");
      const m = metrics.get(id >>> 0);
      if (typeof m === "number") return m;
      return mem.setU64(resultPtr, m.value);
    },
  };
}

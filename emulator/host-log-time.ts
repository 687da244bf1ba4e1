// Logging and the clock: proxy_log (kept in Host.logs at or above HostOptions.logLevel) and the current time.
import { LogLevel, WasmResult } from "./abi.ts";
import type { CountCall, HostContext, HostTable } from "./host-context.ts";

/** proxy_log and proxy_get_current_time_nanoseconds. */
export function logTimeFunctions(ctx: HostContext, count: CountCall): HostTable {
  const { mem } = ctx;
  return {
    proxy_log: (level: number, ptr: number, size: number) => {
      count("proxy_log");
      if (level >>> 0 > 5) return WasmResult.BadArgument; // proxy-wasm-cpp-host: level > LogLevel::Max
      // It bounds-checks the message before Envoy drops it by level (the bytes are not looked at).
      if ((ptr >>> 0) + (size >>> 0) > mem.byteLength) return WasmResult.InvalidMemoryAccess;
      if (level < LogLevel.indexOf(ctx.opts.logLevel ?? "info")) return WasmResult.Ok;
      const msg = mem.readText(ptr, size);
      if (msg === null) return WasmResult.InvalidMemoryAccess;
      ctx.logs.push({ level: LogLevel[level], message: msg });
      return WasmResult.Ok;
    },
    proxy_get_current_time_nanoseconds: (resultPtr: number) => {
      count("proxy_get_current_time_nanoseconds");
      return mem.setU64(resultPtr, ctx.now());
    },
  };
}

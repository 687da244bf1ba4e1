// The host-function table: the module links only against the host functions Envoy registers
// (env.proxy_* for ABI 0.2.x and the WASI set); anything else fails to load, as in Envoy (1.38). Those
// Envoy registers but the emulator does not implement answer Unimplemented, the WASI ones ENOSYS.
// Each ABI area's functions are in a module of their own (host-headers.ts: header maps and buffers,
// host-properties.ts, host-shared-data.ts, host-metrics.ts, host-log-time.ts); hostFunctions composes them.
import { ProcExit, WasmResult } from "./abi.ts";
import type { CountCall, HostContext, HostTable } from "./host-context.ts";
import { bufferFunctions, headerFunctions } from "./host-headers.ts";
import { logTimeFunctions } from "./host-log-time.ts";
import { metricFunctions } from "./host-metrics.ts";
import { propertyFunctions } from "./host-properties.ts";
import { sharedDataFunctions } from "./host-shared-data.ts";


/** proxy-wasm-cpp-host's FOR_ALL_HOST_FUNCTIONS plus the ABI 0.2.0-specific ones. */
const HOST_FUNCTIONS = [
  "log", "get_status", "set_property", "get_property", "send_local_response", "get_shared_data",
  "set_shared_data", "register_shared_queue", "resolve_shared_queue", "dequeue_shared_queue",
  "enqueue_shared_queue", "get_header_map_value", "add_header_map_value", "replace_header_map_value",
  "remove_header_map_value", "get_header_map_pairs", "set_header_map_pairs", "get_header_map_size",
  "get_buffer_status", "get_buffer_bytes", "set_buffer_bytes", "http_call", "grpc_call", "grpc_stream",
  "grpc_close", "grpc_cancel", "grpc_send", "set_tick_period_milliseconds", "get_current_time_nanoseconds",
  "define_metric", "increment_metric", "record_metric", "get_metric", "set_effective_context", "done",
  "call_foreign_function",
  // ABI 0.2.0 only (0.1.0 would have get_configuration, continue_request/response, clear_route_cache).
  "continue_stream", "close_stream",
];
const WASI_FUNCTIONS = [
  "fd_write", "fd_read", "fd_seek", "fd_close", "fd_fdstat_get", "fd_fdstat_set_flags", "fd_fdstat_set_rights",
  "environ_get", "environ_sizes_get", "args_get", "args_sizes_get", "clock_time_get", "clock_res_get",
  "fd_advise", "fd_allocate", "fd_datasync", "fd_filestat_set_size", "fd_filestat_set_times", "fd_pread",
  "fd_pwrite", "fd_readdir", "fd_renumber", "fd_sync", "fd_tell", "path_create_directory",
  "path_filestat_set_times", "path_link", "path_readlink", "path_remove_directory", "path_rename",
  "path_symlink", "path_unlink_file", "sock_accept", "sock_recv", "sock_send", "sock_shutdown", "random_get",
  "sched_yield", "poll_oneoff", "proc_exit", "path_open", "fd_prestat_get", "fd_prestat_dir_name",
  "path_filestat_get", "fd_filestat_get",
];

/** The module's imports: every function Envoy registers, with fault injection and tracing per HostOptions. */
export function imports(module: WebAssembly.Module, ctx: HostContext): WebAssembly.Imports {
  const env: Record<string, Function> = {};
  const wasi: Record<string, Function> = {};
  for (const n of HOST_FUNCTIONS) env[`proxy_${n}`] = () => WasmResult.Unimplemented;
  for (const n of WASI_FUNCTIONS) wasi[n] = () => 52; // ENOSYS
  const count = counter(ctx);
  Object.assign(env, hostFunctions(ctx, count));
  const faults = ctx.opts.faults;
  if (faults) {
    const seen = new Map<string, number>();
    for (const [name, fn] of Object.entries(env)) {
      env[name] = (...args: any[]) => {
        const n = (seen.get(name) ?? 0) + 1;
        seen.set(name, n);
        const status = faults(name, n);
        if (status === undefined) return fn(...args);
        if (!Number.isInteger(status) || status < 0 || status > 0xffffffff) throw new Error(`faults("${name}", ${n}) returned ${status}, not a status`);
        count(name);
        return status;
      };
    }
  }
  if (ctx.opts.traceCalls) {
    for (const [name, fn] of Object.entries(env)) {
      env[name] = (...args: any[]) => {
        ctx.trace.push({ name, args: args.map((a) => Number(a)) });
        return fn(...args);
      };
    }
  }
  wasi.proc_exit = (code: number) => { throw new ProcExit(code); };
  const needed = WebAssembly.Module.imports(module);
  for (const imp of needed) {
    const table = imp.module === "env" ? env : imp.module === "wasi_unstable" || imp.module === "wasi_snapshot_preview1" ? wasi : null;
    if (!table || !(imp.name in table)) {
      throw new Error(`Failed to load Wasm module due to a missing import: ${imp.module}.${imp.name}`);
    }
  }
  return { env, wasi_unstable: wasi, wasi_snapshot_preview1: wasi };
}

/** Counts host calls by name in Host.calls when HostOptions.countCalls is set. */
function counter(ctx: HostContext): CountCall {
  return (name) => {
    if (ctx.opts.countCalls) ctx.calls.set(name, (ctx.calls.get(name) ?? 0) + 1);
  };
}

/** The host functions the emulator implements, area by area; the rest of Envoy's answer Unimplemented. */
function hostFunctions(ctx: HostContext, count: CountCall): HostTable {
  return {
    ...logTimeFunctions(ctx, count),
    ...propertyFunctions(ctx, count),
    ...bufferFunctions(ctx, count),
    ...headerFunctions(ctx, count),
    ...metricFunctions(ctx, count),
    ...sharedDataFunctions(ctx, count),
  };
}

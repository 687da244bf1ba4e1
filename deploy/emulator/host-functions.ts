// The host-function table: the module links only against the host functions Envoy registers
// (env.proxy_* for ABI 0.2.x and the WASI set); anything else fails to load, as in Envoy (1.38). Those
// Envoy registers but the emulator does not implement answer Unimplemented, the WASI ones ENOSYS.
import { LogLevel, ProcExit, WasmResult } from "./abi.ts";
import { firstValue, readKey, readValue, removeAll, type HeaderStrings, type HeldHeader } from "./headers.ts";
import type { ModuleMemory } from "./memory.ts";
import type { Metrics } from "./metrics.ts";
import type { Properties } from "./properties.ts";
import type { SharedData } from "./shared-data.ts";
import type { HostOptions, LogLine, PluginOptions, StreamOptions } from "./types.ts";

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

/** What the module may see during the call in progress (a lifecycle callback of the Host). */
export interface CallState {
  headers?: HeldHeader[];
  /** A key with a byte >= 0x80 or a value held as bytes: RequestResult.headers needs converting. */
  convert?: boolean;
  mutations: number;
  /** The plugin whose callback runs (its options answer the plugin_* properties). */
  plugin?: { readonly options: PluginOptions };
  stream?: StreamOptions;
  vmConfiguration?: Uint8Array | null;
  pluginConfiguration?: Uint8Array | null;
  /** During on_response_headers: the response header map (the request's is gone). */
  responseHeaders?: HeldHeader[];
  /** The stream's filter state (set_property), in stream callbacks only. */
  filterState?: FilterState;
}

/** A stream's filter state: keys and values in the order set (a later set of a key wins); made on the first
 *  set_property (most streams have none). */
export interface FilterState { entries?: (string | Uint8Array)[] }

/** The Host's state the host functions work on, shared by reference; `cur` changes with every call. */
export interface HostContext {
  readonly opts: HostOptions;
  readonly mem: ModuleMemory;
  cur: CallState;
  readonly headers: HeaderStrings;
  readonly properties: Properties;
  readonly metrics: Metrics;
  readonly sharedData: SharedData;
  readonly logs: LogLine[];
  readonly calls: Map<string, number>;
  readonly trace: { name: string; args: number[] }[];
  now(): bigint;
}

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
function counter(ctx: HostContext): (name: string) => void {
  return (name) => {
    if (ctx.opts.countCalls) ctx.calls.set(name, (ctx.calls.get(name) ?? 0) + 1);
  };
}

function headerMap(ctx: HostContext, type: number): HeldHeader[] | null {
  // 0 request headers, 2 response headers, each only in its own callback; others are not available to
  // this emulator's streams (Envoy: NotFound/BadArgument).
  if (type > 7) return null;
  if (type === 0 && ctx.cur.headers) return ctx.cur.headers;
  if (type === 2 && ctx.cur.responseHeaders) return ctx.cur.responseHeaders;
  return null;
}

// Buffer 6 is the VM configuration (only during on_vm_start), 7 the plugin configuration (only during
// on_configure).
function buffer(ctx: HostContext, type: number): Uint8Array | null | undefined {
  return type === 6 ? ctx.cur.vmConfiguration : type === 7 ? ctx.cur.pluginConfiguration : undefined;
}

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

function hostFunctions(ctx: HostContext, count: (name: string) => void): Record<string, Function> {
  const { mem, headers, metrics } = ctx;
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
    proxy_get_buffer_bytes: (type: number, start: number, length: number, ptrPtr: number, sizePtr: number) => {
      count("proxy_get_buffer_bytes");
      if (type > 8) return WasmResult.BadArgument;
      const buf = buffer(ctx, type);
      if (buf === undefined || buf === null) return WasmResult.NotFound;
      start >>>= 0; length >>>= 0;
      if (start > start + length) return WasmResult.BadArgument;
      if (start > buf.length) length = 0;
      else if (start + length > buf.length) length = buf.length - start;
      return mem.copyToPointerSize(buf.subarray(start, start + length), ptrPtr, sizePtr);
    },
    proxy_get_buffer_status: (type: number, lengthPtr: number, flagsPtr: number) => {
      count("proxy_get_buffer_status");
      const buf = buffer(ctx, type);
      if (!buf) return WasmResult.NotFound;
      if (!mem.setWord(lengthPtr, buf.length) || !mem.setWord(flagsPtr, 0)) return WasmResult.InvalidMemoryAccess;
      return WasmResult.Ok;
    },
    proxy_get_header_map_pairs: (type: number, ptrPtr: number, sizePtr: number) => {
      count("proxy_get_header_map_pairs");
      const map = headerMap(ctx, type);
      if (map === null) return WasmResult.BadArgument;
      if (map.length === 0) return mem.copyToPointerSize(new Uint8Array(0), ptrPtr, sizePtr);
      return headers.writePairs(mem, map, ptrPtr, sizePtr);
    },
    proxy_get_header_map_value: (type: number, kp: number, ks: number, ptrPtr: number, sizePtr: number) => {
      count("proxy_get_header_map_value");
      const map = headerMap(ctx, type);
      const key = readKey(mem, ctx.cur, kp, ks);
      if (map === null) return WasmResult.BadArgument;
      if (key === null) return WasmResult.InvalidMemoryAccess;
      const v = firstValue(map, key);
      if (v === undefined) return WasmResult.NotFound;
      return mem.copyToPointerSize(headers.bytes(v), ptrPtr, sizePtr);
    },
    proxy_get_header_map_size: (type: number, sizePtr: number) => {
      count("proxy_get_header_map_size");
      const map = headerMap(ctx, type);
      if (map === null) return WasmResult.BadArgument;
      return mem.setWord(sizePtr, headers.byteSize(map)) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_add_header_map_value: (type: number, kp: number, ks: number, vp: number, vs: number) => {
      count("proxy_add_header_map_value");
      return setHeader(ctx, type, kp, ks, vp, vs, false);
    },
    proxy_replace_header_map_value: (type: number, kp: number, ks: number, vp: number, vs: number) => {
      count("proxy_replace_header_map_value");
      return setHeader(ctx, type, kp, ks, vp, vs, true);
    },
    proxy_remove_header_map_value: (type: number, kp: number, ks: number) => {
      count("proxy_remove_header_map_value");
      const map = headerMap(ctx, type);
      const key = readKey(mem, ctx.cur, kp, ks);
      if (map === null) return WasmResult.BadArgument;
      if (key === null) return WasmResult.InvalidMemoryAccess;
      removeAll(map, key);
      ctx.cur.mutations++;
      return WasmResult.Ok;
    },
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
    proxy_get_current_time_nanoseconds: (resultPtr: number) => {
      count("proxy_get_current_time_nanoseconds");
      return mem.setU64(resultPtr, ctx.now());
    },
  };
}

/** add_header_map_value appends; replace_header_map_value first removes every value of the key. */
function setHeader(ctx: HostContext, type: number, kp: number, ks: number, vp: number, vs: number, replace: boolean): number {
  const map = headerMap(ctx, type);
  const key = readKey(ctx.mem, ctx.cur, kp, ks);
  const value = readValue(ctx.mem, ctx.cur, vp, vs);
  if (map === null) return WasmResult.BadArgument;
  if (key === null || value === null) return WasmResult.InvalidMemoryAccess;
  if (replace) removeAll(map, key);
  map.push([key, value]);
  ctx.cur.mutations++;
  return WasmResult.Ok;
}

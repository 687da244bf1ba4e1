// A proxy-wasm host that behaves like Envoy (proxy-wasm-cpp-host + Envoy's Wasm context) for ABI 0.2.x,
// quirks included, so that tests, the benchmark, the fuzzer and the demo all drive the built .wasm the
// way a sidecar would:
//  - the module links only against the host functions Envoy registers (env.proxy_* for ABI 0.2.x and the
//    WASI set); anything else fails to load, as in Envoy;
//  - data returned to the module goes through its exported `malloc`; empty data is written as pointer 0,
//    size 0 without calling malloc; a bad out-pointer yields InvalidMemoryAccess;
//  - header maps are lists of (lowercase key, value) pairs; get_header_map_value returns only the first
//    value; replace removes every value and adds one; pairs use the wire format
//    u32 count, count × (u32 key_len, u32 value_len), then each key and value NUL-terminated;
//  - properties are paths with "\0" separators; listener_direction is an 8-byte little-endian integer;
//  - buffer 6 is the VM configuration (only during on_vm_start), 7 the plugin configuration (only during
//    on_configure);
//  - shared data (get/set_shared_data) is one store per vm_id shared by every VM (worker) of the process
//    that is handed the same SharedData: no expiry, no delete, cas numbers from one counter, a set with
//    a stale non-zero cas fails with CasMismatch; node metadata is read as node.metadata.<key>...; the
//    clock (get_current_time_nanoseconds) is settable;
//  - a trap or proc_exit marks the VM failed: from then on every request fails closed (503), or passes
//    untouched when the plugin is fail-open; a plugin whose on_configure returned false does the same.
import { readFileSync } from "node:fs";

export const WasmResult = {
  Ok: 0, NotFound: 1, BadArgument: 2, SerializationFailure: 3, ParseFailure: 4, BadExpression: 5,
  InvalidMemoryAccess: 6, Empty: 7, CasMismatch: 8, ResultMismatch: 9, InternalFailure: 10,
  BrokenConnection: 11, Unimplemented: 12,
} as const;

export const LogLevel = ["trace", "debug", "info", "warn", "error", "critical"] as const;
export type Header = [string, string];

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

export class ProcExit extends Error {
  constructor(public code: number) { super(`proc_exit(${code})`); }
}

export interface PluginOptions {
  /** Plugin configuration bytes as Envoy delivers them (Istio's pluginConfig, ASM's parameters). */
  configuration?: string | Uint8Array;
  /** Envoy's root_id (Istio pluginName, ASM rootID). */
  rootId?: string;
  name?: string;
  /** Envoy's fail_open (Istio failStrategy FAIL_OPEN): a failed VM or plugin lets requests through. */
  failOpen?: boolean;
}

export interface StreamOptions {
  /** listener_direction: 1 inbound, 2 outbound (sidecars and gateways), 0 or undefined: not set. */
  listenerDirection?: number;
}

export interface RequestResult {
  /** "continue": the filter chain goes on; "failed": the VM or plugin is failed and the request is refused
   *  (503) unless fail-open, in which case it passes untouched ("passed-failed"). */
  outcome: "continue" | "stop" | "failed" | "passed-failed";
  headers: Header[];
  /** Header-map mutations the filter made (Envoy clears the route cache on any of them for ABI <= 0.2.1). */
  mutations: number;
}

export interface LogLine { level: (typeof LogLevel)[number]; message: string }

export class Plugin {
  failed = false;
  constructor(public readonly host: Host, public readonly rootContextId: number, public readonly options: PluginOptions) {}

  /** One request through this plugin's filter: headers in, headers out. */
  request(headers: Header[], opts: StreamOptions = {}): RequestResult {
    return this.host.runRequest(this, headers, opts);
  }
}

interface CallState {
  headers?: Header[];
  mutations: number;
  plugin?: Plugin;
  stream?: StreamOptions;
  vmConfiguration?: Uint8Array | null;
  pluginConfiguration?: Uint8Array | null;
}

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: false });
const latin1 = new TextDecoder("latin1"); // exact for ASCII, and fast
const bytes = (s: string | Uint8Array) => (typeof s === "string" ? enc.encode(s) : s);

const directionCache = new Map<number, Uint8Array>();
function directionBytes(d: number): Uint8Array {
  let b = directionCache.get(d);
  if (!b) {
    b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, BigInt(d), true);
    directionCache.set(d, b);
  }
  return b;
}

// Envoy hands header bytes to the module with a memcpy. To keep the emulator's own cost from drowning
// the module's in benchmarks, encoded strings are cached (bounded: cleared when it fills up).
const encodeCache = new Map<string, Uint8Array>();
function encodeCached(s: string): Uint8Array {
  let b = encodeCache.get(s);
  if (b === undefined) {
    b = enc.encode(s);
    if (encodeCache.size >= 4096) encodeCache.clear();
    encodeCache.set(s, b);
  }
  return b;
}

export interface HostOptions {
  vmConfiguration?: string;
  vmId?: string;
  /** Count host calls by name (for tests that pin what the request path does). */
  countCalls?: boolean;
  /** Record every host call with its arguments in `trace`. */
  traceCalls?: boolean;
  /** Envoy's log level for Wasm (default info): lower levels are dropped without reading the message. */
  logLevel?: (typeof LogLevel)[number];
  /** The shared data store; pass one to several Hosts to make them workers of one proxy. */
  sharedData?: SharedData;
  /** Envoy's node.metadata (Istio puts the pod's labels under LABELS). */
  nodeMetadata?: Record<string, unknown>;
}

/**
 * Envoy's process-wide shared data (proxy-wasm-cpp-host SharedData): key -> (value, cas) per vm_id. Hand
 * one instance to several Hosts to emulate the workers of one sidecar.
 */
export class SharedData {
  private data = new Map<string, Map<string, { value: Uint8Array; cas: number }>>();
  private nextCasValue = 1;

  private nextCas(): number {
    const c = this.nextCasValue;
    this.nextCasValue = (this.nextCasValue + 1) >>> 0 || 1; // wraps, skipping 0 (0 means "no cas")
    return c;
  }

  get(vmId: string, key: string): { value: Uint8Array; cas: number } | undefined {
    return this.data.get(vmId)?.get(key);
  }

  set(vmId: string, key: string, value: Uint8Array, cas: number): number {
    let map = this.data.get(vmId);
    if (!map) this.data.set(vmId, (map = new Map()));
    const cur = map.get(key);
    if (cur && cas !== 0 && cas !== cur.cas) return WasmResult.CasMismatch;
    map.set(key, { value: value.slice(), cas: this.nextCas() });
    return WasmResult.Ok;
  }

  /** Number of keys and bytes (keys + values) held for a vm_id. */
  usage(vmId = ""): { keys: number; bytes: number } {
    const map = this.data.get(vmId);
    let bytes = 0;
    for (const [k, v] of map ?? []) bytes += enc.encode(k).length + v.value.length;
    return { keys: map?.size ?? 0, bytes };
  }

  keys(vmId = ""): string[] { return [...(this.data.get(vmId)?.keys() ?? [])]; }
}

export class Host {
  /** Nanoseconds since the epoch, as get_current_time_nanoseconds returns them; tests may set it. */
  now: () => bigint = () => BigInt(Date.now()) * 1_000_000n;
  readonly sharedData: SharedData;
  readonly logs: LogLine[] = [];
  readonly metrics = new Map<string, { id: number; type: number; value: bigint }>();
  readonly calls = new Map<string, number>();
  readonly trace: { name: string; args: number[] }[] = [];
  /** Set when the VM trapped or called proc_exit: Envoy marks it failed for good. */
  vmFailed: string | null = null;
  private metricById = new Map<number, string>();
  private nextContextId = 1;
  private instance!: WebAssembly.Instance;
  private memory!: WebAssembly.Memory;
  private ex!: Record<string, any>;
  private cur: CallState = { mutations: 0 };
  private plugins: Plugin[] = [];

  private constructor(private readonly opts: HostOptions) {
    this.sharedData = opts.sharedData ?? new SharedData();
  }

  static async load(wasm: string | Uint8Array, opts: HostOptions = {}): Promise<Host> {
    const host = new Host(opts);
    const code = new Uint8Array(typeof wasm === "string" ? readFileSync(wasm) : wasm);
    const module = await WebAssembly.compile(code);
    host.instance = await WebAssembly.instantiate(module, host.imports(module));
    host.ex = host.instance.exports as Record<string, any>;
    host.memory = host.ex.memory;
    if (!(host.memory instanceof WebAssembly.Memory)) throw new Error("module exports no memory");
    const abi = WebAssembly.Module.exports(module).map((e) => e.name).filter((n) => n.startsWith("proxy_abi_version_"));
    if (abi.length !== 1 || !["proxy_abi_version_0_2_0", "proxy_abi_version_0_2_1"].includes(abi[0])) {
      throw new Error(`module must export exactly one ABI 0.2.x version, found: ${abi.join(", ") || "none"}`);
    }
    if (!host.ex.malloc && !host.ex.proxy_on_memory_allocate) throw new Error("Wasm module is missing malloc function.");
    if (host.ex._initialize) host.call("_initialize");
    else if (host.ex._start) host.call("_start");
    return host;
  }

  /** Linear memory size in bytes. */
  memoryBytes(): number { return this.memory.buffer.byteLength; }

  /**
   * Creates a root context for a plugin and configures it, as Envoy does when a filter config arrives:
   * on_context_create(root, 0), on_vm_start, on_configure. Returns the plugin; `plugin.failed` tells
   * whether configure failed.
   */
  configure(options: PluginOptions = {}): Plugin {
    const id = this.nextContextId++;
    const plugin = new Plugin(this, id, { rootId: "lane-tag", name: "lane-tag", ...options });
    this.plugins.push(plugin);
    if (this.vmFailed) { plugin.failed = true; return plugin; }
    const config = options.configuration === undefined ? new Uint8Array(0) : bytes(options.configuration);
    this.cur = { mutations: 0, plugin };
    this.call("proxy_on_context_create", id, 0);
    if (!this.vmFailed && this.ex.proxy_on_vm_start) {
      const vmc = bytes(this.opts.vmConfiguration ?? "");
      this.cur = { mutations: 0, plugin, vmConfiguration: vmc };
      const ok = this.call("proxy_on_vm_start", id, vmc.length);
      if (ok === 0) plugin.failed = true;
    }
    if (!this.vmFailed && !plugin.failed && this.ex.proxy_on_configure) {
      this.cur = { mutations: 0, plugin, pluginConfiguration: config };
      const ok = this.call("proxy_on_configure", id, config.length);
      if (ok === 0) plugin.failed = true;
    }
    if (this.vmFailed) plugin.failed = true;
    this.cur = { mutations: 0 };
    return plugin;
  }

  /** Deletes a plugin's root context (config update or removal). */
  removePlugin(plugin: Plugin): void {
    if (this.vmFailed) return;
    this.cur = { mutations: 0, plugin };
    if (this.ex.proxy_on_done) this.call("proxy_on_done", plugin.rootContextId);
    if (this.ex.proxy_on_delete) this.call("proxy_on_delete", plugin.rootContextId);
    this.cur = { mutations: 0 };
  }

  runRequest(plugin: Plugin, headers: Header[], stream: StreamOptions): RequestResult {
    const copy: Header[] = headers.map(([k, v]) => [k.toLowerCase(), v]);
    if (this.vmFailed || plugin.failed) {
      return { outcome: plugin.options.failOpen ? "passed-failed" : "failed", headers: copy, mutations: 0 };
    }
    const id = this.nextContextId++;
    this.cur = { headers: copy, mutations: 0, plugin, stream };
    let status = 0;
    this.call("proxy_on_context_create", id, plugin.rootContextId);
    if (!this.vmFailed && this.ex.proxy_on_request_headers) {
      status = this.call("proxy_on_request_headers", id, copy.length, 0) ?? 0;
    }
    const mutations = this.cur.mutations;
    if (!this.vmFailed) {
      this.cur = { headers: copy, mutations: 0, plugin, stream };
      if (this.ex.proxy_on_done) this.call("proxy_on_done", id);
      if (!this.vmFailed && this.ex.proxy_on_log) this.call("proxy_on_log", id);
      if (!this.vmFailed && this.ex.proxy_on_delete) this.call("proxy_on_delete", id);
    }
    this.cur = { mutations: 0 };
    if (this.vmFailed) {
      // The stream that hit the trap is reset; later ones fail per the plugin's fail-open setting.
      return { outcome: "failed", headers: copy, mutations };
    }
    return { outcome: status === 0 ? "continue" : "stop", headers: copy, mutations };
  }

  /** Counter value by name, as Envoy would show it (without the wasmcustom. prefix). */
  counter(name: string): number {
    return Number(this.metrics.get(name)?.value ?? 0n);
  }

  private call(name: string, ...args: number[]): number | undefined {
    try {
      const r = this.ex[name](...args);
      return typeof r === "bigint" ? Number(r) : r;
    } catch (e) {
      this.vmFailed = e instanceof ProcExit ? `proc_exit(${e.code}) in ${name}` : `trap in ${name}: ${(e as Error).message}`;
      this.logs.push({ level: "critical", message: `Function: ${name} failed: ${this.vmFailed}` });
      return undefined;
    }
  }

  // ---- memory helpers (proxy-wasm-cpp-host's getMemory/setWord/copyToPointerSize) --------------------

  // Views are cached and remade when memory grows (growth detaches the old ArrayBuffer).
  private viewBuf: ArrayBuffer | null = null;
  private dv!: DataView;
  private bytes!: Uint8Array;
  private refresh(): void {
    if (this.viewBuf !== this.memory.buffer) {
      this.viewBuf = this.memory.buffer;
      this.dv = new DataView(this.viewBuf);
      this.bytes = new Uint8Array(this.viewBuf);
    }
  }
  private view(): DataView { this.refresh(); return this.dv; }
  private u8(): Uint8Array { this.refresh(); return this.bytes; }

  private read(ptr: number, size: number): Uint8Array | null {
    ptr >>>= 0; size >>>= 0;
    if (ptr + size > this.memory.buffer.byteLength) return null;
    return new Uint8Array(this.memory.buffer, ptr, size).slice();
  }

  private readString(ptr: number, size: number): string | null {
    ptr >>>= 0; size >>>= 0;
    if (ptr + size > this.memory.buffer.byteLength) return null;
    const u8 = this.u8();
    let ascii = true;
    for (let i = 0; i < size && ascii; i++) ascii = u8[ptr + i] < 0x80;
    if (!ascii) return dec.decode(u8.subarray(ptr, ptr + size));
    let out = "";
    if (size <= 64) {
      for (let i = 0; i < size; i++) out += String.fromCharCode(u8[ptr + i]);
      return out;
    }
    return latin1.decode(u8.subarray(ptr, ptr + size));
  }

  private setWord(ptr: number, value: number): boolean {
    ptr >>>= 0;
    if (ptr + 4 > this.memory.buffer.byteLength) return false;
    this.view().setUint32(ptr, value >>> 0, true);
    return true;
  }

  private copyToPointerSize(data: Uint8Array, ptrPtr: number, sizePtr: number): number {
    let ptr = 0;
    if (data.length > 0) {
      ptr = this.alloc(data.length);
      if (ptr === 0) return WasmResult.InvalidMemoryAccess;
      this.u8().set(data, ptr);
    }
    if (!this.setWord(ptrPtr, ptr) || !this.setWord(sizePtr, data.length)) return WasmResult.InvalidMemoryAccess;
    return WasmResult.Ok;
  }

  private alloc(size: number): number {
    const fn = this.ex.malloc ?? this.ex.proxy_on_memory_allocate;
    const p = fn(size) >>> 0; // a trap here propagates out of the host call, as in Envoy
    if (p === 0 || p + size > this.memory.buffer.byteLength) return 0;
    return p;
  }

  private count(name: string) {
    if (this.opts.countCalls) this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
  }

  // ---- header maps ---------------------------------------------------------------------------------------

  private headerMap(type: number): Header[] | null {
    // 0 request headers; others are not available to this emulator's streams (Envoy: NotFound/BadArgument).
    if (type > 7) return null;
    if (type === 0 && this.cur.headers) return this.cur.headers;
    return null;
  }

  /** Writes the pairs in Envoy's wire format straight into module memory (via malloc). */
  private writePairs(pairs: Header[], ptrPtr: number, sizePtr: number): number {
    const enc: Uint8Array[] = new Array(pairs.length * 2);
    let size = 4;
    for (let i = 0; i < pairs.length; i++) {
      enc[2 * i] = encodeCached(pairs[i][0]);
      enc[2 * i + 1] = encodeCached(pairs[i][1]);
      size += 8 + enc[2 * i].length + 1 + enc[2 * i + 1].length + 1;
    }
    const ptr = this.alloc(size);
    if (ptr === 0) return WasmResult.InvalidMemoryAccess;
    const u8 = this.u8();
    const dv = this.view();
    dv.setUint32(ptr, pairs.length, true);
    let p = ptr + 4 + 8 * pairs.length;
    for (let i = 0; i < pairs.length; i++) {
      const k = enc[2 * i], v = enc[2 * i + 1];
      dv.setUint32(ptr + 4 + 8 * i, k.length, true);
      dv.setUint32(ptr + 8 + 8 * i, v.length, true);
      u8.set(k, p); p += k.length; u8[p++] = 0;
      u8.set(v, p); p += v.length; u8[p++] = 0;
    }
    if (!this.setWord(ptrPtr, ptr) || !this.setWord(sizePtr, size)) return WasmResult.InvalidMemoryAccess;
    return WasmResult.Ok;
  }

  // ---- properties ----------------------------------------------------------------------------------------

  private property(parts: string[]): Uint8Array | null {
    const plugin = this.cur.plugin;
    switch (parts.join(".")) {
      case "listener_direction": {
        const d = this.cur.stream?.listenerDirection;
        if (d === undefined || d === 0) return null; // plain Envoy: traffic_direction unset
        return directionBytes(d);
      }
      case "plugin_root_id": return plugin ? enc.encode(plugin.options.rootId ?? "") : null;
      case "plugin_name": return plugin ? enc.encode(plugin.options.name ?? "") : null;
      case "plugin_vm_id": return enc.encode(this.opts.vmId ?? "");
      default: {
        // node.metadata is a protobuf Struct: Envoy walks it field by field; a string leaf comes back as
        // its bytes, a number as an 8-byte double; anything else is not emulated (NotFound).
        if (parts.length < 3 || parts[0] !== "node" || parts[1] !== "metadata") return null;
        let v: unknown = this.opts.nodeMetadata;
        for (const part of parts.slice(2)) {
          if (v === null || typeof v !== "object" || !(part in (v as object))) return null;
          v = (v as Record<string, unknown>)[part];
        }
        if (typeof v === "string") return enc.encode(v);
        if (typeof v === "number") {
          const b = new Uint8Array(8);
          new DataView(b.buffer).setFloat64(0, v, true);
          return b;
        }
        return null;
      }
    }
  }

  // ---- imports -------------------------------------------------------------------------------------------

  private imports(module: WebAssembly.Module): WebAssembly.Imports {
    const env: Record<string, Function> = {};
    const wasi: Record<string, Function> = {};
    for (const n of HOST_FUNCTIONS) env[`proxy_${n}`] = () => WasmResult.Unimplemented;
    for (const n of WASI_FUNCTIONS) wasi[n] = () => 52; // ENOSYS
    Object.assign(env, this.hostFunctions());
    if (this.opts.traceCalls) {
      for (const [name, fn] of Object.entries(env)) {
        env[name] = (...args: any[]) => {
          this.trace.push({ name, args: args.map((a) => Number(a)) });
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

  private hostFunctions(): Record<string, Function> {
    return {
      proxy_log: (level: number, ptr: number, size: number) => {
        this.count("proxy_log");
        if (level < LogLevel.indexOf(this.opts.logLevel ?? "info")) return WasmResult.Ok;
        const msg = this.readString(ptr, size);
        if (msg === null) return WasmResult.InvalidMemoryAccess;
        this.logs.push({ level: LogLevel[level] ?? "critical", message: msg });
        return WasmResult.Ok;
      },
      proxy_get_property: (pathPtr: number, pathSize: number, ptrPtr: number, sizePtr: number) => {
        this.count("proxy_get_property");
        const raw = this.readString(pathPtr, pathSize);
        if (raw === null) return WasmResult.InvalidMemoryAccess;
        const v = this.property(raw.split("\0"));
        if (v === null) return WasmResult.NotFound;
        return this.copyToPointerSize(v, ptrPtr, sizePtr);
      },
      proxy_get_buffer_bytes: (type: number, start: number, length: number, ptrPtr: number, sizePtr: number) => {
        this.count("proxy_get_buffer_bytes");
        if (type > 8) return WasmResult.BadArgument;
        const buf = type === 6 ? this.cur.vmConfiguration : type === 7 ? this.cur.pluginConfiguration : undefined;
        if (buf === undefined || buf === null) return WasmResult.NotFound;
        start >>>= 0; length >>>= 0;
        if (start > start + length) return WasmResult.BadArgument;
        if (start > buf.length) length = 0;
        else if (start + length > buf.length) length = buf.length - start;
        return this.copyToPointerSize(buf.subarray(start, start + length), ptrPtr, sizePtr);
      },
      proxy_get_buffer_status: (type: number, lengthPtr: number, flagsPtr: number) => {
        this.count("proxy_get_buffer_status");
        const buf = type === 6 ? this.cur.vmConfiguration : type === 7 ? this.cur.pluginConfiguration : undefined;
        if (!buf) return WasmResult.NotFound;
        if (!this.setWord(lengthPtr, buf.length) || !this.setWord(flagsPtr, 0)) return WasmResult.InvalidMemoryAccess;
        return WasmResult.Ok;
      },
      proxy_get_header_map_pairs: (type: number, ptrPtr: number, sizePtr: number) => {
        this.count("proxy_get_header_map_pairs");
        const map = this.headerMap(type);
        if (map === null) return WasmResult.BadArgument;
        if (map.length === 0) return this.copyToPointerSize(new Uint8Array(0), ptrPtr, sizePtr);
        return this.writePairs(map, ptrPtr, sizePtr);
      },
      proxy_get_header_map_value: (type: number, kp: number, ks: number, ptrPtr: number, sizePtr: number) => {
        this.count("proxy_get_header_map_value");
        const map = this.headerMap(type);
        const key = this.readString(kp, ks);
        if (map === null) return WasmResult.BadArgument;
        if (key === null) return WasmResult.InvalidMemoryAccess;
        const first = map.find(([k]) => k === key.toLowerCase());
        if (!first) return WasmResult.NotFound;
        return this.copyToPointerSize(enc.encode(first[1]), ptrPtr, sizePtr);
      },
      proxy_get_header_map_size: (type: number, sizePtr: number) => {
        this.count("proxy_get_header_map_size");
        const map = this.headerMap(type);
        if (map === null) return WasmResult.BadArgument;
        const size = map.reduce((n, [k, v]) => n + enc.encode(k).length + enc.encode(v).length, 0);
        return this.setWord(sizePtr, size) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
      },
      proxy_add_header_map_value: (type: number, kp: number, ks: number, vp: number, vs: number) => {
        this.count("proxy_add_header_map_value");
        const map = this.headerMap(type);
        const key = this.readString(kp, ks);
        const value = this.readString(vp, vs);
        if (map === null) return WasmResult.BadArgument;
        if (key === null || value === null) return WasmResult.InvalidMemoryAccess;
        map.push([key.toLowerCase(), value]);
        this.cur.mutations++;
        return WasmResult.Ok;
      },
      proxy_replace_header_map_value: (type: number, kp: number, ks: number, vp: number, vs: number) => {
        this.count("proxy_replace_header_map_value");
        const map = this.headerMap(type);
        const key = this.readString(kp, ks);
        const value = this.readString(vp, vs);
        if (map === null) return WasmResult.BadArgument;
        if (key === null || value === null) return WasmResult.InvalidMemoryAccess;
        const k = key.toLowerCase();
        for (let i = map.length - 1; i >= 0; i--) if (map[i][0] === k) map.splice(i, 1);
        map.push([k, value]);
        this.cur.mutations++;
        return WasmResult.Ok;
      },
      proxy_remove_header_map_value: (type: number, kp: number, ks: number) => {
        this.count("proxy_remove_header_map_value");
        const map = this.headerMap(type);
        const key = this.readString(kp, ks);
        if (map === null) return WasmResult.BadArgument;
        if (key === null) return WasmResult.InvalidMemoryAccess;
        const k = key.toLowerCase();
        for (let i = map.length - 1; i >= 0; i--) if (map[i][0] === k) map.splice(i, 1);
        this.cur.mutations++;
        return WasmResult.Ok;
      },
      proxy_define_metric: (type: number, np: number, ns: number, idPtr: number) => {
        this.count("proxy_define_metric");
        if (type > 2) return WasmResult.BadArgument;
        const name = this.readString(np, ns);
        if (name === null) return WasmResult.InvalidMemoryAccess;
        let m = this.metrics.get(name);
        if (!m) {
          m = { id: this.metrics.size * 4 + type, type, value: 0n };
          this.metrics.set(name, m);
          this.metricById.set(m.id, name);
        }
        return this.setWord(idPtr, m.id) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
      },
      proxy_increment_metric: (id: number, offset: bigint) => {
        this.count("proxy_increment_metric");
        const name = this.metricById.get(id >>> 0);
        if (name === undefined) return WasmResult.NotFound;
        const m = this.metrics.get(name)!;
        if (m.type === 0 && offset < 0n) return WasmResult.BadArgument;
        m.value += offset;
        return WasmResult.Ok;
      },
      proxy_record_metric: (id: number, value: bigint) => {
        this.count("proxy_record_metric");
        const name = this.metricById.get(id >>> 0);
        if (name === undefined) return WasmResult.NotFound;
        this.metrics.get(name)!.value = value;
        return WasmResult.Ok;
      },
      proxy_get_shared_data: (kp: number, ks: number, ptrPtr: number, sizePtr: number, casPtr: number) => {
        this.count("proxy_get_shared_data");
        const key = this.readString(kp, ks);
        if (key === null) return WasmResult.InvalidMemoryAccess;
        const e = this.sharedData.get(this.opts.vmId ?? "", key);
        if (!e) return WasmResult.NotFound;
        const r = this.copyToPointerSize(e.value, ptrPtr, sizePtr);
        if (r !== WasmResult.Ok) return r;
        return this.setWord(casPtr, e.cas) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
      },
      proxy_set_shared_data: (kp: number, ks: number, vp: number, vs: number, cas: number) => {
        this.count("proxy_set_shared_data");
        const key = this.readString(kp, ks);
        const value = this.read(vp, vs);
        if (key === null || value === null) return WasmResult.InvalidMemoryAccess;
        return this.sharedData.set(this.opts.vmId ?? "", key, value, cas >>> 0);
      },
      proxy_get_current_time_nanoseconds: (resultPtr: number) => {
        this.count("proxy_get_current_time_nanoseconds");
        if ((resultPtr >>> 0) + 8 > this.memory.buffer.byteLength) return WasmResult.InvalidMemoryAccess;
        this.view().setBigUint64(resultPtr >>> 0, this.now(), true);
        return WasmResult.Ok;
      },
      proxy_get_metric: (id: number, resultPtr: number) => {
        const name = this.metricById.get(id >>> 0);
        if (name === undefined) return WasmResult.NotFound;
        if ((resultPtr >>> 0) + 8 > this.memory.buffer.byteLength) return WasmResult.InvalidMemoryAccess;
        this.view().setBigUint64(resultPtr >>> 0, this.metrics.get(name)!.value, true);
        return WasmResult.Ok;
      },
    };
  }
}

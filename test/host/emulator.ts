// A proxy-wasm host that behaves like Envoy (proxy-wasm-cpp-host + Envoy's Wasm context) for ABI 0.2.x,
// quirks included, so that tests, the benchmark, the fuzzer and the demo all drive the built .wasm the
// way a sidecar would. Checked against Envoy's source/extensions/common/wasm/context.cc and
// filters/common/expr/context.cc of the 1.38-era main branch ("1.38" below) with the proxy-wasm-cpp-host
// it pins, and against Envoy ≤ 1.32 for the legacy property names ("≤1.32"):
//  - the module links only against the host functions Envoy registers (env.proxy_* for ABI 0.2.x and the
//    WASI set); anything else fails to load, as in Envoy (1.38);
//  - data returned to the module goes through its exported `malloc`; empty data is written as pointer 0,
//    size 0 without calling malloc; a bad out-pointer yields InvalidMemoryAccess (1.38);
//  - header maps are lists of (key, value) byte strings, as Envoy's HeaderString: values are passed byte
//    for byte (a BOM, UTF-8, obs-text all stay); keys are lowercased ASCII-only (LowerCaseString,
//    absl::AsciiStrToLower: bytes >= 0x80 untouched); get_header_map_value returns only the first value;
//    replace removes every value and adds one; get_header_map_size is the sum of key and value byte
//    lengths; pairs use the wire format u32 count, count × (u32 key_len, u32 value_len), then each key
//    and value NUL-terminated (1.38);
//  - properties are paths with "\0" separators, Int64 values 8 bytes little-endian. Envoy ≥ 1.33 answers
//    xds\0listener_direction (only during a stream) and xds\0node...; ≤1.32 answered listener_direction
//    (the plugin's, also at configure) and node... instead. plugin_root_id, plugin_name, plugin_vm_id in
//    both. A listener without traffic_direction gives 0 (8 zero bytes), not NotFound (1.38, ≤1.32);
//  - define_metric gives a new id on every call, even for a name already defined: type + 4·n, n counting
//    defines of that type from 1 (proxy-wasm-cpp-host pre-increments); ids defined with one name share
//    the stat, shown as wasmcustom.<name>; counters take only offsets > 0; record on a counter adds
//    (1.38);
//  - buffer 6 is the VM configuration (only during on_vm_start), 7 the plugin configuration (only during
//    on_configure);
//  - shared data (get/set_shared_data) is one store per vm_id shared by every VM (worker) of the process
//    that is handed the same SharedData: no expiry, no delete, cas numbers from one counter, a set with
//    a stale non-zero cas fails with CasMismatch; the clock (get_current_time_nanoseconds) is settable;
//  - a trap or proc_exit marks the VM failed: from then on every request fails closed (503), or passes
//    untouched when the plugin is fail-open; a plugin whose on_configure returned false does the same.
// Header strings given to and returned by `Plugin.request` are text (UTF-8 on the wire) by default, or
// byte strings (HostOptions.headerStrings "bytes", one char per byte as Node's http module has them);
// `RequestResult.raw` has the exact bytes either way.
import { readFileSync } from "node:fs";
import { isAscii } from "node:buffer";

export const WasmResult = {
  Ok: 0, NotFound: 1, BadArgument: 2, SerializationFailure: 3, ParseFailure: 4, BadExpression: 5,
  InvalidMemoryAccess: 6, Empty: 7, CasMismatch: 8, ResultMismatch: 9, InternalFailure: 10,
  BrokenConnection: 11, Unimplemented: 12,
} as const;

export const LogLevel = ["trace", "debug", "info", "warn", "error", "critical"] as const;
/** A header as RequestResult.headers gives it; strings per HostOptions.headerStrings. */
export type Header = [string, string];
/** A request header for Plugin.request: the value as a string (per headerStrings) or its exact bytes. */
export type HeaderInput = readonly [string, string | Uint8Array];
/** A header's exact bytes, as the next hop would receive them. */
export type RawHeader = [string, Uint8Array];

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
  /** The traffic_direction of the listener the plugin is on (1 inbound, 2 outbound, 0 or undefined:
   *  unset). Envoy ≤ 1.32 gave it as listener_direction, also at configure; a stream's own
   *  StreamOptions.listenerDirection takes precedence during requests. */
  listenerDirection?: number;
}

export interface StreamOptions {
  /** The stream's listener traffic_direction: 1 inbound, 2 outbound (sidecars and gateways); 0 or
   *  undefined: the listener sets none, which Envoy reports as 0 (8 zero bytes). */
  listenerDirection?: number;
}

export interface RequestResult {
  /** "continue": the filter chain goes on; "failed": the VM or plugin is failed and the request is refused
   *  (503) unless fail-open, in which case it passes untouched ("passed-failed"). */
  outcome: "continue" | "stop" | "failed" | "passed-failed";
  /** The resulting headers: text (UTF-8 decoded, a BOM kept, invalid UTF-8 as U+FFFD) or byte strings,
   *  per HostOptions.headerStrings. */
  headers: Header[];
  /** Header-map mutations the filter made (Envoy clears the route cache on any of them for ABI <= 0.2.1). */
  mutations: number;
  /** The resulting headers' exact bytes (names as in `headers`); computed on first read. */
  readonly raw: RawHeader[];
}

export interface LogLine { level: (typeof LogLevel)[number]; message: string }

/** A stat: one per type and name; every id defined with that name and type points at it. */
export interface Metric {
  name: string;
  /** The first id defined for it. */
  id: number;
  /** 0 counter, 1 gauge, 2 histogram. */
  type: number;
  /** Counter or gauge value; for a histogram the last recorded value (Envoy keeps a distribution). */
  value: bigint;
  /** Every id defined for it, in order. */
  ids: number[];
}

export class Plugin {
  failed = false;
  constructor(public readonly host: Host, public readonly rootContextId: number, public readonly options: PluginOptions) {}

  /** One request through this plugin's filter: headers in, headers out. */
  request(headers: readonly HeaderInput[], opts: StreamOptions = {}): RequestResult {
    return this.host.runRequest(this, headers, opts);
  }
}

/**
 * A header during a request. The key is a lowercased byte string. The value is a string as the caller
 * gave it (text in "utf8" mode, a byte string in "bytes" mode; so ASCII strings need no conversion), or
 * exact bytes: values given as bytes, and values the module wrote that are not ASCII.
 */
type HeldHeader = [string, string | Uint8Array];

interface CallState {
  headers?: HeldHeader[];
  /** A key with a byte >= 0x80 or a value held as bytes: RequestResult.headers needs converting. */
  convert?: boolean;
  mutations: number;
  plugin?: Plugin;
  stream?: StreamOptions;
  vmConfiguration?: Uint8Array | null;
  pluginConfiguration?: Uint8Array | null;
}

// ---- byte strings --------------------------------------------------------------------------------------
// Envoy carries header values, property paths and shared-data keys as raw bytes. Inside the emulator they
// are byte strings (one char per byte, 0-255); Buffer's "latin1" converts them exactly (TextDecoder's
// "latin1" label means windows-1252 in the Encoding Standard). ASCII strings are their own byte strings.

const enc = new TextEncoder();
// A leading U+FEFF is content (Envoy passes it on), so it is kept; invalid UTF-8 becomes U+FFFD.
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
const utf8Exact = new TextDecoder("utf-8", { ignoreBOM: true, fatal: true });
const bytes = (s: string | Uint8Array) => (typeof s === "string" ? enc.encode(s) : s);

function asciiScan(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}
/** Text -> the byte string of its UTF-8 encoding. */
const textToBytes = (s: string) => (asciiScan(s) ? s : Buffer.from(s, "utf8").toString("latin1"));
/** Byte string -> text: UTF-8, a BOM kept, invalid sequences U+FFFD. */
const bytesToText = (b: string) => (asciiScan(b) ? b : utf8.decode(Buffer.from(b, "latin1")));

function checkByteString(s: string, what: string): string {
  // Node's http module refuses such header strings too.
  if (/[^\x00-\xff]/.test(s)) throw new TypeError(`${what} ${JSON.stringify(s)} is not a byte string (headerStrings "bytes"): it has a char above \\xff`);
  return s;
}

/** absl::AsciiStrToLower: A-Z only (toLowerCase would also map bytes such as 0xC0 and U+00C0). */
function asciiLower(s: string): string {
  if (asciiScan(s)) return s.toLowerCase(); // identical to A-Z-only lowering on ASCII
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 32 : c);
  }
  return out;
}

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
// the module's in benchmarks, the bytes of strings are cached (bounded: cleared when it fills up), per
// reading: text (UTF-8) and byte strings ("latin1", exact ISO-8859-1).
const utf8Cache = new Map<string, Uint8Array>();
const latin1Cache = new Map<string, Uint8Array>();
function encodeCached(s: string, byteString: boolean): Uint8Array {
  const cache = byteString ? latin1Cache : utf8Cache;
  let b = cache.get(s);
  if (b === undefined) {
    b = byteString ? Buffer.from(s, "latin1") : enc.encode(s);
    if (cache.size >= 4096) cache.clear();
    cache.set(s, b);
  }
  return b;
}

function parseEnvoyVersion(v: unknown): number {
  const m = typeof v === "string" ? /^1\.(0|[1-9]\d{0,2})(?:\.(0|[1-9]\d{0,2}))?$/.exec(v) : null;
  if (!m) throw new Error(`HostOptions.envoy must be an Envoy version such as "1.32" or "1.38.0", not ${JSON.stringify(v)}`);
  return Number(m[1]);
}

export interface HostOptions {
  vmConfiguration?: string;
  vmId?: string;
  /** The Envoy version mimicked, "1.38" by default. "1.32" or lower answers the legacy property names
   *  (listener_direction, node...), "1.33" or higher the xds ones (xds\0listener_direction, xds\0node...). */
  envoy?: string;
  /** How Plugin.request's header strings are read and RequestResult.headers written: "utf8" (default)
   *  text, UTF-8 on the wire; "bytes" byte strings (one char per byte), as Node's http module has them. */
  headerStrings?: "utf8" | "bytes";
  /** Fault injection: asked before every env.proxy_* call with its name (e.g. "proxy_log") and how many
   *  calls of that name this Host has seen (1-based); a number it returns is the call's status, and the
   *  call is not made (no side effect); undefined lets it run. */
  faults?: (call: string, n: number) => number | undefined;
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
 * one instance to several Hosts to emulate the workers of one sidecar. Keys are byte strings (one char
 * per byte, as the module wrote them; an ASCII key is itself).
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
    for (const [k, v] of map ?? []) bytes += k.length + v.value.length;
    return { keys: map?.size ?? 0, bytes };
  }

  keys(vmId = ""): string[] { return [...(this.data.get(vmId)?.keys() ?? [])]; }
}

/** RequestResult with `raw` computed on demand, so requests that never read it do not pay for it. */
class Result implements RequestResult {
  #pairs: HeldHeader[];
  #byteStrings: boolean;
  #raw: RawHeader[] | undefined;
  constructor(public outcome: RequestResult["outcome"], public headers: Header[], public mutations: number, pairs: HeldHeader[], byteStrings: boolean) {
    this.#pairs = pairs;
    this.#byteStrings = byteStrings;
  }
  get raw(): RawHeader[] {
    const b = this.#byteStrings;
    return (this.#raw ??= this.#pairs.map(([k, v]): RawHeader =>
      [b ? k : bytesToText(k), new Uint8Array(typeof v === "string" ? encodeCached(v, b) : v)]));
  }
}

export class Host {
  /** Nanoseconds since the epoch, as get_current_time_nanoseconds returns them; tests may set it. */
  now: () => bigint = () => BigInt(Date.now()) * 1_000_000n;
  readonly sharedData: SharedData;
  readonly logs: LogLine[] = [];
  /** Stats by name (Envoy shows them as wasmcustom.<name>); a name defined with several types maps to
   *  the first one's stat. */
  readonly metrics = new Map<string, Metric>();
  readonly calls = new Map<string, number>();
  readonly trace: { name: string; args: number[] }[] = [];
  /** The Envoy version mimicked (HostOptions.envoy). */
  readonly envoy: string;
  /** Set when the VM trapped or called proc_exit: Envoy marks it failed for good. */
  vmFailed: string | null = null;
  private stats = new Map<string, Metric>(); // by type and name
  private metricById = new Map<number, Metric>();
  private metricsDefined = [0, 0, 0]; // per type: ids are type + 4 * n
  private readonly legacyProperties: boolean;
  private readonly byteStrings: boolean;
  // Request header name -> lowercased byte string, for ASCII names (few and reused).
  private readonly names = new Map<string, string>();
  private nextContextId = 1;
  private instance!: WebAssembly.Instance;
  private memory!: WebAssembly.Memory;
  private ex!: Record<string, any>;
  private cur: CallState = { mutations: 0 };
  private plugins: Plugin[] = [];

  private constructor(private readonly opts: HostOptions) {
    this.sharedData = opts.sharedData ?? new SharedData();
    this.envoy = opts.envoy ?? "1.38";
    this.legacyProperties = parseEnvoyVersion(this.envoy) <= 32;
    const hs = opts.headerStrings ?? "utf8";
    if (hs !== "utf8" && hs !== "bytes") throw new Error(`HostOptions.headerStrings must be "utf8" or "bytes", not ${JSON.stringify(hs)}`);
    this.byteStrings = hs === "bytes";
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

  /** The module's exports (tests drive hand-made modules through them). */
  get exports(): WebAssembly.Exports { return this.instance.exports; }

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

  /** Request headers as held: keys lowercased byte strings, string values kept as they are. */
  private importHeaders(headers: readonly HeaderInput[], state: CallState): HeldHeader[] {
    const out: HeldHeader[] = new Array(headers.length);
    const byteStrings = this.byteStrings;
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i];
      const name = h[0];
      let k = this.names.get(name);
      if (k === undefined) {
        if (asciiScan(name)) {
          k = name.toLowerCase();
          if (this.names.size >= 4096) this.names.clear();
          this.names.set(name, k);
        } else {
          k = asciiLower(byteStrings ? checkByteString(name, "header name") : textToBytes(name));
          state.convert = true;
        }
      }
      let v = h[1];
      if (typeof v !== "string") {
        v = new Uint8Array(v); // a copy: the caller may change theirs later
        state.convert = true;
      } else if (byteStrings) checkByteString(v, "header value");
      out[i] = [k, v];
    }
    return out;
  }

  private result(outcome: RequestResult["outcome"], pairs: HeldHeader[], mutations: number, convert: boolean | undefined): RequestResult {
    const b = this.byteStrings;
    // Without bytes or non-ASCII keys every value is a string of the right kind: handed out as it is.
    const headers = convert
      ? pairs.map(([k, v]): Header => [b ? k : bytesToText(k), typeof v === "string" ? v : b ? Buffer.from(v).toString("latin1") : utf8.decode(v)])
      : (pairs as Header[]);
    return new Result(outcome, headers, mutations, pairs, b);
  }

  runRequest(plugin: Plugin, headers: readonly HeaderInput[], stream: StreamOptions): RequestResult {
    const state: CallState = { headers: undefined, convert: false, mutations: 0, plugin, stream };
    const copy = this.importHeaders(headers, state);
    if (this.vmFailed || plugin.failed) {
      return this.result(plugin.options.failOpen ? "passed-failed" : "failed", copy, 0, state.convert);
    }
    const id = this.nextContextId++;
    state.headers = copy;
    this.cur = state;
    let status = 0;
    this.call("proxy_on_context_create", id, plugin.rootContextId);
    if (!this.vmFailed && this.ex.proxy_on_request_headers) {
      status = this.call("proxy_on_request_headers", id, copy.length, 0) ?? 0;
    }
    const mutations = this.cur.mutations;
    if (!this.vmFailed) {
      this.cur = { headers: copy, convert: state.convert, mutations: 0, plugin, stream };
      if (this.ex.proxy_on_done) this.call("proxy_on_done", id);
      if (!this.vmFailed && this.ex.proxy_on_log) this.call("proxy_on_log", id);
      if (!this.vmFailed && this.ex.proxy_on_delete) this.call("proxy_on_delete", id);
    }
    const convert = this.cur.convert;
    this.cur = { mutations: 0 };
    if (this.vmFailed) {
      // The stream that hit the trap is reset; later ones fail per the plugin's fail-open setting.
      return this.result("failed", copy, mutations, convert);
    }
    return this.result(status === 0 ? "continue" : "stop", copy, mutations, convert);
  }

  /** Counter value by name, as Envoy would show it (without the wasmcustom. prefix). */
  counter(name: string): number {
    return Number(this.stats.get(`0\0${name}`)?.value ?? 0n);
  }

  /** Every stat under the name Envoy gives it (wasmcustom.<name>), with its value. */
  envoyStats(): Map<string, bigint> {
    return new Map([...this.stats.values()].map((m) => [`wasmcustom.${m.name}`, m.value]));
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
  private buf!: Buffer;
  private refresh(): void {
    if (this.viewBuf !== this.memory.buffer) {
      this.viewBuf = this.memory.buffer;
      this.dv = new DataView(this.viewBuf);
      this.bytes = new Uint8Array(this.viewBuf);
      this.buf = Buffer.from(this.viewBuf);
    }
  }
  private view(): DataView { this.refresh(); return this.dv; }
  private u8(): Uint8Array { this.refresh(); return this.bytes; }

  private read(ptr: number, size: number): Uint8Array | null {
    ptr >>>= 0; size >>>= 0;
    if (ptr + size > this.memory.buffer.byteLength) return null;
    return new Uint8Array(this.memory.buffer, ptr, size).slice();
  }

  /** Set by readBytes: whether the bytes it read were all ASCII. */
  private readAscii = true;

  /** Module memory as a byte string, exactly (header values and keys, property paths, shared-data keys). */
  private readBytes(ptr: number, size: number): string | null {
    ptr >>>= 0; size >>>= 0;
    if (ptr + size > this.memory.buffer.byteLength) return null;
    const u8 = this.u8();
    if (size <= 64) {
      let out = "";
      let or = 0;
      for (let i = 0; i < size; i++) {
        const c = u8[ptr + i];
        or |= c;
        out += String.fromCharCode(c);
      }
      this.readAscii = or < 0x80;
      return out;
    }
    this.readAscii = isAscii(u8.subarray(ptr, ptr + size));
    return this.buf.toString("latin1", ptr, ptr + size);
  }

  /** A header value the module wrote: an ASCII string (the same as text and as a byte string), or bytes. */
  private readValue(ptr: number, size: number): string | Uint8Array | null {
    const s = this.readBytes(ptr, size);
    if (s === null || this.readAscii) return s;
    this.cur.convert = true;
    return this.u8().slice(ptr >>> 0, (ptr >>> 0) + (size >>> 0));
  }

  /** Module memory as text: UTF-8, a BOM kept, invalid sequences U+FFFD (log messages, metric names). */
  private readText(ptr: number, size: number): string | null {
    const s = this.readBytes(ptr, size);
    if (s === null || this.readAscii) return s;
    return utf8.decode(this.u8().subarray(ptr >>> 0, (ptr >>> 0) + (size >>> 0)));
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

  private headerMap(type: number): HeldHeader[] | null {
    // 0 request headers; others are not available to this emulator's streams (Envoy: NotFound/BadArgument).
    if (type > 7) return null;
    if (type === 0 && this.cur.headers) return this.cur.headers;
    return null;
  }

  /** Writes the pairs in Envoy's wire format straight into module memory (via malloc). */
  private writePairs(pairs: HeldHeader[], ptrPtr: number, sizePtr: number): number {
    const enc: Uint8Array[] = new Array(pairs.length * 2);
    const b = this.byteStrings;
    let size = 4;
    for (let i = 0; i < pairs.length; i++) {
      const v = pairs[i][1];
      enc[2 * i] = encodeCached(pairs[i][0], true);
      enc[2 * i + 1] = typeof v === "string" ? encodeCached(v, b) : v;
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

  /** Reads a header key and lowercases it as Envoy's LowerCaseString; notes non-ASCII bytes. */
  private readKey(ptr: number, size: number): string | null {
    const key = this.readBytes(ptr, size);
    if (key === null) return null;
    if (!this.readAscii) { this.cur.convert = true; return asciiLower(key); }
    return key.toLowerCase();
  }

  // ---- properties ----------------------------------------------------------------------------------------

  private property(path: string): Uint8Array | null {
    // Envoy reads parts up to each NUL and stops at the end: one trailing NUL adds no part.
    const parts = (path.endsWith("\0") ? path.slice(0, -1) : path).split("\0");
    const plugin = this.cur.plugin;
    const leaf = parts.length === 1;
    switch (parts[0]) {
      case "plugin_root_id": return leaf && plugin ? enc.encode(plugin.options.rootId ?? "") : null;
      case "plugin_name": return leaf && plugin ? enc.encode(plugin.options.name ?? "") : null;
      case "plugin_vm_id": return leaf ? enc.encode(this.opts.vmId ?? "") : null;
      case "listener_direction": {
        // ≤ 1.32: the plugin's listener (at configure too); here a stream's own direction comes first.
        if (!this.legacyProperties || !leaf || !plugin) return null;
        return directionBytes(this.cur.stream?.listenerDirection ?? plugin.options.listenerDirection ?? 0);
      }
      case "node": return this.legacyProperties ? this.nodeProperty(parts.slice(1)) : null;
      case "xds": {
        if (this.legacyProperties || parts.length < 2) return null;
        if (parts[1] === "node") return this.nodeProperty(parts.slice(2));
        // From the stream's listener info: a root context (on_configure) has none.
        if (parts[1] === "listener_direction" && parts.length === 2) {
          return this.cur.stream ? directionBytes(this.cur.stream.listenerDirection ?? 0) : null;
        }
        return null;
      }
      default: return null;
    }
  }

  /** The Node proto below `node`: only metadata is emulated, a protobuf Struct walked field by field; a
   *  string leaf comes back as its UTF-8 bytes, a number as an 8-byte double; anything else NotFound. */
  private nodeProperty(parts: string[]): Uint8Array | null {
    if (parts.length < 2 || parts[0] !== "metadata") return null;
    let v: unknown = this.opts.nodeMetadata;
    for (const raw of parts.slice(1)) {
      let part: string;
      try { part = utf8Exact.decode(Buffer.from(raw, "latin1")); } catch { return null; } // keys are UTF-8
      if (v === null || typeof v !== "object" || !Object.hasOwn(v as object, part)) return null;
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

  // ---- imports -------------------------------------------------------------------------------------------

  private imports(module: WebAssembly.Module): WebAssembly.Imports {
    const env: Record<string, Function> = {};
    const wasi: Record<string, Function> = {};
    for (const n of HOST_FUNCTIONS) env[`proxy_${n}`] = () => WasmResult.Unimplemented;
    for (const n of WASI_FUNCTIONS) wasi[n] = () => 52; // ENOSYS
    Object.assign(env, this.hostFunctions());
    const faults = this.opts.faults;
    if (faults) {
      const seen = new Map<string, number>();
      for (const [name, fn] of Object.entries(env)) {
        env[name] = (...args: any[]) => {
          const n = (seen.get(name) ?? 0) + 1;
          seen.set(name, n);
          const status = faults(name, n);
          if (status === undefined) return fn(...args);
          if (!Number.isInteger(status) || status < 0 || status > 0xffffffff) throw new Error(`faults("${name}", ${n}) returned ${status}, not a status`);
          this.count(name);
          return status;
        };
      }
    }
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
        if (level >>> 0 > 5) return WasmResult.BadArgument; // proxy-wasm-cpp-host: level > LogLevel::Max
        // It bounds-checks the message before Envoy drops it by level (the bytes are not looked at).
        if ((ptr >>> 0) + (size >>> 0) > this.memory.buffer.byteLength) return WasmResult.InvalidMemoryAccess;
        if (level < LogLevel.indexOf(this.opts.logLevel ?? "info")) return WasmResult.Ok;
        const msg = this.readText(ptr, size);
        if (msg === null) return WasmResult.InvalidMemoryAccess;
        this.logs.push({ level: LogLevel[level], message: msg });
        return WasmResult.Ok;
      },
      proxy_get_property: (pathPtr: number, pathSize: number, ptrPtr: number, sizePtr: number) => {
        this.count("proxy_get_property");
        const path = this.readBytes(pathPtr, pathSize);
        if (path === null) return WasmResult.InvalidMemoryAccess;
        const v = this.property(path);
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
        const key = this.readKey(kp, ks);
        if (map === null) return WasmResult.BadArgument;
        if (key === null) return WasmResult.InvalidMemoryAccess;
        const first = map.find(([k]) => k === key);
        if (!first) return WasmResult.NotFound;
        const v = first[1];
        return this.copyToPointerSize(typeof v === "string" ? encodeCached(v, this.byteStrings) : v, ptrPtr, sizePtr);
      },
      proxy_get_header_map_size: (type: number, sizePtr: number) => {
        this.count("proxy_get_header_map_size");
        const map = this.headerMap(type);
        if (map === null) return WasmResult.BadArgument;
        let size = 0; // HeaderMap::byteSize(): key and value bytes
        for (const [k, v] of map) size += k.length + (typeof v === "string" ? encodeCached(v, this.byteStrings).length : v.length);
        return this.setWord(sizePtr, size) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
      },
      proxy_add_header_map_value: (type: number, kp: number, ks: number, vp: number, vs: number) => {
        this.count("proxy_add_header_map_value");
        const map = this.headerMap(type);
        const key = this.readKey(kp, ks);
        const value = this.readValue(vp, vs);
        if (map === null) return WasmResult.BadArgument;
        if (key === null || value === null) return WasmResult.InvalidMemoryAccess;
        map.push([key, value]);
        this.cur.mutations++;
        return WasmResult.Ok;
      },
      proxy_replace_header_map_value: (type: number, kp: number, ks: number, vp: number, vs: number) => {
        this.count("proxy_replace_header_map_value");
        const map = this.headerMap(type);
        const key = this.readKey(kp, ks);
        const value = this.readValue(vp, vs);
        if (map === null) return WasmResult.BadArgument;
        if (key === null || value === null) return WasmResult.InvalidMemoryAccess;
        for (let i = map.length - 1; i >= 0; i--) if (map[i][0] === key) map.splice(i, 1);
        map.push([key, value]);
        this.cur.mutations++;
        return WasmResult.Ok;
      },
      proxy_remove_header_map_value: (type: number, kp: number, ks: number) => {
        this.count("proxy_remove_header_map_value");
        const map = this.headerMap(type);
        const key = this.readKey(kp, ks);
        if (map === null) return WasmResult.BadArgument;
        if (key === null) return WasmResult.InvalidMemoryAccess;
        for (let i = map.length - 1; i >= 0; i--) if (map[i][0] === key) map.splice(i, 1);
        this.cur.mutations++;
        return WasmResult.Ok;
      },
      proxy_define_metric: (type: number, np: number, ns: number, idPtr: number) => {
        this.count("proxy_define_metric");
        // proxy-wasm-cpp-host reads the name before Envoy checks the type.
        const name = this.readText(np, ns);
        if (name === null) return WasmResult.InvalidMemoryAccess;
        type >>>= 0;
        if (type > 2) return WasmResult.BadArgument;
        // No de-duplication: every define takes the type's next id (pre-incremented: the first is type + 4).
        const id = (type + 4 * ++this.metricsDefined[type]) >>> 0;
        const key = `${type}\0${name}`;
        let m = this.stats.get(key);
        if (!m) {
          m = { name, id, type, value: 0n, ids: [] };
          this.stats.set(key, m);
          if (!this.metrics.has(name)) this.metrics.set(name, m);
        }
        m.ids.push(id);
        this.metricById.set(id, m);
        return this.setWord(idPtr, id) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
      },
      proxy_increment_metric: (id: number, offset: bigint) => {
        this.count("proxy_increment_metric");
        id >>>= 0;
        if ((id & 3) > 1) return WasmResult.BadArgument; // histograms are recorded, not incremented
        const m = this.metricById.get(id);
        if (m === undefined) return WasmResult.NotFound;
        if (m.type === 0 && offset <= 0n) return WasmResult.BadArgument; // counters only go up
        m.value = BigInt.asUintN(64, m.value + offset); // a gauge subtracts a negative offset
        return WasmResult.Ok;
      },
      proxy_record_metric: (id: number, value: bigint) => {
        this.count("proxy_record_metric");
        const m = this.metricById.get(id >>> 0);
        if (m === undefined) return WasmResult.NotFound;
        const v = BigInt.asUintN(64, value);
        m.value = m.type === 0 ? BigInt.asUintN(64, m.value + v) : v; // a counter adds it
        return WasmResult.Ok;
      },
      proxy_get_metric: (id: number, resultPtr: number) => {
        this.count("proxy_get_metric");
        id >>>= 0;
        if ((id & 3) > 1) return WasmResult.BadArgument;
        const m = this.metricById.get(id);
        if (m === undefined) return WasmResult.NotFound;
        if ((resultPtr >>> 0) + 8 > this.memory.buffer.byteLength) return WasmResult.InvalidMemoryAccess;
        this.view().setBigUint64(resultPtr >>> 0, m.value, true);
        return WasmResult.Ok;
      },
      proxy_get_shared_data: (kp: number, ks: number, ptrPtr: number, sizePtr: number, casPtr: number) => {
        this.count("proxy_get_shared_data");
        const key = this.readBytes(kp, ks);
        if (key === null) return WasmResult.InvalidMemoryAccess;
        const e = this.sharedData.get(this.opts.vmId ?? "", key);
        if (!e) return WasmResult.NotFound;
        const r = this.copyToPointerSize(e.value, ptrPtr, sizePtr);
        if (r !== WasmResult.Ok) return r;
        return this.setWord(casPtr, e.cas) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
      },
      proxy_set_shared_data: (kp: number, ks: number, vp: number, vs: number, cas: number) => {
        this.count("proxy_set_shared_data");
        const key = this.readBytes(kp, ks);
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
    };
  }
}

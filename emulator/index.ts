// A proxy-wasm host that behaves like Envoy (proxy-wasm-cpp-host + Envoy's Wasm context) for ABI 0.2.x,
// quirks included, so that tests, the benchmark, the fuzzer and the demo all drive the built .wasm the
// way a sidecar would. Checked against Envoy's source/extensions/common/wasm/context.cc and
// filters/common/expr/context.cc of the 1.38-era main branch ("1.38" in the notes) with the
// proxy-wasm-cpp-host it pins, and against Envoy ≤ 1.32 for the legacy property names ("≤1.32"). Each
// file notes the quirks it emulates: host-functions.ts (what the module links against) and the host-*.ts
// it composes (host-headers.ts has the buffers), memory.ts (malloc, out-pointers), headers.ts,
// properties.ts, metrics.ts, shared-data.ts; the public types are in types.ts.
// This file is the public API and the lifecycles. A trap or proc_exit marks the VM failed: from then on
// every request fails closed (503), or passes untouched when the plugin is fail-open; a plugin whose
// on_configure returned false does the same.
// Header strings given to and returned by `Plugin.request` are text (UTF-8 on the wire) by default, or
// byte strings (HostOptions.headerStrings "bytes", one char per byte as Node's http module has them);
// `RequestResult.raw` has the exact bytes either way.
import { readFileSync } from "node:fs";
import { ProcExit } from "./abi.ts";
import { bytes } from "./bytes.ts";
import { HeaderStrings } from "./headers.ts";
import type { HeaderInput, HostOptions, LogLine, PluginOptions, RequestResult, StreamOptions } from "./types.ts";
import { imports } from "./host-functions.ts";
import type { CallState, FilterState, HostContext } from "./host-context.ts";
import { ModuleMemory } from "./memory.ts";
import { Metrics, type Metric } from "./metrics.ts";
import { Properties } from "./properties.ts";
import { SharedData } from "./shared-data.ts";

export { WasmResult, LogLevel, ProcExit } from "./abi.ts";
export { SharedData } from "./shared-data.ts";
export type { Header, HeaderInput, RawHeader, HostOptions, LogLine, PluginOptions, RequestResult, StreamOptions } from "./types.ts";
export type { Metric } from "./metrics.ts";
export { prometheusText } from "./prometheus.ts";

export class Plugin {
  failed = false;
  constructor(public readonly host: Host, public readonly rootContextId: number, public readonly options: PluginOptions) {}

  /** One request through this plugin's filter: headers in, headers out (the stream ends there). */
  request(headers: readonly HeaderInput[], opts: StreamOptions = {}): RequestResult {
    return this.host.runRequest(this, headers, opts);
  }

  /** A stream whose response also passes the filter: `open(...).request`, then `respond`, then `close`. */
  open(headers: readonly HeaderInput[], opts: StreamOptions = {}): Stream {
    return this.host.openStream(this, headers, opts);
  }
}

/** An HTTP stream through one plugin: its request result, its response, and the filter state it set. */
export interface Stream {
  readonly request: RequestResult;
  /** Runs on_response_headers on the upstream's response headers: what goes downstream. */
  respond(headers: readonly HeaderInput[]): RequestResult;
  /** Ends the stream (on_done, on_log, on_delete). Idempotent. */
  close(): void;
  /** Envoy filter state set through set_property: key wasm.<path>, value bytes. */
  readonly filterState: ReadonlyMap<string, Uint8Array>;
}

const NO_STATE: ReadonlyMap<string, Uint8Array> = new Map();

class HostStream implements Stream {
  private closed = false;
  constructor(private readonly host: Host, readonly plugin: Plugin, readonly id: number, readonly options: StreamOptions,
    readonly request: RequestResult, readonly state: FilterState) {}
  get filterState(): ReadonlyMap<string, Uint8Array> {
    const e = this.state.entries;
    if (!e) return NO_STATE;
    const m = new Map<string, Uint8Array>();
    for (let i = 0; i < e.length; i += 2) m.set(e[i] as string, e[i + 1] as Uint8Array);
    return m;
  }
  respond(headers: readonly HeaderInput[]): RequestResult {
    if (this.closed) throw new Error("the stream is closed");
    return this.host.runResponse(this, headers);
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.closeStream(this);
  }
}

export class Host {
  /** Nanoseconds since the epoch, as get_current_time_nanoseconds returns them; tests may set it. */
  now: () => bigint = () => BigInt(Date.now()) * 1_000_000n;
  readonly sharedData: SharedData;
  readonly logs: LogLine[] = [];
  private readonly stats = new Metrics();
  /** Stats by name (Envoy shows them as wasmcustom.<name>); a name defined with several types maps to
   *  the first one's stat. */
  readonly metrics: Map<string, Metric> = this.stats.byName;
  readonly calls = new Map<string, number>();
  readonly trace: { name: string; args: number[] }[] = [];
  /** The Envoy version mimicked (HostOptions.envoy). */
  readonly envoy: string;
  /** Set when the VM trapped or called proc_exit: Envoy marks it failed for good. */
  vmFailed: string | null = null;
  private readonly headers: HeaderStrings;
  /** What the host functions see; `ctx.cur` is the call in progress. */
  private readonly ctx: HostContext;
  private nextContextId = 1;
  private instance!: WebAssembly.Instance;
  private ex!: Record<string, any>;
  private plugins: Plugin[] = [];

  private constructor(private readonly opts: HostOptions) {
    this.sharedData = opts.sharedData ?? new SharedData();
    this.envoy = opts.envoy ?? "1.38";
    const properties = new Properties(this.envoy, opts);
    this.headers = new HeaderStrings(opts.headerStrings ?? "utf8");
    // The allocator is looked up on every call, as the exports are the Host's.
    const mem = new ModuleMemory((size) => (this.ex.malloc ?? this.ex.proxy_on_memory_allocate)(size));
    this.ctx = {
      opts, mem, cur: { mutations: 0 }, headers: this.headers, properties, metrics: this.stats,
      sharedData: this.sharedData, logs: this.logs, calls: this.calls, trace: this.trace, now: () => this.now(),
    };
  }

  static async load(wasm: string | Uint8Array, opts: HostOptions = {}): Promise<Host> {
    const host = new Host(opts);
    const code = new Uint8Array(typeof wasm === "string" ? readFileSync(wasm) : wasm);
    const module = await WebAssembly.compile(code);
    host.instance = await WebAssembly.instantiate(module, imports(module, host.ctx));
    host.ex = host.instance.exports as Record<string, any>;
    const memory = host.ex.memory;
    if (!(memory instanceof WebAssembly.Memory)) throw new Error("module exports no memory");
    host.ctx.mem.attach(memory);
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
  memoryBytes(): number { return this.ctx.mem.byteLength; }

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
    this.ctx.cur = { mutations: 0, plugin };
    this.call("proxy_on_context_create", id, 0);
    if (!this.vmFailed && this.ex.proxy_on_vm_start) {
      const vmc = bytes(this.opts.vmConfiguration ?? "");
      this.ctx.cur = { mutations: 0, plugin, vmConfiguration: vmc };
      const ok = this.call("proxy_on_vm_start", id, vmc.length);
      if (ok === 0) plugin.failed = true;
    }
    if (!this.vmFailed && !plugin.failed && this.ex.proxy_on_configure) {
      this.ctx.cur = { mutations: 0, plugin, pluginConfiguration: config };
      const ok = this.call("proxy_on_configure", id, config.length);
      if (ok === 0) plugin.failed = true;
    }
    if (this.vmFailed) plugin.failed = true;
    this.ctx.cur = { mutations: 0 };
    return plugin;
  }

  /** Deletes a plugin's root context (config update or removal). */
  removePlugin(plugin: Plugin): void {
    if (this.vmFailed) return;
    this.ctx.cur = { mutations: 0, plugin };
    if (this.ex.proxy_on_done) this.call("proxy_on_done", plugin.rootContextId);
    if (this.ex.proxy_on_delete) this.call("proxy_on_delete", plugin.rootContextId);
    this.ctx.cur = { mutations: 0 };
  }

  runRequest(plugin: Plugin, headers: readonly HeaderInput[], stream: StreamOptions): RequestResult {
    const s = this.openStream(plugin, headers, stream);
    s.close();
    return s.request;
  }

  /** Creates a stream context and runs on_request_headers; the stream stays open for its response. */
  openStream(plugin: Plugin, headers: readonly HeaderInput[], stream: StreamOptions): Stream {
    const filterState: FilterState = {}; // its entries are made on the first set_property
    const state: CallState = { headers: undefined, convert: false, mutations: 0, plugin, stream, filterState };
    const copy = this.headers.import(headers, state);
    if (this.vmFailed || plugin.failed) {
      const result = this.headers.result(plugin.options.failOpen ? "passed-failed" : "failed", copy, 0, state.convert);
      return new HostStream(this, plugin, 0, stream, result, filterState);
    }
    const id = this.nextContextId++;
    state.headers = copy;
    const ctx = this.ctx;
    ctx.cur = state;
    let status = 0;
    this.call("proxy_on_context_create", id, plugin.rootContextId);
    if (!this.vmFailed && this.ex.proxy_on_request_headers) {
      status = this.call("proxy_on_request_headers", id, copy.length, 0) ?? 0;
    }
    const mutations = ctx.cur.mutations;
    const convert = ctx.cur.convert;
    ctx.cur = { mutations: 0 };
    // The stream that hit a trap is reset; later ones fail per the plugin's fail-open setting.
    const result = this.headers.result(this.vmFailed ? "failed" : status === 0 ? "continue" : "stop", copy, mutations, convert);
    return new HostStream(this, plugin, this.vmFailed ? 0 : id, stream, result, filterState);
  }

  /** on_response_headers of an open stream (Envoy calls it only where the request side ran). */
  runResponse(s: HostStream, headers: readonly HeaderInput[]): RequestResult {
    const state: CallState = { headers: undefined, convert: false, mutations: 0, plugin: s.plugin, stream: s.options, filterState: s.state };
    const copy = this.headers.import(headers, state);
    if (s.id === 0 || this.vmFailed || s.plugin.failed) {
      return this.headers.result(this.vmFailed && !s.plugin.options.failOpen ? "failed" : "continue", copy, 0, state.convert);
    }
    // The request headers are gone by now: only the response map is there.
    state.responseHeaders = copy;
    const ctx = this.ctx;
    ctx.cur = state;
    let status = 0;
    if (this.ex.proxy_on_response_headers) status = this.call("proxy_on_response_headers", s.id, copy.length, 0) ?? 0;
    const mutations = ctx.cur.mutations;
    const convert = ctx.cur.convert;
    ctx.cur = { mutations: 0 };
    return this.headers.result(this.vmFailed ? "failed" : status === 0 ? "continue" : "stop", copy, mutations, convert);
  }

  /** on_done, on_log, on_delete of a stream. */
  closeStream(s: HostStream): void {
    if (s.id === 0 || this.vmFailed) return;
    this.ctx.cur = { mutations: 0, plugin: s.plugin, stream: s.options, filterState: s.state };
    if (this.ex.proxy_on_done) this.call("proxy_on_done", s.id);
    if (!this.vmFailed && this.ex.proxy_on_log) this.call("proxy_on_log", s.id);
    if (!this.vmFailed && this.ex.proxy_on_delete) this.call("proxy_on_delete", s.id);
    this.ctx.cur = { mutations: 0 };
  }

  /** Counter value by name, as Envoy would show it (without the wasmcustom. prefix). */
  counter(name: string): number { return this.stats.counter(name); }

  /** Every stat under the name Envoy gives it (wasmcustom.<name>), with its value. */
  envoyStats(): Map<string, bigint> { return this.stats.envoyStats(); }

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
}

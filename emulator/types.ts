// The emulator's public types, in a module of their own: index.ts (the API) and the modules it is built
// from (headers.ts, host-context.ts, properties.ts) all use them, and none of those may import index.ts.
import type { LogLevel } from "./abi.ts";
import type { SharedData } from "./shared-data.ts";

/** A header as RequestResult.headers gives it; strings per HostOptions.headerStrings. */
export type Header = [string, string];
/** A request header for Plugin.request: the value as a string (per headerStrings) or its exact bytes. */
export type HeaderInput = readonly [string, string | Uint8Array];
/** A header's exact bytes, as the next hop would receive them. */
export type RawHeader = [string, Uint8Array];

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

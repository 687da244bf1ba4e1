// The state the host functions work on, in a module of its own: host-functions.ts composes the per-area
// tables (host-headers.ts, host-properties.ts, host-shared-data.ts, host-metrics.ts, host-log-time.ts) and
// each of those needs these types, so keeping them here leaves no import cycle.
import type { HeaderStrings, HeldHeader } from "./headers.ts";
import type { ModuleMemory } from "./memory.ts";
import type { Metrics } from "./metrics.ts";
import type { Properties } from "./properties.ts";
import type { SharedData } from "./shared-data.ts";
import type { HostOptions, LogLine, PluginOptions, StreamOptions } from "./types.ts";

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

/** Counts one host call by name (Host.calls, when HostOptions.countCalls is set). */
export type CountCall = (name: string) => void;

/** One area's part of the env import object. */
export type HostTable = Record<string, Function>;

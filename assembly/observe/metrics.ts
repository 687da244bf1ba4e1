// The filter's counters: one set per direction, defined at configure, counted on the request path.
import { directionName } from "../config/config";
import { defineCounter, incrementCounter, log, LOG_WARN } from "../abi/host";

// Counters, per direction: lane_tag.<inbound|outbound|both>.<name>. Defined once per VM at the first
// configure; Envoy shows them as wasmcustom.lane_tag.* in /stats and lane_tag_* in Prometheus.
export const M_FROM_BAGGAGE = 0;
export const M_FROM_HEADER = 1;
export const M_FROM_DEFAULT = 2;
export const M_NO_LANE = 3;
export const M_INVALID = 4;
export const M_BAGGAGE_ADDED = 5;
export const M_BAGGAGE_REPLACED = 6;
export const M_OVERSIZE = 7;
export const M_CLIENT_LANE_REMOVED = 8;
export const M_FROM_TRACE = 9;
export const M_FROM_LOCAL = 10;
export const M_FROM_ASSIGN = 11;
export const M_TRACE_RECORDED = 12;
export const M_BAGGAGE_DROPPED = 13;
export const M_HOST_ERROR = 14;
export const M_FROM_CLIENT = 15;
export const M_TRACE_EVICTED = 16;
export const M_CARRIER_CONFLICT = 17; // carriers named different valid lanes (the first configured one won)
export const M_BAGGAGE_TRIMMED = 18; // baggage_limits left members out
export const METRICS_PER_DIR = 19;
const METRIC_NAMES: string[] = ["lane_from_baggage", "lane_from_header", "lane_from_default", "no_lane",
  "invalid_lane", "baggage_added", "baggage_replaced", "baggage_oversize", "client_lane_removed",
  "lane_from_trace", "lane_from_local", "lane_from_assign", "trace_recorded", "client_baggage_dropped",
  "host_error", "lane_from_client", "trace_evicted", "carrier_conflict", "baggage_trimmed"];
// Envoy's metric ids carry the type in their low two bits, and 3 is no type: never an id Envoy gives.
const NO_METRIC: u32 = 0xffffffff;
const metricIds = new StaticArray<u32>(3 * METRICS_PER_DIR);
for (let i = 0; i < 3 * METRICS_PER_DIR; i++) unchecked(metricIds[i] = NO_METRIC);
let metricsMissing = true;

/** Defines the counters not defined yet; a refused one is logged and skipped, and tried again at the next configure. */
export function defineMetrics(): void {
  if (!metricsMissing) return;
  let failed = "";
  for (let d = 0; d < 3; d++) {
    const dir = directionName(d + 1);
    for (let m = 0; m < METRICS_PER_DIR; m++) {
      const i = d * METRICS_PER_DIR + m;
      if (unchecked(metricIds[i]) != NO_METRIC) continue;
      const text = "lane_tag." + dir + "." + METRIC_NAMES[m];
      const name = String.UTF8.encode(text);
      const id = defineCounter(name);
      if (id >= 0) unchecked(metricIds[i] = <u32>id);
      else failed += (failed.length > 0 ? ", " : "") + text + " (status " + (-id).toString() + ")";
    }
  }
  metricsMissing = failed.length > 0;
  if (metricsMissing) log(LOG_WARN, "lane-tag: counters not defined, not counted until the next configure: " + failed);
}

export function count(dir: i32, m: i32, n: i64 = 1): void {
  countInline(dir, m, n);
}

// The one count every request makes, inlined there (a call costs about 3% of the typical request).
// @ts-ignore: decorator
@inline export function countInline(dir: i32, m: i32, n: i64 = 1): void {
  const id = unchecked(metricIds[(dir - 1) * METRICS_PER_DIR + m]);
  if (id != NO_METRIC) incrementCounter(id, n);
}

// lane_metrics: a request counter per direction, lane and lane source. The ABI has no tags, so each
// counter's name carries them as Istio-style segments, `lane=.=s2;.;lane_direction=.=outbound;.;
// lane_source=.=baggage;.;lanetag_requests_total`, which a stats_tags regex per tag (Istio: extraStatTags
// lane, lane_direction, lane_source) turns into labels: lanetag_requests_total{lane="s2",...}. The name
// holds no "tag." (Istio's bootstrap extracts an unanchored `tag\.(.+?);\.`). Cardinality is fixed at
// configure: up to MAX_METRIC_LANES lanes by name, every other lane counts as _other, a request without
// one as _none. All counters are defined at configure; the request path only increments.
import { Config, DIR_AUTO, DIR_INBOUND, DIR_BOTH, directionName } from "../config/config";
import { bytesEqual } from "../bytes/lane";
import { defineCounter, incrementCounter, log, LOG_WARN } from "../abi/host";

export const MAX_METRIC_LANES = 16;
const SOURCES = 8; // lane/decide.ts SRC_*: none, baggage, header, default, trace, local, assign, client
const SOURCE_NAMES: string[] = ["none", "baggage", "header", "default", "trace", "local", "assign", "client"];
// Not lane names (a lane starts with a letter or digit), so no lane can be mistaken for them.
export const OTHER_LANE = "_other";
export const NO_LANE = "_none";
const NO_METRIC: u32 = 0xffffffff;

/** The source's name, as in metrics and filter state. */
export function sourceName(src: u8): string {
  return src < <u8>SOURCES ? SOURCE_NAMES[src] : "none";
}

export class LaneMetrics {
  /** The lanes with their own series, in order; index lanes.length is _other, lanes.length + 1 _none. */
  lanes: ArrayBuffer[] = [];
  ids: StaticArray<u32>;
  constructor(lanes: string[]) {
    const n = 3 * (lanes.length + 2) * SOURCES;
    this.ids = new StaticArray<u32>(n);
    for (let i = 0; i < lanes.length; i++) this.lanes.push(String.UTF8.encode(lanes[i]));
    for (let i = 0; i < n; i++) unchecked(this.ids[i] = NO_METRIC);
  }

  // @ts-ignore: decorator
  @inline index(dir: i32, lane: i32, src: i32): i32 {
    return ((dir - 1) * (this.lanes.length + 2) + lane) * SOURCES + src;
  }

  /** Counts one request of direction `dir` in lane [p, p+len) (len 0: no lane) found by `src`. */
  count(dir: i32, p: usize, len: i32, src: u8): void {
    const n = this.lanes.length;
    let li = n + 1;
    if (len > 0) {
      li = n;
      for (let i = 0; i < n; i++) {
        const b = unchecked(this.lanes[i]);
        if (bytesEqual(changetype<usize>(b), b.byteLength, p, len)) { li = i; break; }
      }
    }
    const id = unchecked(this.ids[this.index(dir, li, li == n + 1 ? 0 : <i32>src)]);
    if (id != NO_METRIC) incrementCounter(id, 1);
  }
}

/** The lanes that get their own series: `lanes`, else the lanes the configuration names; at most MAX_METRIC_LANES. */
export function metricLanes(config: Config, localLane: string): string[] {
  let all: string[] = config.lanes;
  if (all.length == 0) {
    all = [];
    const named: string[][] = [[config.defaultLane, localLane], config.assignLanes, config.labelLanes, config.fromLanes, config.traceLabelLanes];
    for (let i = 0; i < named.length; i++) {
      const a = named[i];
      for (let j = 0; j < a.length; j++) if (a[j].length > 0 && !all.includes(a[j])) all.push(a[j]);
    }
  }
  return all.length > MAX_METRIC_LANES ? all.slice(0, MAX_METRIC_LANES) : all;
}

/** Defines the counters for the configured direction(s); a refused one is logged and not counted. */
export function defineLaneMetrics(config: Config, localLane: string): LaneMetrics {
  const lanes = metricLanes(config, localLane);
  const m = new LaneMetrics(lanes);
  if (config.lanes.length > MAX_METRIC_LANES) {
    log(LOG_WARN, "lane-tag: lane_metrics: " + config.lanes.length.toString() + " lanes; the first " + MAX_METRIC_LANES.toString() +
      " get their own series, the others count as lane " + OTHER_LANE);
  }
  const first = config.direction == DIR_AUTO ? DIR_INBOUND : config.direction;
  const last = config.direction == DIR_AUTO ? DIR_BOTH : config.direction;
  let refused = 0;
  for (let d = first; d <= last; d++) {
    for (let li = 0; li < lanes.length + 2; li++) {
      const lane = li < lanes.length ? lanes[li] : li == lanes.length ? OTHER_LANE : NO_LANE;
      // Inbound requests take their lane from the header or baggage only; no lane has source none.
      const s0 = li == lanes.length + 1 ? 0 : 1;
      const s1 = li == lanes.length + 1 ? 0 : d == DIR_INBOUND ? 2 : SOURCES - 1;
      for (let s = s0; s <= s1; s++) {
        const name = "lane=.=" + lane + ";.;lane_direction=.=" + directionName(d) + ";.;lane_source=.=" + SOURCE_NAMES[s] + ";.;lanetag_requests_total";
        const id = defineCounter(String.UTF8.encode(name));
        if (id >= 0) unchecked(m.ids[m.index(d, li, s)] = <u32>id);
        else refused++;
      }
    }
  }
  if (refused > 0) log(LOG_WARN, "lane-tag: lane_metrics: " + refused.toString() + " counters not defined by the host: not counted until the next configure");
  return m;
}

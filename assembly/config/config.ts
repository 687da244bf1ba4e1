// The plugin configuration: a Config whose byte buffers the request path compares against in place, made
// once per configure by parseConfig (config-parse.ts). Pure: no host calls.
import { jsonString, joined } from "./json";
import { laneAllowed, isLaneString } from "../bytes/lane";
import { traceKind } from "../grammar/trace-id";
import { CARRIER_BAGGAGE, CARRIER_NAMES, CARRIER_COUNT, carrierHeaderName, carrierSlot } from "./carrier-table";
import { hash64 } from "../bytes/hash";

export const DIR_AUTO: i32 = 0;
export const DIR_INBOUND: i32 = 1;
export const DIR_OUTBOUND: i32 = 2;
export const DIR_BOTH: i32 = 3;

export const DEFAULT_ROUTING_HEADER = "x-asm-prefer-tag";
export const MAX_LANES: i32 = 256;
export const MAX_NAME: i32 = 256;
/** The largest plugin configuration read: far above any real one, and what bounds configure's memory. */
export const MAX_CONFIG_BYTES: u32 = 1 << 20;

export function directionName(d: i32): string {
  if (d == DIR_INBOUND) return "inbound";
  if (d == DIR_OUTBOUND) return "outbound";
  if (d == DIR_BOTH) return "both";
  return "auto";
}

/** UTF-8 bytes of an ASCII string (config values are validated ASCII before this is used). */
export function bytesOf(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

export const DEFAULT_TRACE_HEADERS: string[] = ["traceparent", "x-b3-traceid", "x-request-id"];
export const DEFAULT_CAPACITY: i32 = 8192;
export const MAX_CAPACITY: i32 = 1048576;
export const DEFAULT_TTL_MS: i32 = 60000;
export const MAX_TTL_MS: i32 = 86400000;
export const MAX_TRACE_HEADERS: i32 = 8;
export const MAX_WEIGHT: i32 = 1000000;


export class Config {
  routingHeader: string = DEFAULT_ROUTING_HEADER;
  baggageKey: string = DEFAULT_ROUTING_HEADER;
  direction: i32 = DIR_AUTO;
  lanes: string[] = [];
  defaultLane: string = "";
  /** false at gateways: a lane sent by the client is removed before lane assignment (inbound/both). */
  trustClientLane: bool = true;
  /** correlation: trace id -> lane in shared data, recorded inbound, restored outbound. */
  correlation: bool = false;
  traceHeaders: string[] = DEFAULT_TRACE_HEADERS;
  capacity: i32 = DEFAULT_CAPACITY;
  ttlMs: i32 = DEFAULT_TTL_MS;
  /** local_lane: the node metadata label whose value (mapped through labelToLane when given) is the lane. */
  localLabel: string = "";
  labelValues: string[] = [];
  labelLanes: string[] = [];
  /** assign: weighted sticky lane choice; empty when off. */
  assignLanes: string[] = [];
  assignWeights: i32[] = [];
  stickyHeader: string = "";
  /** lane_from: where a client may name its lane (a header, a cookie, a query parameter), and how. */
  fromHeader: string = "";
  fromCookie: string = "";
  fromQuery: string = "";
  fromValues: string[] = [];
  fromLanes: string[] = [];
  fromTrusted: bool = false;
  /** lane_metrics: a request counter per lane, direction and source, the lane as a stats tag. */
  laneMetrics: bool = false;
  /** filter_state: the lane and its source as Envoy filter state (wasm.lane_tag.lane, wasm.lane_tag.source). */
  filterState: bool = false;
  /** hop_trace: traced requests collect "workload@lane" entries in the x-lane-tag-trace response header. */
  hopTrace: bool = false;
  /** hop_trace.accept_debug_header: a request with x-lane-tag-debug: 1 starts a trace here. */
  traceAccept: bool = false;
  /** hop_trace.workload, else node metadata WORKLOAD_NAME; hop_trace.label(_to_lane), else local_lane's. */
  traceWorkload: string = "";
  traceLabel: string = "";
  traceLabelValues: string[] = [];
  traceLabelLanes: string[] = [];
  /** carriers: CARRIER_* in the configured order, the first holding a valid lane wins. */
  carriers: i32[] = [CARRIER_BAGGAGE];
  /** baggage_limits: baggage leaves with at most 64 members and 8192 bytes, its malformed members dropped. */
  baggageLimits: bool = false;

  // Byte forms for the request path, filled by seal().
  routingHeaderBytes: ArrayBuffer = new ArrayBuffer(0);
  baggageKeyBytes: ArrayBuffer = new ArrayBuffer(0);
  defaultLaneBytes: ArrayBuffer = new ArrayBuffer(0);
  laneBytes: ArrayBuffer[] = [];
  traceHeaderBytes: ArrayBuffer[] = [];
  traceKinds: i32[] = [];
  stickyHeaderBytes: ArrayBuffer = new ArrayBuffer(0);
  assignLaneBytes: ArrayBuffer[] = [];
  assignSeeds: StaticArray<u64> = new StaticArray<u64>(0);
  assignWeightsF: StaticArray<f64> = new StaticArray<f64>(0);
  fromHeaderBytes: ArrayBuffer = new ArrayBuffer(0);
  fromCookieBytes: ArrayBuffer = new ArrayBuffer(0);
  fromQueryBytes: ArrayBuffer = new ArrayBuffer(0);
  fromValueBytes: ArrayBuffer[] = [];
  fromLaneBytes: ArrayBuffer[] = [];
  hasLaneFrom: bool = false;
  /** Any of lane_metrics, filter_state, hop_trace: the request path has observing to do. */
  observes: bool = false;
  /** The configured carriers as bits (CARRIER_*), and per carrier slot the header named after the key (empty: none). */
  carrierMask: i32 = CARRIER_BAGGAGE;
  carrierHeaders: ArrayBuffer[] = [];

  seal(): Config {
    this.carrierMask = 0;
    for (let i = 0; i < this.carriers.length; i++) this.carrierMask |= this.carriers[i];
    // Made whatever the carriers: an untrusted gateway that cannot read a request removes them. (Lowercase as
    // Envoy sends names; configure refuses an uppercase key for the carriers that write them.)
    this.carrierHeaders = [];
    for (let i = 0; i < CARRIER_COUNT; i++) this.carrierHeaders.push(lowerBytes(carrierHeaderName(1 << i, this.baggageKey)));
    this.routingHeaderBytes = bytesOf(this.routingHeader);
    this.baggageKeyBytes = bytesOf(this.baggageKey);
    this.defaultLaneBytes = bytesOf(this.defaultLane);
    this.stickyHeaderBytes = bytesOf(this.stickyHeader);
    this.laneBytes = allBytes(this.lanes);
    this.traceHeaderBytes = allBytes(this.traceHeaders);
    this.traceKinds = [];
    for (let i = 0; i < this.traceHeaders.length; i++) this.traceKinds.push(traceKind(this.traceHeaders[i]));
    this.assignLaneBytes = allBytes(this.assignLanes);
    this.fromHeaderBytes = bytesOf(this.fromHeader);
    this.fromCookieBytes = bytesOf(this.fromCookie);
    this.fromQueryBytes = bytesOf(this.fromQuery);
    this.fromValueBytes = allBytes(this.fromValues);
    this.fromLaneBytes = allBytes(this.fromLanes);
    this.hasLaneFrom = this.laneFrom();
    this.observes = this.laneMetrics || this.filterState || this.hopTrace;
    const n = this.assignLanes.length;
    this.assignSeeds = new StaticArray<u64>(n);
    this.assignWeightsF = new StaticArray<f64>(n);
    for (let i = 0; i < n; i++) {
      const b = this.assignLaneBytes[i];
      this.assignSeeds[i] = hash64(changetype<usize>(b), b.byteLength);
      this.assignWeightsF[i] = <f64>this.assignWeights[i];
    }
    return this;
  }

  /** Whether a (decoded, syntactically valid) lane is allowed: any lane when `lanes` is empty. */
  allows(ptr: usize, len: i32): bool {
    return laneAllowed(this.laneBytes, ptr, len);
  }

  laneFrom(): bool {
    return this.fromHeader.length + this.fromCookie.length + this.fromQuery.length > 0;
  }

  /** The lane of a workload whose `localLabel` has `value`: "" when it maps to none. */
  laneForLabel(value: string): string {
    return this.labelLane(value, this.labelValues, this.labelLanes);
  }

  /** The workload lane label hop_trace reads: its own, else local_lane's ("" when neither). */
  hopLabel(): string {
    return this.traceLabel.length > 0 ? this.traceLabel : this.localLabel;
  }

  /** hop_trace's lane for a label value: through its own map, else local_lane's, else the value itself. */
  hopLaneForLabel(value: string): string {
    if (this.traceLabel.length == 0) return this.laneForLabel(value);
    return this.labelLane(value, this.traceLabelValues, this.traceLabelLanes);
  }

  /** `value` through a label value -> lane map (the value itself without one): "" when that is no allowed lane. */
  private labelLane(value: string, values: string[], lanes: string[]): string {
    let lane = value;
    if (values.length > 0) {
      const i = values.indexOf(value);
      lane = i < 0 ? "" : lanes[i];
    }
    return isLaneString(lane) && (this.lanes.length == 0 || this.lanes.includes(lane)) ? lane : "";
  }

  /** The effective configuration as JSON, for the configure log line (optional features when on). */
  toJSON(): string {
    // Pieces joined once: the line can be ~300 KiB (five 256-entry lists), and += would copy it each time.
    const s: string[] = ["{\"routing_header\":" + jsonString(this.routingHeader) +
      ",\"baggage_key\":" + jsonString(this.baggageKey) +
      ",\"direction\":" + jsonString(directionName(this.direction)) +
      ",\"lanes\":" + list(this.lanes) +
      ",\"default_lane\":" + jsonString(this.defaultLane) +
      ",\"trust_client_lane\":" + (this.trustClientLane ? "true" : "false")];
    if (this.correlation) {
      s.push(",\"correlation\":{\"enabled\":true,\"headers\":" + list(this.traceHeaders) + ",\"capacity\":" +
        this.capacity.toString() + ",\"ttl_ms\":" + this.ttlMs.toString() + "}");
    }
    if (this.localLabel.length > 0) {
      s.push(",\"local_lane\":{\"label\":" + jsonString(this.localLabel));
      if (this.labelValues.length > 0) s.push(",\"label_to_lane\":" + map(this.labelValues, this.labelLanes, null));
      s.push("}");
    }
    if (this.assignLanes.length > 0) {
      s.push(",\"assign\":{\"weights\":" + map(this.assignLanes, null, this.assignWeights) +
        ",\"sticky_header\":" + jsonString(this.stickyHeader) + "}");
    }
    if (this.laneFrom()) {
      s.push(",\"lane_from\":{\"header\":" + jsonString(this.fromHeader) + ",\"cookie\":" + jsonString(this.fromCookie) +
        ",\"query\":" + jsonString(this.fromQuery) + ",\"values\":" + map(this.fromValues, this.fromLanes, null) +
        ",\"trusted\":" + (this.fromTrusted ? "true" : "false") + "}");
    }
    if (this.carrierMask != CARRIER_BAGGAGE) {
      const names: string[] = [];
      for (let i = 0; i < this.carriers.length; i++) names.push(CARRIER_NAMES[carrierSlot(this.carriers[i])]);
      s.push(",\"carriers\":" + list(names));
    }
    if (this.baggageLimits) s.push(",\"baggage_limits\":true");
    if (this.laneMetrics) s.push(",\"lane_metrics\":true");
    if (this.filterState) s.push(",\"filter_state\":true");
    if (this.hopTrace) {
      s.push(",\"hop_trace\":{\"accept_debug_header\":" + (this.traceAccept ? "true" : "false") + ",\"workload\":" + jsonString(this.traceWorkload) +
        ",\"label\":" + jsonString(this.traceLabel));
      if (this.traceLabelValues.length > 0) s.push(",\"label_to_lane\":" + map(this.traceLabelValues, this.traceLabelLanes, null));
      s.push("}");
    }
    s.push("}");
    return joined(s, "");
  }
}

// ASCII only (String.toLowerCase brings Unicode case tables into the module).
function lowerBytes(s: string): ArrayBuffer {
  const b = bytesOf(s);
  const p = changetype<usize>(b);
  for (let i = 0; i < b.byteLength; i++) {
    const c = load<u8>(p + i);
    if (<u32>c - 0x41 < 26) store<u8>(p + i, c | 0x20);
  }
  return b;
}

function allBytes(a: string[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (let i = 0; i < a.length; i++) out.push(bytesOf(a[i]));
  return out;
}

function list(a: string[]): string {
  const parts = new Array<string>(a.length);
  for (let i = 0; i < a.length; i++) parts[i] = jsonString(a[i]);
  return "[" + joined(parts, ",") + "]";
}

function map(keys: string[], strs: string[] | null, nums: i32[] | null): string {
  const parts = new Array<string>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    parts[i] = jsonString(keys[i]) + ":" + (strs !== null ? jsonString(strs[i]) : nums![i].toString());
  }
  return "{" + joined(parts, ",") + "}";
}

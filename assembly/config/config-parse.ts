// Parsing and checking the plugin configuration: every unknown field, wrong type or invalid value is an
// error that names the field and says why. Pure, table-tested with as-pect.
import { JsonReader, JValue, Kind, quote } from "./json";
import { isLaneString } from "../bytes/lane";
import { parseHopTrace } from "./config-observe";
import { parseCarriers, carrierKeyErr } from "./config-carriers";
import {
  ConfigResult, err, fieldErr, typeErr, unknownErr, laneProblem, isInt, intErr, labelKeyErr, parseLabelMap,
  parseLaneMap,
} from "./config-fields";
import {
  Config, DIR_AUTO, DIR_INBOUND, DIR_OUTBOUND, DIR_BOTH, MAX_LANES, MAX_NAME, MAX_CAPACITY, MAX_TTL_MS,
  MAX_TRACE_HEADERS, MAX_WEIGHT,
} from "./config";

export { ConfigResult } from "./config-fields";

// RFC 9110 tchar.
function isTchar(c: i32): bool {
  if ((c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a)) return true;
  return c == 0x21 || c == 0x23 || c == 0x24 || c == 0x25 || c == 0x26 || c == 0x27 || c == 0x2a ||
    c == 0x2b || c == 0x2d || c == 0x2e || c == 0x5e || c == 0x5f || c == 0x60 || c == 0x7c || c == 0x7e;
}

function isToken(s: string): bool {
  if (s.length == 0 || s.length > MAX_NAME) return false;
  for (let i = 0; i < s.length; i++) if (!isTchar(s.charCodeAt(i))) return false;
  return true;
}

function hasUpper(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return true;
  }
  return false;
}

/** Why `s` cannot be a request header name to read or write, or "" when it can. */
function headerNameProblem(s: string): string {
  if (!isToken(s)) return quote(s) + " is not an HTTP header name (an RFC 9110 token of 1-256 characters)";
  if (hasUpper(s)) return quote(s) + " must be lowercase (Envoy matches and forwards header names in lowercase)";
  if (s == "baggage") return "must not be \"baggage\", the header that carries the lane";
  return "";
}

// Token characters that OpenTelemetry JS percent-encodes in baggage keys it sends (and decodes in keys it
// reads): a key holding one comes out of an instrumented app under another spelling, and the lane is lost.
const REWRITTEN_KEY_CHARS = "#$%&+^`|";

function keyRewriteProblem(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (REWRITTEN_KEY_CHARS.includes(c)) {
      return quote(s) + " holds \"" + c + "\", which OpenTelemetry rewrites in baggage keys (any of " + REWRITTEN_KEY_CHARS +
        "): the lane would not survive an instrumented app";
    }
  }
  return "";
}

function parseCorrelation(c: Config, v: JValue): ConfigResult | null {
  if (v.kind != Kind.Object) return typeErr("correlation", "an object", v);
  for (let i = 0; i < v.keys.length; i++) {
    const key = v.keys[i];
    const x = v.items[i];
    const name = "correlation." + key;
    if (key == "enabled") {
      if (x.kind != Kind.Bool) return typeErr(name, "true or false", x);
      c.correlation = x.b;
    } else if (key == "headers") {
      if (x.kind != Kind.Array || x.items.length == 0 || x.items.length > MAX_TRACE_HEADERS) {
        return typeErr(name, "an array of 1-8 header names", x);
      }
      const hs: string[] = [];
      for (let j = 0; j < x.items.length; j++) {
        const h = x.items[j];
        const hn = name + "[" + j.toString() + "]";
        if (h.kind != Kind.String) return typeErr(hn, "a string", h);
        const p = headerNameProblem(h.s);
        if (p.length > 0) return fieldErr(hn, p);
        if (hs.includes(h.s)) return fieldErr(hn, quote(h.s) + " is listed more than once");
        hs.push(h.s);
      }
      c.traceHeaders = hs;
    } else if (key == "capacity") {
      if (!isInt(x, 1, MAX_CAPACITY)) return intErr(name, x, 1, MAX_CAPACITY);
      c.capacity = <i32>x.n;
    } else if (key == "ttl_ms") {
      if (!isInt(x, 1, MAX_TTL_MS)) return intErr(name, x, 1, MAX_TTL_MS);
      c.ttlMs = <i32>x.n;
    } else {
      return unknownErr(name, "enabled, headers, capacity, ttl_ms");
    }
  }
  return null;
}

function parseLocalLane(c: Config, v: JValue): ConfigResult | null {
  if (v.kind != Kind.Object) return typeErr("local_lane", "an object", v);
  for (let i = 0; i < v.keys.length; i++) {
    const key = v.keys[i];
    const x = v.items[i];
    const name = "local_lane." + key;
    if (key == "label") {
      const r = labelKeyErr(name, x);
      if (r !== null) return r;
      c.localLabel = x.s;
    } else if (key == "label_to_lane") {
      const r = parseLabelMap(name, x, c.labelValues, c.labelLanes);
      if (r !== null) return r;
    } else {
      return unknownErr(name, "label, label_to_lane");
    }
  }
  if (c.localLabel.length == 0) return fieldErr("local_lane.label", "is required: the node metadata label that holds the workload's lane");
  return null;
}

function parseAssign(c: Config, v: JValue): ConfigResult | null {
  if (v.kind != Kind.Object) return typeErr("assign", "an object", v);
  let total = 0;
  for (let i = 0; i < v.keys.length; i++) {
    const key = v.keys[i];
    const x = v.items[i];
    const name = "assign." + key;
    if (key == "weights") {
      if (x.kind != Kind.Object || x.keys.length > MAX_LANES) return typeErr(name, "an object of lane to weight (at most 256 lanes)", x);
      for (let j = 0; j < x.keys.length; j++) {
        const lane = x.keys[j];
        const wn = name + "." + lane;
        const p = laneProblem(lane);
        if (p.length > 0) return fieldErr(wn, p);
        if (!isInt(x.items[j], 0, MAX_WEIGHT)) return intErr(wn, x.items[j], 0, MAX_WEIGHT);
        c.assignLanes.push(lane);
        c.assignWeights.push(<i32>x.items[j].n);
        total += <i32>x.items[j].n;
      }
    } else if (key == "sticky_header") {
      if (x.kind != Kind.String) return typeErr(name, "a string", x);
      const p = headerNameProblem(x.s);
      if (p.length > 0) return fieldErr(name, p);
      c.stickyHeader = x.s;
    } else {
      return unknownErr(name, "weights, sticky_header");
    }
  }
  if (total == 0) return fieldErr("assign.weights", "is required, with at least one weight above 0");
  return null;
}

function parseLaneFrom(c: Config, v: JValue): ConfigResult | null {
  if (v.kind != Kind.Object) return typeErr("lane_from", "an object", v);
  for (let i = 0; i < v.keys.length; i++) {
    const key = v.keys[i];
    const x = v.items[i];
    const name = "lane_from." + key;
    if (key == "trusted") {
      if (x.kind != Kind.Bool) return typeErr(name, "true or false", x);
      c.fromTrusted = x.b;
    } else if (key == "values") {
      if (x.kind != Kind.Object || x.keys.length > MAX_LANES) return typeErr(name, "an object of value to lane (at most 256)", x);
      for (let j = 0; j < x.keys.length; j++) {
        if (x.keys[j].length == 0 || x.keys[j].length > MAX_NAME) return fieldErr(name + "." + x.keys[j], "a value must have 1-256 characters");
      }
      const r = parseLaneMap(name, x, c.fromValues, c.fromLanes);
      if (r !== null) return r;
    } else if (key == "header" || key == "cookie" || key == "query") {
      if (x.kind != Kind.String) return typeErr(name, "a string", x);
      const p = key == "header" ? headerNameProblem(x.s) : isToken(x.s) ? "" : quote(x.s) + " is not a " + key + " name (a token of 1-256 characters)";
      if (p.length > 0) return fieldErr(name, p);
      if (key == "header") c.fromHeader = x.s;
      else if (key == "cookie") c.fromCookie = x.s;
      else c.fromQuery = x.s;
    } else {
      return unknownErr(name, "header, cookie, query, values, trusted");
    }
  }
  if (!c.laneFrom()) return fieldErr("lane_from", "needs a header, cookie or query to take the lane from");
  return null;
}

/** Reads one top-level field into `c`: null when it is valid, else the error that names it. */
function parseField(c: Config, key: string, v: JValue): ConfigResult | null {
  if (key == "routing_header") {
    if (v.kind != Kind.String) return typeErr(key, "a string", v);
    const p = headerNameProblem(v.s);
    if (p.length > 0) return fieldErr(key, p);
    c.routingHeader = v.s;
  } else if (key == "baggage_key") {
    if (v.kind != Kind.String) return typeErr(key, "a string", v);
    if (!isToken(v.s)) return fieldErr(key, quote(v.s) + " is not a W3C baggage key (a token of 1-256 characters)");
    c.baggageKey = v.s;
  } else if (key == "direction") {
    if (v.kind != Kind.String) return typeErr(key, "a string", v);
    const s = v.s;
    if (s == "auto") c.direction = DIR_AUTO;
    else if (s == "inbound") c.direction = DIR_INBOUND;
    else if (s == "outbound") c.direction = DIR_OUTBOUND;
    else if (s == "both") c.direction = DIR_BOTH;
    else return fieldErr(key, quote(s) + " is not one of \"auto\", \"inbound\", \"outbound\", \"both\"");
  } else if (key == "lanes") {
    if (v.kind != Kind.Array) return typeErr(key, "an array of lane names", v);
    if (v.items.length > MAX_LANES) return fieldErr(key, "has " + v.items.length.toString() + " lanes, at most " + MAX_LANES.toString() + " are allowed");
    for (let j = 0; j < v.items.length; j++) {
      const item = v.items[j];
      const fj = "lanes[" + j.toString() + "]";
      if (item.kind != Kind.String) return typeErr(fj, "a string", item);
      const p = laneProblem(item.s);
      if (p.length > 0) return fieldErr(fj, p);
      if (c.lanes.includes(item.s)) return fieldErr(fj, quote(item.s) + " is listed more than once");
      c.lanes.push(item.s);
    }
  } else if (key == "default_lane") {
    if (v.kind != Kind.String) return typeErr(key, "a string", v);
    if (v.s.length > 0 && !isLaneString(v.s)) return fieldErr(key, laneProblem(v.s));
    c.defaultLane = v.s;
  } else if (key == "trust_client_lane" || key == "lane_metrics" || key == "filter_state" || key == "baggage_limits") {
    if (v.kind != Kind.Bool) return typeErr(key, "true or false", v);
    if (key == "trust_client_lane") c.trustClientLane = v.b;
    else if (key == "lane_metrics") c.laneMetrics = v.b;
    else if (key == "baggage_limits") c.baggageLimits = v.b;
    else c.filterState = v.b;
  } else {
    let r: ConfigResult | null = null;
    if (key == "correlation") r = parseCorrelation(c, v);
    else if (key == "local_lane") r = parseLocalLane(c, v);
    else if (key == "assign") r = parseAssign(c, v);
    else if (key == "lane_from") r = parseLaneFrom(c, v);
    else if (key == "hop_trace") r = parseHopTrace(c, v);
    else if (key == "carriers") r = parseCarriers(c, v);
    else return unknownErr(key, "routing_header, baggage_key, direction, lanes, default_lane, trust_client_lane, carriers, baggage_limits, correlation, local_lane, assign, lane_from, lane_metrics, filter_state, hop_trace");
    if (r !== null) return r;
  }
  return null;
}

/** The checks that span fields, run once every field has been read: null when the configuration holds. */
function crossFieldErr(c: Config, baggageKeySet: bool): ConfigResult | null {
  const kp = keyRewriteProblem(c.baggageKey);
  if (kp.length > 0) return baggageKeySet ? fieldErr("baggage_key", kp) : fieldErr("routing_header", kp + "; it is also the baggage key unless baggage_key is set");
  const ck = carrierKeyErr(c);
  if (ck !== null) return ck;
  // Every lane the filter can put on a request must be one the mesh routes.
  if (c.lanes.length > 0) {
    if (c.defaultLane.length > 0 && !c.lanes.includes(c.defaultLane)) return fieldErr("default_lane", quote(c.defaultLane) + " is not in \"lanes\"");
    for (let i = 0; i < c.labelLanes.length; i++) {
      if (!c.lanes.includes(c.labelLanes[i])) return fieldErr("local_lane.label_to_lane." + c.labelValues[i], quote(c.labelLanes[i]) + " is not in \"lanes\"");
    }
    for (let i = 0; i < c.assignLanes.length; i++) {
      if (!c.lanes.includes(c.assignLanes[i])) return fieldErr("assign.weights." + c.assignLanes[i], quote(c.assignLanes[i]) + " is not in \"lanes\"");
    }
    for (let i = 0; i < c.fromLanes.length; i++) {
      if (!c.lanes.includes(c.fromLanes[i])) return fieldErr("lane_from.values." + c.fromValues[i], quote(c.fromLanes[i]) + " is not in \"lanes\"");
    }
    for (let i = 0; i < c.traceLabelLanes.length; i++) {
      if (!c.lanes.includes(c.traceLabelLanes[i])) return fieldErr("hop_trace.label_to_lane." + c.traceLabelValues[i], quote(c.traceLabelLanes[i]) + " is not in \"lanes\"");
    }
  }
  // A lane the client names is the client's choice: an operator who does not trust clients must say so.
  if (c.laneFrom() && !c.trustClientLane && !c.fromTrusted) {
    return fieldErr("lane_from", "the client names these lanes: with \"trust_client_lane\": false, set \"trusted\": true to take them");
  }
  return null;
}

/**
 * Parses the plugin configuration. Empty (or all-whitespace) text means all defaults. Any unknown field,
 * wrong type or invalid value is an error that names the field and says why.
 */
export function parseConfig(text: string): ConfigResult {
  const c = new Config();
  let blank = true;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (!(ch == 0x20 || ch == 0x09 || ch == 0x0a || ch == 0x0d)) { blank = false; break; }
  }
  if (blank) {
    const r = new ConfigResult();
    r.config = c.seal();
    return r;
  }
  const reader = new JsonReader(text);
  const root = reader.parse();
  if (root === null) return err((reader.tooMany ? "configuration is too large: " : "configuration is not valid JSON: ") + reader.error);
  if (root.kind != Kind.Object) return err("configuration must be a JSON object, got " + root.kindName());
  if (reader.duplicateKey.length > 0) return fieldErr(reader.duplicateKey, "given more than once");

  let baggageKeySet = false;
  for (let i = 0; i < root.keys.length; i++) {
    const key = root.keys[i];
    const fe = parseField(c, key, root.items[i]);
    if (fe !== null) return fe;
    if (key == "baggage_key") baggageKeySet = true;
  }
  if (!baggageKeySet) c.baggageKey = c.routingHeader;
  const xe = crossFieldErr(c, baggageKeySet);
  if (xe !== null) return xe;
  const r = new ConfigResult();
  r.config = c.seal();
  return r;
}

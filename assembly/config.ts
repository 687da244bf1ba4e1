// The plugin configuration: parsed once per configure into a Config whose byte buffers the request path
// compares against in place. Pure: no host calls, so every rule here is table-tested with as-pect.
import { JsonReader, JValue, Kind, quote } from "./json";
import { isLaneRaw, bytesEqual } from "./lane";

export const DIR_AUTO: i32 = 0;
export const DIR_INBOUND: i32 = 1;
export const DIR_OUTBOUND: i32 = 2;
export const DIR_BOTH: i32 = 3;

export const DEFAULT_ROUTING_HEADER = "x-asm-prefer-tag";
export const MAX_LANES: i32 = 256;
const MAX_NAME: i32 = 256;

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

export class Config {
  routingHeader: string = DEFAULT_ROUTING_HEADER;
  baggageKey: string = DEFAULT_ROUTING_HEADER;
  direction: i32 = DIR_AUTO;
  lanes: string[] = [];
  defaultLane: string = "";
  /** false at gateways: a lane sent by the client is removed before lane assignment (inbound/both). */
  trustClientLane: bool = true;

  // Byte forms for the request path, filled by seal().
  routingHeaderBytes: ArrayBuffer = new ArrayBuffer(0);
  baggageKeyBytes: ArrayBuffer = new ArrayBuffer(0);
  defaultLaneBytes: ArrayBuffer = new ArrayBuffer(0);
  laneBytes: ArrayBuffer[] = [];

  seal(): Config {
    this.routingHeaderBytes = bytesOf(this.routingHeader);
    this.baggageKeyBytes = bytesOf(this.baggageKey);
    this.defaultLaneBytes = bytesOf(this.defaultLane);
    this.laneBytes = [];
    for (let i = 0; i < this.lanes.length; i++) this.laneBytes.push(bytesOf(this.lanes[i]));
    return this;
  }

  /** Whether a (decoded, syntactically valid) lane is allowed: any lane when `lanes` is empty. */
  allows(ptr: usize, len: i32): bool {
    const n = this.laneBytes.length;
    if (n == 0) return true;
    for (let i = 0; i < n; i++) {
      const b = unchecked(this.laneBytes[i]);
      if (bytesEqual(changetype<usize>(b), b.byteLength, ptr, len)) return true;
    }
    return false;
  }

  /** The effective configuration as JSON, for the configure log line. */
  toJSON(): string {
    let lanes = "[";
    for (let i = 0; i < this.lanes.length; i++) lanes += (i > 0 ? "," : "") + quote(this.lanes[i]);
    lanes += "]";
    return "{\"routing_header\":" + quote(this.routingHeader) +
      ",\"baggage_key\":" + quote(this.baggageKey) +
      ",\"direction\":" + quote(directionName(this.direction)) +
      ",\"lanes\":" + lanes +
      ",\"default_lane\":" + quote(this.defaultLane) +
      ",\"trust_client_lane\":" + (this.trustClientLane ? "true" : "false") + "}";
  }
}

export class ConfigResult {
  config: Config | null = null;
  error: string = "";
}

function err(msg: string): ConfigResult {
  const r = new ConfigResult();
  r.error = msg;
  return r;
}

// RFC 9110 tchar.
function isTchar(c: i32): bool {
  if ((c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a)) return true;
  return c == 0x21 || c == 0x23 || c == 0x24 || c == 0x25 || c == 0x26 || c == 0x27 || c == 0x2a ||
    c == 0x2b || c == 0x2d || c == 0x2e || c == 0x5e || c == 0x5f || c == 0x60 || c == 0x7c || c == 0x7e;
}

function isToken(s: string): bool {
  if (s.length == 0) return false;
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

function isLaneString(s: string): bool {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  const b = bytesOf(s);
  return isLaneRaw(changetype<usize>(b), b.byteLength);
}

const LANE_RULE = "1-63 characters of [A-Za-z0-9._-] starting with a letter or digit";

function stringField(name: string, v: JValue): string | null {
  return v.kind == Kind.String ? v.s : null;
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
  if (root === null) return err("configuration is not valid JSON: " + reader.error);
  if (root.kind != Kind.Object) return err("configuration must be a JSON object, got " + root.kindName());
  if (reader.duplicateKey.length > 0) return err("field " + quote(reader.duplicateKey) + ": given more than once");

  let baggageKeySet = false;
  for (let i = 0; i < root.keys.length; i++) {
    const key = root.keys[i];
    const v = root.items[i];
    const f = "field " + quote(key) + ": ";
    if (key == "routing_header") {
      const s = stringField(key, v);
      if (s === null) return err(f + "must be a string, got " + v.kindName());
      if (!isToken(s) || s.length > MAX_NAME) return err(f + quote(s) + " is not an HTTP header name (an RFC 9110 token of 1-256 characters)");
      if (hasUpper(s)) return err(f + quote(s) + " must be lowercase (Envoy matches and forwards header names in lowercase)");
      if (s == "baggage") return err(f + "must not be \"baggage\", the header that carries the lane");
      c.routingHeader = s;
    } else if (key == "baggage_key") {
      const s = stringField(key, v);
      if (s === null) return err(f + "must be a string, got " + v.kindName());
      if (!isToken(s) || s.length > MAX_NAME) return err(f + quote(s) + " is not a W3C baggage key (a token of 1-256 characters)");
      c.baggageKey = s;
      baggageKeySet = true;
    } else if (key == "direction") {
      const s = stringField(key, v);
      if (s === null) return err(f + "must be a string, got " + v.kindName());
      if (s == "auto") c.direction = DIR_AUTO;
      else if (s == "inbound") c.direction = DIR_INBOUND;
      else if (s == "outbound") c.direction = DIR_OUTBOUND;
      else if (s == "both") c.direction = DIR_BOTH;
      else return err(f + quote(s) + " is not one of \"auto\", \"inbound\", \"outbound\", \"both\"");
    } else if (key == "lanes") {
      if (v.kind != Kind.Array) return err(f + "must be an array of lane names, got " + v.kindName());
      if (v.items.length > MAX_LANES) return err(f + "has " + v.items.length.toString() + " lanes, at most " + MAX_LANES.toString() + " are allowed");
      for (let j = 0; j < v.items.length; j++) {
        const item = v.items[j];
        const fj = "field \"lanes[" + j.toString() + "]\": ";
        if (item.kind != Kind.String) return err(fj + "must be a string, got " + item.kindName());
        if (!isLaneString(item.s)) return err(fj + quote(item.s) + " is not a lane name (" + LANE_RULE + ")");
        if (c.lanes.includes(item.s)) return err(fj + quote(item.s) + " is listed more than once");
        c.lanes.push(item.s);
      }
    } else if (key == "default_lane") {
      const s = stringField(key, v);
      if (s === null) return err(f + "must be a string, got " + v.kindName());
      if (s.length > 0 && !isLaneString(s)) return err(f + quote(s) + " is not a lane name (" + LANE_RULE + ")");
      c.defaultLane = s;
    } else if (key == "trust_client_lane") {
      if (v.kind != Kind.Bool) return err(f + "must be true or false, got " + v.kindName());
      c.trustClientLane = v.b;
    } else {
      return err(f + "unknown field (known: routing_header, baggage_key, direction, lanes, default_lane, trust_client_lane)");
    }
  }
  if (!baggageKeySet) c.baggageKey = c.routingHeader;
  if (c.defaultLane.length > 0 && c.lanes.length > 0 && !c.lanes.includes(c.defaultLane)) {
    return err("field \"default_lane\": " + quote(c.defaultLane) + " is not in \"lanes\"");
  }
  const r = new ConfigResult();
  r.config = c.seal();
  return r;
}

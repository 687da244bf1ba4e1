// What both configuration parsers (config-parse.ts, config-observe.ts) share: the result, errors that name
// the field, and the checks of lanes, integers, label keys and lane maps. Pure.
import { JValue, Kind, quote } from "./json";
import { isLaneString } from "../bytes/lane";
import { Config, MAX_LANES, MAX_NAME } from "./config";

export class ConfigResult {
  config: Config | null = null;
  error: string = "";
}

export function err(msg: string): ConfigResult {
  const r = new ConfigResult();
  r.error = msg;
  return r;
}

export function fieldErr(name: string, msg: string): ConfigResult {
  return err("field " + quote(name) + ": " + msg);
}

export function typeErr(name: string, want: string, v: JValue): ConfigResult {
  return fieldErr(name, "must be " + want + ", got " + v.kindName());
}

export function unknownErr(name: string, known: string): ConfigResult {
  return fieldErr(name, "unknown field (known: " + known + ")");
}

const LANE_RULE = "1-63 characters of [A-Za-z0-9._-] starting with a letter or digit";

export function laneProblem(s: string): string {
  return isLaneString(s) ? "" : quote(s) + " is not a lane name (" + LANE_RULE + ")";
}

export function isInt(v: JValue, lo: i32, hi: i32): bool {
  return v.kind == Kind.Number && v.n == Math.floor(v.n) && v.n >= <f64>lo && v.n <= <f64>hi;
}

export function intErr(name: string, v: JValue, lo: i32, hi: i32): ConfigResult {
  // Whole numbers are shown; printing any f64 would cost the module kilobytes of dtoa.
  const shown = v.kind != Kind.Number ? v.kindName()
    : v.n == Math.floor(v.n) && Math.abs(v.n) < 2147483648 ? (<i32>v.n).toString() : "a number that is not a whole number in range";
  return fieldErr(name, "must be an integer from " + lo.toString() + " to " + hi.toString() + ", got " + shown);
}

// A Kubernetes label key as a property path segment: printable ASCII without spaces.
function isLabelKey(s: string): bool {
  if (s.length == 0 || s.length > 317) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/** An object of value -> lane (each a valid lane name) into keys/lanes; the first problem, or null. */
export function parseLaneMap(name: string, x: JValue, keys: string[], lanes: string[]): ConfigResult | null {
  for (let j = 0; j < x.keys.length; j++) {
    const lane = x.items[j];
    const ln = name + "." + x.keys[j];
    if (lane.kind != Kind.String) return typeErr(ln, "a string", lane);
    const p = laneProblem(lane.s);
    if (p.length > 0) return fieldErr(ln, p);
    keys.push(x.keys[j]);
    lanes.push(lane.s);
  }
  return null;
}

/** A node metadata label key (local_lane.label, hop_trace.label): null when `x` is one. */
export function labelKeyErr(name: string, x: JValue): ConfigResult | null {
  if (x.kind != Kind.String) return typeErr(name, "a string", x);
  if (!isLabelKey(x.s)) return fieldErr(name, quote(x.s) + " is not a label key (1-317 printable ASCII characters, no spaces)");
  return null;
}

/**
 * A label value -> lane object (local_lane.label_to_lane, hop_trace.label_to_lane) into values/lanes. As
 * many entries as lanes, and label values as long as names, so that the configure log line stays bounded.
 */
export function parseLabelMap(name: string, x: JValue, values: string[], lanes: string[]): ConfigResult | null {
  if (x.kind != Kind.Object || x.keys.length > MAX_LANES) return typeErr(name, "an object of label value to lane (at most 256)", x);
  for (let j = 0; j < x.keys.length; j++) {
    if (x.keys[j].length > MAX_NAME) return fieldErr(name + "." + x.keys[j], "a label value must have at most 256 characters");
  }
  return parseLaneMap(name, x, values, lanes);
}

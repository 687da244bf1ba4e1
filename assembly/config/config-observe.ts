// Parsing the hop_trace part of the plugin configuration (config-parse.ts parses the rest, and calls this). Pure.
import { JValue, Kind, quote } from "./json";
import { Config } from "./config";
import { ConfigResult, fieldErr, typeErr, unknownErr, labelKeyErr, parseLabelMap } from "./config-fields";

// A workload name in a trace entry: entries are joined with ", " and end at " (" or "@".
function isWorkloadName(s: string): bool {
  if (s.length == 0 || s.length > 253) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c == 0x2c || c == 0x40 || c == 0x28) return false;
  }
  return true;
}

export function isTraceWorkload(s: string): bool {
  return isWorkloadName(s);
}

export function parseHopTrace(c: Config, v: JValue): ConfigResult | null {
  if (v.kind == Kind.Bool) {
    c.hopTrace = v.b;
    return null;
  }
  if (v.kind != Kind.Object) return typeErr("hop_trace", "true, false or an object", v);
  c.hopTrace = true;
  for (let i = 0; i < v.keys.length; i++) {
    const key = v.keys[i];
    const x = v.items[i];
    const name = "hop_trace." + key;
    if (key == "enabled" || key == "accept_debug_header") {
      if (x.kind != Kind.Bool) return typeErr(name, "true or false", x);
      if (key == "enabled") c.hopTrace = x.b;
      else c.traceAccept = x.b;
    } else if (key == "workload") {
      if (x.kind != Kind.String) return typeErr(name, "a string", x);
      if (!isWorkloadName(x.s)) return fieldErr(name, quote(x.s) + " is not a workload name (1-253 printable ASCII characters without spaces, \",\", \"@\" or \"(\")");
      c.traceWorkload = x.s;
    } else if (key == "label") {
      const r = labelKeyErr(name, x);
      if (r !== null) return r;
      c.traceLabel = x.s;
    } else if (key == "label_to_lane") {
      const r = parseLabelMap(name, x, c.traceLabelValues, c.traceLabelLanes);
      if (r !== null) return r;
    } else {
      return unknownErr(name, "enabled, accept_debug_header, workload, label, label_to_lane");
    }
  }
  if (c.traceLabelValues.length > 0 && c.traceLabel.length == 0) return fieldErr("hop_trace.label_to_lane", "needs hop_trace.label, the node metadata label it maps");
  return null;
}

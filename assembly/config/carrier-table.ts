// The carriers the filter knows, a row each: the id (a bit of Config.carrierMask; CARRIER_NAMES[i] is bit
// 1 << i), the name in the `carriers` field, the header the lane is written to (named after the baggage
// key) and what configure requires of that key. Pure. A carrier's request side is carriers/<name>.ts, which
// carriers/carrier.ts dispatches to; its grammar is grammar/ (docs/internals.md, "Adding a carrier").
import { quote } from "./json";
import { isTracestateKey } from "../grammar/trace-context";

export const CARRIER_BAGGAGE: i32 = 1;
export const CARRIER_JAEGER: i32 = 2; // uberctx-<key>
export const CARRIER_OTTRACE: i32 = 4; // ot-baggage-<key>
export const CARRIER_TRACESTATE: i32 = 8; // a tracestate entry <key>=<lane>
export const CARRIER_NAMES: string[] = ["baggage", "jaeger", "ottrace", "tracestate"];
/** Not a carrier: in the read's mask, an untrusted gateway's "note what the strips need, configured or not". */
export const STRIP_ALL: i32 = 1 << 30;
/** The number of carriers: slots of the per-carrier tables (Config.carrierHeaders, Request.carriers). */
export const CARRIER_COUNT: i32 = 4;

/** The slot of carrier `bit`: its index in CARRIER_NAMES and in the per-carrier tables. */
// @ts-ignore: decorator
@inline export function carrierSlot(bit: i32): i32 { return 31 - clz(bit); }

/** The header carrier `bit` writes the lane to when its name holds the key (made lowercase at configure), else "". */
export function carrierHeaderName(bit: i32, key: string): string {
  if (bit == CARRIER_JAEGER) return "uberctx-" + key;
  if (bit == CARRIER_OTTRACE) return "ot-baggage-" + key;
  return "";
}

/** Whether the baggage key can ride in carrier `bit`: the problem, or "" when it can. */
export function carrierKeyProblem(bit: i32, key: string): string {
  if ((bit == CARRIER_JAEGER || bit == CARRIER_OTTRACE) && hasAsciiUpper(key)) {
    return quote(CARRIER_NAMES[carrierSlot(bit)]) + " needs a lowercase baggage key, got " + quote(key) +
      ": the key rides in a header name, which Envoy lowercases";
  }
  if (bit == CARRIER_TRACESTATE) {
    const b = String.UTF8.encode(key);
    if (!isTracestateKey(changetype<usize>(b), b.byteLength)) {
      return "\"tracestate\" needs a baggage key that is a W3C tracestate key (lowercase letters, digits and _-*, a letter first), got " + quote(key);
    }
  }
  return "";
}

// (String.toLowerCase would bring Unicode case tables into the module: kilobytes.)
function hasAsciiUpper(s: string): bool {
  for (let i = 0; i < s.length; i++) if (<u32>s.charCodeAt(i) - 0x41 < 26) return true;
  return false;
}

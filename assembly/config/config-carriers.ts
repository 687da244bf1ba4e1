// The `carriers` field: the headers the apps' propagators forward the lane in, in the order that decides
// when they name different lanes (the first carrier listed that holds a valid lane wins). Pure.
import { JValue, Kind, quote } from "./json";
import { Config, CARRIER_BAGGAGE, CARRIER_JAEGER, CARRIER_OTTRACE, CARRIER_TRACESTATE, CARRIER_NAMES } from "./config";
import { ConfigResult, fieldErr, typeErr } from "./config-fields";
import { isTracestateKey } from "../grammar/trace-context";

const KNOWN = "\"baggage\", \"jaeger\", \"ottrace\", \"tracestate\"";

function carrierBit(name: string): i32 {
  if (name == "baggage") return CARRIER_BAGGAGE;
  if (name == "jaeger") return CARRIER_JAEGER;
  if (name == "ottrace") return CARRIER_OTTRACE;
  if (name == "tracestate") return CARRIER_TRACESTATE;
  return 0;
}

/** `carriers`: 1-4 distinct carrier names into c.carriers (in order); the problem, or null. */
export function parseCarriers(c: Config, v: JValue): ConfigResult | null {
  if (v.kind != Kind.Array || v.items.length == 0 || v.items.length > CARRIER_NAMES.length) {
    return typeErr("carriers", "an array of 1-4 carrier names (" + KNOWN + ")", v);
  }
  const list: i32[] = [];
  for (let j = 0; j < v.items.length; j++) {
    const x = v.items[j];
    const name = "carriers[" + j.toString() + "]";
    if (x.kind != Kind.String) return typeErr(name, "a string", x);
    const bit = carrierBit(x.s);
    if (bit == 0) return fieldErr(name, quote(x.s) + " is not a carrier (one of " + KNOWN + ")");
    if (list.includes(bit)) return fieldErr(name, quote(x.s) + " is listed more than once");
    list.push(bit);
  }
  c.carriers = list;
  return null;
}

/**
 * Whether the baggage key (final: routing_header's unless baggage_key is set) can ride in each configured
 * carrier: jaeger and ottrace put it in a header name, which Envoy and Node lowercase; tracestate needs a
 * W3C tracestate key. The problem, or null.
 */
export function carrierKeyErr(c: Config): ConfigResult | null {
  const key = c.baggageKey;
  for (let j = 0; j < c.carriers.length; j++) {
    const bit = c.carriers[j];
    const name = "carriers[" + j.toString() + "]";
    if ((bit == CARRIER_JAEGER || bit == CARRIER_OTTRACE) && hasAsciiUpper(key)) {
      return fieldErr(name, quote(carrierName(bit)) + " needs a lowercase baggage key, got " + quote(key) +
        ": the key rides in a header name, which Envoy lowercases");
    }
    if (bit == CARRIER_TRACESTATE) {
      const b = String.UTF8.encode(key);
      if (!isTracestateKey(changetype<usize>(b), b.byteLength)) {
        return fieldErr(name, "\"tracestate\" needs a baggage key that is a W3C tracestate key (lowercase letters, digits and _-*, a letter first), got " + quote(key));
      }
    }
  }
  return null;
}

// (String.toLowerCase would bring Unicode case tables into the module: kilobytes.)
function hasAsciiUpper(s: string): bool {
  for (let i = 0; i < s.length; i++) if (<u32>s.charCodeAt(i) - 0x41 < 26) return true;
  return false;
}

export function carrierName(bit: i32): string {
  return CARRIER_NAMES[31 - clz(bit)];
}

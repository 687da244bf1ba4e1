// The `carriers` field: the headers the apps' propagators forward the lane in, in the order that decides
// when they name different lanes (the first carrier listed that holds a valid lane wins). The carriers
// themselves are carrier-table.ts's rows. Pure.
import { JValue, Kind, quote } from "./json";
import { Config } from "./config";
import { CARRIER_NAMES, CARRIER_COUNT, carrierKeyProblem } from "./carrier-table";
import { ConfigResult, fieldErr, typeErr } from "./config-fields";

/** The carriers' names for messages: "baggage", "jaeger", ... */
function known(): string {
  let s = "";
  for (let i = 0; i < CARRIER_NAMES.length; i++) s += (i > 0 ? ", " : "") + "\"" + CARRIER_NAMES[i] + "\"";
  return s;
}

/** `carriers`: 1-CARRIER_COUNT distinct carrier names into c.carriers (in order); the problem, or null. */
export function parseCarriers(c: Config, v: JValue): ConfigResult | null {
  if (v.kind != Kind.Array || v.items.length == 0 || v.items.length > CARRIER_COUNT) {
    return typeErr("carriers", "an array of 1-" + CARRIER_COUNT.toString() + " carrier names (" + known() + ")", v);
  }
  const list: i32[] = [];
  for (let j = 0; j < v.items.length; j++) {
    const x = v.items[j];
    const name = "carriers[" + j.toString() + "]";
    if (x.kind != Kind.String) return typeErr(name, "a string", x);
    const slot = CARRIER_NAMES.indexOf(x.s);
    if (slot < 0) return fieldErr(name, quote(x.s) + " is not a carrier (one of " + known() + ")");
    const bit = 1 << slot;
    if (list.includes(bit)) return fieldErr(name, quote(x.s) + " is listed more than once");
    list.push(bit);
  }
  c.carriers = list;
  return null;
}

/**
 * Whether the baggage key (final: routing_header's unless baggage_key is set) can ride in each configured
 * carrier (carrierKeyProblem). The problem, or null.
 */
export function carrierKeyErr(c: Config): ConfigResult | null {
  for (let j = 0; j < c.carriers.length; j++) {
    const problem = carrierKeyProblem(c.carriers[j], c.baggageKey);
    if (problem.length > 0) return fieldErr("carriers[" + j.toString() + "]", problem);
  }
  return null;
}

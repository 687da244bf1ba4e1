// The requests of the bench's "cost per carrier set" section and what the filter must make of each, shared
// with test/bench/bench-carriers.test.ts, which checks them on the built module (so the bench never times a
// broken path) and that the sets cover every carrier set the generated configurations can hold.
import type { Header, Plugin } from "../../emulator/index.ts";
import { common, inHdr, lane3 } from "./inputs.ts";

export type Carrier = "baggage" | "jaeger" | "ottrace" | "tracestate";
export type RowKind = "lane" | "inbound" | "none";

const KEY = "x-asm-prefer-tag";
export const UBER = `uberctx-${KEY}`;
export const OT = `ot-baggage-${KEY}`;
/** The OpenTracing trace context an ot baggage lane needs (read and written only with it). */
export const OT_CTX: Header[] = [["ot-tracer-traceid", "4bf92f3577b34da6a3ce929d0e0e4736"], ["ot-tracer-spanid", "00f067aa0ba902b7"], ["ot-tracer-sampled", "true"]];

/**
 * Every carrier set carriersFor (deploy/lib/carriers.ts) gives for the Operator's propagators, as sets (an
 * order of the same carriers costs alike: only which one is read first differs), and all four, which only a
 * hand-written configuration holds. ["baggage"] first: the "/ baggage-only" column's reference.
 */
export const CARRIER_SETS: Carrier[][] = [
  ["baggage"], ["jaeger"], ["ottrace"], ["tracestate"],
  ["baggage", "jaeger"], ["baggage", "ottrace"], ["jaeger", "ottrace"], ["ottrace", "tracestate"],
  ["baggage", "jaeger", "ottrace"], ["baggage", "jaeger", "ottrace", "tracestate"],
];

/** The filter configuration for a set, as the generated ones have it: no `carriers` for the default. */
export function carrierConfig(set: readonly Carrier[], direction: "outbound" | "inbound"): Record<string, unknown> {
  return set.length === 1 && set[0] === "baggage" ? { direction } : { direction, carriers: set };
}

/** The 3-member lane (userId, the lane, sessionId) as each carrier holds it, with the trace context it needs. */
const laneIn: Record<Carrier, Header[]> = {
  baggage: lane3.slice(common.length),
  jaeger: [["uberctx-userid", "alice"], [UBER, "s2"], ["uberctx-sessionid", "8f2a"]],
  ottrace: [...OT_CTX, ["ot-baggage-userid", "alice"], [OT, "s2"], ["ot-baggage-sessionid", "8f2a"]],
  // common's traceparent is the trace context it needs.
  tracestate: [["tracestate", `${KEY}=s2,congo=t61rcWkgMzE,rojo=00f067aa0ba902b7`]],
};

/** The trace contexts the set's carriers need (common has the traceparent). */
const contexts = (set: readonly Carrier[]): Header[] => (set.includes("ottrace") ? OT_CTX : []);

export interface CarrierRow { set: Carrier[]; kind: RowKind; label: string; headers: Header[]; direction: number }

/** (a) outbound, the lane in the set's first carrier; (b) inbound, the routing header written into each carrier; (c) outbound, no lane. */
export function carrierRows(set: Carrier[]): CarrierRow[] {
  return [
    { set, kind: "lane", label: `outbound, lane in ${set[0]}`, direction: 2, headers: [...common, ...laneIn[set[0]]] },
    { set, kind: "inbound", label: "inbound, header -> carriers", direction: 1, headers: [...inHdr, ...contexts(set)] },
    { set, kind: "none", label: "outbound, no lane", direction: 2, headers: [...common, ...contexts(set)] },
  ];
}

/** The default configuration on a request that also carries every other carrier's lane (not configured: left alone). */
export const unconfigured: Header[] = [...lane3, [UBER, "s2"], ...OT_CTX, [OT, "s2"], ["tracestate", `${KEY}=s2`]];

/** The headers the filter must change on a row's request (name -> values after), the rest staying as sent. */
export function expectedChanges(row: Pick<CarrierRow, "set" | "kind">): Record<string, string[]> {
  if (row.kind === "none") return {};
  if (row.kind === "lane") return { [KEY]: ["s2"] };
  const out: Record<string, string[]> = {};
  // Inbound: every configured carrier gets the routing header's lane (baggage: the lane member first).
  for (const c of row.set) {
    if (c === "baggage") out.baggage = [`${KEY}=s2,userId=alice,sessionId=8f2a`];
    if (c === "jaeger") out[UBER] = ["s2"];
    if (c === "ottrace") out[OT] = ["s2"];
    if (c === "tracestate") out.tracestate = [`${KEY}=s2`];
  }
  return out;
}

/** What is wrong with p's answer to headers (given changes expected), or undefined when it is right. */
export function wrongOutput(p: Plugin, headers: Header[], direction: number, changes: Record<string, string[]>): string | undefined {
  const r = p.request(headers, { listenerDirection: direction });
  const got = (name: string) => r.headers.filter(([k]) => k === name).map(([, v]) => v);
  const problems: string[] = [];
  if (r.outcome !== "continue") problems.push(`outcome ${r.outcome}`);
  for (const [name, want] of Object.entries(changes)) {
    if (JSON.stringify(got(name)) !== JSON.stringify(want)) problems.push(`${name}: ${JSON.stringify(got(name))}, expected ${JSON.stringify(want)}`);
  }
  const rest = (hs: Header[]) => JSON.stringify(hs.filter(([k]) => !(k in changes)));
  if (rest(r.headers) !== rest(headers)) problems.push(`other headers changed: ${rest(r.headers)}`);
  if (r.mutations !== Object.keys(changes).length) problems.push(`${r.mutations} header writes, expected ${Object.keys(changes).length}`);
  return problems.length ? problems.join("; ") : undefined;
}

// What lane-tag does for apps whose only propagation is an OpenTelemetry SDK, per OTEL_PROPAGATORS: the
// lane survives a hop when one of the app's propagators forwards a carrier the filter reads and writes,
// or (with correlation) when the app forwards W3C traceparent. A carrier the filter learns is one entry in
// FILTER_CARRIERS, and every expectation built on this table flips with it.
import type { LanesSpec } from "../../lib/spec.ts";
import { chain, resolve } from "../topology.ts";
import type { Result } from "../client.ts";
import { carriersFor } from "../../lib/carriers.ts";

/** Where each propagator forwards baggage (the lane's carrier); null: trace context only, no baggage. */
export const LANE_CARRIER: Readonly<Record<string, string | null>> = {
  baggage: "baggage", // W3C baggage header
  jaeger: "uberctx", // uberctx-<key> headers
  ottrace: "ot-baggage", // ot-baggage-<key> headers
  tracecontext: "tracestate", // a tracestate entry
  b3: null, b3multi: null, xray: null, none: null,
};

/** The carriers lane-tag reads the lane from and writes it to. */
export const FILTER_CARRIERS: ReadonlySet<string> = new Set(["baggage", "uberctx", "ot-baggage", "tracestate"]);

/** What the apps forward that trace correlation can key on. */
const CORRELATED = new Set(["tracecontext"]);
/** Propagators whose trace ids are 64-bit: extracted after tracecontext (a composite's later propagator wins),
 *  they replace the 128-bit trace id with a zero-padded one, so the next hop's traceparent names another trace. */
const SHORT_TRACE_IDS = new Set(["ottrace"]);
/** Propagators that extract a trace context (all but baggage and none). */
const TRACE_CONTEXT = new Set(["tracecontext", "b3", "b3multi", "jaeger", "xray", "ottrace"]);

/** Whether every app's traceparent keeps the trace id the gateway started, so correlation finds the lane. */
function traceIdKept(propagators: string[]): boolean {
  const last = [...new Set(propagators)].filter((p) => TRACE_CONTEXT.has(p)).pop();
  return propagators.some((p) => CORRELATED.has(p)) && last !== undefined && !SHORT_TRACE_IDS.has(last);
}

/** kept: every lane holds every hop; lost: every lane falls back to the baseline after the first service;
 *  drifts: the lane holds to the second service, then falls back (the trace id changed in the second app). */
export type Outcome = "kept" | "lost" | "drifts";
export const OUTCOMES: readonly Outcome[] = ["kept", "lost", "drifts"];

/**
 * Whether the filters' carriers keep the lane through apps running `propagators`. The SDKs take tracestate
 * only with a traceparent and ot baggage only with an ot trace context, so those two hold the lane only where
 * the request to the first app has one: a traceparent when the gateway starts the trace (correlation mode,
 * here), an ot trace context never (clients here send none).
 */
function carried(propagators: string[], traceStarted: boolean): boolean {
  const configured = new Set(carriersFor(propagators) ?? ["baggage"]);
  return propagators.some((p) => {
    const c = LANE_CARRIER[p];
    if (c == null || !FILTER_CARRIERS.has(c)) return false;
    if (c === "tracestate") return traceStarted && configured.has("tracestate");
    return c !== "ot-baggage";
  });
}

export function laneOutcome(propagators: string[], opts: { correlation?: boolean; traceStarted?: boolean } = {}): Outcome {
  const correlation = opts.correlation ?? false;
  const traceStarted = opts.traceStarted ?? correlation;
  if (propagators.includes("none")) return "lost";
  if (carried(propagators, traceStarted)) return "kept";
  if (!correlation || !propagators.some((p) => CORRELATED.has(p))) return "lost";
  // The first app received the gateway's traceparent alone, so its call keeps the trace; the second app's does not.
  return traceIdKept(propagators) ? "kept" : "drifts";
}

/** The versions a request in `lane` reaches, service by service, with that outcome. */
export function outcomeChain(spec: LanesSpec, lane: string, outcome: Outcome): string[] {
  const inLane = outcome === "kept" ? Infinity : outcome === "drifts" ? 2 : 1;
  return chain(spec).map((s, i) => resolve(spec, s, i < inLane ? lane : undefined).version);
}

/** The propagator sets the tests run: the Operator's names alone, and the combinations met in practice. */
export const PROPAGATOR_SETS: readonly string[][] = [
  ["tracecontext", "baggage"], ["baggage"], ["tracecontext"], ["b3"], ["b3multi"], ["jaeger"], ["xray"], ["ottrace"], ["none"],
  ["tracecontext", "jaeger"], ["b3", "baggage"], ["tracecontext", "ottrace"], ["ottrace", "tracecontext"],
];

/** The requests whose chain is not the one `outcome` gives their lane (or that did not answer a full chain). */
export function checkOutcome(spec: LanesSpec, results: Result[], outcome: Outcome): string[] {
  const out: string[] = [];
  results.forEach((r, i) => {
    const want = outcomeChain(spec, r.lane, outcome).join(" → ");
    const got = r.hops.map((h) => h.version).join(" → ");
    if (r.status !== 200 || got !== want) out.push(`request ${i} in lane ${r.lane}: status ${r.status}, ${got || JSON.stringify(r.body.slice(0, 200))}, expected ${want} (lanes ${outcome})`);
  });
  return out;
}

// What lane-tag does for apps whose only propagation is an OpenTelemetry SDK, per OTEL_PROPAGATORS: the
// lane survives a hop when one of the app's propagators forwards a carrier the filter reads and writes,
// or (with correlation) when the app forwards W3C traceparent. A carrier the filter learns is one entry in
// FILTER_CARRIERS, and every expectation built on this table flips with it.

/** Where each propagator forwards baggage (the lane's carrier); null: trace context only, no baggage. */
export const LANE_CARRIER: Readonly<Record<string, string | null>> = {
  baggage: "baggage", // W3C baggage header
  jaeger: "uberctx", // uberctx-<key> headers
  ottrace: "ot-baggage", // ot-baggage-<key> headers
  tracecontext: "tracestate", // a tracestate entry
  b3: null, b3multi: null, xray: null, none: null,
};

/** The carriers lane-tag reads the lane from and writes it to. */
export const FILTER_CARRIERS: ReadonlySet<string> = new Set(["baggage"]);

/** What the apps forward that trace correlation can key on. */
const CORRELATED = new Set(["tracecontext"]);

export type Outcome = "kept" | "lost";

/** Whether every lane holds every hop ("kept") or falls back to the baseline after the first ("lost"). */
export function laneOutcome(propagators: string[], { correlation = false } = {}): Outcome {
  if (propagators.includes("none")) return "lost";
  const carried = propagators.some((p) => { const c = LANE_CARRIER[p]; return c != null && FILTER_CARRIERS.has(c); });
  return carried || (correlation && propagators.some((p) => CORRELATED.has(p))) ? "kept" : "lost";
}

/** The propagator sets the tests run: the Operator's names alone, and the combinations met in practice. */
export const PROPAGATOR_SETS: readonly string[][] = [
  ["tracecontext", "baggage"], ["baggage"], ["tracecontext"], ["b3"], ["b3multi"], ["jaeger"], ["xray"], ["ottrace"], ["none"],
  ["tracecontext", "jaeger"], ["b3", "baggage"], ["tracecontext", "ottrace"],
];

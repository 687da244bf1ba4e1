// Which lane carriers the filter reads and writes, from the propagators the apps run (the lanes spec's
// otel.propagators, the Operator's names): each carrier one of them forwards.
const BAGGAGE_CARRIER: Readonly<Record<string, string>> = { baggage: "baggage", jaeger: "jaeger", ottrace: "ottrace" };

/**
 * The filter's `carriers` for apps running `propagators`, in their order; undefined for the filter's default
 * (["baggage"]). tracecontext adds the tracestate entry only when neither baggage nor jaeger is listed: those
 * carry the lane on any request, so the trace state is left alone; ot baggage, like tracestate, rides only
 * with a trace context (ot-tracer-*), which a request from outside seldom has.
 */
export function carriersFor(propagators: readonly string[] | undefined): string[] | undefined {
  if (!propagators) return undefined;
  const out: string[] = [];
  for (const p of propagators) if (BAGGAGE_CARRIER[p] && !out.includes(BAGGAGE_CARRIER[p])) out.push(BAGGAGE_CARRIER[p]);
  if (!out.includes("baggage") && !out.includes("jaeger") && propagators.includes("tracecontext")) out.push("tracestate");
  return out.length === 0 || (out.length === 1 && out[0] === "baggage") ? undefined : out;
}

/** Whether a propagator carries a lane the filter can read (b3, b3multi, xray and none carry no baggage). */
export const carriesLane = (p: string) => p in BAGGAGE_CARRIER || p === "tracecontext";

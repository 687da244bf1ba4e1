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

/** The propagator that makes each carrier (carriersFor), named in the spec's messages. */
const PROPAGATOR_OF: Readonly<Record<string, string>> = { jaeger: "jaeger", ottrace: "ottrace", tracestate: "tracecontext" };
const HEADER_OF: Readonly<Record<string, string>> = { jaeger: "uberctx-<key>", ottrace: "ot-baggage-<key>" };
// A W3C tracestate simple key; its multi-tenant form needs "@", which no baggage key (a token) holds.
const TRACESTATE_KEY = /^[a-z][a-z0-9_\-*/]{0,255}$/;

/**
 * Why the baggage key `key` cannot ride in a carrier that `propagators` choose, or undefined: what the
 * filter's configure refuses (assembly/config/config-carriers.ts), said in the spec's terms. jaeger and
 * ottrace put the key in a header name, which Envoy lowercases; the tracestate entry needs a tracestate key.
 */
export function carrierKeyProblem(key: string, propagators: readonly string[] | undefined): string | undefined {
  for (const c of carriersFor(propagators) ?? []) {
    const p = PROPAGATOR_OF[c];
    if (HEADER_OF[c] && /[A-Z]/.test(key)) {
      return `must be lowercase: the ${p} propagator (otel.propagators) sends baggage as ${HEADER_OF[c]} headers, whose names Envoy lowercases`;
    }
    if (c === "tracestate" && !TRACESTATE_KEY.test(key)) {
      return "is not a W3C tracestate key (a lowercase letter, then lowercase letters, digits and _-*): with tracecontext and neither baggage nor jaeger in otel.propagators, the lane rides in a tracestate entry under this key";
    }
  }
  return undefined;
}

// The lane carriers the filter reads and writes, as the TypeScript side knows them: one table, read by the
// spec (which carriers the apps' propagators choose, which baggage keys ride in them), the notes `manifests`
// prints and the demo's expectations (demo/otel/expectations.ts). A carrier the filter learns is one
// row here (and its side in assembly/).

/** What the apps' SDKs need beside a carrier to take it from a request: nothing, or a trace context. */
export type CarrierNeeds = "nothing" | "traceparent" | "ot-trace-context";

export interface Carrier {
  /** The filter's name for it (configuration `carriers`). */
  name: string;
  /** The propagator (otel.propagators, the Operator's name) whose apps forward it. */
  propagator: string;
  /** Where it rides, as the spec's messages name it. */
  header: string;
  needs: CarrierNeeds;
  /** Configured only where no listed carrier rides on any request (needs nothing): those carry the lane on
   *  every request, so this one is left alone. */
  fallback?: boolean;
  /** Why a baggage key cannot ride in it, or undefined: what the filter's configure refuses. */
  keyProblem?: (c: Carrier, key: string) => string | undefined;
}

// Header names: Envoy lowercases them.
const lowercase = (c: Carrier, key: string) => /[A-Z]/.test(key)
  ? `must be lowercase: the ${c.propagator} propagator (otel.propagators) sends baggage as ${c.header} headers, whose names Envoy lowercases`
  : undefined;
// A W3C tracestate simple key; its multi-tenant form needs "@", which no baggage key (a token) holds.
const TRACESTATE_KEY = /^[a-z][a-z0-9_\-*/]{0,255}$/;
const tracestateKey = (_: Carrier, key: string) => TRACESTATE_KEY.test(key)
  ? undefined
  : "is not a W3C tracestate key (a lowercase letter, then lowercase letters, digits and _-*): with tracecontext and neither baggage nor jaeger in otel.propagators, the lane rides in a tracestate entry under this key";

/** Every carrier, in the order the filter's configuration lists them when several apply. */
export const CARRIERS: readonly Carrier[] = [
  { name: "baggage", propagator: "baggage", header: "baggage", needs: "nothing" },
  { name: "jaeger", propagator: "jaeger", header: "uberctx-<key>", needs: "nothing", keyProblem: lowercase },
  { name: "ottrace", propagator: "ottrace", header: "ot-baggage-<key>", needs: "ot-trace-context", keyProblem: lowercase },
  { name: "tracestate", propagator: "tracecontext", header: "tracestate", needs: "traceparent", fallback: true, keyProblem: tracestateKey },
];

/** The filter's carriers where the configuration names none. */
export const DEFAULT_CARRIER = "baggage";

/** A carrier by its filter name (undefined for none). */
export const carrier = (name: string) => CARRIERS.find((c) => c.name === name);

/** The carrier a propagator forwards, or undefined (b3, b3multi, xray and none forward no baggage). */
export const carrierOf = (propagator: string) => CARRIERS.find((c) => c.propagator === propagator);

/** Whether a propagator carries a lane the filter can read. */
export const carriesLane = (p: string) => carrierOf(p) !== undefined;

const NEEDS_TEXT: Record<CarrierNeeds, string> = { nothing: "", traceparent: " with a traceparent", "ot-trace-context": " with an ot trace context" };

/** The headers the filter reads a lane in, for messages: "baggage, uberctx-*, ..., tracestate with a traceparent". */
export const LANE_HEADERS = CARRIERS.map((c) => c.header.replace("<key>", "*") + NEEDS_TEXT[c.needs]).join(", ");

/** The propagators that carry a lane, for messages: "baggage, jaeger, ottrace or tracecontext". */
export const LANE_PROPAGATORS = CARRIERS.map((c) => c.propagator).join(", ").replace(/, ([^,]*)$/, " or $1");

/**
 * The filter's `carriers` for apps running `propagators`, in their order, fallbacks last; undefined for the
 * filter's default (baggage alone). A fallback (tracestate) rides only with a trace context, as ot baggage
 * does, which a request from outside seldom has.
 */
export function carriersFor(propagators: readonly string[] | undefined): string[] | undefined {
  if (!propagators) return undefined;
  const listed = CARRIERS.filter((c) => propagators.includes(c.propagator));
  const out: string[] = [];
  for (const p of propagators) {
    const c = carrierOf(p);
    if (c && !c.fallback && !out.includes(c.name)) out.push(c.name);
  }
  if (!listed.some((c) => !c.fallback && c.needs === "nothing")) for (const c of listed) if (c.fallback) out.push(c.name);
  return out.length === 0 || (out.length === 1 && out[0] === DEFAULT_CARRIER) ? undefined : out;
}

/**
 * Why the baggage key `key` cannot ride in a carrier that `propagators` choose, or undefined: what the
 * filter's configure refuses (assembly/config/config-carriers.ts, its key rules in assembly/config/carrier-table.ts), said in the spec's terms.
 */
export function carrierKeyProblem(key: string, propagators: readonly string[] | undefined): string | undefined {
  for (const name of carriersFor(propagators) ?? []) {
    const c = carrier(name)!;
    const problem = c.keyProblem?.(c, key);
    if (problem) return problem;
  }
  return undefined;
}

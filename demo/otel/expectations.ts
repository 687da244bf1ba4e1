// What lane-tag does for apps whose only propagation is an OpenTelemetry SDK, per OTEL_PROPAGATORS: the
// lane survives a hop when one of the app's propagators forwards a carrier the filter reads and writes,
// or (with correlation) when the app's call keeps the trace id of the request it got, in a header the filter
// keys on; the first app does so only when it extracts the trace the gateway started (W3C, B3 or X-Ray). The
// carriers are lib/carriers.ts's table: a carrier the filter learns is a row there, and every expectation
// built on it flips with it.
import type { LanesSpec } from "../../deploy/lib/spec.ts";
import { chain, resolve } from "../core/topology.ts";
import type { Result } from "../core/client.ts";
import { DEFAULT_CARRIER, carrierOf, carriersFor } from "../../deploy/lib/carriers.ts";

/** The trace the gateway starts on each request (Envoy's OpenTelemetry tracer: w3c; its Zipkin tracer: b3;
 *  its X-Ray tracer: xray), or none. */
export type StartedTrace = "w3c" | "b3" | "xray" | "none";

/** The propagators that extract the gateway's trace, per format: with one of them the first app continues it. */
const CONTINUES: Readonly<Record<StartedTrace, ReadonlySet<string>>> = {
  w3c: new Set(["tracecontext"]),
  b3: new Set(["b3", "b3multi"]),
  xray: new Set(["xray"]),
  none: new Set(),
};
/** The propagators whose headers correlation keys on: traceparent, x-b3-traceid, and b3 and x-amzn-trace-id
 *  (its Root= field, the same every hop), which the generated correlation.headers list where otel.propagators
 *  list b3 or xray. */
const KEYED = new Set(["tracecontext", "b3", "b3multi", "xray"]);
/** Propagators whose trace ids are 64-bit: extracted last, they replace the 128-bit trace id with a
 *  zero-padded one, so the next hop's trace headers name another trace. */
const SHORT_TRACE_IDS = new Set(["ottrace"]);
/** Propagators that extract a trace context (all but baggage and none). */
const TRACE_CONTEXT = new Set(["tracecontext", "b3", "b3multi", "jaeger", "xray", "ottrace"]);

/** kept: every lane holds every hop; lost: every lane falls back to the baseline after the first service;
 *  drifts: the lane holds to the second service, then falls back (what carried it is gone in the second app). */
export type Outcome = "kept" | "lost" | "drifts";
export const OUTCOMES: readonly Outcome[] = ["kept", "lost", "drifts"];

/** Propagators whose extract keeps the tracestate an earlier one took (the X-Ray propagator copies it over). */
export const KEEPS_TRACESTATE: ReadonlySet<string> = new Set(["xray"]);

/** The set's trace-context propagator extracted last: a composite's later propagator wins where several extract. */
const lastTraceContext = (propagators: string[]) => [...new Set(propagators)].filter((p) => TRACE_CONTEXT.has(p)).pop();

/** Whether the tracestate tracecontext extracts survives the set's later extracts (none, or only keepers). */
const tracestateSurvives = (propagators: string[]) => {
  const order = [...new Set(propagators)].filter((p) => TRACE_CONTEXT.has(p));
  const at = order.lastIndexOf("tracecontext");
  return at >= 0 && order.slice(at + 1).every((p) => KEEPS_TRACESTATE.has(p));
};

/**
 * Whether a carrier the filters write keeps the lane through an app's call. `first`: the first app, which
 * gets the gateway's trace alone; the later apps get every trace header of the set (the app before injected
 * them all), so every propagator extracts there. The SDKs take tracestate only with the traceparent it rides
 * with, and drop it when a later propagator replaces that context (but xray, which keeps it); ot baggage only with an ot trace context,
 * which the first app never gets (clients here send none) and every later one does.
 */
function carried(propagators: string[], trace: StartedTrace, first: boolean): boolean {
  const configured = new Set(carriersFor(propagators) ?? [DEFAULT_CARRIER]);
  return propagators.some((p) => {
    // The carrier the propagator forwards, if the filter reads it and the generated configuration has it.
    const c = carrierOf(p);
    if (!c || !configured.has(c.name)) return false;
    if (c.needs === "traceparent") return first ? trace === "w3c" : tracestateSurvives(propagators);
    if (c.needs === "ot-trace-context") return !first;
    return true;
  });
}

/** Whether correlation restores the lane on an app's call: the call carries, in a header correlation keys on,
 *  the trace id of the request the app got (the first app: only by extracting the gateway's format). */
function correlated(propagators: string[], trace: StartedTrace, first: boolean): boolean {
  if (!propagators.some((p) => KEYED.has(p))) return false;
  if (first) return propagators.some((p) => CONTINUES[trace].has(p));
  const last = lastTraceContext(propagators);
  return last !== undefined && !SHORT_TRACE_IDS.has(last);
}

/**
 * The lane through apps running `propagators`: held at the first app's call (by a carrier, or with correlation
 * by the trace id), then at the later apps' calls. `trace`: the trace the gateway starts (by default w3c with
 * correlation, else none).
 */
export function laneOutcome(propagators: string[], opts: { correlation?: boolean; trace?: StartedTrace } = {}): Outcome {
  const correlation = opts.correlation ?? false;
  const trace = opts.trace ?? (correlation ? "w3c" : "none");
  if (propagators.includes("none")) return "lost";
  const holds = (first: boolean) => carried(propagators, trace, first) || (correlation && correlated(propagators, trace, first));
  if (!holds(true)) return "lost";
  return holds(false) ? "kept" : "drifts";
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

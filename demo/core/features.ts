// The lane features of the demo's matrix (axes.ts): which spec each runs, what the mock apps forward, and
// what the gateway's tracer starts.
import type { IncomingHttpHeaders } from "node:http";
import { fileURLToPath } from "node:url";
import type { Header } from "../../emulator/index.ts";
import { loadSpec, type LanesSpec, type ObserveSpec } from "../../deploy/lib/spec.ts";
import { fullLanes } from "./topology.ts";
import { traceStarter, type GatewayTrace } from "./gateway-trace.ts";
import { splitMode, type Feature, type Mode } from "./axes.ts";

export { PROTOCOLS, FEATURES, MODES, splitMode, type Protocol, type Feature, type Mode } from "./axes.ts";

/** The header the sticky demo's users send. */
export const USER_HEADER = "x-user-id";
export const STACKED_SPEC = fileURLToPath(new URL("../../deploy/lanes.stacked.yaml", import.meta.url));

export function stackedSpec(): LanesSpec {
  return loadSpec(STACKED_SPEC);
}

/** The spec a feature runs: the example's, with the feature switched on; stacked runs its own spec. */
export function specForFeature(spec: LanesSpec, feature: Feature): LanesSpec {
  if (feature === "stacked") return stackedSpec();
  if (feature === "correlation") return { ...spec, correlation: spec.correlation ?? {} };
  if (feature === "strict") return { ...fullLanes(spec), localLane: true };
  if (feature === "sticky") return { ...spec, gateway: { ...spec.gateway!, stickyHeader: USER_HEADER } };
  return spec;
}

/** The spec a mode runs (its feature's). */
export const specForMode = (spec: LanesSpec, mode: Mode) => specForFeature(spec, splitMode(mode).feature);

/** What the mock apps forward under each feature. */
export const PROPAGATE: Record<Feature, string> = { baggage: "baggage", correlation: "traceparent", strict: "none", sticky: "baggage", stacked: "baggage" };

/** What a run switches on beyond its feature: observability, a service that drops baggage, the apps' propagators. */
export interface RunFeatures {
  observe?: Partial<ObserveSpec>;
  /** A service whose app forwards only traceparent (it drops baggage); correlation keeps the lane. */
  drop?: string;
  /** The apps' OTEL_PROPAGATORS: the filters read and write the carriers these forward (as the spec's otel). */
  propagators?: string[];
  /** The trace the gateway starts on a request without one; correlation (the feature, or --drop) starts w3c. */
  gatewayTrace?: GatewayTrace;
  /** The seed of the trace ids the gateway starts (random ones without it), so a run's traces repeat. */
  traceSeed?: number;
}

/** The spec the mesh runs: the feature's, with the run's observability, propagators and correlation (for --drop). */
export function runSpec(base: LanesSpec, feature: Feature, { observe, drop, propagators }: RunFeatures = {}): LanesSpec {
  let spec = specForFeature(base, feature);
  if (propagators) spec = { ...spec, otel: { ...(spec.otel ?? { name: "lane-tag" }), propagators } };
  if (observe) spec = { ...spec, observe: { ...spec.observe, ...observe } };
  if (drop) spec = { ...spec, correlation: spec.correlation ?? {} };
  return spec;
}

/** What each app forwards: the feature's carrier; with --drop, the dropping service only traceparent. */
export function propagation(feature: Feature, drop?: string): (service: string) => string {
  return (service) => drop === service ? "traceparent" : drop ? "baggage,traceparent" : PROPAGATE[feature];
}

/** The trace the gateway starts: the one asked for, else w3c where correlation (its feature, or --drop) needs the trace id. */
export function startsTrace(opts: RunFeatures & { mode?: Mode; feature?: Feature }): GatewayTrace | undefined {
  const feature = opts.feature ?? splitMode(opts.mode).feature;
  return opts.gatewayTrace ?? (feature === "correlation" || opts.drop !== undefined ? "w3c" : undefined);
}

/** What the gateway's tracer adds to each request (nothing without a tracer), seeded by `traceSeed`. */
export function gatewayTracer(opts: RunFeatures & { mode?: Mode; feature?: Feature }): (request: IncomingHttpHeaders) => Header[] {
  const format = startsTrace(opts);
  if (!format) return () => [];
  return traceStarter(format, opts.traceSeed);
}

// What `manifests` prints beside the files: the steps a spec's features need outside the generated resources.
import type { LanesSpec } from "../lib/spec-types.ts";
import { LANE_TAGS, LANE_REQUESTS_METRIC } from "../lib/observe.ts";
import { DEFAULT_CARRIER, carrier, carriersFor, carriesLane } from "../lib/carriers.ts";

/** The languages the operator injects, each by its own pod annotation. */
export const OTEL_LANGUAGES = ["java", "nodejs", "python", "dotnet", "go"] as const;

/** Pod annotations that make the operator inject the generated Instrumentation, as printed by `manifests`. */
export function otelAnnotations(spec: LanesSpec): string[] {
  const o = spec.otel!;
  return [
    `zero-code propagation: annotate each Deployment's pod template (spec.template.metadata.annotations) for its language, in namespace ${spec.namespace}:`,
    ...OTEL_LANGUAGES.map((l) => `  ${`${l}:`.padEnd(8)}instrumentation.opentelemetry.io/inject-${l}: "true"`),
    `  ${"go:".padEnd(8)}instrumentation.opentelemetry.io/otel-go-auto-target-exe: "<path of the app's binary in the container>"   (go needs this one too, and the operator's Go instrumentation enabled)`,
    `  pods with several containers: instrumentation.opentelemetry.io/container-names: "<app container>" (the seeds use "default")`,
    `  "true" takes the namespace's only Instrumentation; where there are others, give its name: "${o.name}"`,
  ];
}

/** What the proxies need for lane_metrics' labels, as printed by `manifests` when it is on. */
export function laneMetricsNotes(spec: LanesSpec): string[] {
  return [
    `lane metrics: Envoy shows lane, lane_direction and lane_source as labels of ${LANE_REQUESTS_METRIC} only with stats tags and stats inclusion for them; on every workload of the group (pod template annotations) and the gateway:`,
    `  sidecar.istio.io/extraStatTags: "${LANE_TAGS.join(",")}"`,
    `  proxy.istio.io/config: '{"proxyStatsMatcher":{"inclusionPrefixes":["wasmcustom.lane"]}}'`,
    `  or mesh-wide: meshConfig.defaultConfig.extraStatTags [${LANE_TAGS.join(", ")}] and meshConfig.defaultConfig.proxyStatsMatcher.inclusionPrefixes [wasmcustom.lane]`,
  ];
}

/**
 * Where the apps' propagators carry no baggage at all (b3, b3multi, xray: the spec requires correlation), the
 * lane follows the trace id, which the first app keeps only if it extracts the trace the gateway started.
 */
function correlationOnlyNotes(propagators: string[], headers: string[] | undefined): string[] {
  const b3 = propagators.filter((p) => p === "b3" || p === "b3multi");
  const lines = [`trace correlation: the apps' propagators (${propagators.join(", ")}) carry no baggage, so the lane follows the trace id; the first app keeps it only when the ingress gateway starts traces in a format the apps extract:`,
    `  B3 (x-b3-traceid/spanid/sampled): Istio's Zipkin tracing provider (meshConfig.extensionProviders[].zipkin, or the classic meshConfig.defaultConfig.tracing.zipkin) and a Telemetry resource enabling it at the gateway`,
    `  W3C (traceparent): the OpenTelemetry provider (meshConfig.extensionProviders[].opentelemetry), for apps that list tracecontext`];
  const xray = propagators.includes("xray");
  if (xray) lines.push(`  X-Ray (X-Amzn-Trace-Id: Root=...;Parent=...;Sampled=...): Envoy's X-Ray tracer (envoy.tracers.xray in the gateway's HTTP connection manager, by an EnvoyFilter: Istio has no X-Ray provider); the lane keys on its Root= field, which every hop keeps while Parent= changes`);
  if (b3.length) lines.push(`  ${b3.join(" and ")} extract${b3.length === 1 ? "s" : ""} B3 only: start B3 traces (a W3C trace is not continued, and each app starts a trace of its own)${xray ? "; or X-Ray traces, which xray extracts" : ""}`);
  else if (xray) lines.push(`  xray extracts X-Ray only: start X-Ray traces (a W3C or B3 trace is not continued, and each app starts a trace of its own); an AWS load balancer's X-Amzn-Trace-Id (Root= without Parent= and Sampled=) is not continued either`);
  if (xray && headers && !headers.includes("x-amzn-trace-id")) lines.push(`  correlation.headers (${headers.join(", ")}) has no x-amzn-trace-id: the X-Ray trace id is not read, so no lane follows it; add it`);
  return lines;
}

/**
 * What the lane needs where the apps' propagators carry it only beside a trace context: the SDKs take a
 * tracestate entry only with a traceparent, and ot baggage only with an ot trace context, so the request the
 * first app receives must bring one. Empty when baggage or jaeger carries it, or correlation is on; where no
 * propagator carries the lane, what correlation needs (correlationOnlyNotes).
 */
export function traceContextNotes(spec: LanesSpec): string[] {
  const propagators = spec.otel?.propagators;
  if (propagators?.length && !propagators.some(carriesLane)) return correlationOnlyNotes(propagators, spec.correlation?.headers);
  // What the configured carriers need beside them (lib/carriers.ts): one that needs nothing carries the lane on any request.
  const needs = new Set((carriersFor(propagators) ?? [DEFAULT_CARRIER]).map((c) => carrier(c)!.needs));
  if (spec.correlation || needs.has("nothing")) return [];
  const lines: string[] = [];
  if (needs.has("traceparent")) {
    lines.push(`trace context: the apps forward the lane in a tracestate entry, which their SDKs keep only beside a traceparent; the request the first app receives needs one:`,
      `  start traces at the ingress gateway: an OpenTelemetry tracing provider (meshConfig.extensionProviders[].opentelemetry) and a Telemetry resource enabling it, or clients that send traceparent`);
  }
  if (needs.has("ot-trace-context") && !needs.has("traceparent")) {
    lines.push(`trace context: the apps forward the lane only in ot-baggage-* headers, which their SDKs keep only beside an ot trace context (ot-tracer-traceid/spanid) that only clients send; list baggage or tracecontext in otel.propagators too, or set correlation`);
  }
  return lines;
}

// What `manifests` prints beside the files: the steps a spec's features need outside the generated resources.
import type { LanesSpec } from "../lib/spec-types.ts";
import { LANE_TAGS, LANE_REQUESTS_METRIC } from "../lib/observe.ts";
import { carriersFor } from "../lib/carriers.ts";

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
 * What the lane needs where the apps' propagators carry it only beside a trace context: the SDKs take a
 * tracestate entry only with a traceparent, and ot baggage only with an ot trace context, so the request the
 * first app receives must bring one. Empty when baggage or jaeger carries it, or correlation is on.
 */
export function traceContextNotes(spec: LanesSpec): string[] {
  const carriers = carriersFor(spec.otel?.propagators) ?? ["baggage"];
  if (spec.correlation || carriers.includes("baggage") || carriers.includes("jaeger")) return [];
  const lines: string[] = [];
  if (carriers.includes("tracestate")) {
    lines.push(`trace context: the apps forward the lane in a tracestate entry, which their SDKs keep only beside a traceparent; the request the first app receives needs one:`,
      `  start traces at the ingress gateway: an OpenTelemetry tracing provider (meshConfig.extensionProviders[].opentelemetry) and a Telemetry resource enabling it, or clients that send traceparent`);
  }
  if (carriers.includes("ottrace") && !carriers.includes("tracestate")) {
    lines.push(`trace context: the apps forward the lane only in ot-baggage-* headers, which their SDKs keep only beside an ot trace context (ot-tracer-traceid/spanid) that only clients send; list baggage or tracecontext in otel.propagators too, or set correlation`);
  }
  return lines;
}

// What the renderers share: the labels every generated resource carries, and the pieces the targets write
// alike. Each reads the routing plan (lib/plan.ts); names come from lib/names.ts.
import type { LanesSpec } from "../lib/spec-types.ts";
import { servicePlan, type FilterRole, type RoutingPlan } from "../lib/plan.ts";
import { filterName, fqdn, gatewayName } from "../lib/names.ts";
import type { Resource } from "../lib/resource.ts";

/** The labels every generated resource carries: `kubectl delete -l` and `apply --prune -l` select by them. */
export function ownLabels(spec: LanesSpec): Record<string, string> {
  return { "app.kubernetes.io/managed-by": "lane-tag", "lane-tag/group": spec.group };
}

/**
 * A filter resource's metadata. The gateway's goes where the gateway's pods run, which need not be the
 * `Gateway` resource's namespace: Istio applies a WasmPlugin outside its root namespace only to that
 * namespace's pods (ASM's EnvoyFilter, generated beside the ASMFilterDeployment, likewise).
 */
export function filterMeta(spec: LanesSpec, role: FilterRole, svc?: string) {
  return { name: filterName(spec, role, svc), namespace: role === "gateway" ? spec.gateway!.workloadNamespace : spec.namespace, labels: ownLabels(spec) };
}

/** The pod labels a role's filter applies to: the gateway's, or the service's workload label. */
export function workloadLabels(plan: RoutingPlan, role: FilterRole, svc?: string): Record<string, string> {
  return role === "gateway" ? plan.spec.gateway!.labels : { [plan.spec.workloadLabel]: servicePlan(plan, svc!).workload };
}

/** Why inbound and outbound filters of a workload must share a vm_id, for the generated files. */
export const CORRELATION_NOTE = [
  "correlation is on: this workload's inbound and outbound lane-tag filters must run with the same vm_id,",
  "because the trace id -> lane entries live in Envoy's shared data, which is kept per vm_id.",
];

/** A service's DestinationRule: one subset per version, named by its lane, selecting its lane label. */
export function destinationRule(plan: RoutingPlan, svc: string, metadata: Resource["metadata"]): Resource {
  return {
    apiVersion: "networking.istio.io/v1beta1",
    kind: "DestinationRule",
    metadata,
    spec: {
      host: fqdn(plan.spec, svc),
      subsets: servicePlan(plan, svc).versions.map((v) => ({ name: v.lane, labels: { [plan.spec.labelKey]: v.label } })),
    },
  };
}

/** The gateway's route to the entry service: both targets write the same one. */
export function gatewayVirtualService(plan: RoutingPlan): Resource {
  const { spec } = plan;
  const g = spec.gateway!;
  const gp = plan.gateway!;
  const host = fqdn(spec, g.entry.service);
  const port = g.entry.port ? { port: { number: g.entry.port } } : {};
  const metadata = { labels: ownLabels(spec), name: gatewayName(spec), namespace: g.namespace };
  const vs = (http: object[]): Resource => ({
    apiVersion: "networking.istio.io/v1beta1",
    kind: "VirtualService",
    metadata,
    spec: { hosts: g.hosts, gateways: [`${g.namespace}/${g.name}`], http },
  });
  if (gp.decidesLane) {
    // lane-tag has set the lane (sticky by weight, or named by the client) before routing: route on it,
    // as a service's routes do; requests without one go to the baseline.
    return vs([
      ...gp.routed.map(({ lane, serving }) => ({
        match: [{ uri: { prefix: g.entry.prefix }, headers: { [spec.routingHeader]: { exact: lane } } }],
        route: [{ destination: { host, subset: serving, ...port } }],
      })),
      { match: [{ uri: { prefix: g.entry.prefix } }], route: [{ destination: { host, subset: plan.baseline, ...port } }] },
    ]);
  }
  // The weighted lane assignment: each lane's share goes to the entry service with its header set.
  const route = gp.routed.map(({ lane, weight, serving }) => ({
    destination: { host, subset: serving, ...port },
    weight,
    headers: { request: { set: { [spec.routingHeader]: lane } } },
  }));
  return vs([{ match: [{ uri: { prefix: g.entry.prefix } }], route }]);
}

/**
 * The OpenTelemetry Operator's Instrumentation for zero-code baggage propagation (the seeds' step, generated).
 * Without a collector it follows the seeds' option A: nothing sampled, no metrics exported, only propagation.
 */
export function instrumentation(spec: LanesSpec): Resource {
  const o = spec.otel!;
  return {
    apiVersion: "opentelemetry.io/v1alpha1",
    kind: "Instrumentation",
    metadata: { name: o.name, namespace: spec.namespace, labels: ownLabels(spec) },
    spec: o.endpoint
      ? { exporter: { endpoint: o.endpoint }, propagators: o.propagators, sampler: { type: "parentbased_traceidratio", argument: "1" } }
      : { env: [{ name: "OTEL_METRICS_EXPORTER", value: "none" }], propagators: o.propagators, sampler: { type: "always_off", argument: "1" } },
  };
}

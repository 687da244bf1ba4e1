// What the renderers (asm.ts, istio.ts) share: the resource shape, the names and labels every generated
// resource carries, and the pieces both targets write alike. Each reads the routing plan (lib/plan.ts).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { LanesSpec } from "../lib/spec-types.ts";
import { servicePlan, type FilterRole, type RoutingPlan } from "../lib/plan.ts";

const runtimeConfig = JSON.parse(readFileSync(fileURLToPath(new URL("../../runtime-config.json", import.meta.url)), "utf8"));
/** The root id the module serves, as runtime-config.json declares it (a test keeps the two equal). */
export const ROOT_ID: string = runtimeConfig.config.rootIds[0];

export type Resource = Record<string, any> & {
  apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

/** A generated file: its path under the output folder, the resource it holds, and comment lines for it. */
export interface Output { path: string; resource: Resource; notes?: string[] }

/** The labels every generated resource carries: `kubectl delete -l` and `apply --prune -l` select by them. */
export function ownLabels(spec: LanesSpec): Record<string, string> {
  return { "app.kubernetes.io/managed-by": "lane-tag", "lane-tag/group": spec.group };
}

export const fqdn = (spec: LanesSpec, svc: string) => `${svc}.${spec.namespace}.svc.cluster.local`;

/** A filter resource's name: the group in it, so that two lane groups in one namespace never collide. */
export const filterName = (spec: LanesSpec, role: FilterRole, svc?: string) => role === "gateway" ? `lane-tag-${spec.group}-gateway` : `lane-tag-${spec.group}-${svc}-${role}`;

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
  const subset = (lane: string) => servicePlan(plan, gp.entry).routes.find((r) => r.requested === lane)!.lane;
  const metadata = { labels: ownLabels(spec), name: `lane-tag-${spec.group}-gateway`, namespace: g.namespace };
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
      ...gp.routed.map(({ lane }) => ({
        match: [{ uri: { prefix: g.entry.prefix }, headers: { [spec.routingHeader]: { exact: lane } } }],
        route: [{ destination: { host, subset: subset(lane), ...port } }],
      })),
      { match: [{ uri: { prefix: g.entry.prefix } }], route: [{ destination: { host, subset: plan.baseline, ...port } }] },
    ]);
  }
  // The weighted lane assignment: each lane's share goes to the entry service with its header set.
  const route = gp.routed.map(({ lane, weight }) => ({
    destination: { host, subset: subset(lane), ...port },
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

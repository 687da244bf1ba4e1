// The ambient target's routes (Gateway API v1 HTTPRoute, read from the routing plan): per service, one route
// attached to its Service (the mesh attachment, GAMMA) with a rule per serving version matching the lanes
// it serves, and a catch-all to the baseline; at ingress, a route on the entry path from the Gateway.
// HTTPRoute has no DestinationRule subsets, so every backend is a per-version Service: <group>-<service>-<lane>.
import { servicePlan, type RoutingPlan } from "../lib/plan.ts";
import { gatewayName, gatewayRouteName, serviceRouteName, versionService } from "../lib/names.ts";
import type { Resource } from "../lib/resource.ts";
import { ownLabels } from "./common.ts";

export const GATEWAY_API = "gateway.networking.k8s.io/v1";

// The HTTPRoute CRD's limits: rules per route, matches per rule.
const MAX_RULES = 16;
const MAX_MATCHES = 64;

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

const headerMatch = (plan: RoutingPlan, prefix: string, lane: string) => ({
  path: { type: "PathPrefix", value: prefix },
  headers: [{ type: "Exact", name: plan.spec.routingHeader, value: lane }],
});

/**
 * A service's routes. Every match has the same path match, so Gateway API's precedence ranks a lane's match
 * (one header) above the catch-all (none) wherever the rules are, whatever the file order; two lanes'
 * matches never both hold, as a request has one routing header value. Lanes the baseline serves get their
 * own match too, so that another route on the Service cannot take them elsewhere with a header match.
 * Past the CRD's limits (16 rules, 64 matches) the rules go to further routes on the same Service.
 */
export function serviceRoutes(plan: RoutingPlan, svc: string): Resource[] {
  const { spec } = plan;
  const s = servicePlan(plan, svc);
  const port = spec.ambient!.ports[svc];
  const backend = (lane: string) => [{ name: versionService(plan, svc, lane), port }];
  const rules: object[] = [];
  for (const v of s.versions) {
    const lanes = s.routes.filter((r) => r.lane === v.lane).map((r) => r.requested);
    for (const part of chunks(lanes, MAX_MATCHES)) rules.push({ matches: part.map((l) => headerMatch(plan, "/", l)), backendRefs: backend(v.lane) });
  }
  rules.push({ matches: [{ path: { type: "PathPrefix", value: "/" } }], backendRefs: backend(s.noLane.lane) });
  return chunks(rules, MAX_RULES).map((part, i) => ({
    apiVersion: GATEWAY_API,
    kind: "HTTPRoute",
    metadata: { name: serviceRouteName(spec, svc, i), namespace: spec.namespace, labels: ownLabels(spec) },
    spec: { parentRefs: [{ group: "", kind: "Service", name: svc }], rules: part },
  }));
}

/** The ingress Gateway's listeners: one for any host ("*" among the hosts), else one per host. */
function listeners(plan: RoutingPlan) {
  const g = plan.spec.gateway!;
  if (g.hosts.includes("*")) return [{ name: "http", port: 80, protocol: "HTTP" }];
  return g.hosts.map((h, i) => ({ name: `http-${i}`, port: 80, protocol: "HTTP", hostname: h }));
}

/** The ingress Gateway (gatewayClassName istio: Istio deploys its proxy, named after it, in its namespace). */
export function ingressGateway(plan: RoutingPlan): Resource {
  const g = plan.spec.gateway!;
  return {
    apiVersion: GATEWAY_API,
    kind: "Gateway",
    metadata: { name: g.name, namespace: g.namespace, labels: ownLabels(plan.spec) },
    spec: { gatewayClassName: "istio", listeners: listeners(plan) },
  };
}

/**
 * The ingress route to the entry service's per-version Services. Where the gateway's filter decides the
 * lane (sticky choice, lane_from), it matches the routing header the filter set, as a service's route
 * does. Otherwise the route splits by weight and sets the header per backend (RequestHeaderModifier on
 * each backendRef), the weighted lane assignment of the sidecar outputs' gateway VirtualService.
 */
export function ingressRoute(plan: RoutingPlan): Resource[] {
  const { spec } = plan;
  const g = spec.gateway!;
  const gp = plan.gateway!;
  const entry = servicePlan(plan, gp.entry);
  const port = spec.ambient!.ports[gp.entry];
  // The route lives beside its Gateway; its backends are in the group's namespace (a ReferenceGrant there).
  const to = (lane: string) => ({ name: versionService(plan, gp.entry, lane), ...(g.namespace !== spec.namespace ? { namespace: spec.namespace } : {}), port });
  const prefix = { path: { type: "PathPrefix", value: g.entry.prefix } };
  const rules: object[] = [];
  if (gp.decidesLane) {
    for (const v of entry.versions) {
      const lanes = gp.routed.filter((r) => r.serving === v.lane).map((r) => r.lane);
      for (const part of chunks(lanes, MAX_MATCHES)) rules.push({ matches: part.map((l) => headerMatch(plan, g.entry.prefix, l)), backendRefs: [to(v.lane)] });
    }
    rules.push({ matches: [prefix], backendRefs: [to(entry.noLane.lane)] });
  } else {
    rules.push({
      matches: [prefix],
      backendRefs: gp.routed.map(({ lane, weight, serving }) => ({
        ...to(serving),
        weight,
        filters: [{ type: "RequestHeaderModifier", requestHeaderModifier: { set: [{ name: spec.routingHeader, value: lane }] } }],
      })),
    });
  }
  return chunks(rules, MAX_RULES).map((part, i) => ({
    apiVersion: GATEWAY_API,
    kind: "HTTPRoute",
    metadata: { name: gatewayRouteName(spec, i), namespace: g.namespace, labels: ownLabels(spec) },
    spec: {
      parentRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: g.name }],
      ...(g.hosts.includes("*") ? {} : { hostnames: g.hosts }),
      rules: part,
    },
  }));
}

/** Lets the ingress route (in the Gateway's namespace) refer to the group's Services in theirs. */
export function referenceGrant(plan: RoutingPlan): Resource {
  const { spec } = plan;
  return {
    apiVersion: "gateway.networking.k8s.io/v1beta1",
    kind: "ReferenceGrant",
    metadata: { name: gatewayName(spec), namespace: spec.namespace, labels: ownLabels(spec) },
    spec: {
      from: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", namespace: spec.gateway!.namespace }],
      to: [{ group: "", kind: "Service" }],
    },
  };
}

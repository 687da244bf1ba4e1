// The Istio ambient target (ambient/): no sidecars. The waypoint (a Gateway API Gateway of class
// istio-waypoint) routes by the HTTPRoutes and runs the filter in the waypoint role (WasmPlugin targetRefs);
// per-version Services stand in for DestinationRule subsets; ingress is a Gateway of class istio with its own
// route and the gateway filter. Enrolment (namespace labels) is printed as kubectl steps, not applied as a
// Namespace: `kubectl delete -f` or `apply --prune` on the folder would otherwise delete the namespace.
import type { RoutingPlan } from "../lib/plan.ts";
import { gatewayName, versionService, waypointFilterName, waypointOf, waypoints } from "../lib/names.ts";
import type { Output, Resource } from "../lib/resource.ts";
import { instrumentation, ownLabels } from "./common.ts";
import { GATEWAY_API, ingressGateway, ingressRoute, referenceGrant, serviceRoutes } from "./ambient-routes.ts";
import { wasmPlugin } from "./wasm-plugin.ts";

function waypoint(plan: RoutingPlan, name: string): Resource {
  return {
    apiVersion: GATEWAY_API,
    kind: "Gateway",
    metadata: { name, namespace: plan.spec.namespace, labels: { ...ownLabels(plan.spec), "istio.io/waypoint-for": "service" } },
    spec: { gatewayClassName: "istio-waypoint", listeners: [{ name: "mesh", port: 15008, protocol: "HBONE" }] },
  };
}

/**
 * A WasmPlugin on a Gateway, by targetRefs (a selector does not reach a waypoint; a Service target is not
 * reliable in current Istio). The waypoint's filter fails open, as a sidecar's; the ingress one, which does
 * not trust the client's lane, fails closed.
 */
function gatewayPlugin(plan: RoutingPlan, role: "waypoint" | "gateway", name: string, namespace: string, gateway: string): Resource {
  const targetRefs = [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: gateway }];
  return wasmPlugin(plan, role, { name, namespace, labels: ownLabels(plan.spec) }, { targetRefs });
}

/**
 * A per-version Service: the service's pods of one version. It names its waypoint, and asks the ingress
 * gateway to send through it, so that the waypoint's filter writes the lane into baggage there too.
 */
function versionServiceResource(plan: RoutingPlan, svc: string, lane: string, label: string, workload: string): Resource {
  const { spec } = plan;
  const port = spec.ambient!.ports[svc];
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: versionService(plan, svc, lane),
      namespace: spec.namespace,
      labels: { ...ownLabels(spec), "istio.io/use-waypoint": waypointOf(plan, svc), "istio.io/ingress-use-waypoint": "true" },
    },
    spec: { selector: { [spec.workloadLabel]: workload, [spec.labelKey]: label }, ports: [{ name: "http", port, targetPort: port, protocol: "TCP" }] },
  };
}

/** What a user runs before applying ambient/: enrol the namespace, point its services at their waypoints. */
export function enrolmentSteps(plan: RoutingPlan): string[] {
  const { spec } = plan;
  const a = spec.ambient!;
  const steps = [`kubectl label namespace ${spec.namespace} istio.io/dataplane-mode=ambient`];
  if (a.scope === "namespace") steps.push(`kubectl label namespace ${spec.namespace} istio.io/use-waypoint=${a.waypoint}`);
  else for (const w of waypoints(plan)) steps.push(`kubectl label service ${w.services[0]} -n ${spec.namespace} istio.io/use-waypoint=${w.name}`);
  return steps;
}

const CORRELATION_AMBIENT = [
  "correlation is on: it works because one waypoint sees both the requests arriving at the namespace's",
  "services and their calls to each other (the trace id -> lane entries live in that waypoint's Envoy).",
];

/** The ambient/ files, in the order manifests writes them. */
export function renderAmbient(plan: RoutingPlan): Output[] {
  const { spec } = plan;
  const out: Output[] = [];
  const enrol = ["Enrol the namespace before applying (a Namespace resource here would be deleted with the folder):", ...enrolmentSteps(plan).map((s) => `  ${s}`)];
  for (const w of waypoints(plan)) {
    out.push({ path: `ambient/waypoint${w.suffix}.yaml`, resource: waypoint(plan, w.name), notes: enrol });
    const filter = gatewayPlugin(plan, "waypoint", waypointFilterName(spec, w), spec.namespace, w.name);
    out.push({ path: `ambient/filter-waypoint${w.suffix}.yaml`, resource: filter, ...(spec.correlation ? { notes: CORRELATION_AMBIENT } : {}) });
  }
  for (const s of plan.services) {
    for (const v of s.versions) out.push({ path: `ambient/service-${versionService(plan, s.name, v.lane)}.yaml`, resource: versionServiceResource(plan, s.name, v.lane, v.label, s.workload) });
    serviceRoutes(plan, s.name).forEach((r, i) => out.push({ path: `ambient/httproute-${s.name}${i === 0 ? "" : `-${i + 1}`}.yaml`, resource: r }));
  }
  if (spec.gateway) {
    const g = spec.gateway;
    out.push({ path: "ambient/gateway.yaml", resource: ingressGateway(plan) });
    out.push({ path: "ambient/filter-gateway.yaml", resource: gatewayPlugin(plan, "gateway", gatewayName(spec), g.namespace, g.name) });
    ingressRoute(plan).forEach((r, i) => out.push({ path: `ambient/httproute-gateway${i === 0 ? "" : `-${i + 1}`}.yaml`, resource: r }));
    if (g.namespace !== spec.namespace) out.push({ path: "ambient/referencegrant-gateway.yaml", resource: referenceGrant(plan) });
  }
  if (spec.otel) out.push({ path: "ambient/instrumentation.yaml", resource: instrumentation(spec) });
  return out;
}

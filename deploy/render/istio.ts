// The Istio sidecar target (istio/): a WasmPlugin per filter role, and lane routing beside each service.
// Istio's VirtualService has no fallback: each lane's route names the version the plan says serves it (the
// nearest lane up its chain that has one: the baseline, unless the spec stacks lanes), and a last route
// takes everything else to the baseline.
import { servicePlan, type FilterRole, type RoutingPlan } from "../lib/plan.ts";
import { CORRELATION_NOTE, destinationRule, filterMeta, fqdn, gatewayVirtualService, instrumentation, ownLabels, ROOT_ID, workloadLabels, type Output, type Resource } from "./common.ts";

const routingMeta = (plan: RoutingPlan, svc: string) => ({ labels: ownLabels(plan.spec), name: `lane-tag-${plan.spec.group}-${svc}`, namespace: plan.spec.namespace });

function virtualService(plan: RoutingPlan, svc: string): Resource {
  const host = fqdn(plan.spec, svc);
  const service = servicePlan(plan, svc);
  return {
    apiVersion: "networking.istio.io/v1beta1",
    kind: "VirtualService",
    metadata: routingMeta(plan, svc),
    spec: {
      hosts: [host],
      http: [
        ...service.routes.map((r) => ({
          match: [{ headers: { [plan.spec.routingHeader]: { exact: r.requested } } }],
          route: [{ destination: { host, subset: r.lane } }],
        })),
        { route: [{ destination: { host, subset: service.noLane.lane } }] },
      ],
    },
  };
}

/**
 * A sidecar's lane filter must never take traffic down: fail open. A filter that does not trust the
 * client's lane (the gateway's) fails closed: open, a plugin that fails to load would let clients through
 * with the lane they named themselves (the routing header the routes match, their own baggage).
 */
function failStrategy(config: Record<string, unknown>): "FAIL_OPEN" | "FAIL_CLOSE" {
  return config.trust_client_lane === false ? "FAIL_CLOSE" : "FAIL_OPEN";
}

function wasmPlugin(plan: RoutingPlan, role: FilterRole, svc?: string): Resource {
  const { spec } = plan;
  // A copy per resource: a change to one resource never reaches another, nor the plan.
  const config = structuredClone(plan.filters[role]);
  const resource: Resource = {
    apiVersion: "extensions.istio.io/v1alpha1",
    kind: "WasmPlugin",
    metadata: filterMeta(spec, role, svc),
    spec: {
      selector: { matchLabels: workloadLabels(plan, role, svc) },
      url: `oci://${spec.istioImage}`,
      // Pinned: Istio checks the pulled image's manifest digest against it.
      ...(spec.istioSha256 ? { sha256: spec.istioSha256 } : {}),
      imagePullPolicy: spec.imagePullPolicy,
      pluginName: ROOT_ID,
      pluginConfig: config,
      failStrategy: failStrategy(config),
      type: "HTTP",
    },
  };
  if (role !== "gateway") resource.spec.match = [{ mode: role === "outbound" ? "CLIENT" : "SERVER" }];
  return resource;
}

const VM_NOTE = "Istio gives every WasmPlugin an empty vm_id, so both plugins share it.";

/** The istio/ files, in the order manifests writes them. */
export function renderIstio(plan: RoutingPlan): Output[] {
  const { spec } = plan;
  const out: Output[] = [];
  for (const { name: svc } of plan.services) {
    for (const role of ["outbound", "inbound"] as const) {
      out.push({ path: `istio/filter-${svc}-${role}.yaml`, resource: wasmPlugin(plan, role, svc), ...(spec.correlation ? { notes: [...CORRELATION_NOTE, VM_NOTE] } : {}) });
    }
  }
  if (spec.gateway) out.push({ path: "istio/filter-gateway.yaml", resource: wasmPlugin(plan, "gateway") });
  for (const { name: svc } of plan.services) {
    out.push({ path: `istio/destinationrule-${svc}.yaml`, resource: destinationRule(plan, svc, routingMeta(plan, svc)) });
    out.push({ path: `istio/virtualservice-${svc}.yaml`, resource: virtualService(plan, svc) });
  }
  if (spec.gateway) out.push({ path: "istio/virtualservice-gateway.yaml", resource: gatewayVirtualService(plan) });
  if (spec.otel) out.push({ path: "istio/instrumentation.yaml", resource: instrumentation(spec) });
  return out;
}

// The Istio sidecar target (istio/): a WasmPlugin per filter role, and lane routing beside each service.
// Istio's VirtualService has no fallback: each lane's route names the version the plan says serves it (the
// nearest lane up its chain that has one: the baseline, unless the spec stacks lanes), and a last route
// takes everything else to the baseline.
import { servicePlan, type RoutingPlan } from "../lib/plan.ts";
import { fqdn, routingName } from "../lib/names.ts";
import type { Output, Resource } from "../lib/resource.ts";
import { filterMeta, ownLabels, workloadLabels } from "./common.ts";
import { renderSidecars, type SidecarRole } from "./sidecars.ts";
import { wasmPlugin } from "./wasm-plugin.ts";

const routingMeta = (plan: RoutingPlan, svc: string) => ({ labels: ownLabels(plan.spec), name: routingName(plan.spec, svc), namespace: plan.spec.namespace });

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

/** A sidecar's or the gateway's WasmPlugin, by workload selector; a sidecar's applies to one direction. */
function sidecarPlugin(plan: RoutingPlan, role: SidecarRole, svc?: string): Resource {
  const selector = { selector: { matchLabels: workloadLabels(plan, role, svc) } };
  const match = role === "gateway" ? {} : { match: [{ mode: role === "outbound" ? "CLIENT" : "SERVER" }] };
  return wasmPlugin(plan, role, filterMeta(plan.spec, role, svc), selector, match);
}

const VM_NOTE = "Istio gives every WasmPlugin an empty vm_id, so both plugins share it.";

/** The istio/ files, in the order manifests writes them. */
export function renderIstio(plan: RoutingPlan): Output[] {
  return renderSidecars(plan, {
    folder: "istio",
    filter: (role, svc) => sidecarPlugin(plan, role, svc),
    vmNote: VM_NOTE,
    routingMeta: (svc) => routingMeta(plan, svc),
    virtualService: (svc) => virtualService(plan, svc),
  });
}

// The ASM target (asm/): ASMFilterDeployment per filter role, and lane routing the way ASM itself writes
// it, in istio-system with ASM's names and labels: each lane to its own subset, ASM's `fallback` taking a
// lane without a version to the baseline. Everything is read from the routing plan.
import { routeFor, type RoutingPlan } from "../lib/plan.ts";
import { ROOT_ID, asmRoutingName, filterName, fqdn } from "../lib/names.ts";
import type { Output, Resource } from "../lib/resource.ts";
import { filterMeta, ownLabels, workloadLabels } from "./common.ts";
import { renderSidecars, type SidecarRole } from "./sidecars.ts";

const PATCH_CONTEXT: Record<SidecarRole, string> = { gateway: "GATEWAY", outbound: "SIDECAR_OUTBOUND", inbound: "SIDECAR_INBOUND" };

/** ASM's names and labels for a service's routing resource; ours too, so that the group's resources are found by ours. */
function routingMeta(plan: RoutingPlan, svc: string, kind: "dr" | "vs") {
  const { spec } = plan;
  const asmLabels = { "asm-system": "true", provider: "asm", "swimlane-group": spec.group };
  return { labels: { ...asmLabels, ...ownLabels(spec) }, name: asmRoutingName(spec, kind, svc), namespace: "istio-system" };
}

/**
 * The subset a lane's route names: its own version's, else (a lane without a version) still its own name,
 * and ASM's fallback takes it to the baseline (the form ASM generates). A stacked lane without a version
 * whose chain reaches another lane's before the baseline's names that lane's subset.
 */
function routeSubset(plan: RoutingPlan, svc: string, lane: string): string {
  const to = routeFor(plan, svc, lane).lane;
  return to === plan.baseline ? lane : to;
}

function virtualService(plan: RoutingPlan, svc: string): Resource {
  const host = fqdn(plan.spec, svc);
  return {
    apiVersion: "networking.istio.io/v1beta1",
    kind: "VirtualService",
    metadata: routingMeta(plan, svc, "vs"),
    spec: {
      hosts: [host],
      http: plan.lanes.map((l) => ({
        match: [{ headers: { [plan.spec.routingHeader]: { exact: l.name } } }],
        route: [{ destination: { host, subset: routeSubset(plan, svc, l.name) } }],
        fallback: { target: { host, subset: plan.baseline } },
      })),
    },
  };
}

function asmFilter(plan: RoutingPlan, role: SidecarRole, svc?: string): Resource {
  const metadata = filterMeta(plan.spec, role, svc);
  return {
    apiVersion: "istio.alibabacloud.com/v1beta1",
    kind: "ASMFilterDeployment",
    metadata,
    spec: {
      workload: { kind: "Deployment", labels: workloadLabels(plan, role, svc) },
      filter: {
        patchContext: PATCH_CONTEXT[role],
        parameters: JSON.stringify(plan.filters[role]),
        image: plan.spec.image,
        rootID: ROOT_ID,
        id: metadata.name,
      },
    },
  };
}

/**
 * ASMFilterDeployment has no fail strategy field: the EnvoyFilter ASM generates from it decides. Envoy's
 * own default (no fail_open, no failure_policy) fails closed, as the gateway's filter must; the note says
 * how to check.
 */
function gatewayNote(plan: RoutingPlan): string[] {
  return [
    "This filter must fail closed: if it fails to load, the gateway would route on the lane the client named itself.",
    "ASMFilterDeployment has no fail strategy field; check the EnvoyFilter ASM generates from it:",
    `kubectl get envoyfilter ${filterName(plan.spec, "gateway")} -n ${plan.spec.gateway!.workloadNamespace} -o yaml   (fail_open absent or false, failure_policy absent or FAIL_CLOSED)`,
  ];
}

const VM_NOTE = "ASMFilterDeployment has no vm_id field: check that ASM gives both filters one vm_id (metrics: trace_recorded grows inbound, lane_from_trace outbound).";

/** The asm/ files, in the order manifests writes them. */
export function renderAsm(plan: RoutingPlan): Output[] {
  return renderSidecars(plan, {
    folder: "asm",
    filter: (role, svc) => asmFilter(plan, role, svc),
    vmNote: VM_NOTE,
    gatewayNotes: plan.spec.gateway ? gatewayNote(plan) : undefined,
    routingMeta: (svc) => routingMeta(plan, svc, "dr"),
    virtualService: (svc) => virtualService(plan, svc),
  });
}

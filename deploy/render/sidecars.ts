// The file list both sidecar targets (asm/, istio/) write, in one order: per service its two filters, the
// gateway's filter, per service its DestinationRule and VirtualService, the gateway's route, the
// Instrumentation. A target gives only what differs: its filter resource, its routing names and routes.
import type { FilterRole, RoutingPlan } from "../lib/plan.ts";
import type { Output, Resource } from "../lib/resource.ts";
import { CORRELATION_NOTE, destinationRule, gatewayVirtualService, instrumentation } from "./common.ts";

export type SidecarRole = Exclude<FilterRole, "waypoint">;

export interface SidecarTarget {
  folder: "asm" | "istio";
  filter(role: SidecarRole, svc?: string): Resource;
  /** How the target gives a workload's two filters one vm_id (correlation needs it). */
  vmNote: string;
  /** Notes for the gateway's filter file, if any. */
  gatewayNotes?: string[];
  routingMeta(svc: string): Resource["metadata"];
  virtualService(svc: string): Resource;
}

/** A sidecar target's files, in the order manifests writes them. */
export function renderSidecars(plan: RoutingPlan, t: SidecarTarget): Output[] {
  const { spec } = plan;
  const dir = t.folder;
  const out: Output[] = [];
  for (const { name: svc } of plan.services) {
    for (const role of ["outbound", "inbound"] as const) {
      out.push({ path: `${dir}/filter-${svc}-${role}.yaml`, resource: t.filter(role, svc), ...(spec.correlation ? { notes: [...CORRELATION_NOTE, t.vmNote] } : {}) });
    }
  }
  if (spec.gateway) out.push({ path: `${dir}/filter-gateway.yaml`, resource: t.filter("gateway"), ...(t.gatewayNotes ? { notes: t.gatewayNotes } : {}) });
  for (const { name: svc } of plan.services) {
    out.push({ path: `${dir}/destinationrule-${svc}.yaml`, resource: destinationRule(plan, svc, t.routingMeta(svc)) });
    out.push({ path: `${dir}/virtualservice-${svc}.yaml`, resource: t.virtualService(svc) });
  }
  if (spec.gateway) out.push({ path: `${dir}/virtualservice-gateway.yaml`, resource: gatewayVirtualService(plan) });
  if (spec.otel) out.push({ path: `${dir}/instrumentation.yaml`, resource: instrumentation(spec) });
  return out;
}

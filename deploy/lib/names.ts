// Every name the generated resources carry, in one place: the renderers, `lanes status` and the demo must
// agree on them (a waypoint status looks for, a Service a route sends to), and the lane group is in each
// name of ours so that two groups in one namespace never collide.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { LanesSpec } from "./spec-types.ts";
import type { FilterRole } from "./filter-config.ts";
import type { RoutingPlan } from "./plan.ts";

const runtimeConfig = JSON.parse(readFileSync(fileURLToPath(new URL("../../runtime-config.json", import.meta.url)), "utf8"));
/** The root id the module serves, as runtime-config.json declares it (a test keeps the two equal). */
export const ROOT_ID: string = runtimeConfig.config.rootIds[0];

/** The prefix of our resources' names: the group's. */
const prefix = (group: string) => `lane-tag-${group}`;
const own = (spec: LanesSpec) => prefix(spec.group);

/** The Instrumentation's name where the spec gives none (otel.name). */
export const defaultInstrumentationName = (group: string) => prefix(group);

/** The n-th (from 0) of a resource split in parts: the first keeps the plain name, the others -2, -3, ... */
const part = (name: string, i: number) => i === 0 ? name : `${name}-${i + 1}`;

export const fqdn = (spec: LanesSpec, svc: string) => `${svc}.${spec.namespace}.svc.cluster.local`;

/** A sidecar or gateway filter resource's name (WasmPlugin, ASMFilterDeployment; ASM's EnvoyFilter too). */
export const filterName = (spec: LanesSpec, role: FilterRole, svc?: string) => role === "gateway" ? gatewayName(spec) : `${own(spec)}-${svc}-${role}`;

/** The ingress gateway's resources of ours: its filter, its route, the ReferenceGrant its route needs. */
export const gatewayName = (spec: LanesSpec) => `${own(spec)}-gateway`;

/** Part `i` of the ingress HTTPRoute (ambient). */
export const gatewayRouteName = (spec: LanesSpec, i: number) => part(gatewayName(spec), i);

/** A service's routing resources in Istio (DestinationRule, VirtualService). */
export const routingName = (spec: LanesSpec, svc: string) => `${own(spec)}-${svc}`;

/** Part `i` of a service's HTTPRoute (ambient). */
export const serviceRouteName = (spec: LanesSpec, svc: string, i: number) => part(routingName(spec, svc), i);

/** ASM's name for a service's routing resource (kind dr or vs), as ASM itself writes them in istio-system. */
export const asmRoutingName = (spec: LanesSpec, kind: "dr" | "vs", svc: string) => `trafficlabel-${kind}-${spec.group}-${spec.namespace}-${svc}`;

/**
 * A Service name (a DNS-1035 label, at most 63 characters) for `full`: itself when it is one, else cut and
 * given a hash of the whole, so that long service and lane names still give distinct, valid names.
 */
export function serviceName(full: string): string {
  if (full.length <= 63 && /^[a-z]/.test(full)) return full;
  let h = 0x811c9dc5;
  for (const ch of full) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  const head = (/^[a-z]/.test(full) ? full : `v${full}`).slice(0, 54).replace(/-+$/, "");
  return `${head}-${h.toString(16).padStart(8, "0")}`;
}

/** The per-version Service of a service's version in `lane`: the group in it, so that two groups never share one. */
export const versionService = (plan: RoutingPlan, svc: string, lane: string) => serviceName(`${plan.spec.group}-${svc}-${lane}`);

/** A waypoint: its Gateway's name, the services it serves, and the suffix its files and filter take. */
export interface Waypoint { name: string; services: string[]; suffix: string }

/** The waypoints: one for the namespace, or one per service (`<service>-waypoint`), with the services each serves. */
export function waypoints(plan: RoutingPlan): Waypoint[] {
  const a = plan.spec.ambient!;
  const all = plan.services.map((s) => s.name);
  return a.scope === "namespace"
    ? [{ name: a.waypoint, services: all, suffix: "" }]
    : all.map((s) => ({ name: serviceName(`${s}-waypoint`), services: [s], suffix: `-${s}` }));
}

/** The service's waypoint's name. */
export const waypointOf = (plan: RoutingPlan, svc: string) => waypoints(plan).find((w) => w.services.includes(svc))!.name;

/** The filter resource (WasmPlugin) of a waypoint. */
export const waypointFilterName = (spec: LanesSpec, w: Waypoint) => `${own(spec)}${w.suffix}-waypoint`;

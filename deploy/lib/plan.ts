// The routing plan: what every output of a lanes spec renders (the ASM and Istio manifests, the local Envoy
// configs, the Docker-less demo), computed in one place so that no two of them can disagree on where a lane
// goes. For each service and each lane (every lane of the spec, no lane at all, and a lane the spec does not
// name): the lane whose version serves it, that version's label, and the fallback chain that led there;
// per service its versions, its baseline and its pods' workload label; the filter's configuration per role;
// the lanes the gateway sends in. Pure: the same spec gives the same plan, and the spec is not changed.
import type { LanesSpec } from "./spec-types.ts";
import { laneChain, laneFor } from "./lane-chain.ts";
import { filterConfig, gatewayDecidesLane, type FilterRole } from "./filter-config.ts";

export type { FilterRole } from "./filter-config.ts";

/** A version of a service: the lane that holds it and its label (the value of `labelKey` on its pods). */
export interface Version {
  lane: string;
  label: string;
}

/** Where a request for a service goes, in some lane. */
export interface Route {
  /** The lane whose version serves it: the nearest lane up `chain` that has a version of the service. */
  lane: string;
  /** That lane's version label, e.g. v2. */
  version: string;
  /** The fallback chain of the request's lane, from that lane to the baseline (the baseline's alone for no
   *  lane or an unknown one): e.g. feat-x -> release-2 -> s1. */
  chain: string[];
}

/** The route of a request in one of the spec's lanes. */
export interface LaneRoute extends Route {
  /** The lane the request is in. */
  requested: string;
}

export interface ServicePlan {
  name: string;
  /** The `workloadLabel` value that selects the service's pods (spec.workloads, else the service's name). */
  workload: string;
  /** The versions that exist: one per lane that lists the service, in the spec's lane order. */
  versions: Version[];
  /** The baseline's version, which every service has. */
  baseline: Version;
  /** One route per lane of the spec, in the spec's order. */
  routes: LaneRoute[];
  /** A request without a lane: the baseline's version. */
  noLane: Route;
  /** A request in a lane the spec does not name: the baseline's version, as no lane's route matches it. */
  unknownLane: Route;
}

/** A lane of the spec as the plan has it. */
export interface PlanLane {
  name: string;
  label: string;
  /** Its fallback chain, from it to the baseline. */
  chain: string[];
}

/** A lane the gateway sends in, with its weight in the gateway's split (0 where the spec gives none). */
export interface GatewayLane {
  lane: string;
  weight: number;
  /** The lane whose version of the entry service serves it: the subset, or per-version Service, its route names. */
  serving: string;
}

export interface GatewayPlan {
  /** The service the gateway sends requests to (gateway.entry.service). */
  entry: string;
  /** Whether the gateway's lane-tag decides the lane before routing (sticky choice, or lane_from): its route
   *  then matches the routing header, instead of splitting by weight and setting the header itself. */
  decidesLane: boolean;
  /** Every lane of the spec with its weight, in the spec's order. */
  weights: GatewayLane[];
  /** The lanes the gateway's route names, in the spec's order: those with a weight, or every lane where
   *  clients name their own (lane_from). */
  routed: GatewayLane[];
}

export interface RoutingPlan {
  /** The spec the plan is of: names, images and labels the renderers write as they are. */
  spec: LanesSpec;
  baseline: string;
  lanes: PlanLane[];
  /** One per service of the group, in the spec's order of first mention. */
  services: ServicePlan[];
  /** The filter's configuration per role: sidecar outbound, sidecar inbound, gateway, ambient waypoint. */
  filters: Record<FilterRole, Record<string, unknown>>;
  /** Set when the spec has a gateway. */
  gateway?: GatewayPlan;
}

const ROLES: FilterRole[] = ["outbound", "inbound", "gateway", "waypoint"];

/** The routing plan of a spec (a spec as parseSpec returns it: every lane's chain ends at the baseline). */
export function routingPlan(spec: LanesSpec): RoutingPlan {
  const label = new Map(spec.lanes.map((l) => [l.name, l.label]));
  const lanes = spec.lanes.map((l) => ({ name: l.name, label: l.label, chain: laneChain(spec, l.name) }));
  const services = spec.services.map((name): ServicePlan => {
    // A lane the spec does not name, and no lane, take the baseline's chain.
    const route = (lane: string): Route => {
      const to = laneFor(spec, name, lane);
      return { lane: to, version: label.get(to) ?? "", chain: laneChain(spec, lane) };
    };
    return {
      name,
      workload: spec.workloads[name] ?? name,
      versions: spec.lanes.filter((l) => l.services.includes(name)).map((l) => ({ lane: l.name, label: l.label })),
      baseline: { lane: spec.baseline, label: label.get(spec.baseline) ?? "" },
      routes: lanes.map((l) => ({ requested: l.name, ...route(l.name) })),
      noLane: route(spec.baseline),
      unknownLane: route(spec.baseline),
    };
  });
  const filters = Object.fromEntries(ROLES.map((r) => [r, filterConfig(spec, r)])) as RoutingPlan["filters"];
  return { spec, baseline: spec.baseline, lanes, services, filters, ...(spec.gateway ? { gateway: gatewayPlan(spec) } : {}) };
}

function gatewayPlan(spec: LanesSpec): GatewayPlan {
  const g = spec.gateway!;
  const weights = spec.lanes.map((l) => ({ lane: l.name, weight: g.weights[l.name] ?? 0, serving: laneFor(spec, g.entry.service, l.name) }));
  return { entry: g.entry.service, decidesLane: gatewayDecidesLane(spec), weights, routed: weights.filter((w) => g.laneFrom || w.weight > 0) };
}

/** A service's part of the plan; an error names the service when the plan has no such service. */
export function servicePlan(plan: RoutingPlan, service: string): ServicePlan {
  const s = plan.services.find((x) => x.name === service);
  if (!s) throw new Error(`${JSON.stringify(service)} is not a service of the lane group (${plan.services.map((x) => x.name).join(", ")})`);
  return s;
}

/** Where a request for `service` in `lane` goes: a lane of the spec, an unknown lane, or none (undefined). */
export function routeFor(plan: RoutingPlan, service: string, lane: string | undefined): Route {
  const s = servicePlan(plan, service);
  if (lane === undefined) return s.noLane;
  return s.routes.find((r) => r.requested === lane) ?? s.unknownLane;
}

/** A lane's part of the plan (the baseline's for a lane the spec does not name, as laneChain has it). */
export function planLane(plan: RoutingPlan, lane: string): PlanLane {
  return plan.lanes.find((l) => l.name === lane) ?? plan.lanes.find((l) => l.name === plan.baseline)!;
}

/** Whether some lane falls back to another lane than the baseline (stacked lanes). */
export function isStacked(plan: RoutingPlan): boolean {
  return plan.lanes.some((l) => l.chain.length > 2);
}

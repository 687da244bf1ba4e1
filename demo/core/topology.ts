// The local demo's topology, derived from a lanes spec; shared by the Envoy configs (generate.ts) and the
// Docker-less demo (demo.ts) so that both route the same way.
//  - workloads: every service in every lane's version (the seeds deploy v1, v2 and v3 of each service);
//  - the services call each other in the order the baseline lane lists them (mocka -> mockb -> mockc), the
//    first one behind the gateway (which must be gateway.entry.service when the spec names one);
//  - lane routing, as the routing plan (lib/plan.ts) says: the routing header selects the lane's cluster of a
//    service; a lane that has no version of the service has an empty cluster, and an aggregate cluster falls
//    back up the lane's fallback chain to the baseline's (ASM's fallback, with a real Envoy mechanism;
//    stacked lanes: feat-x, then release-2, then the baseline).
import type { LanesSpec } from "../../deploy/lib/spec.ts";
import { planLane, routeFor, servicePlan, type RoutingPlan } from "../../deploy/lib/plan.ts";
import { planOf } from "./plan.ts";

export const SERVICE_PORT = 8000;

export interface Workload {
  service: string;
  /** The version label, e.g. v2. */
  version: string;
  /** Container/host name, e.g. mockb-v2. */
  name: string;
}

/** The call chain: the baseline lane's services, in the order it lists them. */
export function chain(spec: LanesSpec): string[] {
  const services = spec.lanes.find((l) => l.name === spec.baseline)!.services;
  const entry = spec.gateway?.entry.service;
  if (entry !== undefined && entry !== services[0]) {
    throw new Error(`the local demo calls the services in the baseline lane's order (${services.join(" -> ")}); gateway.entry.service must be the first, not ${entry}`);
  }
  return services;
}

/** The workload of a service's version: its container and host name is `<service>-<label>` (mockb-v2). */
const workload = (service: string, version: string): Workload => ({ service, version, name: `${service}-${version}` });

export function workloads(spec: LanesSpec): Workload[] {
  const out: Workload[] = [];
  for (const service of chain(spec)) {
    for (const lane of spec.lanes) out.push(workload(service, lane.label));
  }
  return out;
}

/** One workload per version the plan has (the WebSocket seed deploys wsk in v1 only; helloworld in v1 and v2). */
export function deployments(spec: LanesSpec): Workload[] {
  const plan = planOf(spec);
  return chain(spec).flatMap((service) => servicePlan(plan, service).versions.map((v) => workload(service, v.label)));
}

/** The service each service calls, or undefined for the last one. */
export function upstreamOf(spec: LanesSpec, service: string): string | undefined {
  const c = chain(spec);
  return c[c.indexOf(service) + 1];
}

/** The cluster holding the lane's version of a service (empty when the lane has none). */
export const laneCluster = (service: string, lane: string) => `${service}|${lane}`;
/** The cluster a lane routes to: its own version, else its fallback chain's (fallbackClusters), else the baseline's. */
export const routeCluster = (service: string, lane: string) => `${service}|${lane}|fallback`;

/** The workload serving `lane` in `service`'s lane cluster, or undefined when the lane has no version of it. */
export function laneMember(plan: RoutingPlan, service: string, lane: string): Workload | undefined {
  const v = servicePlan(plan, service).versions.find((x) => x.lane === lane);
  return v && workload(service, v.label);
}

/**
 * Where a request for `service` goes, as the plan says: the version of the nearest lane up the lane's
 * fallback chain that has one (the lane's own, else its fallback's, ..., else the baseline's: the aggregate
 * cluster's order); an unknown lane or none goes to the baseline.
 */
export function serving(plan: RoutingPlan, service: string, lane: string | undefined): Workload {
  return workload(service, routeFor(plan, service, lane).version);
}

/** serving() for a spec (its plan computed here). */
export function resolve(spec: LanesSpec, service: string, lane: string | undefined): Workload {
  return serving(planOf(spec), service, lane);
}

/** The lane clusters a lane's aggregate lists, in order: its own, then up its fallback chain to the baseline's. */
export function chainClusters(plan: RoutingPlan, service: string, lane: string): string[] {
  return planLane(plan, lane).chain.map((l) => laneCluster(service, l));
}

/** chainClusters() for a spec. */
export function fallbackClusters(spec: LanesSpec, service: string, lane: string): string[] {
  return chainClusters(planOf(spec), service, lane);
}

/** The version chain a request in `lane` should take, service by service, when the lane survives every hop. */
export function expectedChain(spec: LanesSpec, lane: string): string[] {
  const plan = planOf(spec);
  return chain(spec).map((s) => serving(plan, s, lane).version);
}

/** Without the filter the lane reaches only the first service: later hops carry no header and go to the baseline. */
export function chainWithoutFilter(spec: LanesSpec, lane: string): string[] {
  const plan = planOf(spec);
  return chain(spec).map((s, i) => serving(plan, s, i === 0 ? lane : undefined).version);
}

/** Gateway weights per lane, in lane order (from the spec, or overridden). */
export function gatewayWeights(spec: LanesSpec, override?: number[]): { lane: string; weight: number }[] {
  if (override) {
    if (override.length !== spec.lanes.length) throw new Error(`--weights needs ${spec.lanes.length} numbers (${spec.lanes.map((l) => l.name).join(", ")})`);
    return spec.lanes.map((l, i) => ({ lane: l.name, weight: override[i] }));
  }
  return planOf(spec).gateway?.weights ?? spec.lanes.map((l) => ({ lane: l.name, weight: 0 }));
}

/**
 * Envoy's weighted cluster choice: value % total, then the first cluster whose cumulative weight exceeds it.
 * The value comes from the `header_name` request header when it holds an unsigned integer.
 */
export function pickWeighted<T extends { weight: number }>(items: T[], value: bigint): T {
  const total = items.reduce((a, b) => a + b.weight, 0);
  let selected = Number(value % BigInt(total));
  for (const it of items) {
    if (selected < it.weight) return it;
    selected -= it.weight;
  }
  return items[items.length - 1];
}

/** The value for pickWeighted: the `header_name` header's when it holds an unsigned 64-bit integer, else random. */
export function weightedValue(header: string | undefined, rand: () => number): bigint {
  return header && /^\d{1,20}$/.test(header) && BigInt(header) < 2n ** 64n ? BigInt(header) : BigInt(Math.floor(rand() * 2 ** 32));
}

/** The request header that carries the gateway's random value (Envoy's WeightedCluster.header_name). */
export const RANDOM_HEADER = "x-lane-random";
/** The response header the gateway adds to say which lane it assigned. */
export const LANE_HEADER = "x-lane";

/**
 * Strict mode's topology: every lane holds a version of every service (ASM's strict mode needs full lanes,
 * since nothing carries the lane past a service that falls back to the baseline).
 */
export function fullLanes(spec: LanesSpec): LanesSpec {
  return { ...spec, lanes: spec.lanes.map((l) => ({ ...l, services: [...spec.services] })) };
}

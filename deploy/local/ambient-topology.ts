// What every ambient mesh of the demo reads from the generated ambient/ folder, whatever its protocol (the
// gRPC and WebSocket ambient meshes; the HTTP one has the same steps in ambient-mesh.ts): the waypoints and
// the filter configuration of the WasmPlugin that targets each, the Services and the waypoint each uses, the
// HTTPRoutes' resolver, the pods a Service selects, and the ingress Gateway's filter. The meshes only move
// their protocol's bytes between these.
import { existsSync, readFileSync } from "node:fs";
import { Host, type Plugin } from "../emulator/index.ts";
import type { LanesSpec } from "../lib/spec.ts";
import { routingPlan, servicePlan } from "../lib/plan.ts";
import { waypointOf } from "../render/ambient.ts";
import { chain, gatewayWeights, type Workload } from "./core/topology.ts";
import { ambientResources, withWeights } from "./applied.ts";
import { resolveHttp, serviceIndex, serviceKey, servicePods, type Resolver, type ServiceRef } from "./core/router-http.ts";
import { WASM } from "./mesh.ts";

const USE_WAYPOINT = "istio.io/use-waypoint";
const INGRESS_USE_WAYPOINT = "istio.io/ingress-use-waypoint";
const GATEWAY_GROUP = "gateway.networking.k8s.io";

export interface AmbientTopology {
  services: Map<string, ServiceRef>;
  /** Where a hop goes by the generated HTTPRoutes (to a Service). */
  resolve: Resolver;
  /** The pod of the demo a Service's request goes to, in turn. */
  pick: (s: ServiceRef) => Workload | { status: number; reason: string };
  /** Each waypoint with its filter (null without the filter) and the Services whose traffic it takes. */
  waypoints: { name: string; plugin: Plugin | null; services: ServiceRef[] }[];
  /** The ingress Gateway's filter (null without the filter). */
  ingress: Plugin | null;
  /** The waypoint a Service's traffic goes through, or undefined (straight to a pod). */
  waypointFor(s: ServiceRef): string | undefined;
  /** Whether traffic from the ingress to `s` goes through its waypoint (istio.io/ingress-use-waypoint). */
  ingressViaWaypoint(s: ServiceRef): boolean;
}

/** The WasmPlugin that targets Gateway `name` in `namespace`: its filter configuration and failure policy. */
export function wasmPluginFor(resources: any[], namespace: string, name: string): { config: unknown; failOpen: boolean } | undefined {
  const p = resources.find((r) => r?.kind === "WasmPlugin" && (r.metadata?.namespace ?? "default") === namespace
    && (r.spec?.targetRefs ?? []).some((t: any) => t?.group === GATEWAY_GROUP && t?.kind === "Gateway" && t?.name === name));
  return p && { config: p.spec?.pluginConfig ?? {}, failOpen: p.spec?.failStrategy !== "FAIL_CLOSE" };
}

/** A proxy's filter: the built module configured with the generated pluginConfig (one VM per proxy). */
export async function loadFilter(wasm: Uint8Array, what: string, found: { config: unknown; failOpen: boolean } | undefined): Promise<Plugin | null> {
  if (!found) return null;
  const host = await Host.load(wasm, { vmId: "lane-tag", headerStrings: "bytes", nodeMetadata: { WORKLOAD_NAME: what } });
  const p = host.configure({ configuration: JSON.stringify(found.config), failOpen: found.failOpen });
  if (p.failed) throw new Error(`${what}'s filter failed to configure: ${host.logs.map((l) => l.message).join("; ")}`);
  return p;
}

/**
 * The ambient topology of `spec` for the pods `pods` (each app labelled with its service's workload name):
 * routed by ambient/ of `manifests`, or of the spec's manifests generated now with the gateway's `weights`.
 */
export async function ambientTopology(spec: LanesSpec, pods: Workload[], { withFilter = true, weights, manifests }: { withFilter?: boolean; weights?: number[]; manifests?: string }): Promise<AmbientTopology> {
  if (!spec.ambient) throw new Error("the spec's targets leave ambient out: the ambient mesh needs its ambient/ output");
  if (!spec.gateway) throw new Error("the ambient mesh needs the spec's gateway: its ingress Gateway and HTTPRoute are the way in");
  const plan = routingPlan(spec);
  const appOf = (s: string) => servicePlan(plan, s).workload;
  const resources = ambientResources(withWeights(spec, gatewayWeights(spec, weights)), manifests);
  // The apps' own Services (a user has them; the folder does not), with the waypoint enrolment gives them.
  const own: ServiceRef[] = chain(spec).map((s) => ({ name: s, namespace: spec.namespace, selector: { app: appOf(s) }, labels: { [USE_WAYPOINT]: waypointOf(plan, s) } }));
  const services = serviceIndex(resources, own);
  const waypointFor = (s: ServiceRef) => s.labels[USE_WAYPOINT] ?? (spec.ambient?.scope === "namespace" ? spec.ambient.waypoint : undefined);
  if (withFilter && !existsSync(WASM)) throw new Error(`${WASM} is missing: run npm run build`);
  const wasm = withFilter ? readFileSync(WASM) : null;
  const filterOf = (namespace: string, name: string) => (wasm ? loadFilter(wasm, name, wasmPluginFor(resources, namespace, name)) : Promise.resolve(null));
  const names = resources.filter((r) => r?.kind === "Gateway" && r.spec?.gatewayClassName === "istio-waypoint" && (r.metadata?.namespace ?? "default") === spec.namespace).map((r) => String(r.metadata.name));
  const waypoints = [];
  for (const name of names) waypoints.push({ name, plugin: await filterOf(spec.namespace, name), services: [...services.values()].filter((s) => waypointFor(s) === name) });
  return {
    services, waypoints, waypointFor,
    resolve: resolveHttp(resources, spec, services),
    pick: servicePods(spec, pods, appOf),
    ingress: await filterOf(spec.gateway.namespace, spec.gateway.name),
    ingressViaWaypoint: (s) => s.labels[INGRESS_USE_WAYPOINT] === "true",
  };
}

/** Where ztunnel sends a call: a listener's port (with the headers to send) or an answer. */
export type Hop<H> = { port: number; headers: H } | { status: number; message: string };

/**
 * ztunnel's part for the streaming meshes (gRPC, WebSocket): the apps' ports and each waypoint's listener
 * per Service, and where a call to a Service goes: through its waypoint when it has one, else to a pod.
 */
export function ztunnelRoutes<H>(topo: AmbientTopology) {
  const appPort = new Map<string, number>();
  /** Per waypoint and Service it serves, the listener that stands for the Service's address there. */
  const waypointPort = new Map<string, number>();
  const vip = (waypoint: string, s: ServiceRef) => `${waypoint}|${serviceKey(s)}`;
  /** To a pod the Service selects (ztunnel to the pod: L4, nothing changed). */
  const toPod = (s: ServiceRef, headers: H): Hop<H> => {
    const w = topo.pick(s);
    if ("status" in w) return { status: w.status, message: w.reason };
    const port = appPort.get(w.name);
    return port === undefined ? { status: 503, message: `no app runs for ${w.name}` } : { port, headers };
  };
  const toService = (s: ServiceRef, headers: H, viaWaypoint = true): Hop<H> => {
    const wp = viaWaypoint ? topo.waypointFor(s) : undefined;
    if (!wp) return toPod(s, headers);
    const port = waypointPort.get(vip(wp, s));
    return port === undefined ? { status: 503, message: `Service ${serviceKey(s)} uses waypoint ${wp}, which is not among the resources` } : { port, headers };
  };
  return { appPort, waypointPort, vip, toPod, toService };
}

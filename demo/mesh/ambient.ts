// The ambient shape: Istio's ambient mode, no sidecars. The apps' calls go to a ztunnel (L4: it changes
// nothing in the request) and on to the waypoint of the Service called, one per namespace (or per service,
// ambient.scope: service); a waypoint runs the filter of the WasmPlugin that targets it, routes by the
// HTTPRoutes attached to the Service and delivers to a pod. The ingress runs its own filter and HTTPRoute.
// Everything is read from the ambient/ resources as `npm run manifests` writes them.
import type { Header } from "../../emulator/index.ts";
import type { LanesSpec } from "../../deploy/lib/spec.ts";
import { servicePlan } from "../../deploy/lib/plan.ts";
import { waypointOf } from "../../deploy/lib/names.ts";
import { chain, deployments } from "../core/topology.ts";
import { headerMap, headerPairs } from "../core/router.ts";
import { resolveHttp, serviceIndex, serviceKey, servicePods, type ServiceRef } from "../core/router-http.ts";
import { loadFilter, wasmPluginFor } from "../core/proxy.ts";
import type { MeshSetup, ProxyShape, Route } from "../core/transport.ts";
import { appSpec, first, gatewayHops, laneHeader, meshHop } from "./hops.ts";

const USE_WAYPOINT = "istio.io/use-waypoint";
const INGRESS_USE_WAYPOINT = "istio.io/ingress-use-waypoint";

/** The waypoint Gateways (class istio-waypoint) of the namespace, by name. */
const waypointNames = (resources: any[], namespace: string): string[] =>
  resources.filter((r) => r?.kind === "Gateway" && r.spec?.gatewayClassName === "istio-waypoint" && (r.metadata?.namespace ?? "default") === namespace).map((r) => String(r.metadata.name));

/**
 * The Services: those of the resources, and the apps' own (a user has them; the folder does not), each
 * selecting every version of its service and using the waypoint enrolment gives it.
 */
function services(setup: MeshSetup): Map<string, ServiceRef> {
  const { spec, plan } = setup;
  const own = chain(spec).map((s) => ({ name: s, namespace: spec.namespace, selector: { app: servicePlan(plan, s).workload }, labels: { [USE_WAYPOINT]: waypointOf(plan, s) } }));
  return serviceIndex(setup.resources, own);
}

/** The waypoint a Service's traffic goes through: its label, else the namespace's (scope namespace), else none. */
const waypointFor = (spec: LanesSpec, s: ServiceRef) => s.labels[USE_WAYPOINT] ?? (spec.ambient?.scope === "namespace" ? spec.ambient.waypoint : undefined);

/** ztunnel's part: where a call to a Service goes (through its waypoint when it has one, else to a pod). */
function ztunnelRoutes(setup: MeshSetup, pods: ReturnType<typeof servicePods>) {
  const appPort = new Map<string, number>();
  /** Per waypoint and Service it serves, the listener that stands for the Service's address there. */
  const waypointPort = new Map<string, number>();
  const vip = (waypoint: string, s: ServiceRef) => `${waypoint}|${serviceKey(s)}`;
  /** To a pod the Service selects (ztunnel to the pod: L4, nothing changed). */
  const toPod = (s: ServiceRef, headers: Header[]): Route => {
    const w = pods(s);
    if ("status" in w) return { status: w.status, message: w.reason };
    const port = appPort.get(w.name);
    return port === undefined ? { status: 503, message: `no app runs for ${w.name}` } : { port, headers };
  };
  const toService = (s: ServiceRef, headers: Header[], viaWaypoint = true): Route => {
    const wp = viaWaypoint ? waypointFor(setup.spec, s) : undefined;
    if (!wp) return toPod(s, headers);
    const port = waypointPort.get(vip(wp, s));
    return port === undefined ? { status: 503, message: `Service ${serviceKey(s)} uses waypoint ${wp}, which is not among the resources` } : { port, headers };
  };
  return { appPort, waypointPort, vip, toPod, toService };
}

export const ambient: ProxyShape = async (setup, transport, listen) => {
  const { spec, plan, resources, wasm } = setup;
  if (!spec.ambient) throw new Error("the spec's targets leave ambient out: the ambient mesh needs its ambient/ output");
  if (!spec.gateway) throw new Error("the ambient mesh needs the spec's gateway: its ingress Gateway and HTTPRoute are the way in");
  const g = spec.gateway;
  const index = services(setup);
  const resolve = resolveHttp(resources, spec, index);
  const z = ztunnelRoutes(setup, servicePods(spec, transport.pods(spec), (s) => servicePlan(plan, s).workload));

  // ztunnel (the apps' proxy, the stand-in for traffic capture): by the Service's name, unchanged.
  const ztunnel = await listen({ name: "ztunnel", plugin: null, direction: 2, route: (headers) => {
    const host = (first(headers, ":authority") ?? "").split(":")[0];
    const s = index.get(`${spec.namespace}/${host}`);
    return s ? z.toService(s, headers) : { status: 503, message: `no Service ${host} in ${spec.namespace}` };
  } });
  const routed = new Set(deployments(spec).map((w) => w.name));
  const running = await transport.startApps(transport.pods(spec).map((w) => appSpec(setup, transport, w, ztunnel, routed)));
  for (const [w, port] of running.ports) z.appPort.set(w, port);

  // The waypoints: one VM each, one listener per Service; the role's direction is explicit ("both").
  for (const wp of waypointNames(resources, spec.namespace)) {
    const plugin = wasm ? await loadFilter(wasm, wp, wasmPluginFor(resources, spec.namespace, wp)) : null;
    for (const s of index.values()) {
      if (waypointFor(spec, s) !== wp) continue;
      z.waypointPort.set(z.vip(wp, s), await listen({ name: `${wp} ${s.name}`, plugin, direction: 1, route: (headers) => {
        const r = resolve(meshHop(headers, s.name, transport.servicePort), headerMap(headers));
        return "service" in r ? z.toPod(r.service, headerPairs(headers, r.headers)) : { status: r.status, message: r.reason };
      } }));
    }
  }

  // The ingress: its filter, its HTTPRoute's pick, then the per-version Service, through its waypoint only
  // where the Service asks for it (istio.io/ingress-use-waypoint).
  const ingress = wasm ? await loadFilter(wasm, g.name, wasmPluginFor(resources, g.namespace, g.name)) : null;
  const hops = gatewayHops(setup);
  const entry = await listen({ name: "gateway", plugin: ingress, direction: 2, trace: setup.trace, route: (headers) => {
    const { hop, rest } = hops(headers);
    const r = resolve(hop, headerMap(rest));
    if (!("service" in r)) return { status: r.status, message: r.reason };
    const to = z.toService(r.service, headerPairs(rest, r.headers), r.service.labels[INGRESS_USE_WAYPOINT] === "true");
    return "status" in to ? to : { ...to, responseHeaders: laneHeader(spec, r.headers) };
  } });
  return { entry, apps: running };
};

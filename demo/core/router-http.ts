// The ambient mesh's router: a request for a Service reaches the Service's waypoint, which routes it by the
// HTTPRoutes attached to that Service (Gateway API's match precedence, routeHttp) to a per-version Service,
// whose selector picks the pod; a Service no HTTPRoute is attached to goes to its own pods, as a waypoint
// does. At ingress, the HTTPRoutes of the ingress Gateway's listener, with Envoy's weighted pick. The same
// Router interface as the sidecar mesh's (router.ts); resolveHttp stops at the Service, for the ambient mesh
// (mesh/ambient.ts), which must know the Service's waypoint before it reaches a pod.
import type { LanesSpec } from "../../deploy/lib/spec.ts";
import { routeHttp, type Parent } from "../routes/gateway-api.ts";
import { attachedRoutes } from "../routes/gateway-api-attach.ts";
import { applyHeaders, drawOf, podLabels, type HeaderMap, type Hop, type Router } from "./router.ts";
import type { Workload } from "./topology.ts";

const isService = (r: any) => r?.kind === "Service" && r?.apiVersion === "v1";
const isGateway = (r: any) => r?.kind === "Gateway" && String(r?.apiVersion).startsWith("gateway.networking.k8s.io/");

/** A Service as the routers need it: its selector, and its labels (which waypoint it uses). */
export interface ServiceRef {
  name: string;
  namespace: string;
  selector: Record<string, string>;
  labels: Record<string, string>;
}

export const serviceKey = (s: { name: string; namespace: string }) => `${s.namespace}/${s.name}`;

/** The Services among `resources`, and `extra` ones the folder does not hold (the apps' own Services). */
export function serviceIndex(resources: any[], extra: ServiceRef[] = []): Map<string, ServiceRef> {
  const out = new Map<string, ServiceRef>();
  for (const s of extra) out.set(serviceKey(s), s);
  for (const s of resources.filter(isService)) {
    const ref = { name: s.metadata?.name, namespace: s.metadata?.namespace ?? "default", selector: s.spec?.selector ?? {}, labels: s.metadata?.labels ?? {} };
    out.set(serviceKey(ref), ref);
  }
  return out;
}

/** The ingress Gateway (any class but the waypoints') and its first HTTP listener, or undefined. */
function ingressOf(resources: any[]): { name: string; namespace: string; sectionName: string } | undefined {
  const gw = resources.find((r) => isGateway(r) && r.spec?.gatewayClassName !== "istio-waypoint");
  const l = (gw?.spec?.listeners ?? []).find((x: any) => x?.protocol === "HTTP");
  return gw && l ? { name: gw.metadata?.name, namespace: gw.metadata?.namespace ?? "default", sectionName: l.name } : undefined;
}

/** RequestHeaderModifier filters as header changes; other filter types are reported by routeHttp, not applied. */
function modifiers(headers: HeaderMap, filters: any[]): HeaderMap {
  let out = headers;
  for (const f of filters) {
    const m = f?.type === "RequestHeaderModifier" ? f.requestHeaderModifier ?? {} : undefined;
    if (!m) continue;
    const pairs = (l: any) => Object.fromEntries((Array.isArray(l) ? l : []).map((h: any) => [String(h?.name), String(h?.value)]));
    out = applyHeaders(out, { set: pairs(m.set), add: pairs(m.add), remove: Array.isArray(m.remove) ? m.remove : [] });
  }
  return out;
}

export type Resolved = { service: ServiceRef; headers: HeaderMap } | { status: number; reason: string };
export type Resolver = (hop: Hop, headers: HeaderMap) => Resolved;

/**
 * Where a hop goes by the HTTPRoutes among `resources`: the backend Service, with the headers after the
 * rule's and the chosen backendRef's RequestHeaderModifiers. A weighted rule picks as Envoy does, by the
 * hop's draw (draw % total weight).
 */
export function resolveHttp(resources: any[], spec: LanesSpec, services = serviceIndex(resources)): Resolver {
  const ingress = ingressOf(resources);
  return (hop, headers) => {
    let parent: Parent;
    if (hop.atGateway) {
      if (!ingress) return { status: 404, reason: "no ingress Gateway with an HTTP listener among the resources" };
      parent = { kind: "Gateway", ...ingress, hostname: hop.host };
    } else {
      parent = { kind: "Service", name: hop.host, namespace: spec.namespace, port: hop.port, sourceNamespace: spec.namespace };
      // No route on the Service: the waypoint sends it to the Service's own pods.
      const own = services.get(serviceKey(parent));
      if (own && !attachedRoutes(resources, parent, []).length) return { service: own, headers };
    }
    try {
      const req = { path: hop.path, method: hop.method ?? "GET", headers };
      let r = routeHttp(resources, parent, req, { random: () => 0 });
      if (r.kind === "backend" && r.backends.length > 1) {
        const total = r.backends.reduce((s, b) => s + Math.max(0, b.weight), 0);
        const random = drawOf(hop.draw, total);
        if (random) r = routeHttp(resources, parent, req, { random });
      }
      if (r.kind !== "backend") return { status: r.status, reason: r.reason };
      const key = serviceKey(r.backend);
      const service = services.get(key);
      if (!service) return { status: 503, reason: `${r.route} rule ${r.rule}: Service ${key} is not among the resources` };
      return { service, headers: modifiers(modifiers(headers, r.filters), r.backend.filters) };
    } catch (e) {
      // A resource the interpreter cannot read: the request fails with the reason, the proxy lives on.
      return { status: 500, reason: (e as Error).message };
    }
  };
}

/** The pods of the demo a Service selects, one per request in turn (as kube-proxy spreads a Service's traffic). */
export function servicePods(spec: LanesSpec, workloads: Workload[], appOf: (service: string) => string = (s) => s) {
  const pods = workloads.map((w) => ({ w, labels: podLabels(spec, w, appOf(w.service)) }));
  const turn = new Map<string, number>();
  return (s: ServiceRef): Workload | { status: number; reason: string } => {
    const matching = pods.filter((p) => Object.entries(s.selector).every(([k, v]) => p.labels[k] === v));
    if (!matching.length) return { status: 503, reason: `Service ${serviceKey(s)} selects no pod of the demo (${JSON.stringify(s.selector)})` };
    const i = turn.get(serviceKey(s)) ?? 0;
    turn.set(serviceKey(s), i + 1);
    return matching[i % matching.length].w;
  };
}

/** Routes by the HTTPRoutes among `resources`, to the pods (`workloads`) the backend Service selects. */
export function gatewayApiRouter(resources: any[], spec: LanesSpec, workloads: Workload[], appOf: (service: string) => string = (s) => s): Router {
  const resolve = resolveHttp(resources, spec);
  const pick = servicePods(spec, workloads, appOf);
  return (hop, headers) => {
    const r = resolve(hop, headers);
    if (!("service" in r)) return r;
    const w = pick(r.service);
    return "status" in w ? w : { workload: w, headers: r.headers };
  };
}

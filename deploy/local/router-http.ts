// The ambient mesh's router: a request for a Service reaches the namespace's waypoint, which routes it by the
// HTTPRoutes attached to that Service (Gateway API's match precedence, routeHttp) to a per-version Service,
// whose selector picks the pod; at ingress, the HTTPRoutes of the ingress Gateway's listener. The same
// Router interface as the sidecar mesh's (router.ts).
import type { LanesSpec } from "../lib/spec.ts";
import { routeHttp, type Parent } from "../lib/routes/gateway-api.ts";
import { applyHeaders, podLabels, type HeaderMap, type Router } from "./router.ts";
import type { Workload } from "./topology.ts";

const isService = (r: any) => r?.kind === "Service" && r?.apiVersion === "v1";
const isGateway = (r: any) => r?.kind === "Gateway" && String(r?.apiVersion).startsWith("gateway.networking.k8s.io/");

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

/** Routes by the HTTPRoutes among `resources`, to the pods (`workloads`) the backend Service selects. */
export function gatewayApiRouter(resources: any[], spec: LanesSpec, workloads: Workload[], appOf: (service: string) => string = (s) => s): Router {
  const services = new Map<string, Record<string, string>>();
  for (const s of resources.filter(isService)) services.set(`${s.metadata?.namespace ?? "default"}/${s.metadata?.name}`, s.spec?.selector ?? {});
  const pods = workloads.map((w) => ({ w, labels: podLabels(spec, w, appOf(w.service)) }));
  const turn = new Map<string, number>();
  const ingress = ingressOf(resources);
  return (hop, headers) => {
    let parent: Parent;
    if (hop.atGateway) {
      if (!ingress) return { status: 404, reason: "no ingress Gateway with an HTTP listener among the resources" };
      parent = { kind: "Gateway", ...ingress, hostname: hop.host };
    } else {
      parent = { kind: "Service", name: hop.host, namespace: spec.namespace, port: hop.port, sourceNamespace: spec.namespace };
    }
    try {
      // No weighted split here: the ingress routes on the lane the gateway's filter set.
      const r = routeHttp(resources, parent, { path: hop.path, method: hop.method ?? "GET", headers });
      if (r.kind !== "backend") return { status: r.status, reason: r.reason };
      const key = `${r.backend.namespace}/${r.backend.name}`;
      const selector = services.get(key);
      if (!selector) return { status: 503, reason: `${r.route} rule ${r.rule}: Service ${key} is not among the resources` };
      const matching = pods.filter((p) => Object.entries(selector).every(([k, v]) => p.labels[k] === v));
      if (!matching.length) return { status: 503, reason: `Service ${key} selects no pod of the demo (${JSON.stringify(selector)})` };
      const i = turn.get(key) ?? 0;
      turn.set(key, i + 1);
      return { workload: matching[i % matching.length].w, headers: modifiers(headers, r.filters) };
    } catch (e) {
      return { status: 500, reason: (e as Error).message };
    }
  };
}

// Where each hop of the Docker-less demo goes, decided by the resources a user applies (the files `npm run
// manifests` writes, read back from disk) rather than by the plan directly: a wrong generated route then
// sends a request to the wrong version, and the demo's chain check fails. One interface for every mesh:
// a Router takes the hop and the headers as the proxy forwards them, and answers with the workload (and the
// headers after the route's changes) or with the status the proxy would answer.
import type { LanesSpec } from "../../deploy/lib/spec.ts";
import { routeIstio, type HeaderOps } from "../routes/istio.ts";
import type { Workload } from "./topology.ts";

export type HeaderMap = Record<string, string[]>;

export interface Hop {
  /** The host called: a service's short name, or the gateway's host. */
  host: string;
  port: number;
  path: string;
  method?: string;
  /** At the ingress gateway (its route picks the entry service), else inside the mesh. */
  atGateway?: boolean;
  /** Envoy's WeightedCluster.header_name value: the draw of a weighted choice (value % total weight). */
  draw?: bigint;
}

export type Routed = { workload: Workload; headers: HeaderMap } | { status: number; reason: string };
export type Router = (hop: Hop, headers: HeaderMap) => Routed;

export const ROUTE_SETS = ["istio", "asm"] as const;
export type RouteSet = (typeof ROUTE_SETS)[number];

/** The labels a workload's pods carry: the service's workload label as `app`, and the lane label. */
export const podLabels = (spec: LanesSpec, w: Workload, app = w.service): Record<string, string> => ({ app, [spec.labelKey]: w.version });

const holds = (want: Record<string, string>, have: Record<string, string>) => Object.entries(want).every(([k, v]) => have[k] === v);

/** The pods of the demo, by service: who has endpoints for a selector, and one of them per request. */
export function endpoints(spec: LanesSpec, workloads: Workload[], appOf: (service: string) => string = (s) => s) {
  const byService = new Map<string, { w: Workload; labels: Record<string, string> }[]>();
  for (const w of workloads) {
    const list = byService.get(w.service) ?? [];
    list.push({ w, labels: podLabels(spec, w, appOf(w.service)) });
    byService.set(w.service, list);
  }
  const next = new Map<string, number>();
  return {
    matching: (service: string, labels: Record<string, string>) => (byService.get(service) ?? []).filter((p) => holds(labels, p.labels)).map((p) => p.w),
    /** One pod of the selection, in turn (as kube-proxy spreads a Service's traffic), or undefined. */
    pick(service: string, labels: Record<string, string>): Workload | undefined {
      const m = this.matching(service, labels);
      if (!m.length) return undefined;
      const key = `${service}|${JSON.stringify(labels)}`;
      const i = next.get(key) ?? 0;
      next.set(key, i + 1);
      return m[i % m.length];
    },
  };
}

/** A random source in [0, 1) that makes the interpreters' weighted pick Envoy's: `draw % total`. */
export function drawOf(draw: bigint | undefined, total: number): (() => number) | undefined {
  if (draw === undefined || total <= 0) return undefined;
  // The middle of the slot: r * total lands in [k, k + 1) whatever the rounding.
  const k = Number(draw % BigInt(total));
  return () => (k + 0.5) / total;
}

export function applyHeaders(headers: HeaderMap, ops: HeaderOps): HeaderMap {
  const out: HeaderMap = { ...headers };
  for (const k of ops.remove) delete out[k.toLowerCase()];
  for (const [k, v] of Object.entries(ops.set)) out[k.toLowerCase()] = [v];
  for (const [k, v] of Object.entries(ops.add)) (out[k.toLowerCase()] ??= []).push(v);
  return out;
}

/** The total weight of each weighted route of the gateway's VirtualServices: one value, or undefined. */
function gatewayTotal(resources: any[]): number | undefined {
  const totals = new Set<number>();
  for (const vs of resources) {
    if (vs?.kind !== "VirtualService" || !Array.isArray(vs.spec?.gateways)) continue;
    for (const r of vs.spec.http ?? []) {
      const d = Array.isArray(r?.route) ? r.route : [];
      if (d.length > 1) totals.add(d.reduce((s: number, x: any) => s + Math.max(0, x?.weight ?? 0), 0));
    }
  }
  return totals.size === 1 ? [...totals][0] : undefined;
}

/**
 * The sidecar mesh's router: the first matching http route of the VirtualService for the host (at the
 * gateway, the gateway's), the DestinationRule subset's labels, ASM's fallback when the subset is undefined
 * or no workload of the demo carries its labels.
 */
export function istioRouter(resources: any[], spec: LanesSpec, workloads: Workload[], appOf?: (service: string) => string): Router {
  const routing = resources.filter((r) => r?.kind === "VirtualService" || r?.kind === "DestinationRule");
  const pods = endpoints(spec, workloads, appOf);
  const total = gatewayTotal(routing);
  const gateway = spec.gateway ? `${spec.gateway.namespace}/${spec.gateway.name}` : undefined;
  const hasEndpoints = (host: string, _subset: string | undefined, labels: Record<string, string>) => pods.matching(host.split(".")[0], labels).length > 0;
  return (hop, headers) => {
    try {
      const r = routeIstio(routing, {
        host: hop.host, port: hop.port, path: hop.path, method: hop.method ?? "GET", headers,
        ...(hop.atGateway ? { gateway } : { sourceNamespace: spec.namespace }),
      }, { hasEndpoints, random: drawOf(hop.draw, total ?? 0) });
      if (r.kind === "no-route" || r.kind === "unavailable") return { status: r.status, reason: r.reason };
      const service = r.host.split(".")[0];
      const w = pods.pick(service, r.labels);
      if (!w) return { status: 503, reason: `no workload of ${service} has the labels ${JSON.stringify(r.labels)}` };
      return { workload: w, headers: r.kind === "destination" ? applyHeaders(headers, r.headers) : headers };
    } catch (e) {
      // A resource the interpreter cannot read: the request fails with the reason, the proxy lives on.
      return { status: 500, reason: (e as Error).message };
    }
  };
}

/** Header pairs (pseudo-headers included) as the router takes them: the regular headers, lowercase. */
export function headerMap(pairs: [string, string][]): HeaderMap {
  const out: HeaderMap = {};
  for (const [k, v] of pairs) if (!k.startsWith(":")) (out[k.toLowerCase()] ??= []).push(v);
  return out;
}

/** Back to pairs: the original pseudo-headers (`authority` replacing :authority when given), then `headers`. */
export function headerPairs(original: [string, string][], headers: HeaderMap, authority?: string): [string, string][] {
  const out: [string, string][] = original.filter(([k]) => k.startsWith(":")).map(([k, v]) => [k, k === ":authority" && authority !== undefined ? authority : v]);
  for (const [k, vs] of Object.entries(headers)) for (const v of vs) out.push([k, v]);
  return out;
}

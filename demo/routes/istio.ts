// Istio VirtualService + DestinationRule interpretation (networking.istio.io v1beta1 / v1): the destination
// a request reaches at a sidecar or a gateway, with the subset's labels, ASM's `fallback` taken when the
// routed subset has no endpoints. Pure: resources in (plain objects from YAML), a result out.
import { byAge, pickWeighted, resourceName, RouteConfigError } from "./common.ts";
import { contextOf, fqdn, gatewayNames, hostSpecificity, matchRequestHolds, requestHost, type IstioRequest } from "./istio-match.ts";

export type { IstioRequest } from "./istio-match.ts";

/** Header changes of the route and its destination (headers.request), merged: the caller applies them. */
export interface HeaderOps {
  set: Record<string, string>;
  add: Record<string, string>;
  remove: string[];
}

export interface Destination {
  host: string;
  /** Undefined: the whole service (every version). */
  subset?: string;
  /** The subset's labels from its DestinationRule; {} for the whole service. */
  labels: Record<string, string>;
  port?: number;
}

export type IstioResult =
  | ({ kind: "destination"; virtualService: string; route: number; routeName?: string; headers: HeaderOps; fellBack?: string; notes: string[] } & Destination)
  | ({ kind: "passthrough"; reason: string; notes: string[] } & Destination)
  | { kind: "no-route"; status: 404; reason: string; notes: string[] }
  | { kind: "unavailable"; status: 503; reason: string; notes: string[] };

export interface IstioOptions {
  random?: () => number;
  /** Whether `host`'s `subset` (labels as its DestinationRule says) has endpoints; all have when absent. */
  hasEndpoints?: (host: string, subset: string | undefined, labels: Record<string, string>) => boolean;
  /** Istio's root namespace, whose DestinationRules apply mesh-wide after the client's and the service's. */
  rootNamespace?: string;
}

const isIstio = (r: any, kind: string) => r?.kind === kind && /^networking\.istio\.io\/v1(beta1|alpha3)?$/.test(String(r?.apiVersion));
const nsOf = (r: any): string => r?.metadata?.namespace ?? "default";

/**
 * The VirtualServices for the request's host in its context (gateway or mesh), most specific host first.
 * At a gateway, several for the same host merge (oldest first); at a sidecar the oldest one is used.
 */
function virtualServices(resources: any[], req: IstioRequest, notes: string[]): any[] {
  const host = requestHost(req);
  let best = -1;
  let found: any[] = [];
  for (const vs of resources.filter((r) => isIstio(r, "VirtualService"))) {
    if (!gatewayNames(vs.spec?.gateways, nsOf(vs)).includes(contextOf(req))) continue;
    const s = Math.max(-1, ...(vs.spec?.hosts ?? []).map((h: string) => hostSpecificity(fqdn(h, nsOf(vs)), host)));
    if (s < 0 || s < best) continue;
    if (s > best) found = [];
    best = s;
    found.push(vs);
  }
  found.sort(byAge);
  if (!req.gateway && found.length > 1) {
    notes.push(`${found.slice(1).map(resourceName).join(", ")} ignored: a sidecar uses one VirtualService per host (${resourceName(found[0])}, the oldest)`);
    return found.slice(0, 1);
  }
  return found;
}

/** The destination `req` reaches among `resources` (VirtualServices, DestinationRules; others ignored). */
export function routeIstio(resources: any[], req: IstioRequest, opts: IstioOptions = {}): IstioResult {
  const notes: string[] = [];
  const vss = virtualServices(resources, req, notes);
  const host = requestHost(req);
  if (!vss.length) {
    const reason = `no VirtualService for ${host} in ${contextOf(req)}: passthrough to the service, all its versions`;
    if (req.gateway) return { kind: "no-route", status: 404, reason: `no VirtualService for ${host} at gateway ${req.gateway}`, notes };
    return { kind: "passthrough", host, labels: {}, port: req.port, reason, notes };
  }
  for (const vs of vss) {
    const http = vs.spec?.http ?? [];
    for (let i = 0; i < http.length; i++) {
      const r = http[i] ?? {};
      const where = `${resourceName(vs)}: spec.http[${i}]`;
      const matches = Array.isArray(r.match) && r.match.length ? r.match : [{}];
      if (!matches.some((m: any, j: number) => matchRequestHolds(m, req, nsOf(vs), `${where}.match[${j}]`))) continue;
      return destinationOf(resources, vs, i, req, opts, notes);
    }
  }
  // Envoy answers 404 when a host's routes have none for the request (no default is added).
  return { kind: "no-route", status: 404, reason: `${vss.map(resourceName).join(", ")}: no http route matches the request to ${host}`, notes };
}

function destinationOf(resources: any[], vs: any, index: number, req: IstioRequest, opts: IstioOptions, notes: string[]): IstioResult {
  const r = vs.spec.http[index];
  const where = `${resourceName(vs)}: spec.http[${index}]`;
  for (const k of ["redirect", "directResponse", "delegate"]) if (r[k]) throw new RouteConfigError(`${where}.${k}`, "is not interpreted (only route destinations are)");
  const dests = Array.isArray(r.route) ? r.route : [];
  if (!dests.length) throw new RouteConfigError(`${where}.route`, "has no destination");
  // One destination takes all traffic whatever its weight; several split by weight (unset: 0).
  const d = dests.length === 1 ? dests[0] : pickWeighted(dests, (x: any) => x?.weight ?? 0, opts.random ?? Math.random);
  const base = { virtualService: resourceName(vs), route: index, routeName: r.name, notes };
  if (!d) return { kind: "unavailable", status: 503, reason: `${where}: every destination has weight 0`, notes };
  if (typeof d.destination?.host !== "string") throw new RouteConfigError(`${where}.route`, "a destination needs a host");
  const headers = mergeHeaders(r.headers, d.headers);
  const target = resolve(resources, d.destination, nsOf(vs), req, opts.rootNamespace);
  const why = unavailable(target, opts);
  if (!why) return { kind: "destination", ...target, headers, ...base };
  if (!r.fallback) return { kind: "unavailable", status: 503, reason: `${where}: ${why}`, notes };
  const fb = r.fallback.target;
  if (typeof fb?.host !== "string") throw new RouteConfigError(`${where}.fallback.target`, "needs a host");
  const alt = resolve(resources, fb, nsOf(vs), req, opts.rootNamespace);
  const altWhy = unavailable(alt, opts);
  if (altWhy) return { kind: "unavailable", status: 503, reason: `${where}: ${why}; fallback: ${altWhy}`, notes };
  return { kind: "destination", ...alt, headers, fellBack: why, ...base };
}

/** Why `t` cannot take the request (subset not defined, no endpoints), or undefined. */
function unavailable(t: Destination & { defined: boolean }, opts: IstioOptions): string | undefined {
  if (!t.defined) return `subset ${t.subset} of ${t.host} is in no DestinationRule that applies`;
  if (opts.hasEndpoints && !opts.hasEndpoints(t.host, t.subset, t.labels)) return `${t.host}${t.subset ? ` subset ${t.subset}` : ""} has no endpoints`;
  return undefined;
}

/** A destination's FQDN and its subset's labels from the DestinationRule that applies. */
function resolve(resources: any[], d: any, vsNamespace: string, req: IstioRequest, root?: string): Destination & { defined: boolean } {
  const host = fqdn(d.host, vsNamespace);
  const port = d.port?.number;
  if (d.subset === undefined) return { host, labels: {}, port, defined: true };
  const dr = destinationRule(resources, host, req, root);
  const subset = (dr?.spec?.subsets ?? []).find((s: any) => s?.name === d.subset);
  return { host, subset: d.subset, labels: { ...(subset?.labels ?? {}) }, port, defined: subset !== undefined };
}

/**
 * The DestinationRule for `host`, as Istio looks it up: the client's namespace, then the service's, then the
 * root namespace; within one, an exact host before a wildcard.
 */
function destinationRule(resources: any[], host: string, req: IstioRequest, root = "istio-system"): any {
  const serviceNs = host.split(".")[1];
  const order = [req.sourceNamespace, serviceNs, root].filter((x): x is string => typeof x === "string");
  const rules = resources.filter((r) => isIstio(r, "DestinationRule") && typeof r.spec?.host === "string");
  for (const ns of order) {
    const here = rules.filter((r) => nsOf(r) === ns)
      .map((r) => ({ r, s: hostSpecificity(fqdn(r.spec.host, ns), host) }))
      .filter((x) => x.s >= 0)
      .sort((a, b) => b.s - a.s || byAge(a.r, b.r));
    if (here.length) return here[0].r;
  }
  return undefined;
}

function mergeHeaders(...hs: any[]): HeaderOps {
  const out: HeaderOps = { set: {}, add: {}, remove: [] };
  for (const h of hs) {
    const req = h?.request ?? {};
    Object.assign(out.set, req.set ?? {});
    Object.assign(out.add, req.add ?? {});
    out.remove.push(...(req.remove ?? []));
  }
  return out;
}

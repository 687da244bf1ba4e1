// Istio VirtualService HTTPMatchRequest evaluation and host names: StringMatch (exact/prefix/regex),
// headers, withoutHeaders, uri with ignoreUriCase, method, authority, scheme, port, queryParams,
// sourceLabels, sourceNamespace, gateways.
import { fullMatch, header, pathOnly, queryOf, RouteConfigError, type Headers } from "./common.ts";

export interface IstioRequest {
  /** The host the request is sent to (Host/authority; a port in it is dropped). */
  host: string;
  path?: string;
  method?: string;
  scheme?: string;
  port?: number;
  headers?: Headers;
  /** The gateway the request arrives at ("namespace/name"); absent: a sidecar in the mesh. */
  gateway?: string;
  sourceLabels?: Record<string, string>;
  /** The client's namespace: short host names resolve in it, and DestinationRules there come first. */
  sourceNamespace?: string;
}

const KNOWN = new Set(["name", "uri", "scheme", "method", "authority", "headers", "withoutHeaders", "port", "sourceLabels", "gateways", "queryParams", "ignoreUriCase", "sourceNamespace", "statPrefix"]);

/** Whether StringMatch `m` ({exact}|{prefix}|{regex}) holds for `v`; `{}` (headers only) means "present". */
export function stringMatch(m: any, v: string, where: string, caseless = false): boolean {
  const keys = Object.keys(m ?? {});
  if (keys.length === 0) return true;
  if (keys.length !== 1 || !["exact", "prefix", "regex"].includes(keys[0]) || typeof m[keys[0]] !== "string") {
    throw new RouteConfigError(where, `${JSON.stringify(m)} is not a StringMatch (one of exact, prefix, regex: a string)`);
  }
  const want = caseless && keys[0] !== "regex" ? m[keys[0]].toLowerCase() : m[keys[0]];
  const got = caseless && keys[0] !== "regex" ? v.toLowerCase() : v;
  if (keys[0] === "exact") return got === want;
  if (keys[0] === "prefix") return got.startsWith(want);
  return fullMatch(want, got, where);
}

/** `gateways` entries as "namespace/name" ("mesh" stays), short names in the VirtualService's namespace. */
export function gatewayNames(list: any, vsNamespace: string): string[] {
  if (!Array.isArray(list) || list.length === 0) return ["mesh"];
  return list.map((g: string) => (g === "mesh" || g.includes("/") ? g : `${vsNamespace}/${g}`));
}

/** The context a request is routed in: its gateway or "mesh". */
export const contextOf = (req: IstioRequest) => req.gateway ?? "mesh";

/** Whether one HTTPMatchRequest holds (all its conditions ANDed). */
export function matchRequestHolds(m: any, req: IstioRequest, vsNamespace: string, where: string): boolean {
  for (const k of Object.keys(m ?? {})) if (!KNOWN.has(k)) throw new RouteConfigError(`${where}.${k}`, "is not an HTTPMatchRequest field this interpreter knows");
  if (m.gateways && !gatewayNames(m.gateways, vsNamespace).includes(contextOf(req))) return false;
  const path = req.path ?? "/";
  if (m.uri && !stringMatch(m.uri, pathOnly(path), `${where}.uri`, m.ignoreUriCase === true)) return false;
  if (m.method && !stringMatch(m.method, (req.method ?? "GET").toUpperCase(), `${where}.method`)) return false;
  if (m.scheme && !stringMatch(m.scheme, req.scheme ?? "http", `${where}.scheme`)) return false;
  if (m.authority && !stringMatch(m.authority, req.host, `${where}.authority`)) return false;
  if (m.port !== undefined && m.port !== req.port) return false;
  if (m.sourceNamespace !== undefined && m.sourceNamespace !== req.sourceNamespace) return false;
  for (const [k, v] of Object.entries(m.sourceLabels ?? {})) if (req.sourceLabels?.[k] !== v) return false;
  for (const [name, sm] of Object.entries(m.headers ?? {})) {
    const v = header(req.headers, name);
    if (v === undefined || !stringMatch(sm, v, `${where}.headers.${name}`)) return false;
  }
  for (const [name, sm] of Object.entries(m.withoutHeaders ?? {})) {
    const v = header(req.headers, name);
    if (v !== undefined && stringMatch(sm, v, `${where}.withoutHeaders.${name}`)) return false;
  }
  const query = queryOf(path);
  for (const [name, sm] of Object.entries(m.queryParams ?? {})) {
    if (!(name in query) || !stringMatch(sm, query[name], `${where}.queryParams.${name}`)) return false;
  }
  return true;
}

/**
 * A Kubernetes service host as its FQDN: "name" in `namespace`, "name.ns", "name.ns.svc" completed to
 * "name.ns.svc.cluster.local"; anything with more labels, or a wildcard, as it is.
 */
export function fqdn(host: string, namespace: string): string {
  const h = host.toLowerCase();
  if (h.startsWith("*")) return h;
  const labels = h.split(".");
  if (labels.length === 1) return `${h}.${namespace}.svc.cluster.local`;
  if (labels.length === 2) return `${h}.svc.cluster.local`;
  if (labels.length === 3 && labels[2] === "svc") return `${h}.cluster.local`;
  return h;
}

/** How specifically host pattern `pattern` matches `host`: -1 none, else higher is more specific. */
export function hostSpecificity(pattern: string, host: string): number {
  if (pattern === host) return 10_000;
  if (pattern === "*") return 0;
  if (pattern.startsWith("*.") && host.endsWith(pattern.slice(1))) return pattern.length;
  return -1;
}

/** The request's host without a port, as a sidecar (FQDN) or a gateway (literal) matches it. */
export function requestHost(req: IstioRequest): string {
  const h = req.host.trim().toLowerCase().replace(/:\d+$/, "");
  return req.gateway ? h : fqdn(h, req.sourceNamespace ?? "default");
}

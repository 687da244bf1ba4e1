// Gateway API v1 HTTPRouteMatch evaluation and hostname intersection, as the HTTPRoute and Gateway CRD
// field descriptions define them (deploy/schemas/gateway-api-crds.yaml).
import { fullMatch, header, pathOnly, queryOf, RouteConfigError, type Headers } from "./common.ts";

export interface HttpRequest {
  method?: string;
  /** The request path; a query string in it is where query parameters come from unless `query` is given. */
  path: string;
  headers?: Headers;
  query?: Record<string, string>;
}

/** A match with the spec's defaults filled in and repeated header/query names dropped (first one counts). */
export interface Match {
  path: { type: "Exact" | "PathPrefix" | "RegularExpression"; value: string };
  method?: string;
  headers: { name: string; type: "Exact" | "RegularExpression"; value: string }[];
  queryParams: { name: string; type: "Exact" | "RegularExpression"; value: string }[];
}

const PATH_TYPES = ["Exact", "PathPrefix", "RegularExpression"];
const VALUE_TYPES = ["Exact", "RegularExpression"];
const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];

/** `matches` omitted or empty: one match, PathPrefix "/". */
export function normalizeMatches(matches: any, where: string): Match[] {
  if (matches === undefined || matches === null || (Array.isArray(matches) && matches.length === 0)) return [normalizeMatch({}, where)];
  if (!Array.isArray(matches)) throw new RouteConfigError(where, "matches must be a list");
  return matches.map((m, i) => normalizeMatch(m ?? {}, `${where}.matches[${i}]`));
}

function normalizeMatch(m: any, where: string): Match {
  const type = m.path?.type ?? "PathPrefix";
  const value = m.path?.value ?? "/";
  if (!PATH_TYPES.includes(type)) throw new RouteConfigError(`${where}.path.type`, `${JSON.stringify(type)} is not one of ${PATH_TYPES.join(", ")}`);
  if (typeof value !== "string" || (type !== "RegularExpression" && !value.startsWith("/"))) {
    throw new RouteConfigError(`${where}.path.value`, `${JSON.stringify(value)} must be an absolute path starting with "/"`);
  }
  if (m.method !== undefined && !METHODS.includes(m.method)) throw new RouteConfigError(`${where}.method`, `${JSON.stringify(m.method)} is not one of ${METHODS.join(", ")}`);
  return {
    path: { type, value },
    method: m.method === undefined ? undefined : String(m.method),
    headers: valueMatches(m.headers, `${where}.headers`, true),
    queryParams: valueMatches(m.queryParams, `${where}.queryParams`, false),
  };
}

function valueMatches(list: any, where: string, caseless: boolean): Match["headers"] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new RouteConfigError(where, "must be a list");
  const out: Match["headers"] = [];
  list.forEach((h: any, i: number) => {
    const type = h?.type ?? "Exact";
    if (typeof h?.name !== "string" || typeof h?.value !== "string") throw new RouteConfigError(`${where}[${i}]`, "needs a name and a value (strings)");
    if (!VALUE_TYPES.includes(type)) throw new RouteConfigError(`${where}[${i}].type`, `${JSON.stringify(type)} is not one of ${VALUE_TYPES.join(", ")}`);
    const key = caseless ? h.name.toLowerCase() : h.name;
    // Equivalent names after the first are ignored, as the spec says.
    if (!out.some((o) => (caseless ? o.name.toLowerCase() : o.name) === key)) out.push({ name: h.name, type, value: h.value });
  });
  return out;
}

/**
 * PathPrefix: element-wise. A trailing "/" of the prefix is ignored: "/abc" and "/abc/" both match "/abc",
 * "/abc/" and "/abc/def", never "/abcd".
 */
export function prefixMatches(prefix: string, path: string): boolean {
  const p = prefix.length > 1 && prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  if (p === "/") return path.startsWith("/");
  return path === p || path.startsWith(`${p}/`);
}

/** Whether all criteria of `m` hold for `req` (they are ANDed). */
export function matchHolds(m: Match, req: HttpRequest, where: string): boolean {
  const path = pathOnly(req.path);
  if (m.path.type === "Exact" && path !== m.path.value) return false;
  if (m.path.type === "PathPrefix" && !prefixMatches(m.path.value, path)) return false;
  if (m.path.type === "RegularExpression" && !fullMatch(m.path.value, path, `${where}.path.value`)) return false;
  if (m.method !== undefined && (req.method ?? "GET").toUpperCase() !== m.method) return false;
  for (const h of m.headers) {
    const v = header(req.headers, h.name);
    if (v === undefined || !valueHolds(h, v, `${where}.headers`)) return false;
  }
  const query = req.query ?? queryOf(req.path);
  for (const q of m.queryParams) {
    const v = Object.prototype.hasOwnProperty.call(query, q.name) ? query[q.name] : undefined;
    if (v === undefined || !valueHolds(q, v, `${where}.queryParams`)) return false;
  }
  return true;
}

function valueHolds(c: { type: string; value: string }, v: string, where: string): boolean {
  return c.type === "Exact" ? v === c.value : fullMatch(c.value, v, where);
}

/** The Host header's name: no port, lower case (the spec ignores the port). */
export function hostOnly(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  const i = h.lastIndexOf(":");
  return i < 0 ? h : h.slice(0, i);
}

/** Whether hostname pattern `pattern` ("a.b" or "*.b") matches `name` (a wildcard never matches its bare suffix). */
export function hostnameMatches(pattern: string, name: string): boolean {
  if (!pattern.startsWith("*.")) return pattern === name;
  return name.endsWith(pattern.slice(1)) && name.length > pattern.length - 1;
}

/**
 * The hostnames of a route on a listener: where both set hostnames, the intersection (the more specific of
 * each pair that overlaps); a route without hostnames takes the listener's; neither: undefined (any host).
 */
export function effectiveHostnames(route: string[], listener: string | undefined): string[] | undefined {
  if (!route.length) return listener === undefined ? undefined : [listener];
  if (listener === undefined) return route;
  const out: string[] = [];
  for (const h of route) {
    if (h === listener || hostnameMatches(listener, h)) out.push(h);
    else if (hostnameMatches(h, listener)) out.push(listener);
  }
  return [...new Set(out)];
}

/**
 * How specific the route hostname matching `host` is, for precedence: [characters of a matching non-wildcard
 * hostname, characters of the matching hostname], best first; undefined when none matches.
 */
export function hostnameRank(hostnames: string[] | undefined, host: string): [number, number] | undefined {
  if (hostnames === undefined) return [0, 0];
  let best: [number, number] | undefined;
  for (const h of hostnames) {
    if (!hostnameMatches(h, host)) continue;
    const r: [number, number] = [h.startsWith("*.") ? 0 : h.length, h.length];
    if (!best || r[0] > best[0] || (r[0] === best[0] && r[1] > best[1])) best = r;
  }
  return best;
}

// Gateway API HTTPRoutes as Envoy routes, for the ambient variant's proxies: the waypoint routes each service
// by the HTTPRoutes the ambient output attaches to it, the ingress gateway by its entry route. Envoy takes the
// first route that matches, Gateway API the most specific match, so the matches are put in Gateway API's
// precedence order (path, then the number of header and query matches; ties keep the routes' order).
import type { Resource } from "../../deploy/lib/resource.ts";

export interface BackendRef { name: string; namespace?: string; port: number; weight?: number; filters?: any[] }
interface Match { path?: { type: string; value: string }; headers?: { type?: string; name: string; value: string }[]; queryParams?: unknown[]; method?: string }
interface Rule { matches?: Match[]; backendRefs: BackendRef[] }

export interface EnvoyRouteOptions {
  /** The Host a backend is called with (host_rewrite_literal); the request's own Host when absent. */
  host?: (b: BackendRef) => string;
  /** Merged into every route entry (e.g. request_headers_to_remove). */
  entry?: object;
  /** Merged into every weighted_clusters (e.g. header_name). */
  weighted?: object;
  /** Response headers per backend (e.g. the lane a split assigned, for the e2e client). */
  responseHeaders?: (b: BackendRef) => { key: string; value: string }[];
}

/** The headers a backend's RequestHeaderModifier sets. */
export function headersSet(b: BackendRef): { name: string; value: string }[] {
  return (b.filters ?? []).filter((f) => f.type === "RequestHeaderModifier").flatMap((f) => f.requestHeaderModifier.set ?? []);
}

const DEFAULT_MATCH: Match = { path: { type: "PathPrefix", value: "/" } };

/** Gateway API's precedence of a match (lower first): exact path, longer prefix, more headers, more query params. */
function rank(m: Match): number[] {
  const p = m.path ?? DEFAULT_MATCH.path!;
  return [p.type === "Exact" ? 0 : 1, -p.value.length, m.method ? 0 : 1, -(m.headers?.length ?? 0), -(m.queryParams?.length ?? 0)];
}

function compareRank(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

function envoyMatch(m: Match): object {
  const p = m.path ?? DEFAULT_MATCH.path!;
  if (m.method || m.queryParams?.length || (m.headers ?? []).some((h) => (h.type ?? "Exact") !== "Exact")) {
    // The ambient output writes none of these; refusing keeps a route from matching more than it says.
    throw new Error(`an HTTPRoute match the local waypoint cannot express: ${JSON.stringify(m)}`);
  }
  // PathPrefix matches whole path elements: Envoy's path_separated_prefix (which takes no trailing "/").
  const path = p.type === "Exact" ? { path: p.value } : p.value.replace(/\/+$/, "") === "" ? { prefix: "/" } : { path_separated_prefix: p.value.replace(/\/+$/, "") };
  const headers = (m.headers ?? []).map((h) => ({ name: h.name, string_match: { exact: h.value } }));
  return { ...path, ...(headers.length ? { headers } : {}) };
}

function action(rule: Rule, o: EnvoyRouteOptions): object {
  const rewrite = (b: BackendRef) => (o.host ? { host_rewrite_literal: o.host(b) } : {});
  const [only] = rule.backendRefs;
  if (rule.backendRefs.length === 1 && headersSet(only).length === 0 && !o.responseHeaders) return { cluster: only.name, ...rewrite(only) };
  return {
    weighted_clusters: {
      ...o.weighted,
      clusters: rule.backendRefs.filter((b) => (b.weight ?? 1) > 0).map((b) => ({
        name: b.name,
        weight: b.weight ?? 1,
        ...rewrite(b),
        ...(headersSet(b).length ? { request_headers_to_add: headersSet(b).map((h) => ({ header: { key: h.name, value: h.value }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" })) } : {}),
        ...(o.responseHeaders ? { response_headers_to_add: o.responseHeaders(b).map((h) => ({ header: h, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" })) } : {}),
      })),
    },
  };
}

/** The Envoy routes of the HTTPRoutes attached to one parent, in Gateway API's precedence order. */
export function envoyRoutes(routes: Resource[], o: EnvoyRouteOptions = {}): object[] {
  const entries: { rank: number[]; route: object }[] = [];
  for (const r of routes) {
    for (const rule of (r.spec as { rules: Rule[] }).rules) {
      for (const m of rule.matches?.length ? rule.matches : [DEFAULT_MATCH]) entries.push({ rank: rank(m), route: { match: envoyMatch(m), route: action(rule, o), ...o.entry } });
    }
  }
  // Array.prototype.sort is stable: equal matches keep the routes' and rules' order, as Gateway API's ties do.
  return entries.sort((a, b) => compareRank(a.rank, b.rank)).map((e) => e.route);
}

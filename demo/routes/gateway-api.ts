// Gateway API v1 HTTPRoute interpretation: the rule a request reaches through its parent (a Service in the
// mesh, a Gateway listener at ingress) across all attached routes, by the spec's precedence, and the
// backendRef it goes to by weight. Pure: resources in (plain objects from YAML), a result out.
import { byAge, pickWeighted, resourceName, RouteConfigError } from "./common.ts";
import { attachedRoutes, GATEWAY_GROUP, isKind, listenerRefusesHost, type Attached, type Parent } from "./gateway-api-attach.ts";
import { hostnameRank, hostOnly, matchHolds, normalizeMatches, type HttpRequest, type Match } from "./gateway-api-match.ts";

export type { HttpRequest } from "./gateway-api-match.ts";
export type { Parent, ServiceParent, GatewayParent } from "./gateway-api-attach.ts";

export interface Backend {
  group: string;
  kind: string;
  name: string;
  namespace: string;
  port?: number;
  weight: number;
  /** backendRefs[].filters, as written (not applied). */
  filters: any[];
  /** Why requests picked for this backend get a 500 (unsupported kind, cross-namespace without a grant). */
  invalid?: string;
}

interface Chosen {
  /** `HTTPRoute namespace/name`. */
  route: string;
  rule: number;
  ruleName?: string;
  match: number;
  backends: Backend[];
  /** The rule's filters, as written: the caller applies what it supports (e.g. RequestHeaderModifier). */
  filters: any[];
  notes: string[];
}

export type GatewayApiResult =
  | ({ kind: "backend"; backend: Backend } & Chosen)
  | ({ kind: "no-backend"; status: 500; reason: string } & Chosen)
  | { kind: "no-route"; status: 404; reason: string; notes: string[] };

export interface RouteOptions {
  /** Numbers in [0, 1) for weighted picks; Math.random when absent. */
  random?: () => number;
  /** Namespace labels, for listeners whose allowedRoutes select namespaces by label. */
  namespaceLabels?: Record<string, Record<string, string>>;
}

interface Candidate {
  at: Attached;
  rule: number;
  match: number;
  m: Match;
  host: [number, number];
}

// RegularExpression precedence is implementation-specific: below every prefix, as Istio ranks it.
const PATH_RANK = { Exact: 3, PathPrefix: 2, RegularExpression: 1 } as const;

/**
 * Across all rules of all routes on the parent: most specific hostname (Gateway parents), then Exact path,
 * longest prefix, method, most headers, most query params; ties by the oldest route, then "{namespace}/
 * {name}", then rule order.
 */
function precedence(a: Candidate, b: Candidate): number {
  return b.host[0] - a.host[0] || b.host[1] - a.host[1]
    || PATH_RANK[b.m.path.type] - PATH_RANK[a.m.path.type]
    || b.m.path.value.length - a.m.path.value.length
    || Number(b.m.method !== undefined) - Number(a.m.method !== undefined)
    || b.m.headers.length - a.m.headers.length
    || b.m.queryParams.length - a.m.queryParams.length
    || byAge(a.at.route, b.at.route)
    || a.rule - b.rule
    || a.match - b.match;
}

function candidates(attached: Attached[], host: string | undefined): Candidate[] {
  const out: Candidate[] = [];
  for (const at of attached) {
    const rank = host === undefined ? [0, 0] as [number, number] : hostnameRank(at.hostnames, host);
    if (!rank) continue;
    const rules = at.route.spec?.rules ?? [];
    if (!Array.isArray(rules)) throw new RouteConfigError(resourceName(at.route), "spec.rules must be a list");
    rules.forEach((r: any, ri: number) => {
      normalizeMatches(r?.matches, `${resourceName(at.route)}: spec.rules[${ri}]`).forEach((m, mi) => out.push({ at, rule: ri, match: mi, m, host: rank }));
    });
  }
  return out.sort(precedence);
}

/** The rule `req` reaches through `parent` among `resources` (HTTPRoutes, Gateways, ReferenceGrants; others ignored). */
export function routeHttp(resources: any[], parent: Parent, req: HttpRequest, opts: RouteOptions = {}): GatewayApiResult {
  const notes: string[] = [];
  if (parent.kind === "Gateway") {
    const why = listenerRefusesHost(resources, parent);
    if (why) return { kind: "no-route", status: 404, reason: why, notes };
  }
  const attached = attachedRoutes(resources, parent, notes, opts.namespaceLabels);
  const host = parent.kind === "Gateway" ? hostOnly(parent.hostname) : undefined;
  const where = parent.kind === "Gateway" ? `Gateway ${parent.namespace}/${parent.name} listener ${parent.sectionName}` : `Service ${parent.namespace}/${parent.name} port ${parent.port}`;
  for (const c of candidates(attached, host)) {
    if (!matchHolds(c.m, req, `${resourceName(c.at.route)}: spec.rules[${c.rule}].matches[${c.match}]`)) continue;
    return choose(resources, parent, c, notes, opts.random ?? Math.random);
  }
  const why = attached.length ? "no rule matches" : "no HTTPRoute is attached";
  return { kind: "no-route", status: 404, reason: `${where}: ${why} (${req.method ?? "GET"} ${req.path}${host ? ` host ${host}` : ""})`, notes };
}

function choose(resources: any[], parent: Parent, c: Candidate, notes: string[], random: () => number): GatewayApiResult {
  const route = c.at.route;
  const rule = route.spec.rules[c.rule] ?? {};
  const name = resourceName(route);
  const backends = (rule.backendRefs ?? []).map((b: any, i: number) => backend(resources, parent, route, b, `${name}: spec.rules[${c.rule}].backendRefs[${i}]`));
  const filters = Array.isArray(rule.filters) ? rule.filters : [];
  const types = [...filters, ...backends.flatMap((b: Backend) => b.filters)].map((f: any) => f?.type ?? "?");
  if (types.length) notes.push(`${name} rule ${c.rule} has filters ${[...new Set(types)].join(", ")}: reported, not applied`);
  const chosen: Chosen = { route: name, rule: c.rule, ruleName: rule.name, match: c.match, backends, filters, notes };
  if (!backends.length) return { kind: "no-backend", status: 500, reason: `${name} rule ${c.rule} has no backendRefs`, ...chosen };
  const b = pickWeighted(backends, (x: Backend) => x.weight, random);
  if (!b) return { kind: "no-backend", status: 500, reason: `${name} rule ${c.rule}: every backendRef has weight 0`, ...chosen };
  if (b.invalid) return { kind: "no-backend", status: 500, reason: `${name} rule ${c.rule}: backend ${b.namespace}/${b.name} is invalid: ${b.invalid}`, ...chosen };
  return { kind: "backend", backend: b, ...chosen };
}

function backend(resources: any[], parent: Parent, route: any, b: any, where: string): Backend {
  const routeNs = route.metadata?.namespace ?? "default";
  if (typeof b?.name !== "string") throw new RouteConfigError(where, "needs a name");
  const out: Backend = {
    group: b.group ?? "",
    kind: b.kind ?? "Service",
    name: b.name,
    namespace: b.namespace ?? routeNs,
    port: b.port,
    weight: b.weight ?? 1,
    filters: Array.isArray(b.filters) ? b.filters : [],
  };
  if (!Number.isInteger(out.weight) || out.weight < 0) throw new RouteConfigError(`${where}.weight`, `${JSON.stringify(b.weight)} is not a whole number >= 0`);
  const isService = out.group === "" && out.kind === "Service";
  if (isService && typeof out.port !== "number") throw new RouteConfigError(`${where}.port`, "a Service backendRef needs a port");
  if (!isService) out.invalid = `kind ${out.group ? `${out.group}/` : ""}${out.kind} is not supported (Services only)`;
  // Mesh routes need no grant (GAMMA); a Gateway route reaching into another namespace does.
  else if (parent.kind === "Gateway" && out.namespace !== routeNs && !granted(resources, routeNs, out)) {
    out.invalid = `no ReferenceGrant in ${out.namespace} lets HTTPRoutes of ${routeNs} refer to Service ${out.name}`;
  }
  return out;
}

function granted(resources: any[], fromNs: string, b: Backend): boolean {
  return resources.some((g) => isKind(g, "ReferenceGrant") && (g.metadata?.namespace ?? "default") === b.namespace
    && (g.spec?.from ?? []).some((f: any) => f?.group === GATEWAY_GROUP && f?.kind === "HTTPRoute" && f?.namespace === fromNs)
    && (g.spec?.to ?? []).some((t: any) => (t?.group ?? "") === "" && t?.kind === "Service" && (t.name === undefined || t.name === b.name)));
}

// The filter's configuration per role, from a lanes spec: what the manifests put in `parameters` (ASM) and
// `pluginConfig` (Istio), and what the local Envoy configs and the demo's emulated proxies load. The routing
// plan (plan.ts) carries one per role; everything else reads it there.
import type { LanesSpec } from "./spec-types.ts";
import { carriersFor } from "./carriers.ts";

/**
 * Sidecar outbound and inbound, the ingress gateway, and the ambient waypoint: one proxy that both routes a
 * request to a service and delivers it there, so it does the inbound role's work (header <-> baggage).
 */
export type FilterRole = "outbound" | "inbound" | "gateway" | "waypoint";

/** Whether the gateway's lane-tag decides the lane (sticky choice or lane_from), so its route matches the header. */
export function gatewayDecidesLane(spec: LanesSpec): boolean {
  return Boolean(spec.gateway?.stickyHeader || spec.gateway?.laneFrom);
}

/** The filter's correlation.headers when the config gives none (assembly/config/config.ts DEFAULT_TRACE_HEADERS). */
export const FILTER_TRACE_HEADERS: readonly string[] = ["traceparent", "x-b3-traceid", "x-request-id"];

/**
 * The trace id headers correlation keys on, where the spec names none: the filter's own, and for the
 * propagators whose apps send the trace only in a header of their own, that header too (the filter reads
 * the trace id from it): `b3` (the b3 single header) after x-b3-traceid, and with xray `x-amzn-trace-id`
 * (its Root= field), both before x-request-id. At most 5 of the filter's 8. Undefined: the filter's default
 * is right.
 */
export function correlationHeaders(spec: LanesSpec): string[] | undefined {
  if (spec.correlation?.headers) return spec.correlation.headers;
  const p = spec.otel?.propagators ?? [];
  const own = [...(p.includes("b3") ? ["b3"] : []), ...(p.includes("xray") ? ["x-amzn-trace-id"] : [])];
  if (own.length === 0) return undefined;
  return [...FILTER_TRACE_HEADERS.slice(0, 2), ...own, ...FILTER_TRACE_HEADERS.slice(2)];
}

const labelToLane = (spec: LanesSpec) => Object.fromEntries(spec.lanes.map((l) => [l.label, l.name]));

/** The filter's configuration for one role (what `parameters` and `pluginConfig` carry). */
export function filterConfig(spec: LanesSpec, role: FilterRole): Record<string, unknown> {
  const config: Record<string, unknown> = {
    routing_header: spec.routingHeader,
    baggage_key: spec.baggageKey,
    // Explicit: Istio/ASM set listener_direction 2 on gateways too, so "auto" cannot tell a gateway apart.
    // The waypoint: inbound's rules (a baggage lane sets the routing header, a header lane is written into
    // baggage), then outbound's, which restore a correlated lane; without default_lane a request with no
    // lane stays without one, and the routes' last rule takes it to the baseline.
    direction: role === "gateway" || role === "waypoint" ? "both" : role,
    lanes: spec.lanes.map((l) => l.name),
  };
  // The carriers the apps' propagators forward (carriers.ts); none given: baggage, the filter's default.
  const carriers = carriersFor(spec.otel?.propagators);
  if (carriers) config.carriers = carriers;
  // Outbound requests without a lane stay in the baseline, where every service has a version.
  if (role === "outbound") config.default_lane = spec.baseline;
  // Clients must not pick their own lane: the gateway assigns it.
  if (role === "gateway") config.trust_client_lane = false;
  // Trace correlation: inbound records trace id -> lane, outbound restores it (sidecars, and a waypoint
  // that sees both a service's arriving requests and its calls).
  if (spec.correlation && role !== "gateway") {
    const c = spec.correlation;
    const headers = correlationHeaders(spec);
    config.correlation = { enabled: true, ...(headers ? { headers } : {}), ...(c.capacity ? { capacity: c.capacity } : {}), ...(c.ttlMs ? { ttl_ms: c.ttlMs } : {}) };
  }
  // Strict mode: the workload's own lane label (Istio/ASM put pod labels in node.metadata.LABELS).
  if (spec.localLane && role === "outbound") config.local_lane = { label: spec.labelKey, label_to_lane: labelToLane(spec) };
  if (role === "gateway") Object.assign(config, gatewayParts(spec));
  // Observability: counters per lane, the lane in access logs, and the hop trace (started only at the
  // gateway, from x-lane-tag-debug: 1; sidecars name their lane by their lane label).
  const o = spec.observe;
  if (o?.laneMetrics) config.lane_metrics = true;
  if (o?.filterState) config.filter_state = true;
  if (o?.hopTrace) config.hop_trace = role === "gateway" ? { accept_debug_header: true } : { label: spec.labelKey, label_to_lane: labelToLane(spec) };
  return config;
}

/** The gateway role's own fields: where clients name their lane, and the filter's weighted choice. */
function gatewayParts(spec: LanesSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // Lanes clients name (a header, cookie or query parameter): trusted, since the gateway set them up.
  const lf = spec.gateway?.laneFrom;
  if (lf) {
    out.lane_from = { ...(lf.header ? { header: lf.header } : {}), ...(lf.cookie ? { cookie: lf.cookie } : {}), ...(lf.query ? { query: lf.query } : {}), ...(lf.values ? { values: lf.values } : {}), trusted: true };
  }
  const g = spec.gateway;
  // Baggage cut to W3C's limits before any app parses it, for apps on SDKs that parse every member.
  if (g?.baggageLimits) out.baggage_limits = true;
  // The weighted choice in the filter instead of the route's split, where the filter decides the lane
  // before routing (sticky per user, or after lane_from).
  if (g && gatewayDecidesLane(spec) && Object.keys(g.weights).length > 0) {
    out.assign = { weights: Object.fromEntries(spec.lanes.map((l) => [l.name, g.weights[l.name] ?? 0])), ...(g.stickyHeader ? { sticky_header: g.stickyHeader } : {}) };
  }
  return out;
}

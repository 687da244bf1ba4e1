// What the filter's observability needs from the proxy around it, shared by the local Envoy configs, the
// demo's emulated sidecars and the docs: the stats_tags that turn lane_metrics' name segments into labels
// (the same regex Istio generates for each name in extraStatTags), and the access-log fields.

/** The tags lane_metrics' counters carry in their names (`lane=.=s2;.;`), as labels in Prometheus. */
export const LANE_TAGS = ["lane", "lane_direction", "lane_source"] as const;

/** Envoy bootstrap stats_config.stats_tags entries for them (Istio writes the same for extraStatTags). */
export const LANE_STATS_TAGS: { tag_name: string; regex: string }[] = LANE_TAGS.map((t) => ({ tag_name: t, regex: `(${t}=\\.=(.*?);\\.;)` }));

/** The Prometheus name of the per-lane request counter (Envoy drops wasmcustom. and adds no envoy_). */
export const LANE_REQUESTS_METRIC = "lanetag_requests_total";

/** Filter state the filter sets with filter_state: true (Envoy prefixes wasm. to the property path). */
export const FILTER_STATE_LANE = "wasm.lane_tag.lane";
export const FILTER_STATE_SOURCE = "wasm.lane_tag.source";

/** The response header hop_trace fills, and the request header that asks for it at the gateway. */
export const TRACE_HEADER = "x-lane-tag-trace";
export const DEBUG_HEADER = "x-lane-tag-debug";

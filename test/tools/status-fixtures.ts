// Prometheus text as sidecars serve it, shared by the status tests.

export const lane = (l: string, dir: string, src: string, n: number) =>
  `lanetag_requests_total{lane="${l}",lane_direction="${dir}",lane_source="${src}"} ${n}`;
export const text = (...lines: string[]) => `${lines.join("\n")}\n`;
export const INVALID = "the routing header or baggage named a lane that is malformed or not among the configured lanes, and it was not used";
export const METRICS_DOC = 'docs/observability.md, section "Lane metrics"';

// What a sidecar's admin serves, trimmed: other Envoy metrics around ours, comments, a histogram.
export const MOCKB = text(
  "# TYPE envoy_cluster_upstream_rq_total counter",
  'envoy_cluster_upstream_rq_total{envoy_cluster_name="outbound|8000||mockc"} 80',
  "# TYPE lane_tag_inbound_invalid_lane counter",
  "lane_tag_inbound_invalid_lane{} 3",
  "# TYPE lane_tag_outbound_invalid_lane counter",
  "lane_tag_outbound_invalid_lane{} 0",
  "",
  "# HELP lanetag_requests_total lane-tag requests",
  "# TYPE lanetag_requests_total counter",
  lane("s2", "inbound", "baggage", 40),
  lane("s3", "inbound", "baggage", 0),
  lane("s1", "outbound", "default", 40),
  lane("s3", "outbound", "baggage", 0),
  "# TYPE envoy_http_downstream_rq_time histogram",
  'envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix="inbound_0.0.0.0_8000",le="0.5"} 12',
);
export const MOCKA = text(
  "# TYPE lane_tag_outbound_lane_from_trace counter",
  "lane_tag_outbound_lane_from_trace{} 12",
  "# TYPE lanetag_requests_total counter",
  lane("s2", "inbound", "header", 52),
  lane("s2", "outbound", "baggage", 40),
  lane("s2", "outbound", "trace", 12),
  lane("_none", "outbound", "none", 1),
  lane("_other", "inbound", "header", 2),
);

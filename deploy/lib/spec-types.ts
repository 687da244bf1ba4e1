// The lanes spec as the tools use it, once parseSpec (spec.ts) has read and checked it.

export interface Lane {
  name: string;
  /** Value of `labelKey` on the lane's workloads (e.g. ASM_TRAFFIC_TAG: v2). */
  label: string;
  services: string[];
  /**
   * The lane this one falls back to where it has no version of a service (`lanes.<name>.fallback`): the
   * baseline unless the spec names another lane; undefined for the baseline itself. See laneChain().
   */
  fallback?: string;
}

export interface GatewaySpec {
  name: string;
  /** The namespace of the `Gateway` resource (where its VirtualService goes). */
  namespace: string;
  /**
   * The namespace of the gateway's pods (`workloadNamespace`, istio-system by default): the gateway's filter
   * goes there, since Istio applies a WasmPlugin outside its root namespace only to that namespace's pods.
   */
  workloadNamespace: string;
  labels: Record<string, string>;
  hosts: string[];
  entry: { service: string; port?: number; prefix: string };
  /** Lane -> weight (sum 100); may be empty when laneFrom is set (clients name their lanes). */
  weights: Record<string, number>;
  /** When set, the gateway's lane-tag assigns lanes by weight, sticky per value of this header. */
  stickyHeader?: string;
  /** Where clients name their lane (the filter's lane_from, trusted at the gateway). */
  laneFrom?: LaneFromSpec;
  /** The gateway's filter holds baggage to W3C's limits before any app parses it (the filter's baggage_limits). */
  baggageLimits?: boolean;
}

export interface LaneFromSpec {
  header?: string;
  cookie?: string;
  query?: string;
  /** Client value -> lane name; without it the value must be a lane name. */
  values?: Record<string, string>;
}

/** Trace-correlated lanes (the filter's `correlation`): on when present. */
export interface CorrelationSpec {
  headers?: string[];
  capacity?: number;
  ttlMs?: number;
}

/** Zero-code instrumentation (`otel`): an OpenTelemetry Operator Instrumentation that propagates baggage. */
export interface OtelSpec {
  name: string;
  propagators: string[];
  /** OTLP endpoint of a collector; without it the Instrumentation samples nothing and exports no metrics. */
  endpoint?: string;
}

/**
 * Lane observability (`observe`): per-lane counters, the lane in access logs (filter state), and the hop
 * trace (the gateway accepts x-lane-tag-debug: 1, every sidecar adds its entry). All off by default.
 */
export interface ObserveSpec {
  laneMetrics: boolean;
  filterState: boolean;
  hopTrace: boolean;
}

/** Propagators every generated Instrumentation has: baggage carries the lane, tracecontext the trace id. */
export const OTEL_REQUIRED_PROPAGATORS = ["tracecontext", "baggage"];

export interface LanesSpec {
  group: string;
  namespace: string;
  routingHeader: string;
  baggageKey: string;
  labelKey: string;
  workloadLabel: string;
  baseline: string;
  image: string;
  istioImage: string;
  imagePullPolicy: "IfNotPresent" | "Always";
  lanes: Lane[];
  /** Every service of the group, in first-seen order. */
  services: string[];
  gateway?: GatewaySpec;
  correlation?: CorrelationSpec;
  otel?: OtelSpec;
  observe: ObserveSpec;
  /** Strict mode: outbound requests without a lane take the lane of the workload's own `labelKey` label. */
  localLane: boolean;
  /** Service -> the value of `workloadLabel` on its pods, where it is not the service name (e.g. wsk-svc -> wsk). */
  workloads: Record<string, string>;
  /** The digest file to pin the images with (`digests`, resolved against the spec file's folder). */
  digests?: string;
  /** Set when pinned: the WasmPlugin's sha256 (the Istio layout's manifest digest, hex). */
  istioSha256?: string;
  /** The outputs to generate (`targets`); asm and istio when absent. */
  targets?: Target[];
  /** Set when ambient is one of the targets. */
  ambient?: AmbientSpec;
}

/** The outputs a spec can generate, each a folder of the output: asm/, istio/ (sidecars), ambient/. */
export const TARGETS = ["asm", "istio", "ambient"] as const;
export type Target = (typeof TARGETS)[number];

/**
 * Istio ambient mode (`ambient`): where the lane filter and the lane routes run. No sidecars there: the
 * waypoint (one per namespace, or one per service) routes and runs the filter.
 */
export interface AmbientSpec {
  /** The waypoint `Gateway`'s name (scope namespace), `waypoint` by default. */
  waypoint: string;
  /** One waypoint shared by the namespace's services (the default), or one per service (`<service>-waypoint`). */
  scope: "namespace" | "service";
  /** The port the per-version Services expose and target, per service: `ambient.ports`, else `ambient.port`,
   *  else the gateway's entry port, else 80. */
  ports: Record<string, number>;
}

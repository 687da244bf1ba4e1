// The pieces of the docker-compose variants' Envoy configs and compose files, shared by their generators
// (generate.ts: HTTP; websocket/generate.ts; grpc/generate.ts; ambient/generate.ts), all from the routing plan (localPlan). A
// variant differs only in what `Proxies` says.
import { rmSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { stringify } from "yaml";
import type { LanesSpec } from "../../deploy/lib/spec.ts";
import { servicePlan, type FilterRole, type RoutingPlan } from "../../deploy/lib/plan.ts";
import { planOf } from "./plan.ts";
import { ROOT_ID } from "../../deploy/lib/names.ts";
import { LANE_STATS_TAGS, FILTER_STATE_LANE, FILTER_STATE_SOURCE } from "../../deploy/lib/observe.ts";
import { chain, upstreamOf, laneCluster, routeCluster, chainClusters, laneMember, RANDOM_HEADER, LANE_HEADER, type Workload } from "./topology.ts";

export const ENVOY_IMAGE = "envoyproxy/envoy:v1.38.0";
// A Node LTS in support (20 reached its end of life in April 2026).
export const NODE_IMAGE = "node:24-alpine";
/** Where an app listens, in its sidecar's network namespace. */
export const APP_PORT = 8080;
/** The sidecar's outbound listener (on 127.0.0.1): the app's HTTP proxy, or where gRPC apps dial. */
export const OUTBOUND_PORT = 15001;
/** The gateway's listener in its container. */
export const GATEWAY_PORT = 8080;

/** What differs between the variants' proxies. */
export interface Proxies {
  /** The port every service is called on (its sidecar's inbound listener). */
  port: number;
  /** Extra fields of every HTTP connection manager. */
  hcm?: object;
  /** Extra fields of every cluster that has (or may have) endpoints: apps and sidecars, not aggregates. */
  cluster?: object;
}

export const any = (type: string, body: object = {}) => ({ "@type": `type.googleapis.com/${type}`, ...body });

/** Upstream HTTP/2 (h2c) for a cluster, as gRPC needs. */
export const HTTP2_UPSTREAM = {
  typed_extension_protocol_options: {
    "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": any("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", { explicit_http_config: { http2_protocol_options: {} } }),
  },
};

/** The local variants run with every observability feature on: lane metrics, the lane in access logs, hop trace. */
export const LOCAL_OBSERVE = { laneMetrics: true, filterState: true, hopTrace: true };
export function observed(spec: LanesSpec): LanesSpec {
  return { ...spec, observe: LOCAL_OBSERVE };
}

/** The routing plan the local variants' proxies are built from: the spec's, with LOCAL_OBSERVE's filters. */
export function localPlan(spec: LanesSpec): RoutingPlan {
  return planOf(observed(spec));
}

/** Bootstrap stats_tags: lane_metrics' name segments as Prometheus labels (lane, lane_direction, lane_source). */
export const STATS_CONFIG = { stats_tags: LANE_STATS_TAGS };

// Every request's access-log line names its lane and where the lane came from (filter state the filter sets).
const ACCESS_LOG_FORMAT = `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% ` +
  `lane=%FILTER_STATE(${FILTER_STATE_LANE}:PLAIN)% lane_source=%FILTER_STATE(${FILTER_STATE_SOURCE}:PLAIN)% upstream=%UPSTREAM_CLUSTER% %DURATION%ms\n`;
const ACCESS_LOG = [{
  name: "envoy.access_loggers.stdout",
  typed_config: any("envoy.extensions.access_loggers.stream.v3.StdoutAccessLog", { log_format: { text_format_source: { inline_string: ACCESS_LOG_FORMAT } } }),
}];

export function wasmFilter(plan: RoutingPlan, role: FilterRole) {
  return {
    name: "lane-tag",
    typed_config: any("envoy.extensions.filters.http.wasm.v3.Wasm", {
      config: {
        name: `lane-tag-${role}`,
        root_id: ROOT_ID,
        // One vm_id for the inbound and outbound listeners of a proxy: one VM, and one shared-data
        // namespace (Envoy keeps shared data per vm_id), which trace correlation needs.
        vm_config: { vm_id: "lane-tag", runtime: "envoy.wasm.runtime.v8", code: { local: { filename: "/etc/envoy/lane-tag.wasm" } } },
        configuration: any("google.protobuf.StringValue", { value: JSON.stringify(plan.filters[role]) }),
        // A lane filter must never take traffic down; but a gateway that does not trust client lanes fails
        // closed, as the generated WasmPlugin does: a module that failed must not let a client's lane through.
        failure_policy: (plan.filters[role] as { trust_client_lane?: boolean }).trust_client_lane === false ? "FAIL_CLOSED" : "FAIL_OPEN",
      },
    }),
  };
}

export function hcm(p: Proxies, statPrefix: string, routeConfig: object, filters: object[]) {
  return {
    name: "envoy.filters.network.http_connection_manager",
    typed_config: any("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", {
      stat_prefix: statPrefix,
      access_log: ACCESS_LOG,
      ...p.hcm,
      // WebSocket handshakes are proxied, then the stream (Envoy refuses Upgrade requests without this).
      upgrade_configs: [{ upgrade_type: "websocket" }],
      route_config: routeConfig,
      http_filters: [...filters, { name: "envoy.filters.http.router", typed_config: any("envoy.extensions.filters.http.router.v3.Router") }],
    }),
  };
}

export function listener(name: string, address: string, port: number, direction: "INBOUND" | "OUTBOUND", filter: object) {
  return { name, address: { socket_address: { address, port_value: port } }, traffic_direction: direction, filter_chains: [{ filters: [filter] }] };
}

export const endpoint = (host: string, port: number) => ({ endpoint: { address: { socket_address: { address: host, port_value: port } } } });
export const admin = { address: { socket_address: { address: "127.0.0.1", port_value: 9901 } } };

/** The lane clusters of a service, and the aggregate clusters that fall back up each lane's chain to the baseline. */
function laneClusters(plan: RoutingPlan, service: string, p: Proxies): object[] {
  const out: object[] = [];
  for (const lane of plan.lanes) {
    const member = laneMember(plan, service, lane.name);
    const name = laneCluster(service, lane.name);
    out.push(member
      ? { name, type: "STRICT_DNS", dns_lookup_family: "V4_ONLY", connect_timeout: "1s", load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [endpoint(member.name, p.port)] }] }, ...p.cluster }
      // The lane has no version of this service: an empty cluster, so the aggregate falls back.
      : { name, type: "STATIC", connect_timeout: "1s", load_assignment: { cluster_name: name, endpoints: [] }, ...p.cluster });
    if (lane.name !== plan.baseline) {
      out.push({
        name: routeCluster(service, lane.name),
        connect_timeout: "1s",
        lb_policy: "CLUSTER_PROVIDED",
        cluster_type: { name: "envoy.clusters.aggregate", typed_config: any("envoy.extensions.clusters.aggregate.v3.ClusterConfig", { clusters: chainClusters(plan, service, lane.name) }) },
      });
    }
  }
  return out;
}

/** The cluster a request in `lane` for `service` is routed to. */
const target = (plan: RoutingPlan, service: string, lane: string) => (lane === plan.baseline ? laneCluster(service, lane) : routeCluster(service, lane));

/** Routes to `service` by the routing header: each lane to its cluster, anything else to the baseline. */
function laneRoutes(plan: RoutingPlan, service: string) {
  return [
    ...plan.lanes.map((l) => ({
      match: { prefix: "/", headers: [{ name: plan.spec.routingHeader, string_match: { exact: l.name } }] },
      route: { cluster: target(plan, service, l.name) },
    })),
    { match: { prefix: "/" }, route: { cluster: laneCluster(service, plan.baseline) } },
  ];
}

/** A workload's sidecar: inbound (the service port) to its app; outbound (the app's way out) by host and lane. */
export function sidecarConfig(plan: RoutingPlan, w: Workload, p: Proxies): object {
  const { spec } = plan;
  const up = upstreamOf(spec, w.service);
  const virtualHosts = up ? [{ name: up, domains: [up, `${up}:${p.port}`], routes: laneRoutes(plan, up) }] : [];
  return {
    // As Istio does: the pod's labels in node metadata, where lane-tag's local_lane reads the lane label.
    node: { id: w.name, cluster: w.service, metadata: { WORKLOAD_NAME: w.name, LABELS: { app: servicePlan(plan, w.service).workload, [spec.labelKey]: w.version } } },
    admin,
    stats_config: STATS_CONFIG,
    static_resources: {
      listeners: [
        listener("inbound", "0.0.0.0", p.port, "INBOUND", hcm(p, "inbound", {
          name: "inbound",
          virtual_hosts: [{ name: "app", domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: "app" } }] }],
        }, [wasmFilter(plan, "inbound")])),
        listener("outbound", "127.0.0.1", OUTBOUND_PORT, "OUTBOUND", hcm(p, "outbound", { name: "outbound", virtual_hosts: virtualHosts }, [wasmFilter(plan, "outbound")])),
      ],
      clusters: [
        { name: "app", type: "STATIC", connect_timeout: "1s", load_assignment: { cluster_name: "app", endpoints: [{ lb_endpoints: [endpoint("127.0.0.1", APP_PORT)] }] }, ...p.cluster },
        ...(up ? laneClusters(plan, up, p) : []),
      ],
    },
  };
}

function gateway(plan: RoutingPlan, p: Proxies, route: object): object {
  return {
    node: { id: "gateway", cluster: "gateway", metadata: { WORKLOAD_NAME: "gateway" } },
    admin,
    stats_config: STATS_CONFIG,
    static_resources: {
      listeners: [listener("gateway", "0.0.0.0", GATEWAY_PORT, "OUTBOUND", hcm(p, "gateway", {
        name: "gateway",
        virtual_hosts: [{ name: "entry", domains: ["*"], routes: route }],
      }, [wasmFilter(plan, "gateway")]))],
      clusters: laneClusters(plan, chain(plan.spec)[0], p),
    },
  };
}

/** The gateway that assigns lanes by weight (the spec's gateway.weights) and answers the lane in x-lane. */
export function gatewayConfig(plan: RoutingPlan, p: Proxies): object {
  const { spec } = plan;
  const entry = chain(spec)[0];
  return gateway(plan, p, [{
    match: { prefix: spec.gateway?.entry.prefix ?? "/" },
    // x-lane-random is a test hook (reproducible splits); it is not passed on.
    request_headers_to_remove: [RANDOM_HEADER],
    route: {
      weighted_clusters: {
        // The random value may come from this header (the e2e client sends one, for a reproducible split).
        header_name: RANDOM_HEADER,
        clusters: (plan.gateway?.weights ?? []).filter((w) => w.weight > 0).map((w) => ({
          name: target(plan, entry, w.lane),
          weight: w.weight,
          request_headers_to_add: [{ header: { key: spec.routingHeader, value: w.lane }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" }],
          response_headers_to_add: [{ header: { key: LANE_HEADER, value: w.lane }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" }],
        })),
      },
    },
  }]);
}

/**
 * The gateway where clients name their lane (the spec's gateway.laneFrom): lane-tag sets the routing header
 * from it, and the route sends each lane to its version of the entry service, else to the baseline's (as the
 * Istio gateway route generated for such a spec does).
 */
export function laneGatewayConfig(plan: RoutingPlan, p: Proxies): object {
  return gateway(plan, p, laneRoutes(plan, chain(plan.spec)[0]));
}

/** The same configs without the lane filter: to show that the filter is what carries the lane. */
export function withoutFilter(config: any): object {
  const copy = structuredClone(config);
  for (const l of copy.static_resources.listeners) {
    const h = l.filter_chains[0].filters[0].typed_config;
    h.http_filters = h.http_filters.filter((f: any) => f.name !== "lane-tag");
  }
  return copy;
}

/** An Envoy container: the config of ENVOY_CONFIG (envoy, or envoy-nofilter) and the built module at `wasm`. */
export function envoyService(file: string, wasm: string) {
  return {
    image: ENVOY_IMAGE,
    command: ["envoy", "-c", "/etc/envoy/envoy.yaml", "--log-level", "warn", "--component-log-level", "wasm:info"],
    volumes: [`./\${ENVOY_CONFIG:-envoy}/${file}:/etc/envoy/envoy.yaml:ro`, `${wasm}:/etc/envoy/lane-tag.wasm:ro`],
  };
}

/**
 * A TypeScript app of this repository in its sidecar's network namespace: the repository (with the
 * node_modules `npm install` left on the host: tsx, socket.io, grpc-js) read-only at /repo, run with tsx.
 * `repo` is the repository's path relative to the compose file.
 */
function repoApp(sidecar: string, repo: string, entry: string, environment: Record<string, string>) {
  return {
    image: NODE_IMAGE,
    network_mode: `service:${sidecar}`,
    volumes: [`${repo}:/repo:ro`],
    working_dir: "/repo",
    command: ["node", "--import", "tsx", entry],
    environment,
  };
}

/**
 * The compose file of a variant in a folder of demo whose apps are this repository's TypeScript: the
 * gateway on 127.0.0.1:`hostPort`, and per workload its sidecar and its app (`entry`, with `env(w)`).
 */
export function repoCompose(name: string, hostPort: number, ws: Workload[], entry: string, env: (w: Workload) => Record<string, string>): object {
  const repo = "../..";
  const envoy = (file: string) => envoyService(file, `${repo}/build/lane-tag.wasm`);
  const services: Record<string, object> = { gateway: { ...envoy("gateway.yaml"), ports: [`127.0.0.1:${hostPort}:${GATEWAY_PORT}`] } };
  for (const w of ws) {
    services[w.name] = envoy(`${w.name}.yaml`);
    services[`${w.name}-app`] = repoApp(w.name, repo, entry, { ...env(w), PORT: String(APP_PORT) });
  }
  return { name, services };
}

/** A variant's files: its compose file, and each Envoy config with lane-tag (envoy/) and without (envoy-nofilter/). */
export function variantFiles(specFile: string, compose: object, configs: [string, object][]): Record<string, string> {
  const header = `# Generated by \`npm run local-configs\` from ${specFile}. Do not edit.\n`;
  // No anchors or aliases: each file reads on its own, as a reader (and Envoy's loader) expects.
  const y = (o: object) => header + stringify(o, { lineWidth: 0, aliasDuplicateObjects: false });
  const files: Record<string, string> = { "docker-compose.yml": y(compose) };
  for (const [name, c] of configs) {
    files[`envoy/${name}`] = y(c);
    files[`envoy-nofilter/${name}`] = y(withoutFilter(c));
  }
  return files;
}

/** Writes a variant's files into `dir`, replacing its Envoy config folders (so none is left stale). */
export function writeVariant(dir: string, files: Record<string, string>): void {
  for (const d of ["envoy", "envoy-nofilter"]) rmSync(join(dir, d), { recursive: true, force: true });
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
}

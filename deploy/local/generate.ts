// npm run local-configs: writes the docker-compose demo (deploy/local/docker-compose.yml and one Envoy
// config per proxy in envoy/ and envoy-nofilter/) from deploy/lanes.example.yaml. The files are committed; a
// test regenerates them and checks they are current and valid for Envoy.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { loadSpec, type LanesSpec } from "../lib/spec.ts";
import { filterConfig, ROOT_ID, type FilterRole } from "../lib/generate.ts";
import { chain, workloads, upstreamOf, laneCluster, routeCluster, laneMember, gatewayWeights, SERVICE_PORT, RANDOM_HEADER, LANE_HEADER, type Workload } from "./topology.ts";

export const HERE = dirname(fileURLToPath(import.meta.url));
export const SPEC = join(HERE, "../lanes.example.yaml");
export const ENVOY_IMAGE = "envoyproxy/envoy:v1.38.0";
export const NODE_IMAGE = "node:20-alpine";
const APP_PORT = 8080;
const OUTBOUND_PORT = 15001;
const GATEWAY_PORT = 8080;

const any = (type: string, body: object = {}) => ({ "@type": `type.googleapis.com/${type}`, ...body });

function wasmFilter(spec: LanesSpec, role: FilterRole) {
  return {
    name: "lane-tag",
    typed_config: any("envoy.extensions.filters.http.wasm.v3.Wasm", {
      config: {
        name: `lane-tag-${role}`,
        root_id: ROOT_ID,
        // One vm_id for the inbound and outbound listeners of a proxy: one VM, and one shared-data
        // namespace (Envoy keeps shared data per vm_id), which trace correlation needs.
        vm_config: { vm_id: "lane-tag", runtime: "envoy.wasm.runtime.v8", code: { local: { filename: "/etc/envoy/lane-tag.wasm" } } },
        configuration: any("google.protobuf.StringValue", { value: JSON.stringify(filterConfig(spec, role)) }),
        // A lane filter must never take traffic down.
        failure_policy: "FAIL_OPEN",
      },
    }),
  };
}

function hcm(statPrefix: string, routeConfig: object, filters: object[]) {
  return {
    name: "envoy.filters.network.http_connection_manager",
    typed_config: any("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", {
      stat_prefix: statPrefix,
      // WebSocket handshakes are proxied, then the stream (Envoy refuses Upgrade requests without this).
      upgrade_configs: [{ upgrade_type: "websocket" }],
      route_config: routeConfig,
      http_filters: [...filters, { name: "envoy.filters.http.router", typed_config: any("envoy.extensions.filters.http.router.v3.Router") }],
    }),
  };
}

function listener(name: string, address: string, port: number, direction: "INBOUND" | "OUTBOUND", filter: object) {
  return { name, address: { socket_address: { address, port_value: port } }, traffic_direction: direction, filter_chains: [{ filters: [filter] }] };
}

const endpoint = (host: string, port: number) => ({ endpoint: { address: { socket_address: { address: host, port_value: port } } } });

/** The lane clusters of a service, and the aggregate clusters that fall back to the baseline. */
function serviceClusters(spec: LanesSpec, service: string): object[] {
  const out: object[] = [];
  for (const lane of spec.lanes) {
    const member = laneMember(spec, service, lane.name);
    const name = laneCluster(service, lane.name);
    out.push(member
      ? { name, type: "STRICT_DNS", dns_lookup_family: "V4_ONLY", connect_timeout: "1s", load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [endpoint(member.name, SERVICE_PORT)] }] } }
      // The lane has no version of this service: an empty cluster, so the aggregate falls back.
      : { name, type: "STATIC", connect_timeout: "1s", load_assignment: { cluster_name: name, endpoints: [] } });
    if (lane.name !== spec.baseline) {
      out.push({
        name: routeCluster(service, lane.name),
        connect_timeout: "1s",
        lb_policy: "CLUSTER_PROVIDED",
        cluster_type: { name: "envoy.clusters.aggregate", typed_config: any("envoy.extensions.clusters.aggregate.v3.ClusterConfig", { clusters: [name, laneCluster(service, spec.baseline)] }) },
      });
    }
  }
  return out;
}

/** The cluster a request in `lane` for `service` is routed to. */
const target = (spec: LanesSpec, service: string, lane: string) => (lane === spec.baseline ? laneCluster(service, lane) : routeCluster(service, lane));

export function sidecarConfig(spec: LanesSpec, w: Workload): object {
  const up = upstreamOf(spec, w.service);
  const virtualHosts = up ? [{
    name: up,
    domains: [up, `${up}:${SERVICE_PORT}`],
    routes: [
      ...spec.lanes.map((l) => ({
        match: { prefix: "/", headers: [{ name: spec.routingHeader, string_match: { exact: l.name } }] },
        route: { cluster: target(spec, up, l.name) },
      })),
      { match: { prefix: "/" }, route: { cluster: laneCluster(up, spec.baseline) } },
    ],
  }] : [];
  return {
    // As Istio does: the pod's labels in node metadata, where lane-tag's local_lane reads the lane label.
    node: { id: w.name, cluster: w.service, metadata: { LABELS: { app: w.service, [spec.labelKey]: w.version } } },
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 9901 } } },
    static_resources: {
      listeners: [
        listener("inbound", "0.0.0.0", SERVICE_PORT, "INBOUND", hcm("inbound", {
          name: "inbound",
          virtual_hosts: [{ name: "app", domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: "app" } }] }],
        }, [wasmFilter(spec, "inbound")])),
        listener("outbound", "127.0.0.1", OUTBOUND_PORT, "OUTBOUND", hcm("outbound", { name: "outbound", virtual_hosts: virtualHosts }, [wasmFilter(spec, "outbound")])),
      ],
      clusters: [
        { name: "app", type: "STATIC", connect_timeout: "1s", load_assignment: { cluster_name: "app", endpoints: [{ lb_endpoints: [endpoint("127.0.0.1", APP_PORT)] }] } },
        ...(up ? serviceClusters(spec, up) : []),
      ],
    },
  };
}

export function gatewayConfig(spec: LanesSpec): object {
  const entry = chain(spec)[0];
  return {
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 9901 } } },
    static_resources: {
      listeners: [listener("gateway", "0.0.0.0", GATEWAY_PORT, "OUTBOUND", hcm("gateway", {
        name: "gateway",
        virtual_hosts: [{
          name: "entry",
          domains: ["*"],
          routes: [{
            match: { prefix: spec.gateway?.entry.prefix ?? "/" },
            // x-lane-random is a test hook (reproducible splits); it is not passed on.
            request_headers_to_remove: [RANDOM_HEADER],
            route: {
              weighted_clusters: {
                // The random value may come from this header (the e2e client sends one, for a reproducible split).
                header_name: RANDOM_HEADER,
                clusters: gatewayWeights(spec).filter((w) => w.weight > 0).map((w) => ({
                  name: target(spec, entry, w.lane),
                  weight: w.weight,
                  request_headers_to_add: [{ header: { key: spec.routingHeader, value: w.lane }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" }],
                  response_headers_to_add: [{ header: { key: LANE_HEADER, value: w.lane }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" }],
                })),
              },
            },
          }],
        }],
      }, [wasmFilter(spec, "gateway")]))],
      clusters: serviceClusters(spec, entry),
    },
  };
}

/** The same configs without the lane filter: to show that the filter is what carries the lane. */
function withoutFilter(config: any): object {
  const copy = structuredClone(config);
  for (const l of copy.static_resources.listeners) {
    const h = l.filter_chains[0].filters[0].typed_config;
    h.http_filters = h.http_filters.filter((f: any) => f.name !== "lane-tag");
  }
  return copy;
}

export function composeFile(spec: LanesSpec): object {
  const envoy = (file: string) => ({
    image: ENVOY_IMAGE,
    command: ["envoy", "-c", "/etc/envoy/envoy.yaml", "--log-level", "warn", "--component-log-level", "wasm:info"],
    volumes: [`./\${ENVOY_CONFIG:-envoy}/${file}:/etc/envoy/envoy.yaml:ro`, "../../build/lane-tag.wasm:/etc/envoy/lane-tag.wasm:ro"],
  });
  const services: Record<string, object> = { gateway: { ...envoy("gateway.yaml"), ports: ["127.0.0.1:8080:8080"] } };
  for (const w of workloads(spec)) {
    services[w.name] = envoy(`${w.name}.yaml`);
    const up = upstreamOf(spec, w.service);
    services[`${w.name}-app`] = {
      image: NODE_IMAGE,
      // The app shares its sidecar's network namespace: the sidecar's outbound listener is 127.0.0.1:15001.
      network_mode: `service:${w.name}`,
      volumes: ["./mock:/app:ro"],
      command: ["node", "/app/server.mjs"],
      environment: {
        app: w.service,
        version: w.version,
        ...(up ? { upstream_url: `http://${up}:${SERVICE_PORT}/`, HTTP_PROXY: `http://127.0.0.1:${OUTBOUND_PORT}` } : {}),
        PORT: String(APP_PORT),
      },
    };
  }
  return { name: "lane-tag-demo", services };
}

/** Every file this generator writes, relative to deploy/local. */
export function localFiles(spec: LanesSpec): Record<string, string> {
  const header = "# Generated by `npm run local-configs` from deploy/lanes.example.yaml. Do not edit.\n";
  const y = (o: object) => header + stringify(o, { lineWidth: 0 });
  const files: Record<string, string> = { "docker-compose.yml": y(composeFile(spec)) };
  const configs: [string, object][] = [["gateway.yaml", gatewayConfig(spec)], ...workloads(spec).map((w) => [`${w.name}.yaml`, sidecarConfig(spec, w)] as [string, object])];
  for (const [name, c] of configs) {
    files[`envoy/${name}`] = y(c);
    files[`envoy-nofilter/${name}`] = y(withoutFilter(c));
  }
  return files;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = localFiles(loadSpec(SPEC));
  for (const dir of ["envoy", "envoy-nofilter"]) rmSync(join(HERE, dir), { recursive: true, force: true });
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(HERE, name)), { recursive: true });
    writeFileSync(join(HERE, name), text);
  }
  console.log(`wrote ${Object.keys(files).length} files to deploy/local`);
}

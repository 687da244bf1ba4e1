// The ambient docker-compose variant (ambient/, from deploy/lanes.example.yaml): no sidecars. The apps
// (otel/app.cjs under the OpenTelemetry SDK, as the Operator injects it) run on their own; ONE Envoy stands for the namespace waypoint: it runs lane-tag in the waypoint role and
// routes by the HTTPRoutes the ambient output generates (rendered here from the same resources, in Gateway
// API's precedence order). Apps call their upstream through it, as ztunnel sends a call to a service that
// uses a waypoint: app -> waypoint, Host = the service. The ingress gateway runs the gateway filter and routes
// by the generated entry route to the per-version Services, also through the waypoint (their
// istio.io/ingress-use-waypoint), so that the waypoint writes the lane into baggage there too.
import { dirname, posix } from "node:path";
import { fileURLToPath } from "node:url";
import type { LanesSpec } from "../../deploy/lib/spec.ts";
import { servicePlan, type RoutingPlan } from "../../deploy/lib/plan.ts";
import { waypoints, versionService } from "../../deploy/lib/names.ts";
import { ingressRoute, serviceRoutes } from "../../deploy/render/ambient-routes.ts";
import { chain, deployments, upstreamOf, RANDOM_HEADER, LANE_HEADER } from "../core/topology.ts";
import { admin, endpoint, envoyService, hcm, listener, localPlan, variantFiles, wasmFilter, STATS_CONFIG, NODE_IMAGE, GATEWAY_PORT, type Proxies } from "../core/builders.ts";
import { envoyRoutes, headersSet } from "./httproute-envoy.ts";
import { instrumentationEnv, DEFAULT_PROPAGATORS } from "../otel/env.ts";

export const AMBIENT_DIR = dirname(fileURLToPath(import.meta.url));
/** The ambient variant's gateway on the host (HTTP 8080, WebSocket 8081, gRPC 8082, stacked 8083). */
export const AMBIENT_GATEWAY_PORT = 8084;
/** The waypoint's listener: where ztunnel would tunnel (HBONE, 15008, in a cluster); plain HTTP here. */
export const WAYPOINT_PORT = 15008;
const P: Proxies = { port: WAYPOINT_PORT };

/** The namespace waypoint's name (the ambient output's Gateway): the compose service and its Envoy's WORKLOAD_NAME. */
export function waypointName(plan: RoutingPlan): string {
  const ws = waypoints(plan);
  if (plan.spec.ambient?.scope !== "namespace" || ws.length !== 1) throw new Error("the ambient compose variant runs one namespace waypoint: the spec's ambient.scope must be namespace");
  return ws[0].name;
}

/** The app port of a service: its per-version Services' port (ambient.ports). */
const portOf = (plan: RoutingPlan, svc: string) => plan.spec.ambient!.ports[svc];

/** Every per-version Service: its name, the service, and the compose service (the app) that backs it. */
export function versionServices(plan: RoutingPlan): { name: string; service: string; app: string; port: number }[] {
  return plan.services.flatMap((s) => s.versions.map((v) => ({ name: versionService(plan, s.name, v.lane), service: s.name, app: `${s.name}-${v.label}`, port: portOf(plan, s.name) })));
}

const cluster = (name: string, host: string, port: number) => ({
  name, type: "STRICT_DNS", dns_lookup_family: "V4_ONLY", connect_timeout: "1s",
  load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [endpoint(host, port)] }] },
});

/**
 * The waypoint: per service a virtual host routed by its HTTPRoutes (each lane to its serving version's
 * Service, the last rule to the baseline); per version Service one that goes to it (no route is attached
 * there: the ingress gateway's calls); a cluster per version Service, its app.
 */
export function waypointConfig(plan: RoutingPlan): object {
  const name = waypointName(plan);
  const vs = versionServices(plan);
  const domains = (host: string, port: number) => [host, `${host}:${port}`];
  const virtualHosts = [
    ...plan.services.map((s) => ({ name: s.name, domains: domains(s.name, portOf(plan, s.name)), routes: envoyRoutes(serviceRoutes(plan, s.name)) })),
    ...vs.map((v) => ({ name: v.name, domains: domains(v.name, v.port), routes: [{ match: { prefix: "/" }, route: { cluster: v.name } }] })),
  ];
  return {
    // A waypoint has no pod labels of the apps: its filter knows no lane of its own.
    node: { id: name, cluster: name, metadata: { WORKLOAD_NAME: name } },
    admin,
    stats_config: STATS_CONFIG,
    static_resources: {
      listeners: [listener("waypoint", "0.0.0.0", WAYPOINT_PORT, "INBOUND", hcm(P, "waypoint", { name: "waypoint", virtual_hosts: virtualHosts }, [wasmFilter(plan, "waypoint")]))],
      clusters: vs.map((v) => cluster(v.name, v.app, v.port)),
    },
  };
}

/**
 * The ingress gateway: the generated entry route (a weighted split that sets the routing header, or header
 * matches where the filter decides the lane), each backend a per-version Service reached through the
 * waypoint with Host = that Service. x-lane answers the lane a split assigned (for the e2e client).
 */
export function ambientGatewayConfig(plan: RoutingPlan): object {
  const entry = servicePlan(plan, chain(plan.spec)[0]);
  const wp = waypointName(plan);
  const routes = envoyRoutes(ingressRoute(plan), {
    host: (b) => `${b.name}:${b.port}`,
    // x-lane-random is a test hook (reproducible splits); it is not passed on.
    entry: { request_headers_to_remove: [RANDOM_HEADER] },
    weighted: { header_name: RANDOM_HEADER },
    ...(plan.gateway?.decidesLane ? {} : { responseHeaders: (b) => headersSet(b).filter((h) => h.name === plan.spec.routingHeader).map((h) => ({ key: LANE_HEADER, value: h.value })) }),
  });
  return {
    node: { id: "gateway", cluster: "gateway", metadata: { WORKLOAD_NAME: "gateway" } },
    admin,
    stats_config: STATS_CONFIG,
    static_resources: {
      listeners: [listener("gateway", "0.0.0.0", GATEWAY_PORT, "OUTBOUND", hcm(P, "gateway", { name: "gateway", virtual_hosts: [{ name: "entry", domains: ["*"], routes }] }, [wasmFilter(plan, "gateway")]))],
      clusters: entry.versions.map((v) => cluster(versionService(plan, entry.name, v.lane), wp, WAYPOINT_PORT)),
    },
  };
}

/** Where the ambient apps find the instrumentation, as the sidecar variants' (generate.ts): otel/ at /app,
 *  the clone's node_modules at /node_modules. (Not imported from there: generate.ts imports this module.) */
const APP_DIR = "/app";
const NODE_MODULES = "/node_modules";

/**
 * The compose file: the gateway, the waypoint, and per version an app on its own (no sidecar, no shared
 * network namespace): otel/app.cjs with the Operator's env, listening on HOST 0.0.0.0 (the waypoint dials it
 * across the network at `<service>-<version>:<port>`), calling out through the waypoint (HTTP_PROXY).
 */
export function ambientCompose(plan: RoutingPlan): object {
  const { spec } = plan;
  const wp = waypointName(plan);
  const envoy = (file: string) => envoyService(file, "../../build/lane-tag.wasm");
  const services: Record<string, object> = {
    gateway: { ...envoy("gateway.yaml"), ports: [`127.0.0.1:${AMBIENT_GATEWAY_PORT}:${GATEWAY_PORT}`] },
    [wp]: envoy("waypoint.yaml"),
  };
  const propagators = spec.otel?.propagators ?? DEFAULT_PROPAGATORS;
  for (const w of deployments(spec)) {
    const up = upstreamOf(spec, w.service);
    services[w.name] = {
      image: NODE_IMAGE,
      volumes: [`../otel:${APP_DIR}:ro`, `../../node_modules:${NODE_MODULES}:ro`],
      command: ["node", `${APP_DIR}/app.cjs`],
      environment: {
        ...instrumentationEnv({ service: w.service, version: w.version, propagators, preload: posix.join(APP_DIR, "preload.cjs") }),
        // The call goes to the waypoint, naming the service (Host), as ztunnel would deliver it.
        ...(up ? { upstream_url: `http://${up}:${portOf(plan, up)}/`, HTTP_PROXY: `http://${wp}:${WAYPOINT_PORT}` } : {}),
        HOST: "0.0.0.0",
        PORT: String(portOf(plan, w.service)),
      },
    };
  }
  return { name: "lane-tag-ambient", services };
}

/** Every file of the ambient variant, relative to demo/ambient. */
export function ambientFiles(spec: LanesSpec): Record<string, string> {
  const plan = localPlan(spec);
  return variantFiles("deploy/lanes.example.yaml", ambientCompose(plan), [["gateway.yaml", ambientGatewayConfig(plan)], ["waypoint.yaml", waypointConfig(plan)]]);
}

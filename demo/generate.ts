// npm run local-configs: writes the docker-compose variants, each a compose file and one Envoy config per
// proxy in envoy/ and envoy-nofilter/: the HTTP demo here (demo, from deploy/lanes.example.yaml), the
// WebSocket seed in websocket/ (from deploy/lanes.websocket.yaml), the gRPC chain in grpc/ (from
// deploy/lanes.example.yaml), stacked lanes in stacked/ (from deploy/lanes.stacked.yaml) and Istio ambient
// mode in ambient/ (from deploy/lanes.example.yaml: one waypoint, no sidecars). The HTTP, stacked and ambient
// variants' apps are otel/app.cjs under the OpenTelemetry SDK, as the Operator injects it. The files are committed; tests regenerate them and check they are current
// and valid for Envoy and Compose.
import { dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSpec, type LanesSpec } from "../deploy/lib/spec.ts";
import { readCommand } from "../deploy/lib/cli.ts";
import { workloads, deployments, upstreamOf, SERVICE_PORT, type Workload } from "./core/topology.ts";
import { sidecarConfig, gatewayConfig, envoyService, variantFiles, writeVariant, localPlan, NODE_IMAGE, APP_PORT, OUTBOUND_PORT, GATEWAY_PORT, type Proxies } from "./core/builders.ts";
import { instrumentationEnv, DEFAULT_PROPAGATORS } from "./otel/env.ts";
import { websocketFiles, WS_DIR } from "./websocket/generate.ts";
import { WS_SPEC } from "./websocket/client.ts";
import { grpcFiles, GRPC_DIR } from "./grpc/generate.ts";
import { STACKED_DIR, STACKED_SPEC, STACKED_GATEWAY_PORT } from "./stacked/spec.ts";
import { ambientFiles, AMBIENT_DIR } from "./ambient/generate.ts";

export const HERE = dirname(fileURLToPath(import.meta.url));
export const SPEC = join(HERE, "../deploy/lanes.example.yaml");
const HTTP: Proxies = { port: SERVICE_PORT };

/** Where a compose file goes: its project name, the gateway's host port, the path from its folder to
 *  demo ("." here, ".." for stacked/), and the workloads it runs (each app.cjs behind its sidecar). */
export interface ComposeLayout { name: string; hostPort: number; local: string; workloads: Workload[] }

/** Where the compose apps find the instrumentation: otel/ at /app; the clone's node_modules (npm install's,
 *  pure JavaScript) at /node_modules, where Node's resolution from /app/preload.cjs ends. */
export const OTEL_APP_DIR = "/app";
export const OTEL_NODE_MODULES = "/node_modules";

/** A workload's app in its sidecar's network namespace, where the sidecar's outbound listener is 127.0.0.1:15001. */
function composeApp(spec: LanesSpec, w: Workload, layout: ComposeLayout): object {
  const up = upstreamOf(spec, w.service);
  // The Docker-less mesh gives its apps the same two: the upstream by service name, sent through the sidecar.
  const upstream = up ? { upstream_url: `http://${up}:${SERVICE_PORT}/`, HTTP_PROXY: `http://127.0.0.1:${OUTBOUND_PORT}` } : {};
  // As the Operator injects a Node.js container: NODE_OPTIONS=--require of the preload, the OTEL_* it sets,
  // with the propagators of the spec's Instrumentation (the filters' carriers follow the same list).
  return {
    image: NODE_IMAGE,
    network_mode: `service:${w.name}`,
    volumes: [`${layout.local}/otel:${OTEL_APP_DIR}:ro`, `${posix.join(layout.local, "../node_modules")}:${OTEL_NODE_MODULES}:ro`],
    command: ["node", `${OTEL_APP_DIR}/app.cjs`],
    environment: {
      ...instrumentationEnv({ service: w.service, version: w.version, propagators: spec.otel?.propagators ?? DEFAULT_PROPAGATORS, preload: `${OTEL_APP_DIR}/preload.cjs` }),
      ...upstream,
      PORT: String(APP_PORT),
    },
  };
}

const HTTP_LAYOUT = (spec: LanesSpec): ComposeLayout => ({ name: "lane-tag-demo", hostPort: GATEWAY_PORT, local: ".", workloads: workloads(spec) });

export function composeFile(spec: LanesSpec, layout: ComposeLayout = HTTP_LAYOUT(spec)): object {
  const envoy = (file: string) => envoyService(file, posix.join(layout.local, "../build/lane-tag.wasm"));
  const services: Record<string, object> = { gateway: { ...envoy("gateway.yaml"), ports: [`127.0.0.1:${layout.hostPort}:${GATEWAY_PORT}`] } };
  for (const w of layout.workloads) {
    services[w.name] = envoy(`${w.name}.yaml`);
    services[`${w.name}-app`] = composeApp(spec, w, layout);
  }
  return { name: layout.name, services };
}

/** Every file of the HTTP variant, relative to demo. */
export function localFiles(spec: LanesSpec): Record<string, string> {
  const plan = localPlan(spec);
  return variantFiles("deploy/lanes.example.yaml", composeFile(spec), [
    ["gateway.yaml", gatewayConfig(plan, HTTP)],
    ...workloads(spec).map((w): [string, object] => [`${w.name}.yaml`, sidecarConfig(plan, w, HTTP)]),
  ]);
}

/**
 * Every file of the stacked variant (stacked/, from deploy/lanes.stacked.yaml): the HTTP variant's proxies, with
 * the same SDK-instrumented apps, for the versions the lanes list (feat-x's aggregates list feat-x's, release-2's and s1's clusters).
 */
export function stackedFiles(spec: LanesSpec): Record<string, string> {
  const ws = deployments(spec);
  const plan = localPlan(spec);
  return variantFiles("deploy/lanes.stacked.yaml", composeFile(spec, { name: "lane-tag-stacked", hostPort: STACKED_GATEWAY_PORT, local: "..", workloads: ws }), [
    ["gateway.yaml", gatewayConfig(plan, HTTP)],
    ...ws.map((w): [string, object] => [`${w.name}.yaml`, sidecarConfig(plan, w, HTTP)]),
  ]);
}

const LOCAL_CONFIGS = {
  usage: "npm run local-configs",
  description: `Regenerates the docker-compose variants in demo/: the HTTP demo (from deploy/lanes.example.yaml),
websocket/ (from deploy/lanes.websocket.yaml), grpc/ (from deploy/lanes.example.yaml), stacked/ (from
deploy/lanes.stacked.yaml) and ambient/ (from deploy/lanes.example.yaml: a waypoint instead of sidecars),
each a compose file and one Envoy config per proxy in envoy/ and envoy-nofilter/.`,
  options: {},
} as const;

if (import.meta.url === `file://${process.argv[1]}`) {
  readCommand(LOCAL_CONFIGS, process.argv.slice(2), () => undefined);
  const spec = loadSpec(SPEC);
  const variants: [string, Record<string, string>][] = [[HERE, localFiles(spec)], [WS_DIR, websocketFiles(loadSpec(WS_SPEC))], [GRPC_DIR, grpcFiles(spec)], [STACKED_DIR, stackedFiles(loadSpec(STACKED_SPEC))], [AMBIENT_DIR, ambientFiles(spec)]];
  for (const [dir, files] of variants) {
    writeVariant(dir, files);
    console.log(`wrote ${Object.keys(files).length} files to ${join("demo", dir.slice(HERE.length))}`);
  }
}

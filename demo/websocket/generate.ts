// The WebSocket seed as a docker-compose variant (npm run local-configs writes it into this folder, from
// deploy/lanes.websocket.yaml): the gateway with lane-tag in the gateway role (clients name their lane by
// header, cookie or query parameter: lane_from), wsk's sidecar and the helloworld v1 and v2 sidecars, each
// app in its sidecar's network namespace, run from the repository by serve.ts. Every listener proxies
// WebSocket upgrades (upgrade_configs); wsk calls helloworld through its sidecar's outbound listener, its
// HTTP proxy, which routes on the `version` header as the lanes say.
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { LanesSpec } from "../../deploy/lib/spec.ts";
import { deployments, upstreamOf } from "../core/topology.ts";
import { sidecarConfig, laneGatewayConfig, repoCompose, variantFiles, localPlan, OUTBOUND_PORT, type Proxies } from "../core/builders.ts";
import { WS_PORT } from "./apps.ts";

export const WS_DIR = dirname(fileURLToPath(import.meta.url));
/** The gateway's port on the host (the HTTP variant has 8080, so both can run at once). */
export const WS_GATEWAY_PORT = 8081;
const PROXIES: Proxies = { port: WS_PORT };

/** Every file of the variant, relative to this folder. */
export function websocketFiles(spec: LanesSpec): Record<string, string> {
  const compose = repoCompose("lane-tag-websocket", WS_GATEWAY_PORT, deployments(spec), "demo/websocket/serve.ts", (w) => {
    const up = upstreamOf(spec, w.service);
    return { version: w.version, ...(up ? { upstream_url: `http://${up}:${WS_PORT}/hello`, HTTP_PROXY: `http://127.0.0.1:${OUTBOUND_PORT}` } : {}) };
  });
  const plan = localPlan(spec);
  return variantFiles("deploy/lanes.websocket.yaml", compose, [
    ["gateway.yaml", laneGatewayConfig(plan, PROXIES)],
    ...deployments(spec).map((w): [string, object] => [`${w.name}.yaml`, sidecarConfig(plan, w, PROXIES)]),
  ]);
}

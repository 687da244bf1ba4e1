// The gRPC chain as a docker-compose variant (npm run local-configs writes it into this folder, from
// deploy/lanes.example.yaml): the HTTP variant's gateway, sidecars and lanes, with every hop a gRPC call over
// h2c. The connection managers take HTTP/2 without TLS (codec_type AUTO: h2c with prior knowledge is told
// apart by its preface), and every cluster toward an app or a sidecar speaks HTTP/2. The apps (serve.ts) dial
// their upstream by name on a channel to their sidecar's outbound listener, which routes on `:authority`.
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { LanesSpec } from "../../deploy/lib/spec.ts";
import { workloads, upstreamOf, SERVICE_PORT } from "../core/topology.ts";
import { sidecarConfig, gatewayConfig, repoCompose, variantFiles, localPlan, HTTP2_UPSTREAM, OUTBOUND_PORT, type Proxies } from "../core/builders.ts";

export const GRPC_DIR = dirname(fileURLToPath(import.meta.url));
/** The gateway's port on the host (the HTTP variant has 8080, the WebSocket one 8081). */
export const GRPC_GATEWAY_PORT = 8082;
const PROXIES: Proxies = { port: SERVICE_PORT, hcm: { codec_type: "AUTO" }, cluster: HTTP2_UPSTREAM };

/** Every file of the variant, relative to this folder. */
export function grpcFiles(spec: LanesSpec): Record<string, string> {
  const compose = repoCompose("lane-tag-grpc", GRPC_GATEWAY_PORT, workloads(spec), "demo/grpc/serve.ts", (w) => {
    const up = upstreamOf(spec, w.service);
    return { app: w.service, version: w.version, ...(up ? { upstream: `${up}:${SERVICE_PORT}`, via: `127.0.0.1:${OUTBOUND_PORT}` } : {}) };
  });
  const plan = localPlan(spec);
  return variantFiles("deploy/lanes.example.yaml", compose, [
    ["gateway.yaml", gatewayConfig(plan, PROXIES)],
    ...workloads(spec).map((w): [string, object] => [`${w.name}.yaml`, sidecarConfig(plan, w, PROXIES)]),
  ]);
}

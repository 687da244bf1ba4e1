// Stacked lanes (deploy/lanes.stacked.yaml): feat-x on top of release-2 on top of the baseline s1. Where the
// spec is, where its docker-compose variant goes, and how its fallback chains read. Kept apart from
// stacked/generate.ts so that demo.ts can load the spec without the Envoy builders.
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSpec, laneChain, type LanesSpec } from "../../lib/spec.ts";

export const STACKED_SPEC = fileURLToPath(new URL("../../lanes.stacked.yaml", import.meta.url));
export const STACKED_DIR = dirname(fileURLToPath(import.meta.url));
/** The stacked variant's gateway on the host (HTTP 8080, WebSocket 8081, gRPC 8082). */
export const STACKED_GATEWAY_PORT = 8083;

export function stackedSpec(): LanesSpec {
  return loadSpec(STACKED_SPEC);
}

/** Whether some lane falls back to another lane than the baseline. */
export function isStacked(spec: LanesSpec): boolean {
  return spec.lanes.some((l) => laneChain(spec, l.name).length > 2);
}

/** One line per lane: its chain with each lane's version label, e.g. `feat-x (v3) -> release-2 (v2) -> s1 (v1)`. */
export function formatChains(spec: LanesSpec): string[] {
  const label = (lane: string) => spec.lanes.find((l) => l.name === lane)!.label;
  return spec.lanes.map((l) => laneChain(spec, l.name).map((x) => `${x} (${label(x)})`).join(" -> "));
}

/** How the demo's verdict says where lanes fall back: to the baseline, or up each lane's chain. */
export function fallbackText(spec: LanesSpec): string {
  return isStacked(spec)
    ? `falling back up its chain where a lane has no version of a service: ${spec.lanes.filter((l) => l.name !== spec.baseline).map((l) => laneChain(spec, l.name).join(" -> ")).join("; ")}`
    : `falling back to ${spec.baseline} where a lane has no version of a service`;
}

// Stacked lanes (deploy/lanes.stacked.yaml): feat-x on top of release-2 on top of the baseline s1. Where the
// spec is, where its docker-compose variant goes, and how its fallback chains read. Kept apart from
// stacked/generate.ts so that demo.ts can load the spec without the Envoy builders. The chains are the
// routing plan's.
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSpec, type LanesSpec } from "../../deploy/lib/spec.ts";
import { isStacked as planIsStacked, planLane } from "../../deploy/lib/plan.ts";
import { planOf } from "../core/plan.ts";

export const STACKED_SPEC = fileURLToPath(new URL("../../deploy/lanes.stacked.yaml", import.meta.url));
export const STACKED_DIR = dirname(fileURLToPath(import.meta.url));
/** The stacked variant's gateway on the host (HTTP 8080, WebSocket 8081, gRPC 8082). */
export const STACKED_GATEWAY_PORT = 8083;

export function stackedSpec(): LanesSpec {
  return loadSpec(STACKED_SPEC);
}

/** Whether some lane falls back to another lane than the baseline. */
export function isStacked(spec: LanesSpec): boolean {
  return planIsStacked(planOf(spec));
}

/** One line per lane: its chain with each lane's version label, e.g. `feat-x (v3) -> release-2 (v2) -> s1 (v1)`. */
export function formatChains(spec: LanesSpec): string[] {
  const plan = planOf(spec);
  const label = (lane: string) => planLane(plan, lane).label;
  return plan.lanes.map((l) => l.chain.map((x) => `${x} (${label(x)})`).join(" -> "));
}

/** How the demo's verdict says where lanes fall back: to the baseline, or up each lane's chain. */
export function fallbackText(spec: LanesSpec): string {
  const plan = planOf(spec);
  return planIsStacked(plan)
    ? `falling back up its chain where a lane has no version of a service: ${plan.lanes.filter((l) => l.name !== plan.baseline).map((l) => l.chain.join(" -> ")).join("; ")}`
    : `falling back to ${plan.baseline} where a lane has no version of a service`;
}

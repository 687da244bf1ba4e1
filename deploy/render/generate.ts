// From a lanes spec to Kubernetes resources: the routing plan (lib/plan.ts), rendered by each target here:
// ASM (asm/: ASMFilterDeployment, routing with ASM's fallback) and Istio sidecars (istio/: WasmPlugin,
// routing that names each lane's serving version) and Istio ambient mode (ambient/: waypoint, per-version
// Services, HTTPRoutes), as the spec's targets say. This module is the manifests' entry point.
import type { LanesSpec } from "../lib/spec-types.ts";
import { routingPlan } from "../lib/plan.ts";
import type { Output } from "../lib/resource.ts";
import { renderAsm } from "./asm.ts";
import { renderIstio } from "./istio.ts";
import { renderAmbient } from "./ambient.ts";

export { filterConfig, type FilterRole } from "../lib/filter-config.ts";
export { ROOT_ID } from "../lib/names.ts";
export type { Output, Resource } from "../lib/resource.ts";
export { enrolmentSteps } from "./ambient.ts";
export { OTEL_LANGUAGES, otelAnnotations, laneMetricsNotes, traceContextNotes } from "./notes.ts";

/** Every resource for the spec, with the file each goes to: asm/ first, then istio/, then ambient/. */
export function generate(spec: LanesSpec): Output[] {
  const plan = routingPlan(spec);
  const targets = spec.targets ?? ["asm", "istio"];
  return [
    ...(targets.includes("asm") ? renderAsm(plan) : []),
    ...(targets.includes("istio") ? renderIstio(plan) : []),
    ...(spec.ambient && targets.includes("ambient") ? renderAmbient(plan) : []),
  ];
}

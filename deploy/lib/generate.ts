// From a lanes spec to Kubernetes resources: the routing plan (plan.ts), rendered by each target under
// deploy/render/: ASM (asm/: ASMFilterDeployment, routing with ASM's fallback) and Istio sidecars (istio/:
// WasmPlugin, routing that names each lane's serving version) and Istio ambient mode (ambient/: waypoint,
// per-version Services, HTTPRoutes), as the spec's targets say. This module is the manifests' entry point.
import type { LanesSpec } from "./spec-types.ts";
import { routingPlan } from "./plan.ts";
import { renderAsm } from "../render/asm.ts";
import { renderIstio } from "../render/istio.ts";
import { renderAmbient } from "../render/ambient.ts";
import type { Output } from "../render/common.ts";

export { filterConfig, type FilterRole } from "./filter-config.ts";
export { ROOT_ID, type Output, type Resource } from "../render/common.ts";
export { OTEL_LANGUAGES, otelAnnotations, laneMetricsNotes, traceContextNotes } from "../render/notes.ts";

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

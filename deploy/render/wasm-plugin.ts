// The WasmPlugin every Istio output writes (istio/ by workload selector, ambient/ by Gateway targetRefs): one
// body, so that the image, its pin and the fail strategy can never differ between the two.
import type { FilterRole, RoutingPlan } from "../lib/plan.ts";
import { ROOT_ID } from "../lib/names.ts";
import type { Resource } from "../lib/resource.ts";

/**
 * A sidecar's or waypoint's lane filter must never take traffic down: fail open. A filter that does not
 * trust the client's lane (the gateway's) fails closed: open, a plugin that fails to load would let clients
 * through with the lane they named themselves (the routing header the routes match, their own baggage).
 */
function failStrategy(config: Record<string, unknown>): "FAIL_OPEN" | "FAIL_CLOSE" {
  return config.trust_client_lane === false ? "FAIL_CLOSE" : "FAIL_OPEN";
}

/**
 * The WasmPlugin of `role`'s filter. `attach` says where it applies (selector or targetRefs, written first);
 * `after` goes last (a sidecar's traffic match).
 */
export function wasmPlugin(plan: RoutingPlan, role: FilterRole, metadata: Resource["metadata"], attach: object, after: object = {}): Resource {
  const { spec } = plan;
  // A copy per resource: a change to one resource never reaches another, nor the plan.
  const config = structuredClone(plan.filters[role]);
  return {
    apiVersion: "extensions.istio.io/v1alpha1",
    kind: "WasmPlugin",
    metadata,
    spec: {
      ...attach,
      url: `oci://${spec.istioImage}`,
      // Pinned: Istio checks the pulled image's manifest digest against it.
      ...(spec.istioSha256 ? { sha256: spec.istioSha256 } : {}),
      imagePullPolicy: spec.imagePullPolicy,
      pluginName: ROOT_ID,
      pluginConfig: config,
      failStrategy: failStrategy(config),
      type: "HTTP",
      ...after,
    },
  };
}

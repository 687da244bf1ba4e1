// The one place the demo computes a spec's routing plan (lib/plan.ts). Specs are never changed once built
// (every variant is a new object), so a spec's plan is kept with it: the topology helpers, the Envoy
// builders and the meshes all ask here instead of each planning the same spec again.
import type { LanesSpec } from "../../deploy/lib/spec.ts";
import { routingPlan, type RoutingPlan } from "../../deploy/lib/plan.ts";

const plans = new WeakMap<LanesSpec, RoutingPlan>();

/** The routing plan of `spec`, computed on first use. */
export function planOf(spec: LanesSpec): RoutingPlan {
  let plan = plans.get(spec);
  if (!plan) plans.set(spec, (plan = routingPlan(spec)));
  return plan;
}

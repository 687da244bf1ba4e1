// lanes status with --ambient <lanes.yaml>: in Istio ambient mode a service's lanes are routed and kept only
// where its waypoint runs lane-tag. A service that is not enrolled (no istio.io/use-waypoint) is reached by
// ztunnel directly: no HTTPRoute applies and the lane silently reaches the baseline. The sign of it here is
// that no scraped proxy is the service's waypoint with lane requests counted.
import type { RoutingPlan } from "./plan.ts";
import { waypoints } from "./names.ts";
import type { Signal, StatusSource } from "./status.ts";

/** Whether a workload's samples count any request (lane metrics, or the older per-direction counters). */
const counts = (s: StatusSource) => s.samples.some((x) => x.value > 0);

/** One signal per service of the plan whose waypoint is not among `sources` counting requests. */
export function waypointSignals(plan: RoutingPlan, sources: StatusSource[]): Signal[] {
  const { spec } = plan;
  const a = spec.ambient;
  if (!a) return [];
  const seen = new Set(sources.filter(counts).map((s) => s.workload));
  const out: Signal[] = [];
  for (const w of waypoints(plan)) {
    if (seen.has(w.name)) continue;
    for (const svc of w.services) {
      const label = a.scope === "namespace"
        ? `label the namespace istio.io/use-waypoint=${w.name} (kubectl label namespace ${spec.namespace} istio.io/use-waypoint=${w.name})`
        : `label the service istio.io/use-waypoint=${w.name} (kubectl label service ${svc} -n ${spec.namespace} istio.io/use-waypoint=${w.name})`;
      out.push({
        workload: svc,
        kind: "no-waypoint",
        text: `${svc}: no waypoint reports its traffic (no target is waypoint ${w.name} with requests counted): lanes reach the baseline there; ${label}, and pass the waypoint's admin as a target`,
      });
    }
  }
  return out;
}

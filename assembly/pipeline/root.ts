// What the pipeline keeps per plugin configuration (a root context), read at configure by the lifecycle
// (glue.ts) and used on each of its requests.
import { Config } from "../config/config";
import { LaneMetrics } from "../observe/lane-metrics";
import { PROP_DIRECTION_XDS } from "../abi/host";

// One root context per plugin configuration; several can share this VM (e.g. inbound and outbound
// listeners with the same vm_id, or several Istio/ASM plugins), so each HTTP context remembers its root.
export class Root {
  id: u32;
  config: Config | null = null;
  /** local_lane: this workload's lane, read from node metadata at configure (empty: none). */
  localLane: ArrayBuffer = new ArrayBuffer(0);
  /** direction: auto: the property that names the listener direction on this Envoy (see resolveDirection). */
  directionPath: ArrayBuffer = PROP_DIRECTION_XDS;
  /** lane_metrics: the counters defined at configure, or null when off. */
  laneMetrics: LaneMetrics | null = null;
  /** hop_trace: this workload's entry ("workload@lane") and lane (empty: unknown), read at configure. */
  hopPrefix: ArrayBuffer = new ArrayBuffer(0);
  hopLane: ArrayBuffer = new ArrayBuffer(0);
  constructor(id: u32) { this.id = id; }
}

// The request in hand, shared by the pipeline's stages: static fields (wasm globals) and objects made once,
// so no stage allocates. Pointers are into the host arena or the module's own, valid until the end of the
// callback.
import { LaneState, Decision } from "../lane/decide";

export class Req {
  /** The header pairs (Envoy's layout, carriers/pairs.ts) and their number. */
  static buf: usize = 0;
  static n: u32 = 0;
  /** The routing header's first valid lane; once the header is written, the lane written there. */
  static hdr: usize = 0;
  static hdrLen: i32 = 0;
  /** Values of the routing header and of lane_from that are no (allowed) lane, for invalid_lane (baggage's: scan). */
  static invalid: i32 = 0;
}

/** What the carriers show (filled by the stages) and what decide() makes of it. */
export const state = new LaneState();
export const decision = new Decision();

// The header-name carriers over Envoy's header pairs (abi/pairs.ts), read in place. Pure: no host calls.
import { isUberctxName, readUberctxLane } from "./uberctx";
import { isOtBaggageName, readOtBaggageLane } from "./ottrace";
import { firstName, nameLen, valueLen, valueOf, nextName } from "../abi/pairs";

export const CARRIER_UBERCTX: i32 = 1;
export const CARRIER_OT_BAGGAGE: i32 = 2;

/**
 * The lane in the `uberctx-<key>` (CARRIER_UBERCTX) or `ot-baggage-<key>` (CARRIER_OT_BAGGAGE) header among
 * the n pairs at buf, read as that carrier's reader reads it; written to dst (room for MAX_LANE bytes).
 * Returns the lane's length; 0 when no such header; -1 when its value is not a lane, or when it is
 * repeated (a Node app sees the values joined with ", ", never a lane). Only for a pairs buffer the request
 * path has checked to lie within its bounds. The ot carrier also needs isOtTraceContext, checked apart.
 */
export function laneFromHeaders(buf: usize, n: u32, carrier: i32, key: usize, keyLen: i32, dst: usize): i32 {
  let found = 0;
  let vp: usize = 0;
  let vl = 0;
  let p = firstName(buf, n);
  for (let i: u32 = 0; i < n; i++) {
    const kl = <i32>nameLen(buf, i);
    const l = <i32>valueLen(buf, i);
    const v = valueOf(p, kl);
    const ours = carrier == CARRIER_UBERCTX ? isUberctxName(p, kl, key, keyLen) : isOtBaggageName(p, kl, key, keyLen);
    if (ours) {
      found++;
      vp = v;
      vl = l;
    }
    p = nextName(v, l);
  }
  if (found == 0) return 0;
  if (found > 1) return -1;
  return carrier == CARRIER_UBERCTX ? readUberctxLane(vp, vl, dst) : readOtBaggageLane(vp, vl, dst);
}

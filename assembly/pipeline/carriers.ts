// The configured carriers in their order (carriers/carrier.ts is the interface): the lane they hold, and the
// lane written to them.
import { Config } from "../config/config";
import { CARRIER_BAGGAGE } from "../config/carrier-table";
import { Request } from "../lane/request";
import { count, M_CARRIER_CONFLICT } from "../observe/metrics";
import { readLane, lanePtr, laneLen, writeLane } from "../carriers/carrier";

/**
 * The lane the carriers hold, into Request.wonPtr/wonLen: the first carrier in the configured order with a valid
 * lane (baggage already scanned); another carrier holding a different valid lane is a conflict, counted.
 */
export function findCarrierLane(config: Config): void {
  Request.wonLen = 0;
  Request.conflict = false;
  const list = config.carriers;
  for (let i = 0; i < list.length; i++) {
    const c = unchecked(list[i]);
    readLane(config, c);
    const lp = lanePtr(c);
    const ll = laneLen(c);
    if (ll <= 0) continue;
    if (Request.wonLen == 0) { Request.wonPtr = lp; Request.wonLen = ll; }
    else if (ll != Request.wonLen || memory.compare(lp, Request.wonPtr, ll) != 0) Request.conflict = true;
  }
  if (Request.conflict) count(Request.dir, M_CARRIER_CONFLICT);
}

/** Writes lane lp[0..ll) to every configured carrier beside baggage (writeLane says where it is left out). */
export function writeCarrierLanes(config: Config, lp: usize, ll: i32): void {
  const list = config.carriers;
  for (let i = 0; i < list.length; i++) {
    const c = unchecked(list[i]);
    if (c != CARRIER_BAGGAGE) writeLane(config, c, lp, ll);
  }
}

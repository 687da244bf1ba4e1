// Sticky weighted lane choice at the gateway: weighted rendezvous hashing. Each lane scores a request's key
// as -ln(u)/weight, with u uniform in (0,1) from hash(key, lane), and the lowest score wins. So a lane
// wins with probability weight/total, the same key always wins the same lane, and changing one lane's
// weight moves only keys into or out of that lane (the fewest that must move). Pure.
import { mix64 } from "../bytes/hash";

/** Index of the winning lane for `key`; -1 when no weight is positive. */
export function pickLane(key: u64, seeds: StaticArray<u64>, weights: StaticArray<f64>): i32 {
  let best = -1;
  let bestScore = Infinity;
  for (let i = 0, n = seeds.length; i < n; i++) {
    const w = unchecked(weights[i]);
    if (w <= 0) continue;
    // 53 random bits -> u in (0, 1): never 0, so the log is finite.
    const u = (<f64>(mix64(key ^ unchecked(seeds[i])) >> 11) + 0.5) * 1.1102230246251565e-16;
    const score = -Math.log(u) / w;
    if (score < bestScore) {
      bestScore = score;
      best = i;
    }
  }
  return best;
}

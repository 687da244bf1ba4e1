// The bench's clock and number formats, shared by its sections (test/bench/bench.ts and the modules beside this one).
import type { Plugin } from "../../emulator/index.ts";
import type { Scenario } from "./scenarios.ts";

/** The yardsticks: the reference always, the floor when ../shared is beside the clone. */
export interface Yardsticks { ref: Plugin; floor?: Plugin }

let cpuClock = false;
/** Times by this process's CPU time (user + system) instead of the wall clock: on a machine that other work
 *  keeps busy, time spent waiting for a core is then not counted (the repetitions spread far less). */
export function useCpuClock(on: boolean): void { cpuClock = on; }
function now(): number {
  if (!cpuClock) return Number(process.hrtime.bigint());
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

/** ns per request of n requests of s through p; NaN for an absent yardstick. */
export function run(p: Plugin | undefined, s: Scenario, n: number): number {
  if (!p) return NaN;
  const { pool, respond } = s;
  const t0 = now();
  if (respond) {
    // The whole stream: request headers, response headers, end.
    for (let i = 0; i < n; i++) {
      const st = p.open(s.headers, { listenerDirection: s.direction });
      st.respond(respond);
      st.close();
    }
  } else if (pool) for (let i = 0; i < n; i++) p.request(pool[i & (pool.length - 1)], { listenerDirection: s.direction });
  else for (let i = 0; i < n; i++) p.request(s.headers, { listenerDirection: s.direction });
  return (now() - t0) / n;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const x = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
export const ns = (v: number) => v.toFixed(0);
/** min / median / max of repetitions, in ns. */
export const spread = (xs: number[]) => `${ns(Math.min(...xs))} / ${ns(median(xs))} / ${ns(Math.max(...xs))}`;

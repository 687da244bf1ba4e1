// How often a full trace table costs a trace in flight its lane, on the built module in the emulator:
//   node --import tsx test/filter/correlation-rates.ts [--steps N] [--wasm path]
// Per table size (capacity), traces in flight and arrival rate: every trace arrives (inbound: its lane is
// recorded), and the one that arrived `inflight` arrivals before makes its call (outbound: its lane must
// come back). Prints the share of calls that lost their lane and trace_evicted per recorded trace.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Host, type Header } from "../../emulator/index.ts";
import { WASM } from "../support/helpers.ts";

const { values: v } = parseArgs({ options: { steps: { type: "string", default: "50000" }, wasm: { type: "string", default: WASM } } });
const wasm = new Uint8Array(readFileSync(v.wasm));
const steps = Number(v.steps);
const base: Header[] = [[":authority", "mockb:8000"], [":path", "/"], [":method", "GET"]];
const TTL_MS = 60000;

async function measure(capacity: number, inflight: number, perSec: number) {
  const host = await Host.load(wasm);
  let t = 1_700_000_000_000_000_000n;
  host.now = () => t;
  const common = { lanes: ["s1", "s2", "s3"], correlation: { enabled: true, capacity, ttl_ms: TTL_MS } };
  const inbound = host.configure({ configuration: JSON.stringify({ ...common, direction: "inbound" }) });
  const outbound = host.configure({ configuration: JSON.stringify({ ...common, direction: "outbound", default_lane: "s1" }) });
  const tp = (i: number): Header => ["traceparent", `00-a${i.toString(16).padStart(31, "0")}-00f067aa0ba902b7-01`];
  const lane = (i: number) => (i % 2 ? "s2" : "s3"); // never the default: a lost lane always shows
  const dt = BigInt(Math.round(1e9 / perSec));
  const warm = 2 * capacity; // the table full before counting
  let lost = 0, evicted = 0, recorded = 0;
  const counter = (name: string) => host.counter(`lane_tag.inbound.${name}`);
  for (let i = 0; i < warm + steps + inflight; i++) {
    if (i === warm) { evicted = -counter("trace_evicted"); recorded = -counter("trace_recorded"); }
    if (i < warm + steps) inbound.request([...base, tp(i), ["x-asm-prefer-tag", lane(i)]], { listenerDirection: 1 });
    const j = i - inflight;
    if (j >= warm && j < warm + steps) {
      const r = outbound.request([...base, tp(j)], { listenerDirection: 2 });
      if (r.headers.find(([k]) => k === "x-asm-prefer-tag")?.[1] !== lane(j)) lost++;
    }
    if (i === warm + steps - 1) { evicted += counter("trace_evicted"); recorded += counter("trace_recorded"); }
    t += dt;
  }
  return { lost: lost / steps, evicted: evicted / recorded };
}

const pct = (x: number) => `${(100 * x).toFixed(3)}%`;
console.log(`${steps} traces per row, ttl_ms ${TTL_MS}\n\ncapacity  in flight  traces/s  lanes lost  trace_evicted/recorded`);
for (const [capacity, perSec] of [[256, 1000], [1024, 1000], [8192, 1000], [8192, 100], [65536, 100]]) {
  for (const inflight of [8, 64, 512]) {
    const r = await measure(capacity, inflight, perSec);
    console.log(`${String(capacity).padStart(8)}  ${String(inflight).padStart(9)}  ${String(perSec).padStart(8)}  ${pct(r.lost).padStart(10)}  ${pct(r.evicted).padStart(10)}`);
  }
}

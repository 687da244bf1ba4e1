// npm run bench's --clock option and its carrier sections, on a tiny run (counts too small to mean anything:
// this checks that the sections run on the built module and say what they measured, never the numbers).
import { it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { ROOT } from "../support/helpers.ts";

const bench = (args: string[]) => spawnSync(process.execPath, ["--import", "tsx", "test/bench/bench.ts", ...args], { cwd: ROOT, encoding: "utf8" });

it("bench: a bad --clock is named, exit 2", () => {
  const r = bench(["--clock=now"]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^--clock now: wall or cpu\nusage: npm run bench/);
});

it("bench --clock cpu, tiny counts: says so, and the carrier sections run (their requests checked first)", () => {
  const r = bench(["--clock", "cpu", "--requests", "64", "--reps", "1", "--memory-requests", "64", "--configure-kib", "none"]);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /^lane-tag bench: 64 requests per scenario per repetition, 1 repetitions, CPU time, node v/m);
  assert.match(r.stdout, /^cost per carrier set \(median of 1 repetitions of 16 requests/m);
  assert.match(r.stdout, /^baggage,jaeger,ottrace,tracestate +inbound, header -> carriers +\d+ /m);
  assert.match(r.stdout, /^jaeger +outbound, lane in jaeger +\d+ /m);
  assert.match(r.stdout, /^with the other carriers' headers +\d+ /m);
});

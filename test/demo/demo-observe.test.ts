// npm run demo's observability options end to end: --trace (each request's hop trace), --status (the
// lanes status table from the emulated proxies' admin endpoints) and --drop (an app that drops baggage).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { loadSpec } from "../../deploy/lib/spec.ts";
import { runDemo } from "../../demo/demo.ts";
import { expectedTrace } from "../../demo/core/client.ts";
import { stackedSpec } from "../../demo/stacked/spec.ts";
import { ROOT } from "../support/helpers.ts";

const spec = loadSpec(join(ROOT, "deploy/lanes.example.yaml"));
const opts = { requests: 120, seed: 3, withFilter: true, quiet: true, concurrency: 8 };

describe("npm run demo --trace", () => {
  it("every request brings back its path through the lanes, the fallback named", async () => {
    const { results, failures } = await runDemo({ ...opts, trace: true, quiet: false }, spec, () => {});
    assert.deepEqual(failures, []);
    const byLane = new Map(results.map((r) => [r.lane, r.trace]));
    assert.equal(byLane.get("s2"), "mocka-v2@s2, mockb-v1@s1 (fallback from s2), mockc-v2@s2");
    assert.equal(byLane.get("s1"), "mocka-v1@s1, mockb-v1@s1, mockc-v1@s1");
    assert.equal(byLane.get("s3"), "mocka-v1@s1 (fallback from s3), mockb-v3@s3, mockc-v1@s1 (fallback from s3)");
    assert.ok(results.every((r) => r.trace === expectedTrace(spec, r.lane)));
  });

  it("stacked lanes: the fallback names the lane asked for at every level", async () => {
    const { results, failures } = await runDemo({ ...opts, mode: "stacked", trace: true, quiet: false }, spec, () => {});
    assert.deepEqual(failures, []);
    const s = stackedSpec();
    const featX = results.find((r) => r.lane === "feat-x");
    assert.ok(featX, "a feat-x request");
    assert.equal(featX!.trace, expectedTrace(s, "feat-x"));
    assert.match(featX!.trace!, /^mocka-v1@s1 \(fallback from feat-x\), mockb-v2@release-2 \(fallback from feat-x\), mockc-v3@feat-x$/);
  });

  it("without --trace nobody gets a trace", async () => {
    const { results } = await runDemo({ ...opts, requests: 20 }, spec, () => {});
    assert.ok(results.every((r) => r.trace === undefined));
  });
});

describe("npm run demo --status --drop mockb", () => {
  it("the table names mockb as the workload whose app drops baggage, and correlation keeps every chain", async () => {
    const { results, failures, status } = await runDemo({ ...opts, status: true, drop: "mockb" }, spec, () => {});
    assert.deepEqual(failures, []);
    assert.ok(status);
    const lanes = (lane: string) => results.filter((r) => r.lane === lane).length;
    const row = (w: string, d: string, l: string) => status!.rows.find((r) => r.workload === w && r.direction === d && r.lane === l);
    // mockb-v1 serves s1 and s2 (s2 has no mockb): its outbound lanes all came back by trace id.
    assert.deepEqual(row("mockb-v1", "outbound", "s2")?.bySource, [["trace", lanes("s2")]]);
    assert.deepEqual(row("mockb-v1", "inbound", "s2")?.bySource, [["header", lanes("s2")]]);
    assert.deepEqual(row("mocka-v1", "outbound", "s3")?.bySource, [["baggage", lanes("s3")]]);
    const restored = status!.signals.filter((s) => s.kind === "restored-by-trace").map((s) => s.workload).sort();
    assert.deepEqual(restored, ["mockb-v1", "mockb-v3"]);
    assert.ok(!status!.signals.some((s) => s.kind === "drops-lane" || s.kind === "invalid-lanes"));
  });

  it("without correlation the same app breaks the chain, and the table says who: --status alone, apps that drop nothing", async () => {
    const { status, failures } = await runDemo({ ...opts, status: true }, spec, () => {});
    assert.deepEqual(failures, []);
    assert.ok(!status!.signals.some((s) => s.kind === "restored-by-trace" || s.kind === "drops-lane"));
  });
});

describe("npm run demo, observability options on the command line", () => {
  const demo = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "demo/demo.ts"), ...args], { cwd: ROOT, encoding: "utf8" });
  it("--trace prints each chain line followed by its trace line", () => {
    const r = demo("--trace", "-n", "12", "--seed", "4");
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split("\n");
    const chains = lines.map((l, i) => [l, lines[i + 1]] as const).filter(([l]) => l.startsWith("-> mocka("));
    assert.equal(chains.length, 12);
    for (const [, next] of chains) assert.match(next, /^trace: mocka-v\d@s\d( \(fallback from s\d\))?, mockb-v\d@s\d( \(fallback from s\d\))?, mockc-v\d@s\d( \(fallback from s\d\))?$/);
  });
  it("--status --drop mockb prints the table and the signal", () => {
    const r = demo("--status", "--drop", "mockb", "-n", "40", "-q");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^workload\s+direction\s+lane\s+requests\s+by source$/m);
    assert.match(r.stdout, /^\s+mockb-v1: its app drops baggage; correlation restored \d+ lanes by trace id/m);
  });
  it("refuses options that do not fit, with usage, exit 2", () => {
    for (const [args, msg] of [
      [["--trace", "-q"], /cannot be --quiet/],
      [["--drop", "mockz"], /--drop "mockz" is not a service of the demo/],
      [["--trace", "--mode", "grpc"], /--trace applies to --mode baggage and stacked/],
      [["--status", "--no-filter"], /--status needs the filter/],
    ] as const) {
      const r = demo(...args);
      assert.equal(r.status, 2, args.join(" "));
      assert.match(r.stderr, msg);
    }
  });
});

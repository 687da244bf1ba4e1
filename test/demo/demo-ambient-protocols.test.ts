// `npm run demo -- --mesh ambient --mode grpc|websocket`: the gRPC chain and the WebSocket seed in Istio's
// ambient mode, through waypoints that run the built filter with the generated ambient/ configuration and
// route by the generated HTTPRoutes. With the filter every lane keeps its chain (the same table as the
// sidecar modes'); without it lanes are lost after the first hop; a corrupted generated route shows.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { loadSpec } from "../../deploy/lib/spec.ts";
import { runDemo, runWebSocketDemo, type DemoOptions } from "../../demo/demo.ts";
import { writeManifests } from "../../demo/applied.ts";
import { expectedChain, chainWithoutFilter } from "../../demo/core/topology.ts";
import type { Result } from "../../demo/core/client.ts";
import { runClient, laneOptions, WS_SPEC, LANE_SOURCES } from "../../demo/websocket/client.ts";
import { startMesh } from "../../demo/mesh.ts";
import { ROOT } from "../support/helpers.ts";

const spec = loadSpec(join(ROOT, "deploy/lanes.example.yaml"));
const T = { timeout: 15_000 };
const grpc = (o: Partial<DemoOptions> = {}): DemoOptions => ({ requests: 60, seed: 1, withFilter: true, quiet: true, concurrency: 8, mesh: "ambient", mode: "grpc", ...o });
const chains = (results: Result[], lane: string) => [...new Set(results.filter((r) => r.lane === lane).map((r) => r.hops.map((h) => h.version).join("→")))];

describe("the ambient gRPC demo (--mesh ambient --mode grpc)", () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), "demo-ambient-grpc-")); });
  after(() => rmSync(dir, { recursive: true, force: true }));
  /** The spec's manifests with only ambient/: a run routed by them cannot have used the sidecar routes. */
  const ambientOnly = (name: string) => {
    const out = join(dir, name);
    writeManifests(spec, out);
    for (const f of ["istio", "asm"]) rmSync(join(out, f), { recursive: true });
    return out;
  };

  it("keeps every lane: each lane's chain is the sidecar mode's", T, async () => {
    const { failures, results } = await runDemo(grpc({ manifests: ambientOnly("kept") }), spec, () => {});
    assert.deepEqual(failures, []);
    for (const l of spec.lanes) assert.deepEqual(chains(results, l.name), [expectedChain(spec, l.name).join("→")], l.name);
  });

  it("--no-filter: every lane falls back to the baseline after the first hop", T, async () => {
    const { failures, results } = await runDemo(grpc({ withFilter: false, manifests: ambientOnly("lost") }), spec, () => {});
    assert.deepEqual(failures, []);
    assert.deepEqual(chains(results, "s3"), [chainWithoutFilter(spec, "s3").join("→")]);
    assert.deepEqual(chains(results, "s2"), ["v2→v1→v1"]);
  });

  it("routes by the generated HTTPRoutes: mockb's s3 rule sent to the s1 Service shows as s3's wrong chain", T, async () => {
    const bad = join(dir, "bad-route");
    writeManifests(spec, bad);
    const file = join(bad, "ambient/httproute-mockb.yaml");
    const route = parseDocument(readFileSync(file, "utf8")).toJS();
    const rule = route.spec.rules.find((r: any) => r.matches.some((m: any) => m.headers?.[0]?.value === "s3"));
    assert.equal(rule.backendRefs[0].name, "test-mockb-s3");
    rule.backendRefs[0].name = "test-mockb-s1";
    writeFileSync(file, JSON.stringify(route));
    const { failures } = await runDemo(grpc({ manifests: bad }), spec, () => {});
    assert.ok(failures.some((f) => /in lane s3: mocka v1 → mockb v1 → mockc v1/.test(f)), failures.join("\n"));
    assert.ok(!failures.some((f) => /in lane s[12]:/.test(f)), failures.join("\n"));
  });
});

describe("the command line runs --mesh ambient --mode grpc", () => {
  it("exits 0 with the ambient gRPC table", T, () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "demo/demo.ts"), "--mesh", "ambient", "--mode", "grpc", "-q", "-n", "30"], { cwd: ROOT, encoding: "utf8", timeout: 14_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /mode grpc: .*Istio ambient: waypoints, no sidecars/);
    assert.match(r.stdout, /s3 +\d+ +[\d.]+% +v1 +v3 +v1/);
  });
});

describe("the ambient WebSocket demo (--mesh ambient --mode websocket)", () => {
  const ws = loadSpec(WS_SPEC);
  for (const from of LANE_SOURCES) {
    it(`--lane-from ${from}: the v2 client's responses from helloworld v2, the rest from v1 (the sidecar mode's table)`, T, async () => {
      const { failures, rows, acks } = await runWebSocketDemo({ withFilter: true, laneFrom: from, messages: 3, quiet: true, mesh: "ambient" }, ws, () => {});
      assert.deepEqual(failures, []);
      assert.deepEqual(rows.map((r) => `${r.client} ${r.kind} ${[...r.versions.keys()].join(",")}`), ["v2 response v2", "v2 broadcast v1", "none response v1", "none broadcast v1"]);
      assert.equal(acks, 6);
    });
  }

  it("--no-filter: the v2 client's lane is lost", T, async () => {
    const { rows } = await runWebSocketDemo({ withFilter: false, messages: 2, quiet: true, mesh: "ambient" }, ws, () => {});
    assert.deepEqual([...rows.find((r) => r.client === "v2" && r.kind === "response")!.versions.keys()], ["v1"]);
  });

  it("the handshake goes through the ingress and wsk's waypoint, the calls through ztunnel and helloworld's waypoint", T, async () => {
    const seen: string[] = [];
    const mesh = await startMesh(ws, { mode: "websocket", mesh: "ambient", tap: (listener, _i, out, upgrade) => { if (out) seen.push(`${listener}${upgrade ? " (upgrade)" : ""}`); } });
    try {
      const r = await runClient(mesh.gatewayUrl, "v2", laneOptions(ws, "v2", "header"), { messages: 1, broadcasts: 1 });
      assert.equal(r.error, undefined);
    } finally {
      await mesh.close();
    }
    for (const l of ["gateway (upgrade)", "waypoint ws-wsk-svc-v1 (upgrade)", "ztunnel", "waypoint helloworld"]) assert.ok(seen.includes(l), `${l} in ${[...new Set(seen)].join(", ")}`);
  });
});

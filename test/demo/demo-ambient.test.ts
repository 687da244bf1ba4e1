// `npm run demo -- --mesh ambient`: no sidecars; waypoints run the built filter with the generated
// WasmPlugins' configuration and route by the generated HTTPRoutes. Every lane keeps its chain in the modes
// ambient runs; a wrong generated route or filter configuration fails the demo; without the filter lanes are
// lost after the first hop; what ambient cannot do is refused.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { loadSpec, type LanesSpec } from "../../deploy/lib/spec.ts";
import { runDemo, type DemoOptions } from "../../demo/demo.ts";
import { meshSpec, startMesh } from "../../demo/mesh.ts";
import { appliedResources, writeManifests } from "../../demo/applied.ts";
import { expectedChain } from "../../demo/core/topology.ts";
import { ROOT } from "../support/helpers.ts";

const spec = loadSpec(join(ROOT, "deploy/lanes.example.yaml"));
const opts = (o: Partial<DemoOptions> = {}): DemoOptions => ({ requests: 60, seed: 1, withFilter: true, quiet: true, concurrency: 8, mesh: "ambient", ...o });
const demo = (args: string[]) => spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "demo/demo.ts"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 14_000 });

/** Rewrites one generated file's only document with `edit`. */
function editYaml(file: string, edit: (doc: any) => void) {
  const doc = parseDocument(readFileSync(file, "utf8"));
  const js = doc.toJS();
  edit(js);
  writeFileSync(file, JSON.stringify(js));
}

/** Each lane of the run reached its expected chain, and every lane of the spec had requests. */
function everyLaneKept(s: LanesSpec, results: { lane: string; hops: { version: string }[] }[]) {
  for (const l of s.lanes) {
    const mine = results.filter((r) => r.lane === l.name);
    assert.ok(mine.length > 0, `lane ${l.name} had no requests`);
    for (const r of mine) assert.deepEqual(r.hops.map((h) => h.version), expectedChain(s, l.name), l.name);
  }
}

describe("the ambient demo (--mesh ambient)", { timeout: 60_000 }, () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), "demo-ambient-")); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A folder with only the ambient/ output of `s`: a run routed by it cannot have used the sidecar routes. */
  const ambientOnly = (name: string, s: LanesSpec) => {
    const out = join(dir, name);
    writeManifests(s, out);
    for (const f of ["istio", "asm"]) rmSync(join(out, f), { recursive: true });
    return out;
  };

  for (const mode of ["baggage", "stacked", "correlation", "sticky"] as const) {
    it(`keeps every lane in mode ${mode}`, { timeout: 15_000 }, async () => {
      const manifests = ambientOnly(mode, meshSpec(spec, mode));
      const { failures, results, spec: ran } = await runDemo(opts({ mode, manifests }), spec, () => {});
      assert.deepEqual(failures, []);
      everyLaneKept(ran, results);
    });
  }

  it("per-service waypoints (ambient.scope: service): one waypoint per service, every lane kept", { timeout: 15_000 }, async () => {
    const perService: LanesSpec = { ...spec, ambient: { ...spec.ambient!, scope: "service" } };
    const waypoints = appliedResources(perService, "ambient").filter((r) => r.kind === "Gateway" && r.spec.gatewayClassName === "istio-waypoint");
    assert.deepEqual(waypoints.map((w) => w.metadata.name).sort(), ["mocka-waypoint", "mockb-waypoint", "mockc-waypoint"]);
    const { failures, results } = await runDemo(opts({ manifests: ambientOnly("per-service", perService) }), perService, () => {});
    assert.deepEqual(failures, []);
    everyLaneKept(perService, results);
  });

  it("correlation with per-service waypoints loses the lanes: no waypoint sees both a request and the app's call", { timeout: 15_000 }, async () => {
    const perService: LanesSpec = { ...spec, ambient: { ...spec.ambient!, scope: "service" } };
    const { failures } = await runDemo(opts({ mode: "correlation" }), perService, () => {});
    assert.ok(failures.some((f) => /in lane s3: mocka v1 → mockb v1 → mockc v1/.test(f)), failures.join("\n"));
  });

  it("--no-filter: the lane reaches only the first service", { timeout: 15_000 }, async () => {
    const { failures, results } = await runDemo(opts({ withFilter: false, manifests: ambientOnly("no-filter", spec) }), spec, () => {});
    assert.deepEqual(failures, []);
    const s2 = results.filter((r) => r.lane === "s2");
    assert.ok(s2.length > 0);
    for (const r of s2) assert.deepEqual(r.hops.map((h) => h.version), ["v2", "v1", "v1"]);
  });

  it("a corrupted generated HTTPRoute (mockb's s3 rule to the s1 Service) fails the demo (exit 1)", { timeout: 15_000 }, () => {
    const bad = join(dir, "bad-route");
    writeManifests(spec, bad);
    editYaml(join(bad, "ambient/httproute-mockb.yaml"), (route) => {
      const rule = route.spec.rules.find((r: any) => r.matches.some((m: any) => m.headers?.[0]?.value === "s3"));
      assert.equal(rule.backendRefs[0].name, "test-mockb-s3");
      rule.backendRefs[0].name = "test-mockb-s1";
    });
    const r = demo(["--mesh", "ambient", "-q", "-n", "40", "--manifests", bad]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /in lane s3: mocka v1 → mockb v1 → mockc v1, expected v1 → v3 → v1/);
    assert.doesNotMatch(r.stdout, /in lane s[12]:/);
  });

  it("the waypoint's filter is the generated filter-waypoint.yaml's: another routing header there loses the lanes", { timeout: 15_000 }, async () => {
    const bad = join(dir, "bad-filter");
    writeManifests(spec, bad);
    editYaml(join(bad, "ambient/filter-waypoint.yaml"), (p) => { p.spec.pluginConfig.routing_header = "x-elsewhere"; });
    const { failures } = await runDemo(opts({ manifests: bad }), spec, () => {});
    assert.ok(failures.some((f) => /in lane s3: mocka v1 → mockb v1 → mockc v1/.test(f)), failures.join("\n"));
  });

  it("refuses strict mode (no proxy knows the pod's lane) and --routes", () => {
    const strict = demo(["--mesh", "ambient", "--mode", "strict"]);
    assert.equal(strict.status, 2);
    assert.match(strict.stderr, /strict mode cannot work in Istio ambient mode: no proxy there knows the pod's own lane/);
    assert.match(demo(["--mesh", "ambient", "--routes", "asm"]).stderr, /--mesh ambient routes by ambient\/'s HTTPRoutes/);
  });

  it("the mesh itself refuses the cells that cannot run: strict mode in ambient, gRPC with correlation", async () => {
    await assert.rejects(startMesh(spec, { mesh: "ambient", mode: "strict" }), /strict mode cannot work in Istio ambient mode/);
    await assert.rejects(startMesh(spec, { mesh: "ambient", protocol: "grpc", feature: "correlation" }), /^Error: gRPC with correlation: the gRPC apps forward only the baggage metadata/);
  });
});

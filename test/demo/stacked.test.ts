// Stacked lanes (lanes.<name>.fallback): a feature lane on top of a release lane on top of the baseline. The
// spec's chains, the manifests' routes (ASM and Istio), the local Envoy configs' aggregate clusters, and the
// Docker-less demo's --mode stacked. The bad-spec errors (unknown lane, cycle, baseline with a fallback) are in
// manifests.test.ts's table of bad specs, with the command's output.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { loadSpec, parseSpec, laneChain, laneFor, SpecError, type LanesSpec } from "../../deploy/lib/spec.ts";
import { generate, filterConfig, type FilterRole } from "../../deploy/render/generate.ts";
import { observed } from "../../demo/core/builders.ts";
import { Validator } from "../../deploy/lib/validate.ts";
import { Host } from "../../emulator/index.ts";
import { deployments, expectedChain, chainWithoutFilter, resolve, upstreamOf, fallbackClusters } from "../../demo/core/topology.ts";
import { stackedFiles } from "../../demo/generate.ts";
import { STACKED_DIR, STACKED_SPEC, formatChains } from "../../demo/stacked/spec.ts";
import { runDemo, startMesh, specForMode } from "../../demo/demo.ts";
import { check, waitForLanes, type Result } from "../../demo/core/client.ts";
import { ROOT, SHARED, wasmBytes } from "../support/helpers.ts";
import { manifests, tree, assertValidAndAccepted } from "../tools/manifests-shared.ts";

const stacked = loadSpec(STACKED_SPEC);
const example = loadSpec(join(ROOT, "deploy/lanes.example.yaml"));
/** The stacked spec as it would be without stacking: every lane straight to the baseline. */
const plain: LanesSpec = { ...stacked, lanes: stacked.lanes.map((l) => (l.name === stacked.baseline ? l : { ...l, fallback: stacked.baseline })) };
const HEAD = "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\n";

describe("stacked lanes: the spec", () => {
  it("a lane without fallback falls back to the baseline; the baseline has none", () => {
    assert.deepEqual(example.lanes.map((l) => [l.name, l.fallback]), [["s1", undefined], ["s2", "s1"], ["s3", "s1"]]);
    assert.deepEqual(laneChain(example, "s2"), ["s2", "s1"]);
    assert.deepEqual(laneChain(example, "s1"), ["s1"]);
    assert.deepEqual(laneChain(example, "nope"), ["s1"], "an unknown lane has the baseline's chain");
  });

  it("an explicit fallback names another lane; the chain runs up to the baseline", () => {
    assert.deepEqual(stacked.lanes.map((l) => [l.name, l.fallback]), [["s1", undefined], ["release-2", "s1"], ["feat-x", "release-2"]]);
    assert.deepEqual(laneChain(stacked, "feat-x"), ["feat-x", "release-2", "s1"]);
    // The nearest lane up the chain that has the service.
    assert.deepEqual(stacked.services.map((s) => laneFor(stacked, s, "feat-x")), ["s1", "release-2", "feat-x"]);
    assert.deepEqual(stacked.services.map((s) => laneFor(stacked, s, "release-2")), ["s1", "release-2", "release-2"]);
    // An explicit fallback to the baseline is the default spelled out.
    const explicit = parseSpec(`${HEAD}lanes:\n  s1: {label: v1, services: [a, b]}\n  s2: {label: v2, services: [b], fallback: s1}\n`, "e.yaml");
    assert.deepEqual(laneChain(explicit, "s2"), ["s2", "s1"]);
  });

  it("a fallback to an unknown lane, a cycle, the baseline's own fallback: each named at its path, with its line", () => {
    const problems = (text: string) => {
      try {
        parseSpec(text, "x.yaml");
      } catch (e) {
        assert.ok(e instanceof SpecError);
        return e.problems;
      }
      assert.fail("no error");
    };
    assert.deepEqual(problems(`${HEAD}lanes:\n  s1: {label: v1, services: [a]}\n  a: {label: v2, services: [a], fallback: zz}\n`),
      [`x.yaml: lanes.a.fallback: "zz" is not one of the lanes (s1, a) (line 7)`]);
    // Two cycles, each reported once, at its first lane in the spec's order; a lane leading into a cycle is not one.
    assert.deepEqual(problems(`${HEAD}lanes:\n  s1: {label: v1, services: [a]}\n  c: {label: v4, services: [a], fallback: b}\n  a: {label: v2, services: [a], fallback: b}\n  b: {label: v3, services: [a], fallback: a}\n  d: {label: v5, services: [a], fallback: d}\n`), [
      "x.yaml: lanes.a.fallback: the fallback chain a -> b -> a is a cycle: a chain must end at the baseline s1 (line 8)",
      "x.yaml: lanes.d.fallback: the fallback chain d -> d is a cycle: a chain must end at the baseline s1 (line 10)",
    ]);
    assert.deepEqual(problems(`${HEAD}lanes:\n  s1:\n    label: v1\n    services: [a]\n    fallback: a\n  a: {label: v2, services: [a]}\n`),
      ["x.yaml: lanes.s1.fallback: the baseline lane s1 has no fallback: it holds every service, and every other lane's chain ends at it (line 9)"]);
    assert.deepEqual(problems(`${HEAD}lanes:\n  s1: {label: v1, services: [a]}\n  a: {label: v2, services: [a], fallback: 2}\n`),
      ["x.yaml: lanes.a.fallback: must be a string, got number 2 (line 7)"]);
  });
});

describe("stacked lanes: the manifests (deploy/lanes.stacked.yaml)", () => {
  const out = generate(stacked);
  const res = (path: string) => out.find((o) => o.path === path)!.resource;
  const routes = (path: string) => res(path).spec.http.map((h: any) => [h.match?.[0].headers["x-asm-prefer-tag"].exact ?? "*", h.route[0].destination.subset, h.fallback?.target.subset ?? null]);

  it("Istio: each lane routes straight to the nearest lane up its chain that has the service", () => {
    assert.deepEqual(routes("istio/virtualservice-mocka.yaml"), [["s1", "s1", null], ["release-2", "s1", null], ["feat-x", "s1", null], ["*", "s1", null]]);
    assert.deepEqual(routes("istio/virtualservice-mockb.yaml"), [["s1", "s1", null], ["release-2", "release-2", null], ["feat-x", "release-2", null], ["*", "s1", null]]);
    assert.deepEqual(routes("istio/virtualservice-mockc.yaml"), [["s1", "s1", null], ["release-2", "release-2", null], ["feat-x", "feat-x", null], ["*", "s1", null]]);
  });

  it("ASM: a lane without the service routes to its nearest ancestor's subset, keeping ASM's fallback to the baseline", () => {
    // mockb: feat-x has none, release-2 has: feat-x goes to release-2's subset (a plain lane would go to the baseline).
    assert.deepEqual(routes("asm/virtualservice-mockb.yaml"), [["s1", "s1", "s1"], ["release-2", "release-2", "s1"], ["feat-x", "release-2", "s1"]]);
    // mocka: only the baseline has it: ASM's own form, each lane its own subset and the fallback to the baseline.
    assert.deepEqual(routes("asm/virtualservice-mocka.yaml"), [["s1", "s1", "s1"], ["release-2", "release-2", "s1"], ["feat-x", "feat-x", "s1"]]);
    assert.deepEqual(routes("asm/virtualservice-mockc.yaml"), [["s1", "s1", "s1"], ["release-2", "release-2", "s1"], ["feat-x", "feat-x", "s1"]]);
    // The same spec unstacked sends feat-x's mockb requests to the baseline: stacking is what changes it.
    const flat = generate(plain).find((o) => o.path === "asm/virtualservice-mockb.yaml")!.resource;
    assert.equal(flat.spec.http[2].route[0].destination.subset, "feat-x");
    assert.equal(generate(plain).find((o) => o.path === "istio/virtualservice-mockb.yaml")!.resource.spec.http[2].route[0].destination.subset, "s1");
  });

  it("subsets exist where routes name them; the gateway sends each lane to its entry service's chain", () => {
    assert.deepEqual(res("asm/destinationrule-mockb.yaml").spec.subsets, [{ name: "s1", labels: { ASM_TRAFFIC_TAG: "v1" } }, { name: "release-2", labels: { ASM_TRAFFIC_TAG: "v2" } }]);
    for (const dir of ["asm", "istio"]) {
      for (const svc of stacked.services) {
        const subsets = new Set(res(`${dir}/destinationrule-${svc}.yaml`).spec.subsets.map((s: any) => s.name));
        for (const h of res(`${dir}/virtualservice-${svc}.yaml`).spec.http) {
          const to = h.route[0].destination.subset;
          // ASM's own form may name a lane's missing subset: its fallback (to an existing subset) covers it.
          assert.ok(subsets.has(to) || (dir === "asm" && subsets.has(h.fallback.target.subset)), `${dir} ${svc} -> ${to}`);
        }
      }
    }
    const gw = res("istio/virtualservice-gateway.yaml");
    assert.deepEqual(gw.spec.http[0].route.map((r: any) => [r.weight, r.headers.request.set["x-asm-prefer-tag"], r.destination.subset]), [[40, "s1", "s1"], [30, "release-2", "s1"], [30, "feat-x", "s1"]]);
  });

  it("every resource is valid against its CRD and every filter configuration configures the built module", async () => {
    await assertValidAndAccepted(out, await Host.load(wasmBytes()));
    assert.deepEqual(filterConfig(stacked, "outbound").lanes, ["s1", "release-2", "feat-x"]);
    assert.equal(filterConfig(stacked, "outbound").default_lane, "s1");
    // The validator does check these VirtualServices: a wrong field in a route fails.
    const broken = structuredClone(res("istio/virtualservice-mockb.yaml"));
    broken.spec.http[2].route[0].destination.subsett = "release-2";
    assert.notDeepEqual(new Validator().check(broken), []);
  });

  it("npm run manifests writes them, with no YAML anchors or aliases", () => {
    const dir = mkdtempSync(join(tmpdir(), "lane-tag-stacked-"));
    try {
      const r = manifests([STACKED_SPEC, "--out", join(dir, "out")]);
      assert.equal(r.code, 0, r.err);
      const files = tree(join(dir, "out"));
      for (const [name, text] of Object.entries(files)) assert.doesNotMatch(text, /(^|\s)[&*]a\d+\b/m, name);
      assert.deepEqual(parse(files["istio/virtualservice-mockb.yaml"].replace(/^#.*\n/gm, "")), res("istio/virtualservice-mockb.yaml"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The local Envoy configs of the stacked docker-compose variant (stacked/), as npm run local-configs writes them.
const load = (file: string): any => parse(readFileSync(join(STACKED_DIR, file), "utf8"));
const hcmOf = (listener: any) => listener.filter_chains[0].filters.find((f: any) => f.name === "envoy.filters.network.http_connection_manager").typed_config;
const clusterNamed = (config: any, name: string) => config.static_resources.clusters.find((c: any) => c.name === name);
/** Where Envoy sends a request to `cluster`: the endpoints of the first cluster of an aggregate that has any. */
function endpointsOf(config: any, cluster: string): string[] {
  const c = clusterNamed(config, cluster);
  assert.ok(c, `no cluster ${cluster}`);
  if (c.cluster_type?.name === "envoy.clusters.aggregate") {
    for (const member of c.cluster_type.typed_config.clusters) {
      const found = endpointsOf(config, member);
      if (found.length) return found;
    }
    return [];
  }
  return c.load_assignment.endpoints.flatMap((e: any) => e.lb_endpoints.map((l: any) => `${l.endpoint.address.socket_address.address}:${l.endpoint.address.socket_address.port_value}`));
}
const VALIDATE = join(SHARED, "tools/envoy-validate/validate.mjs");
const COMPOSE_SCHEMA = join(SHARED, "schemas/compose-spec.json");

describe("stacked lanes: the local Envoy configs (demo/stacked/)", () => {
  const files = stackedFiles(stacked);
  const ws = deployments(stacked);

  it("the committed compose file and Envoy configs are what npm run local-configs generates; only the versions the lanes list run", () => {
    for (const [name, text] of Object.entries(files)) assert.equal(readFileSync(join(STACKED_DIR, name), "utf8"), text, `stacked/${name}: run npm run local-configs`);
    for (const d of ["envoy", "envoy-nofilter"]) for (const f of readdirSync(join(STACKED_DIR, d))) assert.ok(`${d}/${f}` in files, `stale file demo/stacked/${d}/${f}`);
    assert.deepEqual(ws.map((w) => w.name), ["mocka-v1", "mockb-v1", "mockb-v2", "mockc-v1", "mockc-v2", "mockc-v3"]);
    assert.equal(Object.keys(files).length, 1 + 2 * (ws.length + 1));
  });

  it("each lane's aggregate cluster lists the lane's chain in order: feat-x, release-2, s1", () => {
    const aggregates = (config: any) => Object.fromEntries(config.static_resources.clusters.filter((c: any) => c.cluster_type).map((c: any) => [c.name, c.cluster_type.typed_config.clusters]));
    assert.deepEqual(aggregates(load("envoy/mocka-v1.yaml")), {
      "mockb|release-2|fallback": ["mockb|release-2", "mockb|s1"],
      "mockb|feat-x|fallback": ["mockb|feat-x", "mockb|release-2", "mockb|s1"],
    });
    assert.deepEqual(aggregates(load("envoy/gateway.yaml"))["mocka|feat-x|fallback"], ["mocka|feat-x", "mocka|release-2", "mocka|s1"]);
    assert.deepEqual(fallbackClusters(stacked, "mockc", "feat-x"), ["mockc|feat-x", "mockc|release-2", "mockc|s1"]);
    // The example spec's lanes keep their two-cluster aggregates (lane, baseline).
    assert.deepEqual(fallbackClusters(example, "mockb", "s2"), ["mockb|s2", "mockb|s1"]);
  });

  it("every sidecar's outbound listener sends each lane (and no lane) where resolve() does, following the chain", () => {
    for (const w of ws) {
      const config = load(`envoy/${w.name}.yaml`);
      const up = upstreamOf(stacked, w.service);
      const vhosts = hcmOf(config.static_resources.listeners.find((l: any) => l.name === "outbound")).route_config.virtual_hosts;
      if (!up) { assert.deepEqual(vhosts, []); continue; }
      for (const lane of [...stacked.lanes.map((l) => l.name), undefined]) {
        const route = vhosts[0].routes.find((r: any) => (r.match.headers ?? []).every((h: any) => lane === h.string_match.exact));
        assert.deepEqual(endpointsOf(config, route.route.cluster), [`${resolve(stacked, up, lane).name}:8000`], `${w.name}, lane ${lane}`);
      }
    }
    // feat-x's mockb is release-2's (v2), not the baseline's.
    assert.equal(resolve(stacked, "mockb", "feat-x").name, "mockb-v2");
    assert.equal(resolve(plain, "mockb", "feat-x").name, "mockb-v1");
  });

  it("where a lane's own version has no endpoint, Envoy takes the next lane up the chain, not the baseline", () => {
    const config = load("envoy/mockb-v2.yaml");
    assert.deepEqual(endpointsOf(config, "mockc|feat-x|fallback"), ["mockc-v3:8000"]);
    clusterNamed(config, "mockc|feat-x").load_assignment.endpoints = [];
    assert.deepEqual(endpointsOf(config, "mockc|feat-x|fallback"), ["mockc-v2:8000"]);
  });

  it("lane-tag on every listener with the manifests' configuration; the compose file runs the SDK-instrumented apps on their sidecars", () => {
    for (const f of readdirSync(join(STACKED_DIR, "envoy"))) {
      for (const l of load(`envoy/${f}`).static_resources.listeners) {
        const filters = hcmOf(l).http_filters;
        assert.deepEqual(filters.map((x: any) => x.name), ["lane-tag", "envoy.filters.http.router"], `${f} ${l.name}`);
        assert.deepEqual(JSON.parse(filters[0].typed_config.config.configuration.value), filterConfig(observed(stacked), l.name as FilterRole));
      }
    }
    const compose = load("docker-compose.yml");
    assert.equal(compose.name, "lane-tag-stacked");
    assert.deepEqual(compose.services.gateway.ports, ["127.0.0.1:8083:8080"]);
    for (const w of ws) {
      const app = compose.services[`${w.name}-app`];
      assert.equal(app.network_mode, `service:${w.name}`);
      // As the HTTP variant's (test/e2e/compose-stacked.test.ts runs them): otel/app.cjs, the SDK preloaded.
      assert.deepEqual(app.volumes, ["../otel:/app:ro", "../../node_modules:/node_modules:ro"]);
      assert.deepEqual(app.command, ["node", "/app/app.cjs"]);
      assert.ok(existsSync(join(STACKED_DIR, "../otel/app.cjs")));
      assert.equal(app.environment.version, w.version);
      assert.equal(app.environment.upstream_url, upstreamOf(stacked, w.service) && `http://${upstreamOf(stacked, w.service)}:8000/`);
      assert.equal(join(STACKED_DIR, compose.services[w.name].volumes[1].split(":")[0]), join(ROOT, "build/lane-tag.wasm"));
    }
  });

  it("every Envoy config validates against Envoy's API (envoy-validate --strict)", { skip: !existsSync(VALIDATE) && "../shared/tools/envoy-validate is absent" }, () => {
    const configs = ["envoy", "envoy-nofilter"].flatMap((d) => readdirSync(join(STACKED_DIR, d)).map((f) => join(STACKED_DIR, d, f)));
    assert.equal(configs.length, 14);
    const r = spawnSync(process.execPath, [VALIDATE, "--strict", ...configs], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split("\n").filter((l) => l.startsWith("ok ")).length, configs.length);
  });

  it("the compose file is valid against the Compose Specification's schema", { skip: !existsSync(COMPOSE_SCHEMA) && "../shared/schemas/compose-spec.json is absent" }, () => {
    const schema = JSON.parse(readFileSync(COMPOSE_SCHEMA, "utf8"));
    delete schema.$schema;
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    assert.ok(validate(load("docker-compose.yml")), JSON.stringify(validate.errors));
  });
});

describe("npm run demo -- --mode stacked", () => {
  const chains = (results: Result[], lane: string) => [...new Set(results.filter((r) => r.lane === lane).map((r) => r.hops.map((h) => h.version).join("→")))];

  it("runs deploy/lanes.stacked.yaml: feat-x reaches mocka v1 (s1), mockb v2 (release-2), mockc v3 (feat-x)", async () => {
    assert.deepEqual(specForMode(example, "stacked"), stacked);
    const { results, failures, spec } = await runDemo({ requests: 300, seed: 6, withFilter: true, quiet: true, concurrency: 16, mode: "stacked" }, example, () => {});
    assert.equal(spec.group, "stacked");
    assert.deepEqual(failures, []);
    assert.deepEqual(chains(results, "s1"), ["v1→v1→v1"]);
    assert.deepEqual(chains(results, "release-2"), ["v1→v2→v2"]);
    assert.deepEqual(chains(results, "feat-x"), ["v1→v2→v3"]);
    // Not what falling straight back to the baseline would give (feat-x: v1→v1→v3).
    assert.deepEqual(expectedChain(plain, "feat-x"), ["v1", "v1", "v3"]);
    assert.notDeepEqual(check(plain, results, { filter: true }), []);
  });

  it("without lane-tag every lane collapses to the baseline (mocka, the first hop, is only in s1)", async () => {
    const { results } = await runDemo({ requests: 150, seed: 6, withFilter: false, quiet: true, concurrency: 16, mode: "stacked" }, example, () => {});
    for (const lane of ["release-2", "feat-x"]) assert.deepEqual(chains(results, lane), ["v1→v1→v1"], lane);
    assert.deepEqual(chainWithoutFilter(stacked, "feat-x"), ["v1", "v1", "v1"]);
    assert.deepEqual(check(stacked, results, { filter: false }), []);
    assert.notDeepEqual(check(stacked, results, { filter: true }), []);
  });

  it("the readiness check of npm run e2e:envoy's stacked variant accepts the mesh", async () => {
    const mesh = await startMesh(example, { mode: "stacked" });
    try {
      await waitForLanes(mesh.gatewayUrl, stacked, 5000);
    } finally {
      await mesh.close();
    }
  });

  it("the command prints the summary table and each lane's fallback chain; exits 0", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "demo/demo.ts"), "--mode", "stacked", "-n", "60", "-q"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const lines = r.stdout.split("\n");
    assert.ok(lines.some((l) => /^lane\s+requests\s+share\s+mocka\s+mockb\s+mockc$/.test(l)), r.stdout);
    assert.ok(lines.some((l) => /^release-2\s+\d+\s+[\d.]+%\s+v1\s+v2\s+v2$/.test(l)), r.stdout);
    assert.ok(lines.some((l) => /^feat-x\s+\d+\s+[\d.]+%\s+v1\s+v2\s+v3$/.test(l)), r.stdout);
    assert.match(r.stdout, /mode stacked: stacked lanes from deploy\/lanes\.stacked\.yaml/);
    for (const c of formatChains(stacked)) assert.ok(lines.includes(`  ${c}`), c);
    assert.deepEqual(formatChains(stacked), ["s1 (v1)", "release-2 (v2) -> s1 (v1)", "feat-x (v3) -> release-2 (v2) -> s1 (v1)"]);
    assert.match(r.stdout, /every chain stayed in its lane \(falling back up its chain where a lane has no version of a service: release-2 -> s1; feat-x -> release-2 -> s1\)/);
  });
});

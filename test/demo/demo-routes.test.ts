// The demo routes by the files a user applies: the manifests npm run manifests writes, read back. A wrong
// generated route shows as a wrong chain (exit 1); ASM's fallback is taken where a subset has no workload.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSpec } from "../../deploy/lib/spec.ts";
import { runDemo } from "../../demo/demo.ts";
import { istioRouter, drawOf, type Routed } from "../../demo/core/router.ts";
import { appliedResources, gatewayHost } from "../../demo/applied.ts";
import { workloads, pickWeighted, gatewayWeights, chain, SERVICE_PORT } from "../../demo/core/topology.ts";
import { gatewayApiRouter } from "../../demo/core/router-http.ts";
import { routingPlan, routeFor } from "../../deploy/lib/plan.ts";
import { ROOT } from "../support/helpers.ts";

const spec = loadSpec(join(ROOT, "deploy/lanes.example.yaml"));
const tsx = (script: string, args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", join(ROOT, script), ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });

/** Sends subset `from` to subset `to` in the route of `lane` of `file`: a wrong generated route. */
function swapSubset(file: string, lane: string, from: string, to: string) {
  const text = readFileSync(file, "utf8");
  const at = text.indexOf(`exact: ${lane}`);
  const i = text.indexOf(`subset: ${from}`, at);
  assert.ok(at >= 0 && i > at, `${file} has a route for ${lane} to subset ${from}`);
  writeFileSync(file, text.slice(0, i) + `subset: ${to}` + text.slice(i + `subset: ${from}`.length));
}

const version = (r: Routed) => ("workload" in r ? r.workload.name : `${r.status}`);

describe("the demo routes by the generated manifests", { timeout: 120_000 }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "demo-routes-"));
    const r = tsx("deploy/manifests.ts", ["deploy/lanes.example.yaml", "--out", join(dir, "m")]);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("routes every lane to its chain by the files npm run manifests wrote, istio/ and asm/", async () => {
    for (const routes of ["istio", "asm"] as const) {
      const { failures, results } = await runDemo({ requests: 60, seed: 1, withFilter: true, quiet: true, concurrency: 8, routes, manifests: join(dir, "m") }, spec, () => {});
      assert.deepEqual(failures, [], routes);
      assert.equal(results.filter((r) => r.lane === "s3").length > 0, true);
    }
  });

  it("a swapped subset in mockb's VirtualService fails the demo (exit 1) with the wrong chain", () => {
    const bad = join(dir, "bad");
    assert.equal(tsx("deploy/manifests.ts", ["deploy/lanes.example.yaml", "--out", bad]).status, 0);
    swapSubset(join(bad, "istio/virtualservice-mockb.yaml"), "s3", "s3", "s1");
    const r = tsx("demo/demo.ts", ["-q", "-n", "40", "--manifests", bad]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /in lane s3: mocka v1 → mockb v1 → mockc v1, expected v1 → v3 → v1/);
    assert.doesNotMatch(r.stdout, /in lane s[12]:/);
  });

  it("asm/: a subset that no DestinationRule defines takes the route's fallback (a swap to s2 sends s3 to v1)", async () => {
    const bad = join(dir, "bad-asm");
    assert.equal(tsx("deploy/manifests.ts", ["deploy/lanes.example.yaml", "--out", bad]).status, 0);
    swapSubset(join(bad, "asm/virtualservice-mockb.yaml"), "s3", "s3", "s2");
    const { failures } = await runDemo({ requests: 40, seed: 1, withFilter: true, quiet: true, concurrency: 8, routes: "asm", manifests: bad }, spec, () => {});
    assert.ok(failures.length > 0);
    assert.ok(failures.every((f) => /in lane s3: mocka v1 → mockb v1 → mockc v1/.test(f)), failures.join("\n"));
  });
});

describe("the sidecar router", () => {
  const headers = (lane?: string) => (lane ? { [spec.routingHeader]: [lane] } : {});
  const hop = { host: "mockb", port: SERVICE_PORT, path: "/" };

  it("ASM's fallback where the lane's subset has no workload; Istio's routes answer 503 there", () => {
    const without = workloads(spec).filter((w) => w.name !== "mockb-v3");
    assert.equal(version(istioRouter(appliedResources(spec, "asm"), spec, without)(hop, headers("s3"))), "mockb-v1");
    assert.equal(version(istioRouter(appliedResources(spec, "asm"), spec, workloads(spec))(hop, headers("s3"))), "mockb-v3");
    assert.equal(version(istioRouter(appliedResources(spec, "istio"), spec, without)(hop, headers("s3"))), "503");
  });

  it("no lane and an unknown lane reach the baseline; a host with no route answers 404 at the gateway", () => {
    const route = istioRouter(appliedResources(spec, "istio"), spec, workloads(spec));
    assert.equal(version(route(hop, headers())), "mockb-v1");
    assert.equal(version(route(hop, headers("nope"))), "mockb-v1");
    const none = istioRouter([], spec, workloads(spec));
    assert.equal(version(none({ ...hop, atGateway: true, host: gatewayHost(spec) }, {})), "404");
  });

  it("the gateway's weighted route picks as Envoy does (draw % total) and sets the routing header", () => {
    const route = istioRouter(appliedResources(spec, "istio"), spec, workloads(spec));
    const lanes = gatewayWeights(spec).filter((w) => w.weight > 0);
    for (let draw = 0n; draw < 200n; draw++) {
      const r = route({ host: gatewayHost(spec), port: 80, path: "/mock", atGateway: true, draw }, {});
      assert.ok("workload" in r);
      assert.deepEqual(r.headers[spec.routingHeader], [pickWeighted(lanes, draw).lane], `draw ${draw}`);
    }
    assert.equal(drawOf(undefined, 100), undefined);
  });
});

describe("the ambient router (Gateway API HTTPRoutes of the generated ambient/ output)", () => {
  const resources = appliedResources(spec, "ambient");
  const route = gatewayApiRouter(resources, spec, workloads(spec));
  const plan = routingPlan(spec);
  const lanes = [...spec.lanes.map((l) => l.name), "nope", undefined];

  it("every service × lane (no lane, an unknown lane) reaches the plan's version through its Service's HTTPRoutes", () => {
    for (const service of chain(spec)) {
      for (const lane of lanes) {
        const r = route({ host: service, port: SERVICE_PORT, path: "/" }, lane ? { [spec.routingHeader]: [lane] } : {});
        assert.equal(version(r), `${service}-${routeFor(plan, service, lane).version}`, `${service} in ${lane}`);
      }
    }
  });

  it("the ingress route splits by weight as Envoy picks (draw % total) and sets each backend's routing header", () => {
    const weighted = gatewayWeights(spec).filter((w) => w.weight > 0);
    for (let draw = 0n; draw < 200n; draw++) {
      const lane = pickWeighted(weighted, draw).lane;
      const r = route({ host: "demo.example", port: 80, path: "/mock", atGateway: true, draw }, {});
      assert.ok("workload" in r, `draw ${draw}`);
      assert.deepEqual(r.headers[spec.routingHeader], [lane], `draw ${draw}`);
      assert.equal(r.workload.name, `mocka-${routeFor(plan, "mocka", lane).version}`, `draw ${draw}`);
    }
  });

  it("where the gateway's filter decides the lane (sticky), the ingress route matches its header", () => {
    const sticky = { ...spec, gateway: { ...spec.gateway!, stickyHeader: "x-user-id" } };
    const r = gatewayApiRouter(appliedResources(sticky, "ambient"), sticky, workloads(sticky));
    for (const lane of lanes) {
      const got = r({ host: "demo.example", port: 80, path: "/mock", atGateway: true }, lane ? { [spec.routingHeader]: [lane] } : {});
      assert.equal(version(got), `mocka-${routeFor(plan, "mocka", lane).version}`, String(lane));
    }
  });

  it("a Service with no HTTPRoute attached goes to its own pods (a per-version Service); an unknown host answers 404", () => {
    assert.equal(version(route({ host: "test-mockb-s3", port: SERVICE_PORT, path: "/" }, {})), "mockb-v3");
    assert.equal(version(route({ host: "elsewhere", port: SERVICE_PORT, path: "/" }, {})), "404");
  });

  it("a backend Service that selects no pod answers 503", () => {
    const few = gatewayApiRouter(resources, spec, workloads(spec).filter((w) => w.name !== "mockb-v3"));
    assert.equal(version(few({ host: "mockb", port: SERVICE_PORT, path: "/" }, { [spec.routingHeader]: ["s3"] })), "503");
  });
});

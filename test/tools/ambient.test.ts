// The ambient output (ambient/) as a user applies it: written by `npm run manifests`, read back from the
// files, validated against the Gateway API and Istio CRDs, and routed with Gateway API's match precedence
// (demo/routes/gateway-api.ts) for every service × lane, no lane and an unknown lane: each request
// must reach a per-version Service that selects the pods of the plan's version.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSpec } from "../../deploy/lib/spec.ts";
import { routeFor, routingPlan, type RoutingPlan } from "../../deploy/lib/plan.ts";
import { routeHttp, type GatewayApiResult, type HttpRequest, type Parent } from "../../demo/routes/gateway-api.ts";
import { loadResources } from "../../demo/routes/load.ts";
import { Validator } from "../../deploy/lib/validate.ts";
import { manifests } from "./manifests-shared.ts";
import { ROOT } from "../support/helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "lane-tag-ambient-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The spec's ambient/ folder as `npm run manifests` writes it, read back. */
function written(name: string) {
  const out = join(tmp, name);
  const r = manifests([join(ROOT, "deploy", name), "--out", out]);
  assert.equal(r.code, 0, r.err);
  return { out, resources: loadResources(join(out, "ambient")), stdout: r.out };
}

const backendOf = (r: GatewayApiResult) => {
  assert.equal(r.kind, "backend", JSON.stringify(r));
  return (r as Extract<GatewayApiResult, { kind: "backend" }>).backend;
};

/** The Service `name` among the files, and the version label its selector picks for `svc`'s pods. */
function selectedVersion(plan: RoutingPlan, resources: any[], svc: string, name: string, port: number): string {
  const { spec } = plan;
  const s = resources.find((r) => r.apiVersion === "v1" && r.kind === "Service" && r.metadata.name === name);
  assert.ok(s, `no Service ${name} in ambient/`);
  const workload = plan.services.find((x) => x.name === svc)!.workload;
  assert.equal(s.spec.selector[spec.workloadLabel], workload, `${name} selects ${svc}'s pods`);
  assert.deepEqual(Object.keys(s.spec.selector).sort(), [spec.workloadLabel, spec.labelKey].sort());
  assert.equal(s.spec.ports[0].port, port, `${name}'s port is the one the route names`);
  return s.spec.selector[spec.labelKey];
}

// Hand-written: the version each service's request reaches per lane ("" no lane, "?" an unknown lane).
const EXPECTED: Record<string, Record<string, Record<string, string>>> = {
  "lanes.example.yaml": {
    mocka: { s1: "v1", s2: "v2", s3: "v1", "": "v1", "?": "v1" },
    mockb: { s1: "v1", s2: "v1", s3: "v3", "": "v1", "?": "v1" },
    mockc: { s1: "v1", s2: "v2", s3: "v1", "": "v1", "?": "v1" },
  },
  "lanes.websocket.yaml": {
    "wsk-svc": { v1: "v1", v2: "v1", "": "v1", "?": "v1" },
    helloworld: { v1: "v1", v2: "v2", "": "v1", "?": "v1" },
  },
  "lanes.stacked.yaml": {
    mocka: { s1: "v1", "release-2": "v1", "feat-x": "v1", "": "v1", "?": "v1" },
    mockb: { s1: "v1", "release-2": "v2", "feat-x": "v2", "": "v1", "?": "v1" },
    mockc: { s1: "v1", "release-2": "v2", "feat-x": "v3", "": "v1", "?": "v1" },
  },
};

for (const name of Object.keys(EXPECTED)) {
  describe(`ambient output of ${name}`, () => {
    const spec = loadSpec(join(ROOT, "deploy", name));
    const plan = routingPlan(spec);
    const { resources, out } = written(name);
    const header = spec.routingHeader;

    it("every file validates against the Gateway API / Istio CRDs (Services: the fields they carry)", () => {
      const v = new Validator();
      assert.ok(v.hasGatewayApi);
      assert.ok(resources.length > 0);
      for (const r of resources) assert.deepEqual(v.check(r), [], `${r.kind} ${r.metadata.name}`);
      const kinds = new Set(resources.map((r) => r.kind));
      for (const k of ["Gateway", "WasmPlugin", "Service", "HTTPRoute"]) assert.ok(kinds.has(k), k);
      assert.ok(!kinds.has("Namespace"), "enrolment is a printed step, not a Namespace resource");
    });

    it("routes every service × lane (each lane, no lane, an unknown lane) to the plan's version", () => {
      for (const s of plan.services) {
        const port = spec.ambient!.ports[s.name];
        const parent: Parent = { kind: "Service", name: s.name, namespace: spec.namespace, port, portName: "http" };
        for (const lane of [...plan.lanes.map((l) => l.name), "", "?"]) {
          const req: HttpRequest = { path: "/api/x", headers: lane === "" ? {} : { [header]: lane === "?" ? "no-such-lane" : lane } };
          const b = backendOf(routeHttp(resources, parent, req));
          assert.equal(b.port, port);
          const version = selectedVersion(plan, resources, s.name, b.name, port);
          const planned = routeFor(plan, s.name, lane === "" ? undefined : lane === "?" ? "no-such-lane" : lane).version;
          assert.equal(version, planned, `${s.name} in lane ${lane || "(none)"}: the plan's version`);
          assert.equal(version, EXPECTED[name][s.name][lane], `${s.name} in lane ${lane || "(none)"}`);
        }
      }
    });

    it("the waypoint: istio-waypoint class, HBONE on 15008, for services; its filter targets it (no selector), fails open", () => {
      const gw = resources.find((r) => r.kind === "Gateway" && r.spec.gatewayClassName === "istio-waypoint");
      assert.deepEqual(gw.spec.listeners, [{ name: "mesh", port: 15008, protocol: "HBONE" }]);
      assert.equal(gw.metadata.labels["istio.io/waypoint-for"], "service");
      assert.equal(gw.metadata.namespace, spec.namespace);
      const wp = resources.find((r) => r.kind === "WasmPlugin" && r.spec.targetRefs?.[0]?.name === gw.metadata.name);
      assert.deepEqual(wp.spec.targetRefs, [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: gw.metadata.name }]);
      assert.equal(wp.spec.selector, undefined);
      assert.equal(wp.spec.failStrategy, "FAIL_OPEN");
      assert.deepEqual(wp.spec.pluginConfig, plan.filters.waypoint);
      // The HTTPRoutes are attached to the services the waypoint serves: the plain Services, group "".
      for (const s of plan.services) {
        const routes = resources.filter((r) => r.kind === "HTTPRoute" && r.spec.parentRefs.some((p: any) => p.kind === "Service" && p.name === s.name));
        assert.equal(routes.length, 1, s.name);
        assert.deepEqual(routes[0].spec.parentRefs, [{ group: "", kind: "Service", name: s.name }]);
      }
    });

    it("ingress: a Gateway of class istio routes the entry path to the lane's version, the gateway filter fails closed on it", () => {
      const g = spec.gateway!;
      const gw = resources.find((r) => r.kind === "Gateway" && r.spec.gatewayClassName === "istio");
      assert.equal(gw.metadata.namespace, g.namespace);
      const wp = resources.find((r) => r.kind === "WasmPlugin" && r.spec.targetRefs[0].name === gw.metadata.name);
      assert.equal(wp.metadata.namespace, g.namespace);
      assert.equal(wp.spec.failStrategy, "FAIL_CLOSE");
      assert.deepEqual(wp.spec.pluginConfig, plan.filters.gateway);
      const parent: Parent = { kind: "Gateway", name: g.name, namespace: g.namespace, sectionName: gw.spec.listeners[0].name, hostname: "shop.example.com" };
      const entry = g.entry.service;
      const port = spec.ambient!.ports[entry];
      if (plan.gateway!.decidesLane) {
        // The filter set the header (lane_from, sticky choice): the route matches it; no header: baseline.
        for (const lane of [...plan.lanes.map((l) => l.name), ""]) {
          const b = backendOf(routeHttp(resources, parent, { path: "/", headers: lane ? { [header]: lane } : {} }));
          assert.equal(b.invalid, undefined, b.invalid);
          assert.equal(selectedVersion(plan, resources, entry, b.name, port), routeFor(plan, entry, lane || undefined).version, `lane ${lane || "(none)"}`);
        }
      } else {
        // The weighted split: every routed lane is reached with its header set, at its version.
        const seen = new Map<string, string>();
        for (let i = 0; i < 100; i++) {
          const r = routeHttp(resources, parent, { path: "/" }, { random: () => (i + 0.5) / 100 });
          const b = backendOf(r);
          assert.equal(b.invalid, undefined, b.invalid);
          const set = b.filters.find((f: any) => f.type === "RequestHeaderModifier").requestHeaderModifier.set;
          assert.equal(set.length, 1);
          assert.equal(set[0].name, header);
          seen.set(set[0].value, selectedVersion(plan, resources, entry, b.name, port));
        }
        const shares = plan.gateway!.routed.map((w) => w.lane);
        assert.deepEqual([...seen.keys()].sort(), [...shares].sort());
        for (const [lane, version] of seen) assert.equal(version, routeFor(plan, entry, lane).version, lane);
      }
    });

    it("the files are what the renderer gives (nothing else in ambient/)", () => {
      assert.ok(readdirSync(join(out, "ambient")).every((f) => readFileSync(join(out, "ambient", f), "utf8").startsWith("# Generated by `npm run manifests -- ")));
    });
  });
}

describe("ambient output committed for the example spec", () => {
  it("deploy/generated/ambient/ is what the example spec generates now", () => {
    const { out } = written("lanes.example.yaml");
    const committed = join(ROOT, "deploy/generated/ambient");
    const files = readdirSync(join(out, "ambient")).sort();
    assert.deepEqual(readdirSync(committed).sort(), files);
    // The header names the spec by its path relative to where manifests ran: the same from ROOT.
    for (const f of files) assert.equal(readFileSync(join(committed, f), "utf8"), readFileSync(join(out, "ambient", f), "utf8"), f);
  });
});

// The routing plan (deploy/lib/plan.ts) of the example, WebSocket and stacked specs, against tables written
// by hand from the specs' comments: every service × lane (each lane of the spec, no lane, an unknown lane)
// -> the lane that serves it, its version, the chain; each service's versions, baseline and workload label;
// the filter configuration per role; the gateway's lanes. Then that the renderers and the local Envoy
// configs follow the plan they are given, rather than working the lanes out again.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadSpec, type LanesSpec } from "../../deploy/lib/spec.ts";
import { routingPlan, routeFor, servicePlan, planLane, isStacked, type RoutingPlan } from "../../deploy/lib/plan.ts";
import { renderAsm } from "../../deploy/render/asm.ts";
import { renderIstio } from "../../deploy/render/istio.ts";
import { renderAmbient } from "../../deploy/render/ambient.ts";
import { sidecarConfig, localPlan } from "../../demo/core/builders.ts";
import { serving } from "../../demo/core/topology.ts";
import { ROOT } from "../support/helpers.ts";

const spec = (name: string) => loadSpec(join(ROOT, `deploy/${name}`));
const NONE = "(no lane)";
const UNKNOWN = "(unknown lane)";
const UNKNOWN_NAME = "not-a-lane";

/** One spec's expectations: service, requested lane -> serving lane, version; lane -> chain. */
interface Table {
  file: string;
  chains: Record<string, string[]>;
  services: { name: string; workload: string; versions: string[] }[];
  /** [service, requested lane, serving lane, version] */
  routes: [string, string, string, string][];
  filters: Record<"outbound" | "inbound" | "gateway" | "waypoint", Record<string, unknown>>;
  gateway: { entry: string; decidesLane: boolean; weights: [string, number][]; routed: string[] };
}

const EXAMPLE: Table = {
  file: "lanes.example.yaml",
  chains: { s1: ["s1"], s2: ["s2", "s1"], s3: ["s3", "s1"] },
  services: [
    { name: "mocka", workload: "mocka", versions: ["s1=v1", "s2=v2"] },
    { name: "mockb", workload: "mockb", versions: ["s1=v1", "s3=v3"] },
    { name: "mockc", workload: "mockc", versions: ["s1=v1", "s2=v2"] },
  ],
  routes: [
    ["mocka", "s1", "s1", "v1"], ["mocka", "s2", "s2", "v2"], ["mocka", "s3", "s1", "v1"], ["mocka", NONE, "s1", "v1"], ["mocka", UNKNOWN, "s1", "v1"],
    ["mockb", "s1", "s1", "v1"], ["mockb", "s2", "s1", "v1"], ["mockb", "s3", "s3", "v3"], ["mockb", NONE, "s1", "v1"], ["mockb", UNKNOWN, "s1", "v1"],
    ["mockc", "s1", "s1", "v1"], ["mockc", "s2", "s2", "v2"], ["mockc", "s3", "s1", "v1"], ["mockc", NONE, "s1", "v1"], ["mockc", UNKNOWN, "s1", "v1"],
  ],
  filters: {
    outbound: { routing_header: "x-asm-prefer-tag", baggage_key: "x-asm-prefer-tag", direction: "outbound", lanes: ["s1", "s2", "s3"], default_lane: "s1" },
    inbound: { routing_header: "x-asm-prefer-tag", baggage_key: "x-asm-prefer-tag", direction: "inbound", lanes: ["s1", "s2", "s3"] },
    waypoint: { routing_header: "x-asm-prefer-tag", baggage_key: "x-asm-prefer-tag", direction: "both", lanes: ["s1", "s2", "s3"] },
    gateway: { routing_header: "x-asm-prefer-tag", baggage_key: "x-asm-prefer-tag", direction: "both", lanes: ["s1", "s2", "s3"], trust_client_lane: false },
  },
  gateway: { entry: "mocka", decidesLane: false, weights: [["s1", 60], ["s2", 20], ["s3", 20]], routed: ["s1", "s2", "s3"] },
};

const WEBSOCKET: Table = {
  file: "lanes.websocket.yaml",
  chains: { v1: ["v1"], v2: ["v2", "v1"] },
  services: [
    { name: "wsk-svc", workload: "wsk", versions: ["v1=v1"] },
    { name: "helloworld", workload: "helloworld", versions: ["v1=v1", "v2=v2"] },
  ],
  routes: [
    ["wsk-svc", "v1", "v1", "v1"], ["wsk-svc", "v2", "v1", "v1"], ["wsk-svc", NONE, "v1", "v1"], ["wsk-svc", UNKNOWN, "v1", "v1"],
    ["helloworld", "v1", "v1", "v1"], ["helloworld", "v2", "v2", "v2"], ["helloworld", NONE, "v1", "v1"], ["helloworld", UNKNOWN, "v1", "v1"],
  ],
  filters: {
    outbound: { routing_header: "version", baggage_key: "version", direction: "outbound", lanes: ["v1", "v2"], default_lane: "v1" },
    inbound: { routing_header: "version", baggage_key: "version", direction: "inbound", lanes: ["v1", "v2"] },
    waypoint: { routing_header: "version", baggage_key: "version", direction: "both", lanes: ["v1", "v2"] },
    gateway: { routing_header: "version", baggage_key: "version", direction: "both", lanes: ["v1", "v2"], trust_client_lane: false, lane_from: { header: "version", cookie: "lane", query: "lane", trusted: true } },
  },
  // Clients name their lane: the gateway's lane-tag decides it, and the route names every lane.
  gateway: { entry: "wsk-svc", decidesLane: true, weights: [["v1", 0], ["v2", 0]], routed: ["v1", "v2"] },
};

const STACKED: Table = {
  file: "lanes.stacked.yaml",
  chains: { s1: ["s1"], "release-2": ["release-2", "s1"], "feat-x": ["feat-x", "release-2", "s1"] },
  services: [
    { name: "mocka", workload: "mocka", versions: ["s1=v1"] },
    { name: "mockb", workload: "mockb", versions: ["s1=v1", "release-2=v2"] },
    { name: "mockc", workload: "mockc", versions: ["s1=v1", "release-2=v2", "feat-x=v3"] },
  ],
  routes: [
    ["mocka", "s1", "s1", "v1"], ["mocka", "release-2", "s1", "v1"], ["mocka", "feat-x", "s1", "v1"], ["mocka", NONE, "s1", "v1"], ["mocka", UNKNOWN, "s1", "v1"],
    ["mockb", "s1", "s1", "v1"], ["mockb", "release-2", "release-2", "v2"], ["mockb", "feat-x", "release-2", "v2"], ["mockb", NONE, "s1", "v1"], ["mockb", UNKNOWN, "s1", "v1"],
    ["mockc", "s1", "s1", "v1"], ["mockc", "release-2", "release-2", "v2"], ["mockc", "feat-x", "feat-x", "v3"], ["mockc", NONE, "s1", "v1"], ["mockc", UNKNOWN, "s1", "v1"],
  ],
  filters: {
    outbound: { routing_header: "x-asm-prefer-tag", baggage_key: "x-asm-prefer-tag", direction: "outbound", lanes: ["s1", "release-2", "feat-x"], default_lane: "s1" },
    inbound: { routing_header: "x-asm-prefer-tag", baggage_key: "x-asm-prefer-tag", direction: "inbound", lanes: ["s1", "release-2", "feat-x"] },
    waypoint: { routing_header: "x-asm-prefer-tag", baggage_key: "x-asm-prefer-tag", direction: "both", lanes: ["s1", "release-2", "feat-x"] },
    gateway: { routing_header: "x-asm-prefer-tag", baggage_key: "x-asm-prefer-tag", direction: "both", lanes: ["s1", "release-2", "feat-x"], trust_client_lane: false },
  },
  gateway: { entry: "mocka", decidesLane: false, weights: [["s1", 40], ["release-2", 30], ["feat-x", 30]], routed: ["s1", "release-2", "feat-x"] },
};

/** The lane a table row asks for, as routeFor takes it. */
const asked = (lane: string) => (lane === NONE ? undefined : lane === UNKNOWN ? UNKNOWN_NAME : lane);

for (const t of [EXAMPLE, WEBSOCKET, STACKED]) {
  describe(`the routing plan of ${t.file}`, () => {
    const s = spec(t.file);
    const plan = routingPlan(s);
    const baseline = s.baseline;

    it("the table covers every service × lane, no lane and an unknown lane, once each", () => {
      const want = plan.services.flatMap((x) => [...plan.lanes.map((l) => l.name), NONE, UNKNOWN].map((l) => `${x.name} ${l}`));
      assert.deepEqual(t.routes.map(([svc, lane]) => `${svc} ${lane}`), want);
    });

    for (const [svc, lane, lane2, version] of t.routes) {
      it(`${svc} in ${lane} -> ${lane2} (${version})`, () => {
        const chain = t.chains[lane] ?? [baseline];
        const r = routeFor(plan, svc, asked(lane));
        assert.deepEqual({ lane: r.lane, version: r.version, chain: r.chain }, { lane: lane2, version, chain });
      });
    }

    it("each lane's route sits in the service's routes, in the spec's lane order; no lane and unknown lanes apart", () => {
      for (const x of plan.services) {
        assert.deepEqual(x.routes.map((r) => r.requested), s.lanes.map((l) => l.name), x.name);
        for (const r of x.routes) assert.deepEqual(r, { requested: r.requested, ...routeFor(plan, x.name, r.requested) });
        // All three specs label their baseline v1.
        assert.deepEqual(x.noLane, { lane: baseline, version: "v1", chain: [baseline] });
        assert.deepEqual(x.unknownLane, x.noLane);
      }
    });

    it("the lanes, each with its label and chain", () => {
      assert.deepEqual(plan.lanes, s.lanes.map((l) => ({ name: l.name, label: l.label, chain: t.chains[l.name] })));
      assert.deepEqual(planLane(plan, UNKNOWN_NAME), planLane(plan, baseline), "an unknown lane has the baseline's");
      assert.equal(isStacked(plan), t === STACKED);
    });

    it("each service's versions, baseline and workload label", () => {
      assert.deepEqual(plan.services.map((x) => ({ name: x.name, workload: x.workload, versions: x.versions.map((v) => `${v.lane}=${v.label}`) })), t.services);
      for (const x of plan.services) assert.deepEqual(x.baseline, x.versions.find((v) => v.lane === baseline), x.name);
    });

    it("the filter configuration of each role", () => {
      assert.deepEqual(plan.filters, t.filters);
    });

    it("the gateway's entry and lanes", () => {
      const g = plan.gateway!;
      assert.deepEqual({ entry: g.entry, decidesLane: g.decidesLane, weights: g.weights.map((w) => [w.lane, w.weight]), routed: g.routed.map((w) => w.lane) }, t.gateway);
    });

    it("the lane whose version of the entry service serves each of the gateway's lanes", () => {
      const g = plan.gateway!;
      for (const w of [...g.weights, ...g.routed]) assert.equal(w.serving, routeFor(plan, g.entry, w.lane).lane, w.lane);
    });

    it("the spec is left as it was", () => {
      const before = structuredClone(s);
      routingPlan(s);
      assert.deepEqual(s, before);
    });
  });
}

describe("the routing plan: lookups", () => {
  const plan = routingPlan(spec(EXAMPLE.file));
  it("a service the group does not have is an error naming it and the group's services", () => {
    assert.throws(() => servicePlan(plan, "mockz"), { message: `"mockz" is not a service of the lane group (mocka, mockb, mockc)` });
    assert.throws(() => routeFor(plan, "mockz", "s1"), /"mockz" is not a service/);
  });
  it("a spec without a gateway has no gateway plan; its filters are still there for every role", () => {
    const { gateway: _, ...rest } = spec(EXAMPLE.file);
    const p = routingPlan(rest as LanesSpec);
    assert.equal(p.gateway, undefined);
    assert.deepEqual(Object.keys(p.filters), ["outbound", "inbound", "gateway", "waypoint"]);
  });
});

/** The example's plan with mockb's s2 route changed to s3's version: what no spec would give, so only a
 *  renderer that reads the plan writes it. */
function tampered(base: RoutingPlan): RoutingPlan {
  const plan = structuredClone(base);
  const r = servicePlan(plan, "mockb").routes.find((x) => x.requested === "s2")!;
  Object.assign(r, { lane: "s3", version: "v3" });
  planLane(plan, "s2").chain = ["s2", "s3", "s1"];
  return plan;
}

describe("the outputs render the plan they are given", () => {
  const s = spec(EXAMPLE.file);
  const plan = tampered(routingPlan(s));
  const rule = (vs: any, lane: string) => vs.spec.http.find((h: any) => h.match?.[0].headers?.[s.routingHeader]?.exact === lane);

  it("Istio: mockb's VirtualService sends s2 where the plan says", () => {
    const vs = renderIstio(plan).find((o) => o.path === "istio/virtualservice-mockb.yaml")!.resource;
    assert.equal(rule(vs, "s2").route[0].destination.subset, "s3");
  });

  it("the gateway's routes (sidecar and ambient) send a lane to the version the plan says serves it", () => {
    const p = structuredClone(routingPlan(s));
    p.gateway!.routed.find((w) => w.lane === "s2")!.serving = "s3";
    const vs = renderIstio(p).find((o) => o.path === "istio/virtualservice-gateway.yaml")!.resource;
    const to = vs.spec.http[0].route.find((r: any) => r.headers.request.set[s.routingHeader] === "s2");
    assert.equal(to.destination.subset, "s3");
    const route = renderAmbient(p).find((o) => o.path === "ambient/httproute-gateway.yaml")!.resource;
    const ref = route.spec.rules[0].backendRefs.find((b: any) => b.filters[0].requestHeaderModifier.set[0].value === "s2");
    assert.equal(ref.name, `${s.group}-mocka-s3`);
  });

  it("ASM: mockb's VirtualService names the plan's lane, with ASM's fallback to the baseline", () => {
    const vs = renderAsm(plan).find((o) => o.path === "asm/virtualservice-mockb.yaml")!.resource;
    assert.equal(rule(vs, "s2").route[0].destination.subset, "s3");
    assert.equal(rule(vs, "s2").fallback.target.subset, "s1");
  });

  it("the filters' configuration is the plan's", () => {
    const p = structuredClone(plan);
    p.filters.outbound = { ...p.filters.outbound, default_lane: "s2" };
    const wp = renderIstio(p).find((o) => o.path === "istio/filter-mocka-outbound.yaml")!.resource;
    assert.equal(wp.spec.pluginConfig.default_lane, "s2");
    const asm = renderAsm(p).find((o) => o.path === "asm/filter-mocka-outbound.yaml")!.resource;
    assert.equal(JSON.parse(asm.spec.filter.parameters).default_lane, "s2");
  });

  it("local Envoy configs: mocka's sidecar falls back up the plan's chain for s2", () => {
    const local = tampered(localPlan(s));
    const config: any = sidecarConfig(local, { service: "mocka", version: "v1", name: "mocka-v1" }, { port: 8000 });
    const agg = config.static_resources.clusters.find((c: any) => c.name === "mockb|s2|fallback");
    assert.deepEqual(agg.cluster_type.typed_config.clusters, ["mockb|s2", "mockb|s3", "mockb|s1"]);
  });

  it("the demo's routing: the workload serving a lane is the plan's", () => {
    assert.equal(serving(plan, "mockb", "s2").name, "mockb-v3");
    assert.equal(serving(routingPlan(s), "mockb", "s2").name, "mockb-v1");
  });
});

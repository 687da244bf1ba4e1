// The Istio VirtualService/DestinationRule interpreter (demo/routes/istio.ts): Istio's semantics in
// table cases, and the committed deploy/generated/{istio,asm} files for every service x lane against what
// deploy/lanes.example.yaml says a request in that lane must reach.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { routeIstio, type IstioOptions, type IstioRequest, type IstioResult } from "../../demo/routes/istio.ts";
import { loadResources } from "../../demo/routes/load.ts";
import { ROOT } from "../support/helpers.ts";

const HOST = "mocka.default.svc.cluster.local";
const vs = (name: string, http: any[], extra: any = {}, meta: any = {}) => ({
  apiVersion: "networking.istio.io/v1beta1", kind: "VirtualService",
  metadata: { name, namespace: "default", ...meta }, spec: { hosts: [HOST], ...extra, http },
});
const dr = (subsets: Record<string, string>, meta: any = {}, host = "mocka") => ({
  apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "mocka", namespace: "default", ...meta },
  spec: { host, subsets: Object.entries(subsets).map(([name, v]) => ({ name, labels: { version: v } })) },
});
const to = (subset: string, match?: any[], more: any = {}) => ({ ...(match ? { match } : {}), route: [{ destination: { host: "mocka", subset } }], ...more });
const DR = dr({ a: "v1", b: "v2", c: "v3" });

/** The subset reached, "all" for the whole service, or the status. */
function outcome(r: IstioResult): string | number {
  if (r.kind === "destination") return r.subset ?? "all";
  return r.kind === "passthrough" ? "all" : r.status;
}
const send = (resources: any[], req: Partial<IstioRequest> = {}, opts: IstioOptions = {}) => outcome(routeIstio(resources, { host: "mocka", ...req }, opts));

describe("Istio VirtualService semantics", () => {
  it("the first matching http route in order wins, not the most specific", () => {
    const rs = [DR, vs("v", [to("a", [{ uri: { prefix: "/" } }]), to("b", [{ uri: { exact: "/x" } }])])];
    assert.equal(send(rs, { path: "/x" }), "a");
  });
  it("headers: exact, prefix, regex (whole value), presence; names in any case; withoutHeaders", () => {
    const rs = [DR, vs("v", [
      to("a", [{ headers: { "x-lane": { exact: "s1" } } }]),
      to("b", [{ headers: { "x-lane": { prefix: "s2-" } } }]),
      to("c", [{ headers: { "x-lane": { regex: "s[0-9]" } } }]),
      to("a", [{ headers: { "x-any": {} }, withoutHeaders: { "x-no": { exact: "1" } } }]),
    ])];
    assert.equal(send(rs, { headers: { "X-Lane": "s1" } }), "a");
    assert.equal(send(rs, { headers: { "x-lane": "s2-x" } }), "b");
    assert.equal(send(rs, { headers: { "x-lane": "s3" } }), "c");
    assert.equal(send(rs, { headers: { "x-lane": "s33" } }), 404);
    assert.equal(send(rs, { headers: { "x-any": "" } }), "a");
    assert.equal(send(rs, { headers: { "x-any": "", "x-no": "1" } }), 404);
  });
  it("matches are ORed, conditions within one ANDed; uri with ignoreUriCase; method; queryParams", () => {
    const rs = [DR, vs("v", [
      to("a", [{ uri: { prefix: "/api" }, method: { exact: "POST" } }, { queryParams: { lane: { exact: "b" } }, uri: { exact: "/q" } }]),
      to("b", [{ uri: { exact: "/CASE" }, ignoreUriCase: true }]),
    ])];
    assert.equal(send(rs, { path: "/api/x", method: "POST" }), "a");
    assert.equal(send(rs, { path: "/api/x", method: "GET" }), 404);
    assert.equal(send(rs, { path: "/q?lane=b" }), "a");
    assert.equal(send(rs, { path: "/case?x=1" }), "b");
  });
  it("sourceLabels and per-match gateways", () => {
    const rs = [DR, vs("v", [to("a", [{ sourceLabels: { app: "mockb" } }]), to("b", [{ gateways: ["mesh"] }]), to("c")], { gateways: ["gw", "mesh"] })];
    assert.equal(send(rs, { sourceLabels: { app: "mockb", version: "v1" } }), "a");
    assert.equal(send(rs, { sourceLabels: { app: "mockc" } }), "b");
    assert.equal(send(rs, { gateway: "default/gw", host: HOST }), "c");
  });
  it("a VirtualService bound to gateways is not used by sidecars, and one without gateways not at a gateway", () => {
    const rs = [DR, vs("g", [to("a")], { gateways: ["istio-system/gw"], hosts: ["*"] }), vs("m", [to("b")])];
    assert.equal(send(rs, { gateway: "istio-system/gw", host: "example.com" }), "a");
    assert.equal(send(rs), "b");
    assert.equal(send([DR, vs("m", [to("b")])], { gateway: "istio-system/gw", host: HOST }), 404);
  });
  it("weighted destinations pick by weight; route and destination header changes are merged", () => {
    const r = { headers: { request: { set: { "x-from": "route" } } }, route: [
      { destination: { host: "mocka", subset: "a" }, weight: 75, headers: { request: { set: { "x-lane": "s1" } } } },
      { destination: { host: "mocka", subset: "b" }, weight: 25, headers: { request: { set: { "x-lane": "s2" } } } },
    ] };
    const at = (x: number) => routeIstio([DR, vs("v", [r])], { host: "mocka" }, { random: () => x });
    assert.deepEqual([0, 0.74, 0.75, 0.99].map((x) => outcome(at(x))), ["a", "a", "b", "b"]);
    const got = at(0.8);
    assert.deepEqual(got.kind === "destination" && [got.labels, got.headers.set], [{ version: "v2" }, { "x-from": "route", "x-lane": "s2" }]);
  });
  it("no VirtualService for the host: passthrough to the whole service, said so; one without a matching route: 404", () => {
    const r = routeIstio([DR], { host: "mocka:8000" });
    assert.equal(r.kind, "passthrough");
    assert.match((r as any).reason, /no VirtualService for mocka\.default\.svc\.cluster\.local in mesh: passthrough to the service, all its versions/);
    assert.deepEqual((r as any).labels, {});
    assert.equal(send([DR, vs("v", [to("a", [{ headers: { x: { exact: "1" } } }])])]), 404);
  });
  it("short host names resolve in the client's and the VirtualService's namespaces", () => {
    const rs = [vs("v", [to("a")], { hosts: ["mocka"] }, { namespace: "apps" }), dr({ a: "v9" }, { namespace: "apps" })];
    assert.equal(send(rs, { sourceNamespace: "apps" }), "a");
    assert.equal(send(rs, { host: "mocka.apps" }), "a");
    assert.equal(send(rs, { host: "mocka" }), "all", "mocka from default is default's mocka");
  });
  it("subset labels come from the DestinationRule: the client's namespace first, then the service's, then the root; short hosts in the rule's namespace", () => {
    const root = dr({ a: "root" }, { namespace: "istio-system" }, HOST);
    const rs = [vs("v", [to("a")]), root, dr({ a: "own" }), dr({ a: "client" }, { namespace: "c" }, HOST), dr({ a: "elsewhere" }, { namespace: "c" })];
    const labels = (req: Partial<IstioRequest>) => (routeIstio(rs, { host: HOST, ...req }) as any).labels;
    assert.deepEqual(labels({}), { version: "own" });
    assert.deepEqual(labels({ sourceNamespace: "c" }), { version: "client" });
    assert.deepEqual((routeIstio([vs("v", [to("a")]), root, dr({ a: "short" }, { namespace: "istio-system" })], { host: HOST }) as any).labels, { version: "root" });
  });
  it("a subset no DestinationRule defines, or one without endpoints, answers 503 without a fallback", () => {
    assert.equal(send([vs("v", [to("z")]), DR]), 503);
    assert.equal(send([vs("v", [to("a")]), DR], {}, { hasEndpoints: (_h, s) => s !== "a" }), 503);
  });
  it("ASM's fallback: taken when the subset is undefined or has no endpoints; 503 when the fallback has none either", () => {
    const fb = (subset: string) => to(subset, undefined, { fallback: { target: { host: HOST, subset: "a" } } });
    const r = routeIstio([vs("v", [fb("z")]), DR], { host: HOST });
    assert.deepEqual(r.kind === "destination" && [r.subset, r.labels, r.fellBack], ["a", { version: "v1" }, `subset z of ${HOST} is in no DestinationRule that applies`]);
    assert.equal(send([vs("v", [fb("b")]), DR], {}, { hasEndpoints: (_h, s) => s !== "b" }), "a");
    assert.equal(send([vs("v", [fb("b")]), DR], {}), "b");
    assert.equal(send([vs("v", [fb("b")]), DR], {}, { hasEndpoints: () => false }), 503);
  });
  it("a sidecar uses the oldest VirtualService of a host and says it ignored the others", () => {
    const rs = [DR, vs("new", [to("b")], {}, { creationTimestamp: "2024-01-01T00:00:00Z" }), vs("old", [to("a")], {}, { creationTimestamp: "2020-01-01T00:00:00Z" })];
    const r = routeIstio(rs, { host: "mocka" });
    assert.equal(outcome(r), "a");
    assert.match(r.notes.join("\n"), /VirtualService default\/new ignored/);
  });
  it("a field it does not interpret is an error naming it", () => {
    assert.throws(() => send([DR, vs("v", [to("a", [{ urI: { exact: "/" } }])])]), /VirtualService default\/v: spec\.http\[0\]\.match\[0\]\.urI: is not an HTTPMatchRequest field/);
    assert.throws(() => send([DR, vs("v", [to("a", [{ uri: { suffix: "/" } }])])]), /spec\.http\[0\]\.match\[0\]\.uri: \{"suffix":"\/"\} is not a StringMatch/);
  });
});

// The example spec, read as data: which version of each service a lane reaches.
const example = parse(readFileSync(join(ROOT, "deploy/lanes.example.yaml"), "utf8"));
const LABEL: string = example.labelKey;
const HEADER: string = example.routingHeader;
const SERVICES: string[] = example.lanes[example.baseline].services;
function expectedVersion(service: string, lane: string): string {
  const l = example.lanes[lane];
  return l?.services.includes(service) ? l.label : example.lanes[example.baseline].label;
}
/** Endpoints as the example deploys them: each lane's version of each service it holds. */
const hasEndpoints = (host: string, _subset: string | undefined, labels: Record<string, string>) => {
  const service = host.split(".")[0];
  return Object.values<any>(example.lanes).some((l) => l.services.includes(service) && (labels[LABEL] === undefined || labels[LABEL] === l.label));
};
const LANES = [...Object.keys(example.lanes), "none", "unknown-lane"];

describe("the committed generated manifests, interpreted, reach what the example spec says", () => {
  for (const layout of ["istio", "asm"]) {
    const resources = loadResources(join(ROOT, "deploy/generated", layout));
    for (const service of SERVICES) for (const lane of LANES) {
      it(`${layout}: ${service} in lane ${lane}`, () => {
        const headers = lane === "none" ? {} : { [HEADER]: lane };
        const r = routeIstio(resources, { host: `${service}.${example.namespace}.svc.cluster.local`, headers, sourceNamespace: example.namespace }, { hasEndpoints });
        if (layout === "asm" && !example.lanes[lane]) {
          // ASM's form has no route without a known lane: the outbound filter's default_lane gives one first.
          assert.equal(r.kind, "no-route", JSON.stringify(r));
          return;
        }
        assert.equal(r.kind, "destination", JSON.stringify(r));
        assert.deepEqual((r as any).labels, { [LABEL]: expectedVersion(service, lane) });
      });
    }
  }
  it("the gateway assigns lanes by the spec's weights and sends each to its entry service's version", () => {
    for (const layout of ["istio", "asm"]) {
      const resources = loadResources(join(ROOT, "deploy/generated", layout));
      const gw = `${example.gateway.namespace}/${example.gateway.name}`;
      let at = 0;
      for (const [lane, weight] of Object.entries<number>(example.gateway.weights)) {
        // The middle of the lane's share of [0, 1).
        const x = (at + weight / 2) / 100;
        at += weight;
        const r = routeIstio(resources, { host: "shop.example.com", path: example.gateway.entry.prefix, gateway: gw }, { random: () => x, hasEndpoints });
        assert.ok(r.kind === "destination", `${layout} ${lane}: ${JSON.stringify(r)}`);
        assert.equal(r.host, `${example.gateway.entry.service}.${example.namespace}.svc.cluster.local`);
        assert.equal(r.port, example.gateway.entry.port);
        assert.deepEqual(r.headers.set, { [HEADER]: lane }, `${layout} ${lane}`);
        assert.deepEqual(r.labels, { [LABEL]: expectedVersion(example.gateway.entry.service, lane) }, `${layout} ${lane}`);
      }
    }
  });
});

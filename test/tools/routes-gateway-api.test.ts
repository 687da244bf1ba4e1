// The Gateway API HTTPRoute interpreter (demo/routes/gateway-api.ts) against the spec's semantics:
// precedence across rules and routes (each case one where file order alone would answer otherwise),
// matching, parentRefs, hostnames, weights; and the project's copy of the Gateway API CRDs.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { routeHttp, type GatewayApiResult, type GatewayParent, type HttpRequest, type Parent, type ServiceParent } from "../../demo/routes/gateway-api.ts";
import { loadResources } from "../../demo/routes/load.ts";
import { ROOT, SHARED } from "../support/helpers.ts";

const MESH: ServiceParent = { kind: "Service", name: "mocka", namespace: "default", port: 8000, portName: "http" };
const SVC_REF = { group: "", kind: "Service", name: "mocka", port: 8000 };

function route(name: string, rules: any[], extra: { namespace?: string; created?: string; parentRefs?: any[]; hostnames?: string[] } = {}) {
  return {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name, namespace: extra.namespace ?? "default", ...(extra.created ? { creationTimestamp: extra.created } : {}) },
    spec: { parentRefs: extra.parentRefs ?? [SVC_REF], ...(extra.hostnames ? { hostnames: extra.hostnames } : {}), rules },
  };
}
const to = (name: string, matches?: any[]) => ({ ...(matches ? { matches } : {}), backendRefs: [{ name, port: 8000 }] });
const prefix = (value: string, more: any = {}) => ({ path: { type: "PathPrefix", value }, ...more });
const exact = (value: string, more: any = {}) => ({ path: { type: "Exact", value }, ...more });
const hdrs = (...names: string[]) => names.map((n) => ({ name: n, value: "1" }));

/** The backend's name, or the status (404 no route, 500 no backend). */
function outcome(r: GatewayApiResult): string | number {
  return r.kind === "backend" ? r.backend.name : r.status;
}
function send(resources: any[], req: HttpRequest, parent: Parent = MESH, random = () => 0) {
  return outcome(routeHttp(resources, parent, req, { random }));
}

describe("Gateway API precedence (across all rules of all routes on the parent)", () => {
  it("an Exact path beats a prefix listed before it", () => {
    const rs = [route("r", [to("prefix", [prefix("/a")]), to("exact", [exact("/a/b")])])];
    assert.equal(send(rs, { path: "/a/b" }), "exact");
    assert.equal(send(rs, { path: "/a/c" }), "prefix");
  });
  it("the longest prefix beats a shorter one listed before it; prefixes match whole path elements", () => {
    const rs = [route("r", [to("short", [prefix("/a")]), to("long", [prefix("/a/b")])])];
    assert.equal(send(rs, { path: "/a/b/c" }), "long");
    assert.equal(send(rs, { path: "/a/bc" }), "short");
  });
  it("a longer prefix beats more header matches", () => {
    const rs = [route("r", [to("headers", [prefix("/a", { headers: hdrs("x", "y") })]), to("long", [prefix("/a/b")])])];
    assert.equal(send(rs, { path: "/a/b", headers: { x: "1", y: "1" } }), "long");
  });
  it("a method match beats more header matches listed before it", () => {
    const rs = [route("r", [to("headers", [{ headers: hdrs("x", "y") }]), to("method", [{ method: "GET" }])])];
    assert.equal(send(rs, { method: "GET", path: "/", headers: { x: "1", y: "1" } }), "method");
    assert.equal(send(rs, { method: "POST", path: "/", headers: { x: "1", y: "1" } }), "headers");
  });
  it("more header matches beat fewer listed before them", () => {
    const rs = [route("r", [to("one", [{ headers: hdrs("x") }]), to("two", [{ headers: hdrs("x", "y") }])])];
    assert.equal(send(rs, { path: "/", headers: { x: "1", y: "1" } }), "two");
    assert.equal(send(rs, { path: "/", headers: { x: "1" } }), "one");
  });
  it("more query param matches beat fewer listed before them", () => {
    const q = (...names: string[]) => ({ queryParams: names.map((name) => ({ name, value: "1" })) });
    const rs = [route("r", [to("one", [q("a")]), to("two", [q("a", "b")])])];
    assert.equal(send(rs, { path: "/?a=1&b=1" }), "two");
    assert.equal(send(rs, { path: "/?a=1" }), "one");
  });
  it("a more specific match in a newer route beats an older route's catch-all", () => {
    const rs = [route("old", [to("old")], { created: "2020-01-01T00:00:00Z" }), route("new", [to("new", [exact("/a")])], { created: "2024-01-01T00:00:00Z" })];
    assert.equal(send(rs, { path: "/a" }), "new");
    assert.equal(send(rs, { path: "/b" }), "old");
  });
  it("equal matches: the oldest route wins, though listed last", () => {
    const rs = [route("a-new", [to("new")], { created: "2024-01-01T00:00:00Z" }), route("z-old", [to("old")], { created: "2020-01-01T00:00:00Z" })];
    assert.equal(send(rs, { path: "/x" }), "old");
  });
  it("equal matches and ages: {namespace}/{name} first alphabetically wins, though listed last", () => {
    const t = "2024-01-01T00:00:00Z";
    const rs = [route("b", [to("b")], { created: t }), route("a", [to("a")], { created: t })];
    assert.equal(send(rs, { path: "/x" }), "a");
    // A route not applied yet (no timestamp) is newer than any that has one.
    assert.equal(send([route("a", [to("a")]), route("b", [to("b")], { created: t })], { path: "/x" }), "b");
  });
  it("within one route, the first matching rule in list order", () => {
    const rs = [route("r", [to("first", [{ headers: hdrs("x") }]), to("second", [{ headers: hdrs("x") }])])];
    assert.equal(send(rs, { path: "/", headers: { x: "1" } }), "first");
  });
  it("precedence is per match: a rule's Exact match outranks another rule's prefix", () => {
    const rs = [route("r", [to("prefix", [prefix("/a/b")]), to("either", [prefix("/z"), exact("/a/b/c")])])];
    assert.equal(send(rs, { path: "/a/b/c" }), "either");
  });
});

describe("Gateway API matching", () => {
  it("matches are ORed, criteria within a match ANDed", () => {
    const rs = [route("r", [to("hit", [prefix("/foo", { headers: [{ name: "version", value: "v2" }] }), prefix("/v2/foo")])])];
    assert.equal(send(rs, { path: "/foo", headers: { version: "v2" } }), "hit");
    assert.equal(send(rs, { path: "/v2/foo" }), "hit");
    assert.equal(send(rs, { path: "/foo", headers: { version: "v1" } }), 404);
  });
  it("header names are case-insensitive, values exact; the first of equivalent names counts", () => {
    const rs = [route("r", [to("hit", [{ headers: [{ name: "X-Lane", value: "s2" }, { name: "x-lane", value: "s3" }] }])])];
    assert.equal(send(rs, { path: "/", headers: { "x-LANE": "s2" } }), "hit");
    assert.equal(send(rs, { path: "/", headers: { "x-lane": "S2" } }), 404);
    assert.equal(send(rs, { path: "/", headers: { "x-lane": "s3" } }), 404);
  });
  it("RegularExpression header and path matches take the whole value", () => {
    const rs = [route("r", [to("hit", [{ path: { type: "RegularExpression", value: "/v[0-9]+" }, headers: [{ type: "RegularExpression", name: "x", value: "s[0-9]" }] }])])];
    assert.equal(send(rs, { path: "/v12", headers: { x: "s1" } }), "hit");
    assert.equal(send(rs, { path: "/v12", headers: { x: "s12" } }), 404);
    assert.equal(send(rs, { path: "/v12/more", headers: { x: "s1" } }), 404);
  });
  it("Exact paths are exact; a prefix's trailing slash is ignored; the query string is not the path", () => {
    const rs = [route("r", [to("exact", [exact("/a")]), to("prefix", [prefix("/abc/")])])];
    assert.equal(send(rs, { path: "/a?x=1" }), "exact");
    assert.equal(send(rs, { path: "/a/" }), 404);
    for (const p of ["/abc", "/abc/", "/abc/def"]) assert.equal(send(rs, { path: p }), "prefix", p);
    assert.equal(send(rs, { path: "/abcd" }), 404);
  });
  it("no matches: PathPrefix / (everything); method and query names are exact", () => {
    assert.equal(send([route("r", [to("all")])], { path: "/any/thing" }), "all");
    const rs = [route("r", [to("hit", [{ method: "PUT", queryParams: [{ name: "Lane", value: "s1" }] }])])];
    assert.equal(send(rs, { method: "PUT", path: "/?Lane=s1" }), "hit");
    assert.equal(send(rs, { method: "PUT", path: "/?lane=s1" }), 404);
    assert.equal(send(rs, { method: "GET", path: "/?Lane=s1" }), 404);
    assert.equal(send(rs, { method: "PUT", path: "/", query: { Lane: "s1" } }), "hit");
  });
  it("a malformed route is an error naming the route and the field", () => {
    const rs = [route("bad", [to("x", [{ path: { type: "Prefix", value: "/" } }])])];
    assert.throws(() => send(rs, { path: "/" }), /HTTPRoute default\/bad: spec\.rules\[0\]\.matches\[0\]\.path\.type: "Prefix" is not one of Exact, PathPrefix, RegularExpression/);
    assert.throws(() => send([route("m", [to("x", [{ method: "get" }])])], { path: "/" }), /HTTPRoute default\/m: spec\.rules\[0\]\.matches\[0\]\.method: "get" is not one of GET, HEAD/);
    const re = [route("re", [to("x", [{ headers: [{ type: "RegularExpression", name: "x", value: "(" }] }])])];
    assert.throws(() => send(re, { path: "/", headers: { x: "1" } }), /HTTPRoute default\/re: .*headers: "\(" is not a regular expression/);
  });
});

describe("Gateway API parentRefs (mesh: Service parents)", () => {
  it("a parentRef without group \"\" refers to a Gateway, not the Service", () => {
    assert.equal(send([route("r", [to("x")], { parentRefs: [{ kind: "Service", name: "mocka" }] })], { path: "/" }), 404);
  });
  it("a parentRef's namespace defaults to the route's", () => {
    const rs = [route("r", [to("x")], { namespace: "other" })];
    assert.equal(send(rs, { path: "/" }), 404);
    assert.equal(send(rs, { path: "/" }, { ...MESH, namespace: "other" }), "x");
  });
  it("sectionName names the Service port's name; port its number", () => {
    const by = (ref: any) => [route("r", [to("x")], { parentRefs: [{ group: "", kind: "Service", name: "mocka", ...ref }] })];
    assert.equal(send(by({ sectionName: "http" }), { path: "/" }), "x");
    assert.equal(send(by({ sectionName: "grpc" }), { path: "/" }), 404);
    assert.equal(send(by({ port: 9000 }), { path: "/" }), 404);
    assert.equal(send(by({}), { path: "/" }, { ...MESH, port: 9000 }), "x");
  });
  it("hostnames are not used for Service parents", () => {
    assert.equal(send([route("r", [to("x")], { hostnames: ["elsewhere.example.com"] })], { path: "/" }), "x");
  });
  it("a consumer route applies to its namespace's clients only, instead of the producer's routes", () => {
    const rs = [route("producer", [to("producer")]), route("consumer", [to("consumer")], { namespace: "client", parentRefs: [{ ...SVC_REF, namespace: "default" }] })];
    assert.equal(send(rs, { path: "/" }, { ...MESH, sourceNamespace: "client" }), "consumer");
    assert.equal(send(rs, { path: "/" }, { ...MESH, sourceNamespace: "third" }), "producer");
    assert.equal(send(rs, { path: "/" }), "producer");
  });
});

const GATEWAY = {
  apiVersion: "gateway.networking.k8s.io/v1",
  kind: "Gateway",
  metadata: { name: "ingress", namespace: "gw" },
  spec: {
    gatewayClassName: "istio",
    listeners: [
      { name: "web", port: 80, protocol: "HTTP", hostname: "*.example.com", allowedRoutes: { namespaces: { from: "All" } } },
      { name: "any", port: 8080, protocol: "HTTP" },
    ],
  },
};
const AT = (hostname: string, sectionName = "web"): GatewayParent => ({ kind: "Gateway", name: "ingress", namespace: "gw", sectionName, hostname });
const GW_REF = { name: "ingress", namespace: "gw" };

describe("Gateway API at a Gateway: listeners and hostnames", () => {
  it("route and listener hostnames intersect; the Host header's port is ignored", () => {
    const rs = [GATEWAY, route("r", [to("x")], { parentRefs: [GW_REF], hostnames: ["a.example.com", "a.example.net"] })];
    assert.equal(send(rs, { path: "/" }, AT("a.example.com:80")), "x");
    assert.equal(send(rs, { path: "/" }, AT("b.example.com")), 404);
    assert.equal(send(rs, { path: "/" }, AT("a.example.net")), 404, "not the listener's hostname");
  });
  it("a route none of whose hostnames intersects the listener's is not attached, and says so", () => {
    const r = routeHttp([GATEWAY, route("r", [to("x")], { parentRefs: [GW_REF], hostnames: ["test.example.net"] })], AT("test.example.com"), { path: "/" });
    assert.equal(r.kind, "no-route");
    assert.match(r.notes.join("\n"), /HTTPRoute default\/r not attached to listener web: none of its hostnames intersects/);
  });
  it("the most specific matching hostname beats a longer path in a route listed first", () => {
    const rs = [GATEWAY,
      route("wild", [to("wild", [prefix("/x")])], { parentRefs: [GW_REF], hostnames: ["*.example.com"], created: "2020-01-01T00:00:00Z" }),
      route("exact", [to("exact")], { parentRefs: [GW_REF], hostnames: ["a.example.com"] })];
    assert.equal(send(rs, { path: "/x" }, AT("a.example.com")), "exact");
    assert.equal(send(rs, { path: "/x" }, AT("b.example.com")), "wild");
    assert.equal(send(rs, { path: "/y" }, AT("b.example.com")), 404);
  });
  it("parentRef sectionName and port select listeners; allowedRoutes defaults to the Gateway's namespace", () => {
    const on = (ref: any, ns = "default") => [GATEWAY, route("r", [to("x")], { namespace: ns, parentRefs: [{ ...GW_REF, ...ref }] })];
    assert.equal(send(on({ sectionName: "web" }), { path: "/" }, AT("a.example.com")), "x");
    assert.equal(send(on({ sectionName: "web" }), { path: "/" }, AT("a", "any")), 404);
    assert.equal(send(on({ port: 8080 }, "gw"), { path: "/" }, AT("a", "any")), "x");
    assert.equal(send(on({ port: 80 }, "gw"), { path: "/" }, AT("a", "any")), 404);
    const r = routeHttp(on({}), AT("anything", "any"), { path: "/" });
    assert.equal(r.kind, "no-route");
    assert.match(r.notes.join("\n"), /routes from namespace default are not allowed/);
  });
  it("a backend in another namespace needs a ReferenceGrant (500 without)", () => {
    const rs: any[] = [GATEWAY, route("r", [{ backendRefs: [{ name: "app", namespace: "apps", port: 80 }] }], { parentRefs: [GW_REF] })];
    const r = routeHttp(rs, AT("a.example.com"), { path: "/" });
    assert.equal(r.kind, "no-backend");
    assert.match((r as any).reason, /no ReferenceGrant in apps/);
    rs.push({ apiVersion: "gateway.networking.k8s.io/v1beta1", kind: "ReferenceGrant", metadata: { name: "g", namespace: "apps" },
      spec: { from: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", namespace: "default" }], to: [{ group: "", kind: "Service" }] } });
    assert.equal(send(rs, { path: "/" }, AT("a.example.com")), "app");
  });
  it("a Gateway that is not among the resources is an error", () => {
    assert.throws(() => routeHttp([], AT("a.example.com"), { path: "/" }), /Gateway gw\/ingress: is not among the resources/);
  });
});

describe("Gateway API backendRefs and weights", () => {
  const weighted = (...ws: (number | undefined)[]) => [route("r", [{ backendRefs: ws.map((w, i) => ({ name: `b${i}`, port: 8000, ...(w === undefined ? {} : { weight: w }) })) }])];
  it("picks by weight with the given random source", () => {
    const rs = weighted(60, 20, 20);
    const got = [0, 0.59, 0.6, 0.79, 0.8, 0.999].map((x) => send(rs, { path: "/" }, MESH, () => x));
    assert.deepEqual(got, ["b0", "b0", "b1", "b1", "b2", "b2"]);
    const r = routeHttp(rs, MESH, { path: "/" }, { random: () => 0 });
    assert.deepEqual(r.kind === "backend" && r.backends.map((b) => [b.name, b.namespace, b.port, b.weight]), [["b0", "default", 8000, 60], ["b1", "default", 8000, 20], ["b2", "default", 8000, 20]]);
  });
  it("weight defaults to 1; weight 0 is never picked", () => {
    assert.deepEqual([0.49, 0.5].map((x) => send(weighted(undefined, undefined), { path: "/" }, MESH, () => x)), ["b0", "b1"]);
    assert.deepEqual([0, 0.999].map((x) => send(weighted(0, 1, 0), { path: "/" }, MESH, () => x)), ["b1", "b1"]);
  });
  it("all weights 0, or no backendRefs: no backend (500)", () => {
    const r = routeHttp(weighted(0, 0), MESH, { path: "/" });
    assert.equal(r.kind === "no-backend" && r.reason, "HTTPRoute default/r rule 0: every backendRef has weight 0");
    assert.equal(send([route("r", [{ matches: [prefix("/")] }])], { path: "/" }), 500);
  });
  it("an unsupported backend kind answers 500 for its share only", () => {
    const rs = [route("r", [{ backendRefs: [{ name: "svc", port: 80 }, { group: "example.com", kind: "Bucket", name: "b" }] }])];
    assert.deepEqual([0.2, 0.7].map((x) => send(rs, { path: "/" }, MESH, () => x)), ["svc", 500]);
  });
  it("filters are reported, not applied", () => {
    const mod = { type: "RequestHeaderModifier", requestHeaderModifier: { set: [{ name: "x-lane", value: "s2" }] } };
    const r = routeHttp([route("r", [{ filters: [mod], backendRefs: [{ name: "svc", port: 80 }] }])], MESH, { path: "/" });
    assert.ok(r.kind === "backend");
    assert.deepEqual(r.filters, [mod]);
    assert.match(r.notes.join("\n"), /filters RequestHeaderModifier: reported, not applied/);
  });
});

describe("the Gateway API CRDs and the loader", () => {
  it("the project's copy of the CRDs is ../shared's, with its source stated", { skip: !existsSync(join(SHARED, "schemas/gateway-api-crds.yaml")) && "../shared is absent" }, () => {
    const docs = (file: string) => parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS()).filter(Boolean);
    const ours = join(ROOT, "deploy/schemas/gateway-api-crds.yaml");
    assert.deepEqual(docs(ours), docs(join(SHARED, "schemas/gateway-api-crds.yaml")));
    assert.match(readFileSync(ours, "utf8").split("---")[0], /Source: kubernetes-sigs\/gateway-api v1\.6\.1, config\/crd\/standard\/.*commit 8bb74df00e56/);
  });
  it("loads every document of a folder's YAML files; a YAML error names the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "lane-tag-routes-"));
    try {
      writeFileSync(join(dir, "b.yaml"), "kind: B\n---\n---\nkind: C\n");
      writeFileSync(join(dir, "a.yml"), "kind: A\n");
      writeFileSync(join(dir, "notes.txt"), "kind: skipped\n");
      assert.deepEqual(loadResources(dir).map((r) => r.kind), ["A", "B", "C"]);
      writeFileSync(join(dir, "c.yaml"), "kind: [\n");
      assert.throws(() => loadResources(dir), /c\.yaml: .*line/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The spec's `targets` and `ambient` fields: which outputs are generated, and what ambient mode refuses
// (strict mode; per-service waypoints with trace correlation), each with a message naming the field.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseSpec, SpecError } from "../../deploy/lib/spec.ts";
import { generate } from "../../deploy/render/generate.ts";
import { Validator } from "../../deploy/lib/validate.ts";
import { routingPlan } from "../../deploy/lib/plan.ts";
import { EXAMPLE } from "./manifests-shared.ts";
import { base, filter, send, traceparent, UNSET } from "../support/helpers.ts";

const example = readFileSync(EXAMPLE, "utf8");
const parse = (extra: string) => parseSpec(example + extra, "lanes.yaml");
function refused(extra: string): string {
  try {
    parse(extra);
  } catch (e) {
    if (e instanceof SpecError) return e.message;
    throw e;
  }
  assert.fail(`accepted: ${extra}`);
}
const folders = (extra: string) => [...new Set(generate(parse(extra)).map((o) => o.path.split("/")[0]))];

describe("spec: targets and ambient", () => {
  it("by default every output is generated: asm/, istio/, ambient/ with the namespace waypoint `waypoint`", () => {
    assert.deepEqual(folders(""), ["asm", "istio", "ambient"]);
    assert.deepEqual(parse("").ambient, { waypoint: "waypoint", scope: "namespace", ports: { mocka: 8000, mockb: 8000, mockc: 8000 } });
  });

  it("targets picks the outputs", () => {
    assert.deepEqual(folders("targets: [ambient]\n"), ["ambient"]);
    assert.deepEqual(folders("targets: [istio, asm]\n"), ["asm", "istio"]);
    assert.equal(parse("targets: [asm]\n").ambient, undefined);
  });

  it("refuses unknown and repeated targets, an empty list, and ambient settings without the ambient target", () => {
    assert.match(refused("targets: [asm, gamma]\n"), /targets\[1\]: "gamma" is not one of asm, istio, ambient/);
    assert.match(refused("targets: [asm, asm]\n"), /targets\[1\]: "asm" is listed twice/);
    assert.match(refused("targets: []\n"), /targets: must be a non-empty list/);
    assert.match(refused("targets: [asm]\nambient: {waypoint: wp}\n"), /ambient: is set, but targets leaves ambient out/);
  });

  it("strict mode: refused with ambient named; without targets it only leaves ambient/ out", () => {
    assert.match(refused("localLane: true\ntargets: [asm, ambient]\n"), /localLane: strict mode cannot work in Istio ambient mode: no proxy there knows the pod's own lane/);
    assert.match(refused("localLane: true\nambient: {waypoint: wp}\n"), /localLane: strict mode cannot work in Istio ambient mode/);
    assert.deepEqual(folders("localLane: true\n"), ["asm", "istio"]);
  });

  it("correlation needs the namespace waypoint: per-service waypoints are refused with it", () => {
    assert.match(refused("correlation: {}\nambient: {scope: service}\n"), /ambient\.scope: trace correlation needs scope namespace: it works only where one waypoint sees both/);
    const s = parse("correlation: {}\n");
    assert.equal(s.ambient!.scope, "namespace");
    assert.deepEqual((routingPlan(s).filters.waypoint as any).correlation, { enabled: true });
  });

  it("checks waypoint, scope, ports and the derived Service names", () => {
    assert.match(refused("ambient: {waypoint: Way_Point}\n"), /ambient\.waypoint: "Way_Point" is not a Kubernetes name/);
    assert.match(refused("ambient: {scope: cluster}\n"), /ambient\.scope: "cluster" is not one of "namespace", "service"/);
    assert.match(refused("ambient: {port: 0}\n"), /ambient\.port: must be a port number 1-65535, got 0/);
    assert.match(refused("ambient: {ports: {mockz: 80}}\n"), /ambient\.ports\.mockz: "mockz" is not a service of any lane/);
    assert.match(refused("ambient: {waypoint: wp, scope: service}\n"), /ambient\.waypoint: is the namespace waypoint's name/);
    assert.match(refused("ambient: {wayponit: wp}\n"), /did you mean waypoint\?/);
    // Long service and lane names still give valid, distinct per-version Service names (cut, with a hash).
    const long = `l${"x".repeat(60)}`;
    const spec = parseSpec(example.replace("  s3:\n", `  ${long}:\n`).replace("    s3: 20", `    ${long}: 20`), "lanes.yaml");
    const names = generate(spec).filter((o) => o.resource.kind === "Service").map((o) => o.resource.metadata.name);
    assert.equal(new Set(names).size, names.length);
    assert.ok(names.some((n) => n.startsWith("test-mockb-lxxx") && n.length <= 63), names.join(" "));
    for (const o of generate(spec).filter((x) => x.path.startsWith("ambient/"))) assert.deepEqual(new Validator().check(o.resource), [], o.path);
    assert.deepEqual(parse("ambient: {port: 9000, ports: {mockb: 7000}}\n").ambient!.ports, { mocka: 9000, mockb: 7000, mockc: 9000 });
  });

  it("scope service: a waypoint per service, each with its filter; the routes and Services validate", () => {
    const out = generate(parse("ambient: {scope: service}\n")).filter((o) => o.path.startsWith("ambient/"));
    const gws = out.filter((o) => o.resource.kind === "Gateway" && o.resource.spec.gatewayClassName === "istio-waypoint").map((o) => o.resource.metadata.name);
    assert.deepEqual(gws, ["mocka-waypoint", "mockb-waypoint", "mockc-waypoint"]);
    const targets = out.filter((o) => o.resource.kind === "WasmPlugin").map((o) => o.resource.spec.targetRefs[0].name);
    assert.deepEqual(targets, [...gws, "ingressgateway"]);
    const svc = out.find((o) => o.path === "ambient/service-test-mockb-s3.yaml")!.resource;
    assert.equal(svc.metadata.labels!["istio.io/use-waypoint"], "mockb-waypoint");
    assert.match(out[0].notes!.join("\n"), /kubectl label service mockb -n default istio\.io\/use-waypoint=mockb-waypoint/);
    const v = new Validator();
    for (const o of out) assert.deepEqual(v.check(o.resource), [], o.path);
  });

  it("the validator refuses a wrong Gateway API field and a Service without ports (so the checks can fail)", () => {
    const out = generate(parse(""));
    const v = new Validator();
    const route = structuredClone(out.find((o) => o.path === "ambient/httproute-mockb.yaml")!.resource);
    route.spec.rules[0].matches[0].headers[0].type = "Prefix";
    assert.notDeepEqual(v.check(route), []);
    const svc = structuredClone(out.find((o) => o.path === "ambient/service-test-mockb-s3.yaml")!.resource);
    svc.spec.ports = [];
    assert.notDeepEqual(v.check(svc), []);
    svc.metadata.name = "9mockb";
    assert.match(v.check(svc).join("\n"), /not a DNS-1035 label/);
  });

  it("with correlation the waypoint restores a lane by trace id for the service's own call (one waypoint sees both)", async () => {
    const { plugin } = await filter(routingPlan(parse("correlation: {}\n")).filters.waypoint);
    const tp: [string, string] = ["traceparent", traceparent("4bf92f3577b34da6a3ce929d0e0e4736")];
    // The request arriving at mocka, in lane s2; then mocka's call to mockb, which lost its baggage.
    send(plugin, [...base, ["baggage", "x-asm-prefer-tag=s2"], tp], UNSET);
    const r = send(plugin, [...base, tp], UNSET);
    assert.deepEqual(r.tag, ["s2"]);
  });
});

// npm run manifests: lanes spec -> ASM and Istio manifests, validated against the real CRD schemas, and
// accepted by the built filter.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { parseSpec, SpecError } from "../../deploy/lib/spec.ts";
import { filterConfig, ROOT_ID } from "../../deploy/render/generate.ts";
import { Validator, ISTIO_CRDS } from "../../deploy/lib/validate.ts";
import { Host } from "../../emulator/index.ts";
import { ROOT, SHARED, wasmBytes } from "../support/helpers.ts";
import { spec, outputs, find, manifests, tree } from "./manifests-shared.ts";

describe("generated manifests", () => {
  it("reproduce the seed's mocka DestinationRule and VirtualService exactly (ASM), with our labels added", () => {
    const [dr, vs] = parseAllDocuments(readFileSync(join(ROOT, "test/fixtures/seed-mocka.yaml"), "utf8")).map((d) => d.toJS());
    // ASM's labels kept as they are; ours beside them, so that kubectl -l finds these too.
    const withOurs = (r: any) => ({ ...r, metadata: { ...r.metadata, labels: { ...r.metadata.labels, "app.kubernetes.io/managed-by": "lane-tag", "lane-tag/group": "test" } } });
    assert.deepEqual(find("asm/destinationrule-mocka.yaml"), withOurs(dr));
    assert.deepEqual(find("asm/virtualservice-mocka.yaml"), withOurs(vs));
  });

  it("the seed fixture is the seed's text, indentation aside", { skip: !existsSync(SHARED) && "../shared is absent" }, () => {
    const seed = readFileSync(join(SHARED, "seeds/asm-zero-code-lanes-otel-baggage.txt"), "utf8");
    const start = seed.indexOf("apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule");
    const end = seed.indexOf("Step 4", start);
    const squash = (s: string) => s.replace(/\s+/g, "");
    const fixture = readFileSync(join(ROOT, "test/fixtures/seed-mocka.yaml"), "utf8").split("\n").filter((l) => !l.startsWith("#") && l !== "---").join("\n");
    assert.equal(squash(fixture), squash(seed.slice(start, end)));
  });

  it("the shipped deploy/generated is what the example spec generates", () => {
    const out = mkdtempSync(join(tmpdir(), "lane-tag-gen-"));
    try {
      const r = manifests(["deploy/lanes.example.yaml", "--out", join(out, "g")]);
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(tree(join(out, "g")), tree(join(ROOT, "deploy/generated")), "run: npm run manifests -- deploy/lanes.example.yaml");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("has the ASM filter per workload and direction, and for the gateway", () => {
    const f = find("asm/filter-mockb-outbound.yaml");
    assert.equal(f.kind, "ASMFilterDeployment");
    assert.deepEqual(f.spec.workload, { kind: "Deployment", labels: { app: "mockb" } });
    assert.equal(f.spec.filter.patchContext, "SIDECAR_OUTBOUND");
    assert.equal(f.spec.filter.image, "registry.example.com/lane-tag:0.1.0");
    assert.equal(f.spec.filter.rootID, "lane-tag");
    assert.deepEqual(JSON.parse(f.spec.filter.parameters), filterConfig(spec, "outbound"));
    assert.equal(find("asm/filter-mockb-inbound.yaml").spec.filter.patchContext, "SIDECAR_INBOUND");
    const g = find("asm/filter-gateway.yaml");
    assert.equal(g.spec.filter.patchContext, "GATEWAY");
    assert.equal(JSON.parse(g.spec.filter.parameters).direction, "both", "gateways are told so explicitly");
    assert.equal(JSON.parse(g.spec.filter.parameters).trust_client_lane, false, "clients do not pick their lane");
    assert.equal(find("istio/filter-gateway.yaml").spec.pluginConfig.trust_client_lane, false);
    assert.equal("trust_client_lane" in JSON.parse(f.spec.filter.parameters), false, "sidecars keep the default (true)");
  });

  it("has Istio WasmPlugins on the istio layout, fail-open, matched per direction", () => {
    const w = find("istio/filter-mockc-inbound.yaml");
    assert.equal(w.spec.url, "oci://registry.example.com/lane-tag:0.1.0-istio");
    assert.equal(w.spec.pluginName, "lane-tag");
    assert.equal(w.spec.failStrategy, "FAIL_OPEN");
    assert.deepEqual(w.spec.match, [{ mode: "SERVER" }]);
    assert.deepEqual(find("istio/filter-mockc-outbound.yaml").spec.match, [{ mode: "CLIENT" }]);
    assert.deepEqual(w.spec.pluginConfig, filterConfig(spec, "inbound"));
  });

  it("Istio routing sends lanes without a version to the baseline (no fallback in Istio)", () => {
    const vs = find("istio/virtualservice-mockb.yaml");
    const subsets = vs.spec.http.map((r: any) => r.route[0].destination.subset);
    assert.deepEqual(subsets, ["s1", "s1", "s3", "s1"]); // s2 has no mockb; last: requests without a lane
    assert.ok(vs.spec.http.every((r: any) => !("fallback" in r)));
  });

  it("the gateway assigns lanes by weight and sets the routing header per lane", () => {
    const vs = find("asm/virtualservice-gateway.yaml");
    const route = vs.spec.http[0].route;
    assert.deepEqual(route.map((r: any) => [r.weight, r.headers.request.set["x-asm-prefer-tag"], r.destination.subset]),
      [[60, "s1", "s1"], [20, "s2", "s2"], [20, "s3", "s1"]]);
    assert.deepEqual(vs.spec.gateways, ["istio-system/ingressgateway"]);
  });

  it("every generated configuration is accepted by the built filter", async () => {
    const host = await Host.load(wasmBytes());
    for (const o of outputs) {
      const r = o.resource;
      const config = r.kind === "ASMFilterDeployment" ? r.spec.filter.parameters : r.kind === "WasmPlugin" ? JSON.stringify(r.spec.pluginConfig) : null;
      if (config === null) continue;
      const rootId = r.kind === "ASMFilterDeployment" ? r.spec.filter.rootID : r.spec.pluginName;
      const plugin = host.configure({ configuration: config, rootId });
      assert.equal(plugin.failed, false, `${o.path}: ${JSON.stringify(host.logs.at(-1))}`);
    }
  });
});

describe("validation against the CRD schemas", () => {
  it("the project's CRD schemas are Istio's, as ../shared holds them (kinds and versions the manifests use)", { skip: !existsSync(join(SHARED, "schemas/istio-crds.yaml")) && "../shared is absent" }, () => {
    const crds = (file: string) => parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS()).filter(Boolean);
    const theirs = crds(join(SHARED, "schemas/istio-crds.yaml"));
    const ours = crds(ISTIO_CRDS);
    assert.deepEqual(ours.map((c: any) => `${c.spec.names.kind}/${c.spec.versions.map((v: any) => v.name)}`).sort(),
      ["DestinationRule/v1beta1", "Gateway/v1beta1", "VirtualService/v1beta1", "WasmPlugin/v1alpha1"]);
    for (const c of ours) {
      const t = theirs.find((x: any) => x.spec.names.kind === c.spec.names.kind);
      assert.deepEqual(c.spec.versions[0], t.spec.versions.find((v: any) => v.name === c.spec.versions[0].name), c.spec.names.kind);
    }
  });
  const validator = new Validator();
  it("every generated resource is valid (ASM's fallback excepted)", () => {
    for (const o of outputs) assert.deepEqual(validator.check(o.resource), [], o.path);
  });
  it("catches unknown fields, wrong enums and wrong types (so the check above can fail)", () => {
    const vs = structuredClone(find("istio/virtualservice-mocka.yaml"));
    vs.spec.http[0].retries = { attemps: 3 };
    assert.match(validator.check(vs).join("\n"), /must NOT have additional properties \(attemps\)/);
    const wp = structuredClone(find("istio/filter-mocka-inbound.yaml"));
    wp.spec.failStrategy = "FAIL_SOFT";
    assert.match(validator.check(wp).join("\n"), /\/spec\/failStrategy: must be equal to one of the allowed values/);
    const dr = structuredClone(find("asm/destinationrule-mocka.yaml"));
    dr.spec.subsets = "s1";
    assert.match(validator.check(dr).join("\n"), /\/spec\/subsets: must be array/);
    const afd = structuredClone(find("asm/filter-mocka-inbound.yaml"));
    afd.spec.filter.rootId = "lane-tag";
    assert.notDeepEqual(validator.check(afd), []);
    const fb = structuredClone(find("asm/virtualservice-mocka.yaml"));
    fb.spec.http[0].fallback.target.weight = 1; // inside fallback: not Istio's, not checked
    assert.deepEqual(validator.check(fb), []);
  });
});

describe("root id", () => {
  it("agrees in the module, runtime-config.json and the generated manifests", async () => {
    const runtime = JSON.parse(readFileSync(join(ROOT, "runtime-config.json"), "utf8"));
    assert.deepEqual(runtime.config.rootIds, ["lane-tag"]);
    const source = readFileSync(join(ROOT, "assembly/version.ts"), "utf8");
    assert.equal(/export const ROOT_ID = "([^"]+)"/.exec(source)?.[1], runtime.config.rootIds[0]);
    assert.equal(ROOT_ID, runtime.config.rootIds[0]);
    // The built module serves that root id and no other.
    const host = await Host.load(wasmBytes());
    assert.equal(host.configure({ rootId: runtime.config.rootIds[0] }).failed, false);
    assert.equal(host.configure({ rootId: "other" }).failed, true);
    for (const o of outputs) {
      if (o.resource.kind === "ASMFilterDeployment") assert.equal(o.resource.spec.filter.rootID, ROOT_ID, o.path);
      if (o.resource.kind === "WasmPlugin") assert.equal(o.resource.spec.pluginName, ROOT_ID, o.path);
    }
  });
  it("runtime-config.json declares the ABI the built module exports", () => {
    const runtime = JSON.parse(readFileSync(join(ROOT, "runtime-config.json"), "utf8"));
    assert.equal(runtime.type, "envoy_proxy");
    const abi = WebAssembly.Module.exports(new WebAssembly.Module(wasmBytes())).map((e) => e.name).filter((n) => n.startsWith("proxy_abi_version_"));
    assert.equal(abi.length, 1);
    assert.ok(runtime.abiVersions.includes(abi[0].replace("proxy_abi_version_", "v").replace(/_/g, ".")), `${abi[0]} not in ${runtime.abiVersions}`);
  });
});

// A bad spec names the file, the path in it, the line, and what is wrong; nothing is written.
const BAD: [string, string, RegExp][] = [
  ["not YAML", "group: [test\n", /bad\.yaml: not valid YAML: .*\(line \d+, column \d+\)/],
  ["not a mapping", "- a\n", /bad\.yaml: \(top level\): must be a mapping/],
  ["unknown field", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlane: {}\nlanes: {s1: {label: v1, services: [a]}}\n", /bad\.yaml: lane: unknown field: did you mean lanes\? \(known: .*\) \(line 5\)/],
  ["missing image", "group: test\nnamespace: default\nbaseline: s1\nlanes: {s1: {label: v1, services: [a]}}\n", /bad\.yaml: image: is required/],
  ["bad service name", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes:\n  s1:\n    label: v1\n    services: [a, \"B_b\"]\n", /bad\.yaml: lanes\.s1\.services\[1\]: "B_b" is not a Kubernetes service name \(line 8\)/],
  ["baseline missing a service", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes:\n  s1: {label: v1, services: [a]}\n  s2: {label: v2, services: [b]}\n", /lanes\.s1\.services: the baseline lane must hold every service of the group; missing: b/],
  ["unknown baseline", "group: test\nnamespace: default\nbaseline: s9\nimage: r.io/x:1\nlanes: {s1: {label: v1, services: [a]}}\n", /baseline: "s9" is not one of the lanes \(s1\) \(line 3\)/],
  ["lane name not a subset name", "group: test\nnamespace: default\nbaseline: S1\nimage: r.io/x:1\nlanes: {S1: {label: v1, services: [a]}}\n", /lanes\.S1: lane name "S1" must be a DNS-1123 label/],
  ["duplicate label", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes:\n  s1: {label: v1, services: [a]}\n  s2: {label: v1, services: [a]}\n", /lanes\.s2\.label: "v1" is already the label of lane s1/],
  ["weights not 100", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes: {s1: {label: v1, services: [a]}}\ngateway:\n  name: gw\n  labels: {istio: gw}\n  entry: {service: a}\n  weights: {s1: 90}\n", /gateway\.weights: weights must add up to 100, they add up to 90 \(line 10\)/],
  ["weight for unknown lane", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes: {s1: {label: v1, services: [a]}}\ngateway:\n  name: gw\n  labels: {istio: gw}\n  entry: {service: a}\n  weights: {s1: 50, s9: 50}\n", /gateway\.weights\.s9: "s9" is not one of the lanes/],
  ["uppercase routing header", "group: test\nnamespace: default\nrouting" + "Header: X-Lane\nbaseline: s1\nimage: r.io/x:1\nlanes: {s1: {label: v1, services: [a]}}\n", /routingHeader: "X-Lane" must be lowercase \(line 3\)/],
  ["baggage key OpenTelemetry rewrites", "group: test\nnamespace: default\nbaggageKey: \"a%41\"\nbaseline: s1\nimage: r.io/x:1\nlanes: {s1: {label: v1, services: [a]}}\n", /baggageKey: "a%41" holds "%", which OpenTelemetry rewrites in baggage keys .*: the lane would not survive an instrumented app \(line 3\)/],
  ["routing header as baggage key OpenTelemetry rewrites", "group: test\nnamespace: default\nrouting" + "Header: x-lane|a\nbaseline: s1\nimage: r.io/x:1\nlanes: {s1: {label: v1, services: [a]}}\n", /routingHeader: "x-lane\|a" holds "\|".*; it is also the baggage key unless baggageKey is set \(line 3\)/],
  ["digest image without istioImage", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x@sha256:" + "a".repeat(64) + "\nlanes: {s1: {label: v1, services: [a]}}\n", /image: is pinned by digest: give istioImage too/],
  ["duplicate key", "group: test\ngroup: other\n", /not valid YAML: Map keys must be unique/],
  ["empty baseline", "group: test\nnamespace: default\nbaseline: \"\"\nimage: r.io/x:1\nlanes: {s1: {label: v1, services: [a]}}\n", /baseline: must not be empty \(line 3\)/],
  ["empty lane label", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes: {s1: {label: \"\", services: [a]}}\n", /lanes\.s1\.label: must not be empty/],
  ["image without a registry", "group: test\nnamespace: default\nbaseline: s1\nimage: mocka/x:1\nlanes: {s1: {label: v1, services: [a]}}\n", /image: "mocka\/x:1" names no registry/],
  ["numeric lane name", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes:\n  s1: {label: v1, services: [a]}\n  0x10: {label: v2, services: [a]}\n", /lanes: key 0x10 must be a string: quote it \("0x10"\) \(line 7, column 3\)/],
  ["fallback to an unknown lane", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes:\n  s1: {label: v1, services: [a]}\n  s2: {label: v2, services: [a], fallback: s9}\n", /bad\.yaml: lanes\.s2\.fallback: "s9" is not one of the lanes \(s1, s2\) \(line 7\)/],
  ["fallback cycle", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes:\n  s1: {label: v1, services: [a]}\n  a: {label: v2, services: [a], fallback: b}\n  b: {label: v3, services: [a], fallback: a}\n", /bad\.yaml: lanes\.a\.fallback: the fallback chain a -> b -> a is a cycle: a chain must end at the baseline s1 \(line 7\)/],
  ["baseline with a fallback", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes:\n  s1: {label: v1, services: [a], fallback: s2}\n  s2: {label: v2, services: [a]}\n", /bad\.yaml: lanes\.s1\.fallback: the baseline lane s1 has no fallback: it holds every service, and every other lane's chain ends at it \(line 6\)/],
  ["unknown lane field", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes:\n  s1: {label: v1, services: [a], fallbacks: s2}\n", /bad\.yaml: lanes\.s1\.fallbacks: unknown field: did you mean fallback\? \(known: label, services, fallback\) \(line 6\)/],
  ["correlation not a mapping", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes: {s1: {label: v1, services: [a]}}\ncorrelation: yes please\n", /correlation: must be true, false or a mapping \{headers, capacity, ttlMs\}, got string "yes please" \(line 6\)/],
  ["correlation header uppercase", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes: {s1: {label: v1, services: [a]}}\ncorrelation:\n  headers: [Traceparent]\n", /correlation\.headers\[0\]: "Traceparent" must be lowercase \(line 7\)/],
  ["correlation capacity", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes: {s1: {label: v1, services: [a]}}\ncorrelation: {capacity: 0}\n", /correlation\.capacity: must be an integer 1-1048576, got 0/],
  ["localLane not boolean", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes: {s1: {label: v1, services: [a]}}\nlocalLane: \"yes\"\n", /localLane: must be true or false, got string "yes" \(line 6\)/],
  ["laneFrom without a source", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes: {s1: {label: v1, services: [a]}}\ngateway:\n  name: gw\n  labels: {istio: gw}\n  entry: {service: a}\n  laneFrom: {values: {x: s1}}\n", /gateway\.laneFrom: needs a header, cookie or query to take the lane from \(line 10\)/],
  ["laneFrom value to an unknown lane", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes: {s1: {label: v1, services: [a]}}\ngateway:\n  name: gw\n  labels: {istio: gw}\n  entry: {service: a}\n  laneFrom: {cookie: lane, values: {v2: s2}}\n", /gateway\.laneFrom\.values\.v2: "s2" is not one of the lanes/],
  ["laneFrom header uppercase", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes: {s1: {label: v1, services: [a]}}\ngateway:\n  name: gw\n  labels: {istio: gw}\n  entry: {service: a}\n  laneFrom: {header: Version}\n", /gateway\.laneFrom\.header: "Version" must be lowercase/],
  ["no weights and no laneFrom", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes: {s1: {label: v1, services: [a]}}\ngateway:\n  name: gw\n  labels: {istio: gw}\n  entry: {service: a}\n", /gateway\.weights: must be a mapping of lane name to weight/],
  ["workloads for an unknown service", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes: {s1: {label: v1, services: [a]}}\nworkloads: {b: x}\n", /workloads\.b: "b" is not a service of any lane \(line 6\)/],
  ["sticky header is the routing header", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes: {s1: {label: v1, services: [a]}}\ngateway:\n  name: gw\n  labels: {istio: gw}\n  entry: {service: a}\n  weights: {s1: 100}\n  stickyHeader: x-asm-prefer-tag\n", /gateway\.stickyHeader: "x-asm-prefer-tag" is not allowed here \(it carries the lane\) \(line 11\)/],
  ["otel not a mapping", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes: {s1: {label: v1, services: [a]}}\notel: yes please\n", /otel: must be true, false or a mapping \{name, propagators, endpoint\}, got string "yes please" \(line 6\)/],
  ["otel unknown field", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes: {s1: {label: v1, services: [a]}}\notel:\n  sampler: always_on\n", /otel\.sampler: unknown field \(known: name, propagators, endpoint\) \(line 7\)/],
  ["otel unknown propagator", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes: {s1: {label: v1, services: [a]}}\notel:\n  propagators:\n    - tracecontext\n    - baggage\n    - w3c\n", /otel\.propagators\[2\]: "w3c" is not a propagator the operator knows \(tracecontext, baggage, b3, .*\) \(line 10\)/],
  ["otel propagators that carry no lane", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes: {s1: {label: v1, services: [a]}}\notel:\n  propagators: [b3, xray]\n", /otel\.propagators: b3, xray carry no lane \(b3, b3multi and xray forward no baggage\): list baggage, jaeger, ottrace or tracecontext, or set correlation so the lane follows the trace id \(line 7\)/],
  ["otel propagator none", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes: {s1: {label: v1, services: [a]}}\notel: {propagators: [tracecontext, baggage, none]}\n", /otel\.propagators\[2\]: "none" turns propagation off.* \(line 6\)/],
  ["otel endpoint not a URL", "group: test\nnamespace: default\nbaseline: s1\nimage: r.io/x:1\nlanes: {s1: {label: v1, services: [a]}}\notel:\n  endpoint: collector:4317\n", /otel\.endpoint: "collector:4317" is not an http\(s\):\/\/ URL of an OTLP collector \(line 7\)/],
];

describe("bad lanes specs", () => {
  for (const [name, text, expected] of BAD) {
    it(`${name}: a clear error and nothing written`, () => {
      const dir = mkdtempSync(join(tmpdir(), "lane-tag-bad-"));
      try {
        writeFileSync(join(dir, "bad.yaml"), text);
        assert.throws(() => parseSpec(text, join(dir, "bad.yaml")), (e: unknown) => e instanceof SpecError && expected.test(e.message));
        const r = manifests([join(dir, "bad.yaml"), "--out", join(dir, "out")]);
        assert.equal(r.code, 1);
        assert.match(r.err, expected);
        assert.match(r.err, /nothing was written/);
        assert.equal(existsSync(join(dir, "out")), false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it("a missing file is named", () => {
    const r = manifests(["/nonexistent/lanes.yaml", "--out", "/tmp/never"]);
    assert.equal(r.code, 1);
    assert.match(r.err, /\/nonexistent\/lanes\.yaml: cannot read/);
  });

  it("refuses to replace a folder holding files it did not write, and leaves it as it was", () => {
    const dir = mkdtempSync(join(tmpdir(), "lane-tag-out-"));
    try {
      mkdirSync(join(dir, "asm"));
      writeFileSync(join(dir, "notes.txt"), "mine");
      const r = manifests(["deploy/lanes.example.yaml", "--out", dir]);
      assert.equal(r.code, 1);
      assert.match(r.err, /refusing to replace .*\(notes\.txt\)/);
      assert.deepEqual(readdirSync(dir).sort(), ["asm", "notes.txt"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses an --out that is a file", () => {
    const dir = mkdtempSync(join(tmpdir(), "lane-tag-out-"));
    try {
      writeFileSync(join(dir, "file"), "x");
      const r = manifests(["deploy/lanes.example.yaml", "--out", join(dir, "file")]);
      assert.equal(r.code, 1);
      assert.match(r.err, /is not a folder/);
      assert.equal(readFileSync(join(dir, "file"), "utf8"), "x");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("replaces its own previous output", () => {
    const dir = mkdtempSync(join(tmpdir(), "lane-tag-out-"));
    try {
      assert.equal(manifests(["deploy/lanes.example.yaml", "--out", join(dir, "g")]).code, 0);
      // A file of an earlier run (its header) that the spec no longer generates.
      writeFileSync(join(dir, "g/asm/stale.yaml"), "# Generated by `npm run manifests -- old.yaml`. Do not edit; change the spec and regenerate.\nkind: Stale\n");
      assert.equal(manifests(["deploy/lanes.example.yaml", "--out", join(dir, "g")]).code, 0);
      assert.equal(existsSync(join(dir, "g/asm/stale.yaml")), false);
      assert.equal(parse(readFileSync(join(dir, "g/asm/filter-mocka-inbound.yaml"), "utf8")).kind, "ASMFilterDeployment");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

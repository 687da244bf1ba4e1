// npm run manifests, the spec's options: the WebSocket seed's spec, zero-code instrumentation, modes, digests,
// what an operator reads and applies, and warnings.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { loadSpec, parseSpec, SpecError } from "../../deploy/lib/spec.ts";
import { generate, filterConfig, OTEL_LANGUAGES } from "../../deploy/render/generate.ts";
import { Validator, OTEL_CRDS, otelPropagators } from "../../deploy/lib/validate.ts";
import { loadDigests, pinSpec } from "../../deploy/lib/digests.ts";
import { Host } from "../../emulator/index.ts";
import { ROOT, SHARED, wasmBytes } from "../support/helpers.ts";
import { EXAMPLE, spec, outputs, manifests, tree, assertValidAndAccepted } from "./manifests-shared.ts";

describe("the WebSocket seed's lanes spec (deploy/lanes.websocket.yaml): lanes named by the client", () => {
  const ws = loadSpec(join(ROOT, "deploy/lanes.websocket.yaml"));
  const out = generate(ws);
  const res = (path: string) => out.find((o) => o.path === path)!.resource;

  it("the gateway's filter takes the client's lane from the header, cookie or query, trusted; no weights", () => {
    const gateway = filterConfig(ws, "gateway");
    assert.deepEqual(gateway.lane_from, { header: "version", cookie: "lane", query: "lane", trusted: true });
    assert.equal(gateway.trust_client_lane, false);
    assert.equal(gateway.assign, undefined);
    assert.equal(gateway.routing_header, "version");
  });

  it("filters select the workloads by their app label (wsk for the service wsk-svc)", () => {
    assert.deepEqual(res("asm/filter-wsk-svc-inbound.yaml").spec.workload.labels, { app: "wsk" });
    assert.deepEqual(res("istio/filter-wsk-svc-outbound.yaml").spec.selector.matchLabels, { app: "wsk" });
    assert.deepEqual(res("istio/filter-helloworld-inbound.yaml").spec.selector.matchLabels, { app: "helloworld" });
  });

  it("the gateway routes to wsk-svc:5000 on the lane the filter set, with a catch-all to the baseline", () => {
    const vs = res("istio/virtualservice-gateway.yaml");
    assert.deepEqual(vs.spec.gateways, ["default/ws-gateway"]);
    assert.deepEqual(vs.spec.http.map((h: any) => h.match[0].headers?.version?.exact ?? "*"), ["v1", "v2", "*"]);
    assert.deepEqual(vs.spec.http.map((h: any) => [h.route[0].destination.host, h.route[0].destination.subset, h.route[0].destination.port.number]),
      [["wsk-svc.default.svc.cluster.local", "v1", 5000], ["wsk-svc.default.svc.cluster.local", "v1", 5000], ["wsk-svc.default.svc.cluster.local", "v1", 5000]]);
    // helloworld: v2 to its own subset, everything else to v1.
    const hw = res("istio/virtualservice-helloworld.yaml");
    assert.deepEqual(hw.spec.http.map((h: any) => h.route[0].destination.subset), ["v1", "v2", "v1"]);
    assert.deepEqual(res("istio/destinationrule-helloworld.yaml").spec.subsets, [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }]);
  });

  it("every filter config configures the built module, and the resources are valid", async () => {
    await assertValidAndAccepted(out, await Host.load(wasmBytes()));
  });

  it("the gateway filter, as generated, puts `version: v2` clients in v2 and the others in no lane", async () => {
    const host = await Host.load(wasmBytes());
    const p = host.configure({ configuration: JSON.stringify(filterConfig(ws, "gateway")) });
    const req = (extra: [string, string][], path = "/socket.io/?EIO=4&transport=websocket") =>
      p.request([[":authority", "gw"], [":path", path], [":method", "GET"], ...extra], { listenerDirection: 2 }).headers.filter(([k]) => k === "version" || k === "baggage");
    assert.deepEqual(req([["version", "v2"]]), [["version", "v2"], ["baggage", "version=v2"]]);
    assert.deepEqual(req([["cookie", "lane=v2"]]), [["version", "v2"], ["baggage", "version=v2"]]);
    assert.deepEqual(req([], "/socket.io/?EIO=4&transport=websocket&lane=v2"), [["version", "v2"], ["baggage", "version=v2"]]);
    assert.deepEqual(req([["version", "v3"], ["baggage", "version=v2"]]), [], "an unknown lane named, and a baggage lane sent by the client: both removed");
  });
});

describe("zero-code instrumentation (otel): the OpenTelemetry Operator's Instrumentation and the pod annotations", () => {
  const base = readFileSync(EXAMPLE, "utf8");
  const onDefaults = parseSpec(`${base}otel: true\n`, "otel.yaml");
  const inst = (out: ReturnType<typeof generate>) => out.filter((o) => o.resource.kind === "Instrumentation");
  const validator = new Validator();

  it("otel: true generates one Instrumentation per output folder, in the spec's namespace, propagating tracecontext and baggage", () => {
    const found = inst(generate(onDefaults));
    assert.deepEqual(found.map((o) => o.path), ["asm/instrumentation.yaml", "istio/instrumentation.yaml", "ambient/instrumentation.yaml"]);
    for (const { path, resource: r } of found) {
      assert.equal(r.apiVersion, "opentelemetry.io/v1alpha1", path);
      assert.deepEqual(r.metadata, { name: "lane-tag-test", namespace: "default", labels: { "app.kubernetes.io/managed-by": "lane-tag", "lane-tag/group": "test" } });
      assert.deepEqual(r.spec.propagators, ["tracecontext", "baggage"]);
      // No collector: the seeds' option A (propagation only, nothing sampled or exported).
      assert.equal(r.spec.exporter, undefined);
      assert.deepEqual(r.spec.sampler, { type: "always_off", argument: "1" });
      assert.deepEqual(r.spec.env, [{ name: "OTEL_METRICS_EXPORTER", value: "none" }]);
      assert.deepEqual(validator.check(r), [], path);
    }
    assert.equal(inst(generate(spec)).length, 0, "nothing without otel");
    assert.equal(inst(generate(parseSpec(`${base}otel: false\n`, "otel.yaml"))).length, 0);
  });

  it("the object form: the propagators given, the exporter endpoint and name, valid against the CRD", () => {
    const s = parseSpec(`${base}otel:\n  name: lanes\n  propagators: [tracecontext, baggage, b3]\n  endpoint: http://otel-collector.observability:4317\n`, "otel.yaml");
    const [a, i] = inst(generate(s)).map((o) => o.resource);
    assert.deepEqual(a, i, "asm/ and istio/ hold the same Instrumentation");
    assert.equal(a.metadata.name, "lanes");
    assert.deepEqual(a.spec.propagators, ["tracecontext", "baggage", "b3"]);
    assert.deepEqual(a.spec.exporter, { endpoint: "http://otel-collector.observability:4317" });
    assert.deepEqual(a.spec.sampler, { type: "parentbased_traceidratio", argument: "1" });
    assert.equal(a.spec.env, undefined);
    assert.deepEqual(validator.check(a), []);
    // An object without fields is otel: true.
    assert.deepEqual(parseSpec(`${base}otel: {}\n`, "otel.yaml").otel, onDefaults.otel);
  });

  it("the validator rejects an invalid Instrumentation (so the checks above can fail)", () => {
    const r = structuredClone(inst(generate(onDefaults))[0].resource);
    r.spec.propagators.push("w3c");
    r.spec.sampler.kind = "x";
    const problems = validator.check(r).join("\n");
    assert.match(problems, /\/spec\/propagators\/2: must be equal to one of the allowed values \(tracecontext, baggage, b3/);
    assert.match(problems, /\/spec\/sampler: must NOT have additional properties \(kind\)/);
  });

  it("the spec checks propagators against the CRD's enum", () => {
    assert.deepEqual(otelPropagators(), ["tracecontext", "baggage", "b3", "b3multi", "jaeger", "xray", "ottrace", "none"]);
  });

  it("the project's Instrumentation CRD is the operator's, as ../shared holds it, with its source stated", { skip: !existsSync(join(SHARED, "schemas/otel-instrumentation-crd.yaml")) && "../shared is absent" }, () => {
    const crds = (file: string) => parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS()).filter(Boolean);
    const [ours] = crds(OTEL_CRDS);
    const [theirs] = crds(join(SHARED, "schemas/otel-instrumentation-crd.yaml"));
    assert.deepEqual(ours.spec.versions.map((v: any) => v.name), ["v1alpha1"]);
    assert.deepEqual(ours, theirs);
    assert.match(readFileSync(OTEL_CRDS, "utf8"), /^# [^]*Source: open-telemetry\/opentelemetry-operator, config\/crd\/bases\/opentelemetry\.io_instrumentations\.yaml, commit\n# be89444/);
  });

  it("npm run manifests writes the Instrumentation to both folders and prints the pod annotations per language", () => {
    const dir = mkdtempSync(join(tmpdir(), "lane-tag-otel-"));
    try {
      writeFileSync(join(dir, "otel.yaml"), `${base}otel: true\n`);
      const r = manifests([join(dir, "otel.yaml"), "--out", join(dir, "out")]);
      assert.equal(r.code, 0, r.err);
      for (const d of ["asm", "istio"]) assert.equal(parse(readFileSync(join(dir, "out", d, "instrumentation.yaml"), "utf8")).kind, "Instrumentation");
      for (const l of OTEL_LANGUAGES) assert.match(r.out, new RegExp(`^  ${l}: +instrumentation\\.opentelemetry\\.io/inject-${l}: "true"$`, "m"));
      assert.match(r.out, /^  go: +instrumentation\.opentelemetry\.io\/otel-go-auto-target-exe: "<path of the app's binary in the container>" +\(go needs this one too/m);
      assert.match(r.out, /give its name: "lane-tag-test"/);
      const plain = manifests(["deploy/lanes.example.yaml", "--out", join(dir, "plain")]);
      assert.equal(plain.code, 0, plain.err);
      assert.doesNotMatch(plain.out, /instrumentation\.opentelemetry\.io/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("modes: correlation, strict (local lane), sticky gateway", () => {
  const text = readFileSync(EXAMPLE, "utf8").replace("  weights:\n", "  stickyHeader: x-user-id\n  weights:\n") +
    "correlation:\n  headers: [traceparent, x-request-id]\n  ttlMs: 30000\nlocalLane: true\n";
  const modal = parseSpec(text, "modes.yaml");
  const out = generate(modal);
  const res = (path: string) => out.find((o) => o.path === path)!;

  it("puts each mode in the filter configs of the roles that use it", () => {
    const inbound = filterConfig(modal, "inbound");
    const outbound = filterConfig(modal, "outbound");
    const gateway = filterConfig(modal, "gateway");
    assert.deepEqual(inbound.correlation, { enabled: true, headers: ["traceparent", "x-request-id"], ttl_ms: 30000 });
    assert.deepEqual(outbound.correlation, inbound.correlation);
    assert.equal(gateway.correlation, undefined);
    assert.deepEqual(outbound.local_lane, { label: "ASM_TRAFFIC_TAG", label_to_lane: { v1: "s1", v2: "s2", v3: "s3" } });
    assert.equal(inbound.local_lane, undefined);
    assert.deepEqual(gateway.assign, { weights: { s1: 60, s2: 20, s3: 20 }, sticky_header: "x-user-id" });
    assert.equal(filterConfig(spec, "gateway").assign, undefined);
  });

  it("says in every filter file that inbound and outbound must share a vm_id", () => {
    for (const o of out.filter((x) => /filter-mock.*-(in|out)bound/.test(x.path))) {
      assert.match(o.notes!.join(" "), /same vm_id/, o.path);
    }
    assert.match(res("istio/filter-mocka-outbound.yaml").notes!.join(" "), /empty vm_id, so both plugins share it/);
    assert.equal(generate(spec).some((o) => o.notes?.some((n) => /vm_id/.test(n))), false, "no vm_id note without correlation");
  });

  it("the sticky gateway routes on the lane the filter set, with a catch-all to the baseline", () => {
    const vs = res("istio/virtualservice-gateway.yaml").resource;
    assert.deepEqual(vs.spec.http.map((h: any) => h.match[0].headers?.["x-asm-prefer-tag"]?.exact ?? "*"), ["s1", "s2", "s3", "*"]);
    assert.deepEqual(vs.spec.http.map((h: any) => h.route[0].destination.subset), ["s1", "s2", "s1", "s1"]);
    assert.equal(vs.spec.http.some((h: any) => h.route.some((r: any) => r.weight !== undefined)), false);
  });

  it("every filter config configures the built module, and the resources are valid", async () => {
    await assertValidAndAccepted(out, await Host.load(wasmBytes(), { nodeMetadata: { LABELS: { ASM_TRAFFIC_TAG: "v2" } } }));
  });

  it("npm run manifests writes the notes as comments", () => {
    const dir = mkdtempSync(join(tmpdir(), "lane-tag-modes-"));
    try {
      writeFileSync(join(dir, "modes.yaml"), text);
      const r = manifests([join(dir, "modes.yaml"), "--out", join(dir, "out")]);
      assert.equal(r.code, 0, r.err);
      const file = readFileSync(join(dir, "out/asm/filter-mockb-inbound.yaml"), "utf8");
      assert.match(file, /^# Generated by .*\n# correlation is on: .*same vm_id,\n# because .*\n# ASMFilterDeployment has no vm_id field/);
      assert.deepEqual(parse(file).kind, "ASMFilterDeployment");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Pinned artifacts: the digest file `npm run push -- <ref> --digest-file F` writes, read by `manifests --digests`.
describe("pinning by digest (--digests, the spec's digests field)", () => {
  const A = "sha256:" + "a".repeat(64);
  const B = "sha256:" + "b".repeat(64);
  const good = { asm: { ref: "registry.example.com/lane-tag:0.1.0", digest: A }, istio: { ref: "registry.example.com/lane-tag:0.1.0-istio", digest: B } };
  const example = readFileSync(EXAMPLE, "utf8");

  function inDir(fn: (dir: string) => void) {
    const dir = mkdtempSync(join(tmpdir(), "lane-tag-pin-"));
    try { fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
  }

  const BAD_DIGESTS: [string, string, RegExp][] = [
    ["not JSON", "{asm:", /pushed\.json: not JSON/],
    ["not an object", "[]", /pushed\.json: must be a JSON object/],
    ["missing layout", JSON.stringify({ asm: good.asm }), /pushed\.json: missing the istio layout: the manifests need both \(push with --layout both\)/],
    ["unknown layout", JSON.stringify({ ...good, docker: good.asm }), /pushed\.json: docker: unknown layout/],
    ["entry not an object", JSON.stringify({ ...good, asm: "x" }), /pushed\.json: asm: must be an object \{ref, digest\}/],
    ["malformed digest", JSON.stringify({ ...good, istio: { ...good.istio, digest: "sha256:XYZ" } }), /pushed\.json: istio\.digest: "sha256:XYZ" is not a digest sha256:<64 lowercase hex>/],
    ["digest missing", JSON.stringify({ ...good, asm: { ref: good.asm.ref } }), /pushed\.json: asm\.digest: undefined is not a digest/],
    ["other repository", JSON.stringify({ ...good, asm: { ...good.asm, ref: "registry.example.com/other:0.1.0" } }),
      /pushed\.json: asm\.ref: "registry\.example\.com\/other:0\.1\.0" is in repository registry\.example\.com\/other, but the spec's image is in registry\.example\.com\/lane-tag/],
    ["other registry", JSON.stringify({ ...good, istio: { ...good.istio, ref: "127.0.0.1:5000/lane-tag:0.1.0-istio" } }), /istio\.ref: .* but the spec's istioImage is in registry\.example\.com\/lane-tag/],
  ];
  for (const [name, text, expected] of BAD_DIGESTS) {
    it(`${name}: a clear error naming the file, and nothing written`, () => inDir((dir) => {
      writeFileSync(join(dir, "pushed.json"), text);
      const r = manifests([EXAMPLE, "--out", join(dir, "out"), "--digests", join(dir, "pushed.json")]);
      assert.equal(r.code, 1);
      assert.match(r.err, expected);
      assert.match(r.err, /nothing was written/);
      assert.equal(existsSync(join(dir, "out")), false);
    }));
  }

  it("a missing digest file is named", () => inDir((dir) => {
    const r = manifests([EXAMPLE, "--out", join(dir, "out"), "--digests", join(dir, "nope.json")]);
    assert.equal(r.code, 1);
    assert.match(r.err, /nope\.json: cannot read the digest file/);
    assert.equal(existsSync(join(dir, "out")), false);
  }));

  it("a spec pinning another digest than the file is refused", () => inDir((dir) => {
    writeFileSync(join(dir, "lanes.yaml"), example.replace(/^image: .*$/m, `image: registry.example.com/lane-tag@${B}\nistioImage: registry.example.com/lane-tag:0.1.0-istio`));
    writeFileSync(join(dir, "pushed.json"), JSON.stringify(good));
    const r = manifests([join(dir, "lanes.yaml"), "--out", join(dir, "out"), "--digests", join(dir, "pushed.json")]);
    assert.equal(r.code, 1);
    assert.match(r.err, /asm\.digest: sha256:a+ differs from the digest the spec's image pins \(sha256:b+\)/);
  }));

  it("without digests, says on stderr that the manifests are unpinned", () => inDir((dir) => {
    const r = manifests([EXAMPLE, "--out", join(dir, "out")]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /the manifests are unpinned: they name the mutable tags registry\.example\.com\/lane-tag:0\.1\.0 and registry\.example\.com\/lane-tag:0\.1\.0-istio; pin them with --digests/);
  }));

  it("the spec's digests field (relative to the spec file) pins every filter, and says nothing of unpinned", () => inDir((dir) => {
    mkdirSync(join(dir, "pins"));
    writeFileSync(join(dir, "pins/pushed.json"), JSON.stringify(good));
    writeFileSync(join(dir, "lanes.yaml"), `${example}digests: pins/pushed.json\n`);
    const r = manifests([join(dir, "lanes.yaml"), "--out", join(dir, "out")]);
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.err, /unpinned/);
    const files = tree(join(dir, "out"));
    for (const [path, text] of Object.entries(files)) {
      const res = parse(text);
      if (res.kind === "ASMFilterDeployment") assert.equal(res.spec.filter.image, `registry.example.com/lane-tag@${A}`, path);
      if (res.kind === "WasmPlugin") {
        assert.equal(res.spec.url, `oci://registry.example.com/lane-tag@${B}`, path);
        assert.equal(res.spec.sha256, "b".repeat(64), path);
      }
    }
    assert.equal(Object.keys(files).filter((p) => /filter-/.test(p)).length, 16);
  }));

  it("--digests overrides the spec's field", () => inDir((dir) => {
    writeFileSync(join(dir, "lanes.yaml"), `${example}digests: missing.json\n`);
    writeFileSync(join(dir, "pushed.json"), JSON.stringify(good));
    const r = manifests([join(dir, "lanes.yaml"), "--out", join(dir, "out"), "--digests", join(dir, "pushed.json")]);
    assert.equal(r.code, 0, r.err);
  }));

  it("a pinned spec's resources are valid for their CRDs and configure the built module", async () => {
    let pinned;
    inDir((dir) => {
      writeFileSync(join(dir, "pushed.json"), JSON.stringify(good));
      pinned = pinSpec(spec, loadDigests(join(dir, "pushed.json"), spec));
    });
    const out = generate(pinned!);
    assert.equal(out.find((o) => o.path === "istio/filter-gateway.yaml")!.resource.spec.sha256, "b".repeat(64));
    await assertValidAndAccepted(out, await Host.load(wasmBytes()));
    // ... so a malformed sha256 would have been caught.
    const wp = structuredClone(out.find((o) => o.resource.kind === "WasmPlugin")!.resource);
    wp.spec.sha256 = "B".repeat(64);
    assert.match(new Validator().check(wp).join("\n"), /\/spec\/sha256: must match pattern/);
  });

  it("the digests field must be a string", () => {
    assert.throws(() => parseSpec(`${example}digests: [a]\n`, "d.yaml"), (e: unknown) => e instanceof SpecError && /d\.yaml: digests: must be a string, got a list/.test(e.message));
  });
});

describe("generated files an operator can read and apply", () => {
  it("two lane groups in one namespace share no resource name", () => {
    const other = parseSpec(readFileSync(EXAMPLE, "utf8").replace("group: test", "group: other"), "other.yaml");
    const names = (o: ReturnType<typeof generate>) => new Set(o.map((x) => `${x.resource.kind}/${x.resource.metadata.namespace}/${x.resource.metadata.name}`));
    const a = names(outputs), b = names(generate(other));
    // Gateway API Gateways are shared by design: a namespace has one waypoint, and the groups share the ingress.
    assert.deepEqual([...a].filter((n) => b.has(n) && !n.startsWith("Gateway/")), []);
  });
  it("written files hold no YAML anchors or aliases (a port object is shared by several routes of the WebSocket gateway)", () => {
    const dir = mkdtempSync(join(tmpdir(), "lane-tag-anchors-"));
    try {
      const r = manifests([join(ROOT, "deploy/lanes.websocket.yaml"), "--out", join(dir, "out")]);
      assert.equal(r.code, 0, r.err);
      for (const [name, text] of Object.entries(tree(join(dir, "out")))) assert.doesNotMatch(text, /(^|\s)[&*]a\d+\b/m, name);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("warnings on a valid spec", () => {
  it("localLane with a lane that lacks a service: warned, naming the gaps; full lanes: no warning", () => {
    const dir = mkdtempSync(join(tmpdir(), "lane-tag-warn-"));
    try {
      writeFileSync(join(dir, "strict.yaml"), readFileSync(EXAMPLE, "utf8") + "localLane: true\n");
      const r = manifests([join(dir, "strict.yaml"), "--out", join(dir, "out")]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, /warning: localLane: strict mode needs every lane to hold every service, .*: s2 has no mockb; s3 has no mocka, mockc/);
      const full = readFileSync(EXAMPLE, "utf8").replace("services: [mocka, mockc]", "services: [mocka, mockb, mockc]").replace("services: [mockb]", "services: [mocka, mockb, mockc]");
      writeFileSync(join(dir, "full.yaml"), full + "localLane: true\n");
      const f = manifests([join(dir, "full.yaml"), "--out", join(dir, "out2")]);
      assert.equal(f.code, 0, f.err);
      assert.doesNotMatch(f.err, /warning/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

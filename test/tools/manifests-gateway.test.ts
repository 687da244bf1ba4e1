// The gateway's filter where the gateway's pods run, failing closed; the sidecars' failing open.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadSpec, parseSpec, SpecError } from "../../deploy/lib/spec.ts";
import { generate } from "../../deploy/render/generate.ts";
import { Host, ProcExit, type Header } from "../../emulator/index.ts";
import { ROOT, wasmBytes } from "../support/helpers.ts";
import { EXAMPLE } from "./manifests-shared.ts";

const SPECS = ["deploy/lanes.example.yaml", "deploy/lanes.websocket.yaml", "deploy/lanes.stacked.yaml"];
const ws = generate(loadSpec(join(ROOT, "deploy/lanes.websocket.yaml")));
const res = (out: ReturnType<typeof generate>, path: string) => out.find((o) => o.path === path)!.resource;

/** Envoy's fail_open for an Istio failStrategy (FAIL_RELOAD is not generated). */
function envoyFailOpen(strategy: unknown): boolean {
  if (strategy === "FAIL_OPEN") return true;
  if (strategy === "FAIL_CLOSE") return false;
  throw new Error(`unexpected failStrategy ${JSON.stringify(strategy)}`);
}

describe("the gateway's filter runs where the gateway's pods are", () => {
  it("WebSocket seed: the Gateway resource is in default, its pods and so its filters in istio-system", () => {
    for (const path of ["istio/filter-gateway.yaml", "asm/filter-gateway.yaml"]) {
      assert.equal(res(ws, path).metadata.namespace, "istio-system", path);
    }
    assert.deepEqual(res(ws, "istio/filter-gateway.yaml").spec.selector.matchLabels, { istio: "ingressgateway" });
    assert.deepEqual(res(ws, "asm/filter-gateway.yaml").spec.workload.labels, { istio: "ingressgateway" });
    // The routing stays with the Gateway resource.
    const vs = res(ws, "istio/virtualservice-gateway.yaml");
    assert.equal(vs.metadata.namespace, "default");
    assert.deepEqual(vs.spec.gateways, ["default/ws-gateway"]);
    // The sidecars' filters stay beside their services.
    assert.equal(res(ws, "istio/filter-wsk-svc-inbound.yaml").metadata.namespace, "default");
  });

  it("gateway.workloadNamespace: istio-system unless given; given, the filters go there; checked as a namespace name", () => {
    const text = readFileSync(join(ROOT, "deploy/lanes.websocket.yaml"), "utf8");
    const without = parseSpec(text.replace("  workloadNamespace: istio-system\n", ""), "ws.yaml");
    assert.equal(without.gateway!.workloadNamespace, "istio-system");
    assert.equal(res(generate(without), "istio/filter-gateway.yaml").metadata.namespace, "istio-system");
    const own = generate(parseSpec(text.replace("workloadNamespace: istio-system", "workloadNamespace: istio-ingress"), "ws.yaml"));
    assert.deepEqual(["istio/filter-gateway.yaml", "asm/filter-gateway.yaml"].map((p) => res(own, p).metadata.namespace), ["istio-ingress", "istio-ingress"]);
    assert.equal(res(own, "istio/virtualservice-gateway.yaml").metadata.namespace, "default");
    const bad = text.replace("workloadNamespace: istio-system", "workloadNamespace: Istio_System");
    assert.throws(() => parseSpec(bad, "ws.yaml"), (e: unknown) => e instanceof SpecError
      && /ws\.yaml: gateway\.workloadNamespace: "Istio_System" is not a Kubernetes namespace name \(line \d+\)/.test(e.message));
  });
});

describe("fail strategy: sidecars open, the gateway (which does not trust the client's lane) closed", () => {
  it("every spec: the gateway's WasmPlugin FAIL_CLOSE, every sidecar's FAIL_OPEN", () => {
    for (const file of SPECS) {
      for (const o of generate(loadSpec(join(ROOT, file)))) {
        if (o.resource.kind !== "WasmPlugin") continue;
        const gateway = o.path.endsWith("filter-gateway.yaml");
        assert.equal(o.resource.spec.pluginConfig.trust_client_lane === false, gateway, `${file} ${o.path}`);
        assert.equal(o.resource.spec.failStrategy, gateway ? "FAIL_CLOSE" : "FAIL_OPEN", `${file} ${o.path}`);
      }
    }
  });

  it("the ASM gateway filter says it must fail closed and how to check what ASM made of it", () => {
    const o = generate(loadSpec(EXAMPLE)).find((x) => x.path === "asm/filter-gateway.yaml")!;
    assert.match(o.notes!.join("\n"), /ASMFilterDeployment has no fail strategy field/);
    assert.match(o.notes!.join("\n"), /kubectl get envoyfilter lane-tag-test-gateway -n istio-system -o yaml/);
  });

  // The built filter in each generated role, as Envoy runs it with the generated failStrategy; then its VM dies.
  async function afterCrash(path: string, request: Header[]) {
    const w = res(ws, path);
    const host = await Host.load(wasmBytes());
    const plugin = host.configure({ configuration: JSON.stringify(w.spec.pluginConfig), rootId: w.spec.pluginName, failOpen: envoyFailOpen(w.spec.failStrategy) });
    assert.equal(plugin.failed, false);
    const exports = (host as any).ex;
    (host as any).ex = { ...exports, proxy_on_request_headers: () => { throw new ProcExit(255); } };
    plugin.request([[":path", "/"]], { listenerDirection: 2 });
    assert.ok(host.vmFailed);
    return plugin.request(request, { listenerDirection: 2 });
  }
  const client: Header[] = [[":authority", "gw"], [":path", "/socket.io/"], [":method", "GET"], ["version", "v2"], ["baggage", "version=v2"]];

  it("a dead gateway filter refuses requests (503) instead of passing the client's own lane on to the routes", async () => {
    const r = await afterCrash("istio/filter-gateway.yaml", client);
    assert.equal(r.outcome, "failed");
  });

  it("a dead sidecar filter lets requests through untouched", async () => {
    const r = await afterCrash("istio/filter-helloworld-outbound.yaml", client);
    assert.equal(r.outcome, "passed-failed");
  });
});

describe("gateway.baggageLimits: the gateway's filter cuts baggage to W3C's limits", () => {
  const text = readFileSync(EXAMPLE, "utf8");
  const withLimits = (v: string) => parseSpec(text.replace(/^gateway:\n/m, `gateway:\n  baggageLimits: ${v}\n`), "lanes.yaml");

  it("true: every generated gateway filter (ASM, Istio, ambient) sets baggage_limits, no sidecar or waypoint does; the built module takes it", async () => {
    const out = generate(withLimits("true"));
    const configs = out.flatMap((o) => {
      const r = o.resource;
      const c = r.kind === "WasmPlugin" ? r.spec.pluginConfig : r.kind === "ASMFilterDeployment" ? JSON.parse(r.spec.filter.parameters) : undefined;
      return c ? [{ path: o.path, c }] : [];
    });
    const gateways = configs.filter(({ c }) => c.trust_client_lane === false);
    assert.ok(gateways.length >= 3, gateways.map((g) => g.path).join(", "));
    for (const { path, c } of configs) assert.equal(c.baggage_limits === true, c.trust_client_lane === false, path);
    const host = await Host.load(wasmBytes());
    for (const { path, c } of gateways) assert.equal(host.configure({ configuration: JSON.stringify(c) }).failed, false, path);
    // Off unless asked.
    assert.ok(generate(loadSpec(EXAMPLE)).every((o) => !JSON.stringify(o.resource).includes("baggage_limits")));
  });

  it("anything but true or false is refused, naming the field", () => {
    assert.throws(() => withLimits("yes please"), (e: unknown) => e instanceof SpecError
      && /lanes\.yaml: gateway\.baggageLimits: must be true or false, got string "yes please"/.test(e.message));
  });
});

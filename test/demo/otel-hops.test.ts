// The built module between hops, with the real OpenTelemetry propagators in the "apps" (in process, no app
// processes): for every propagator set and lane, the inbound sidecar's output headers -> propagator.extract
// in the app -> a child span from the SDK's tracer -> propagator.inject on its call -> the outbound sidecar
// -> the routing header, which picks the next workload. The propagator is the one the otel apps' preload
// runs, checked here against NodeSDK's own OTEL_PROPAGATORS reading for every name NodeSDK hosts.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT_CONTEXT, trace, defaultTextMapGetter, defaultTextMapSetter, SpanKind, type TextMapPropagator } from "@opentelemetry/api";
import { tracing } from "@opentelemetry/sdk-node";
import { getPropagatorFromEnv } from "@opentelemetry/sdk-node/build/src/utils.js";
import { loadSpec, type LanesSpec } from "../../deploy/lib/spec.ts";
import { plugins, filter, meshSpec, type Mode } from "../../demo/mesh.ts";
import { chain, resolve, gatewayTraceFor } from "./otel-hops-chain.ts";
import { propagatorFor, PROPAGATOR_NAMES } from "../../demo/otel/propagators.cjs";
import { laneOutcome, outcomeChain, PROPAGATOR_SETS, type StartedTrace } from "../../demo/otel/expectations.ts";
import type { Header, Plugin } from "../../emulator/index.ts";
import { ROOT, wasmBytes, values } from "../support/helpers.ts";

/** Sets beside PROPAGATOR_SETS where a B3 trace meets another propagator: a later 64-bit ot id, a W3C or an
 *  X-Ray context beside B3, and xray before b3multi. */
const B3_SETS: string[][] = [["b3", "ottrace"], ["b3multi", "ottrace"], ["ottrace", "b3"], ["tracecontext", "b3"], ["b3multi", "tracecontext"], ["xray", "b3multi"], ["b3", "xray"]];
/** Sets where an X-Ray trace meets another propagator: W3C before or after it, a later 64-bit ot id, jaeger. */
const XRAY_SETS: string[][] = [["xray", "tracecontext"], ["tracecontext", "xray"], ["xray", "ottrace"], ["ottrace", "xray"], ["xray", "jaeger"], ["xray", "baggage"]];

const base = loadSpec(join(ROOT, "deploy/lanes.example.yaml"));
const tracer = new tracing.BasicTracerProvider().getTracer("otel-hops");

type Sidecars = Map<string, { inbound: Plugin; outbound: Plugin }>;
async function sidecars(spec: LanesSpec): Promise<{ gateway: Plugin; workloads: Sidecars }> {
  const wasm = wasmBytes();
  const workloads: Sidecars = new Map();
  for (const service of chain(spec)) for (const lane of spec.lanes) {
    const name = `${service}-${lane.label}`;
    const vm = await plugins(wasm, spec, ["inbound", "outbound"], { app: service, [spec.labelKey]: lane.label }, name);
    workloads.set(name, { inbound: vm.inbound!, outbound: vm.outbound! });
  }
  return { gateway: (await plugins(wasm, spec, ["gateway"], undefined, "ingressgateway")).gateway!, workloads };
}

const asCarrier = (headers: Header[]) => {
  const c: Record<string, string> = {};
  for (const [k, v] of headers) if (!k.startsWith(":")) c[k] = k in c ? `${c[k]},${v}` : v;
  return c;
};

/** What the instrumented app sends on its call: extract, a child client span, inject into fresh headers. */
function appCall(propagator: TextMapPropagator | null, inbound: Header[]): Record<string, string> {
  if (!propagator) return {}; // OTEL_PROPAGATORS=none: nothing extracted, nothing injected
  const ctx = propagator.extract(ROOT_CONTEXT, asCarrier(inbound), defaultTextMapGetter);
  const span = tracer.startSpan("GET", { kind: SpanKind.CLIENT }, ctx);
  const out: Record<string, string> = {};
  propagator.inject(trace.setSpan(ctx, span), out, defaultTextMapSetter);
  span.end();
  return out;
}

/** One request in `lane` down the chain: the version each service's hop reached, and the headers each app sent. */
function walk(spec: LanesSpec, mesh: { gateway: Plugin; workloads: Sidecars }, propagator: TextMapPropagator | null, lane: string, mode: Mode, trace: StartedTrace = mode === "correlation" ? "w3c" : "none") {
  const services = chain(spec);
  // A gateway with a tracer starts the trace in its format (correlation mode always starts one).
  const gwIn: Header[] = [[":authority", "gateway"], [":path", "/mock"], [":method", "GET"], [":scheme", "http"], ...gatewayTraceFor(lane, trace)];
  const g = filter(mesh.gateway, gwIn, 2)!;
  let headers: Header[] = [...g.filter(([k]) => k !== ":authority"), [":authority", `${services[0]}:8000`], [spec.routingHeader, lane]];
  let routed: string | undefined = lane;
  const versions: string[] = [];
  const sent: Record<string, string>[] = [];
  for (let i = 0; i < services.length; i++) {
    const w = resolve(spec, services[i], routed);
    versions.push(w.version);
    const sidecar = mesh.workloads.get(w.name)!;
    const delivered = filter(sidecar.inbound, headers, 1);
    assert.ok(delivered, `${w.name}'s inbound refused the request`);
    if (i === services.length - 1) break;
    const call = appCall(propagator, delivered);
    sent.push(call);
    const out = filter(sidecar.outbound, [[":authority", `${services[i + 1]}:8000`], [":path", "/"], [":method", "GET"], [":scheme", "http"], ...Object.entries(call)], 2);
    assert.ok(out, `${w.name}'s outbound refused the call`);
    routed = values(out, spec.routingHeader)[0];
    headers = out;
  }
  return { versions, sent };
}

describe("the built module between hops of apps running the real OpenTelemetry propagators", () => {
  // The sidecars per mode and propagator set: the filters read and write the carriers the set forwards.
  const meshes = new Map<string, { spec: LanesSpec; mesh: Awaited<ReturnType<typeof sidecars>> }>();
  const meshFor = (mode: Mode, set: string[]) => meshes.get(`${mode} ${set.join(",")}`)!;
  before(async () => {
    for (const mode of ["baggage", "correlation"] as Mode[]) {
      for (const set of [...PROPAGATOR_SETS, ...B3_SETS, ...XRAY_SETS, ["jaeger"], ["b3multi"]]) {
        const spec = meshSpec(base, mode, { propagators: set });
        meshes.set(`${mode} ${set.join(",")}`, { spec, mesh: await sidecars(spec) });
      }
    }
  });

  it("the apps' propagator is NodeSDK's for every name it hosts (same propagators, same order, same fields)", () => {
    const shape = (p: TextMapPropagator | null | undefined) => p === null || p === undefined ? p : { fields: p.fields(), kinds: "_propagators" in p ? (p as unknown as { _propagators: object[] })._propagators.map((x) => x.constructor.name) : [p.constructor.name] };
    const saved = process.env.OTEL_PROPAGATORS;
    try {
      for (const set of [...PROPAGATOR_SETS, ["baggage", "tracecontext"], ["b3", "b3multi"], ["jaeger", "jaeger"]]) {
        if (set.some((n) => n === "xray" || n === "ottrace")) continue; // not hosted by NodeSDK: contrib packages
        process.env.OTEL_PROPAGATORS = set.join(",");
        assert.deepEqual(shape(propagatorFor(set)), shape(getPropagatorFromEnv()), set.join(","));
      }
    } finally {
      if (saved === undefined) delete process.env.OTEL_PROPAGATORS; else process.env.OTEL_PROPAGATORS = saved;
    }
    assert.deepEqual(shape(propagatorFor(["xray", "ottrace"]))?.kinds, ["AWSXRayPropagator", "OTTracePropagator"]);
    assert.deepEqual(PROPAGATOR_NAMES, ["tracecontext", "baggage", "b3", "b3multi", "jaeger", "xray", "ottrace", "none"]);
  });

  it("the app's call is a child span of the request it serves (same trace, new span), in the set's own headers", () => {
    const { spec, mesh } = meshFor("correlation", ["tracecontext"]);
    const tp = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;
    const [first, second] = walk(spec, mesh, propagatorFor(["tracecontext"]), "s2", "correlation").sent;
    const a = tp.exec(first.traceparent)!;
    const b = tp.exec(second.traceparent)!;
    assert.equal(a[1], b[1]);
    assert.notEqual(a[2], b[2]);
    assert.deepEqual(Object.keys(walk(spec, mesh, propagatorFor(["jaeger"]), "s2", "correlation").sent[0]), ["uber-trace-id"]);
    assert.deepEqual(Object.keys(walk(spec, mesh, propagatorFor(["b3multi"]), "s2", "correlation").sent[0]).sort(), ["x-b3-sampled", "x-b3-spanid", "x-b3-traceid"]);
  });

  it("xray: every call keeps the gateway's Root= and sends a Parent= of its own, the lane restored by the Root", () => {
    const { spec, mesh } = meshFor("correlation", ["xray"]);
    const x = /^Root=(1-[0-9a-f]{8}-[0-9a-f]{24});Parent=([0-9a-f]{16});Sampled=1$/;
    const { versions, sent } = walk(spec, mesh, propagatorFor(["xray"]), "s2", "correlation", "xray");
    const [a, b] = sent.map((c) => x.exec(c["x-amzn-trace-id"])!);
    assert.deepEqual(Object.keys(sent[0]), ["x-amzn-trace-id"]);
    assert.equal(a[1], b[1]);
    assert.equal(a[1], /Root=([^;]+)/.exec(gatewayTraceFor("s2", "xray")[0][1])![1]);
    assert.notEqual(a[2], b[2]);
    assert.deepEqual(versions, outcomeChain(spec, "s2", "kept"));
  });

  // baggage, baggage with the gateway starting a trace (no correlation), correlation with each trace.
  const runs: [Mode, StartedTrace][] = [["baggage", "none"], ["baggage", "w3c"], ["baggage", "b3"], ["baggage", "xray"], ["correlation", "w3c"], ["correlation", "b3"], ["correlation", "xray"]];
  for (const [mode, trace] of runs) {
    for (const set of [...PROPAGATOR_SETS, ...B3_SETS, ...XRAY_SETS]) {
      const want = laneOutcome(set, { correlation: mode === "correlation", trace });
      it(`mode ${mode}, the gateway starting ${trace === "none" ? "no trace" : `a ${trace} trace`}, OTEL_PROPAGATORS=${set.join(",")}: lanes ${want}`, () => {
        const { spec, mesh } = meshFor(mode, set);
        const propagator = propagatorFor(set);
        for (const lane of spec.lanes.map((l) => l.name)) {
          const { versions } = walk(spec, mesh, propagator, lane, mode, trace);
          assert.deepEqual(versions, outcomeChain(spec, lane, want), `lane ${lane}: ${versions.join("→")}`);
        }
      });
    }
  }
});

// What npm run manifests says where the apps' propagators carry the lane only beside a trace context
// (tracestate, ot baggage): the request to the first app must bring that context, which no resource here starts;
// and where they carry no lane at all (b3, b3multi, xray): the trace format the gateway must start. With the
// b3 propagator the generated correlation keys on its single header too, with xray on x-amzn-trace-id.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSpec } from "../../deploy/lib/spec.ts";
import { traceContextNotes } from "../../deploy/render/generate.ts";
import { FILTER_TRACE_HEADERS } from "../../deploy/lib/filter-config.ts";
import { routingPlan } from "../../deploy/lib/plan.ts";
import { EXAMPLE, spec, manifests } from "./manifests-shared.ts";
import { filterConfigs, refusals } from "./spec-configs.ts";
import { ROOT } from "../support/helpers.ts";

const text = readFileSync(EXAMPLE, "utf8");
/** The example spec (which has no otel) with otel.propagators, and a correlation mapping when asked. */
const withPropagators = (list: string, correlation?: string) =>
  parseSpec(`${text}\notel:\n  propagators: [${list}]\n${correlation !== undefined ? `correlation: ${correlation}\n` : ""}`, EXAMPLE);

describe("manifests: the trace context some carriers need", () => {
  it("tracecontext alone: start traces at the gateway (an OpenTelemetry provider), or clients send traceparent", () => {
    const notes = traceContextNotes(withPropagators("tracecontext")).join("\n");
    assert.match(notes, /tracestate entry, which their SDKs keep only beside a traceparent/);
    assert.match(notes, /meshConfig\.extensionProviders\[\]\.opentelemetry\) and a Telemetry resource/);
  });

  it("ottrace alone: only clients send an ot trace context; list baggage or tracecontext too", () => {
    assert.match(traceContextNotes(withPropagators("ottrace")).join("\n"), /ot-baggage-\* headers.*list baggage or tracecontext in otel\.propagators too/);
  });

  it("nothing to say where baggage or jaeger carries the lane, or correlation is on with a carrier", () => {
    assert.deepEqual(traceContextNotes(spec), []);
    for (const list of ["baggage", "jaeger", "tracecontext, jaeger", "ottrace, baggage", "b3, baggage", "xray, tracecontext"]) assert.deepEqual(traceContextNotes(withPropagators(list, list.includes("xray") ? "{}" : undefined)), [], list);
    assert.deepEqual(traceContextNotes(withPropagators("tracecontext", "{}")), []);
  });
});

describe("manifests: propagators without baggage (b3, b3multi, xray): the trace the gateway must start", () => {
  it("b3 or b3multi: the gateway starts B3 traces (Istio's Zipkin provider); W3C is the OpenTelemetry provider's", () => {
    for (const list of ["b3", "b3multi", "b3, b3multi"]) {
      const notes = traceContextNotes(withPropagators(list, "{}")).join("\n");
      assert.match(notes, new RegExp(`^trace correlation: the apps' propagators \\(${list}\\) carry no baggage, so the lane follows the trace id; .*ingress gateway starts traces in a format the apps extract`), list);
      assert.match(notes, /B3 \(x-b3-traceid\/spanid\/sampled\): Istio's Zipkin tracing provider \(meshConfig\.extensionProviders\[\]\.zipkin/);
      assert.match(notes, /W3C \(traceparent\): the OpenTelemetry provider \(meshConfig\.extensionProviders\[\]\.opentelemetry\)/);
      assert.match(notes, /extracts? B3 only: start B3 traces \(a W3C trace is not continued/);
      assert.doesNotMatch(notes, /xray/);
    }
  });

  it("xray: the gateway starts X-Ray traces (Envoy's X-Ray tracer); alone, nothing else is continued", () => {
    const alone = traceContextNotes(withPropagators("xray", "{}")).join("\n");
    assert.match(alone, /X-Ray \(X-Amzn-Trace-Id: Root=\.\.\.;Parent=\.\.\.;Sampled=\.\.\.\): Envoy's X-Ray tracer \(envoy\.tracers\.xray .*Istio has no X-Ray provider\); the lane keys on its Root= field, which every hop keeps/);
    assert.match(alone, /xray extracts X-Ray only: start X-Ray traces \(a W3C or B3 trace is not continued.*an AWS load balancer's X-Amzn-Trace-Id \(Root= without Parent= and Sampled=\) is not continued either/);
    assert.doesNotMatch(alone, /cannot be correlated|B3 only|correlation\.headers/);
    // Beside b3: either trace format is continued.
    const mixed = traceContextNotes(withPropagators("b3multi, xray", "{}")).join("\n");
    assert.match(mixed, /b3multi extracts B3 only: start B3 traces .*; or X-Ray traces, which xray extracts/);
    assert.doesNotMatch(mixed, /xray extracts X-Ray only/);
  });

  it("xray with the spec's own correlation.headers lacking x-amzn-trace-id: says so", () => {
    const notes = traceContextNotes(withPropagators("xray", "{headers: [traceparent, x-request-id]}")).join("\n");
    assert.match(notes, /correlation\.headers \(traceparent, x-request-id\) has no x-amzn-trace-id: the X-Ray trace id is not read, so no lane follows it; add it/);
    assert.doesNotMatch(traceContextNotes(withPropagators("xray", "{headers: [x-amzn-trace-id]}")).join("\n"), /has no x-amzn-trace-id/);
    assert.doesNotMatch(traceContextNotes(withPropagators("b3", "{headers: [x-request-id]}")).join("\n"), /has no x-amzn-trace-id/);
  });

  it("npm run manifests prints them", () => {
    const dir = mkdtempSync(join(tmpdir(), "lane-tag-b3-"));
    try {
      writeFileSync(join(dir, "b3.yaml"), `${text}\notel:\n  propagators: [b3, xray]\ncorrelation: {}\n`);
      const r = manifests([join(dir, "b3.yaml"), "--out", join(dir, "out")]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /\ntrace correlation: the apps' propagators \(b3, xray\) carry no baggage.*\n  B3 .*Zipkin.*\n  W3C .*\n  X-Ray .*Envoy's X-Ray tracer.*\n  b3 extracts B3 only.*or X-Ray traces/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("manifests: correlation keys on the b3 single header and x-amzn-trace-id where otel.propagators list b3 or xray", () => {
  const correlation = (s: ReturnType<typeof withPropagators>) => {
    const { filters } = routingPlan(s);
    return { inbound: filters.inbound.correlation, outbound: filters.outbound.correlation, gateway: filters.gateway.correlation };
  };

  it("FILTER_TRACE_HEADERS is the filter's default (DEFAULT_TRACE_HEADERS in its source)", () => {
    const src = readFileSync(join(ROOT, "assembly/config/config.ts"), "utf8");
    const m = /export const DEFAULT_TRACE_HEADERS: string\[\] = (\[[^\]]*\]);/.exec(src);
    assert.ok(m, "DEFAULT_TRACE_HEADERS not found");
    assert.deepEqual(FILTER_TRACE_HEADERS, JSON.parse(m[1]));
  });

  // [propagators, the generated correlation.headers]
  const rows: [string, string[]][] = [
    ["b3", ["traceparent", "x-b3-traceid", "b3", "x-request-id"]],
    ["b3multi, b3", ["traceparent", "x-b3-traceid", "b3", "x-request-id"]],
    ["tracecontext, b3", ["traceparent", "x-b3-traceid", "b3", "x-request-id"]],
    ["xray", ["traceparent", "x-b3-traceid", "x-amzn-trace-id", "x-request-id"]],
    ["b3multi, xray", ["traceparent", "x-b3-traceid", "x-amzn-trace-id", "x-request-id"]],
    ["xray, tracecontext", ["traceparent", "x-b3-traceid", "x-amzn-trace-id", "x-request-id"]],
    ["b3, xray", ["traceparent", "x-b3-traceid", "b3", "x-amzn-trace-id", "x-request-id"]],
    ["xray, b3multi, b3, tracecontext", ["traceparent", "x-b3-traceid", "b3", "x-amzn-trace-id", "x-request-id"]],
  ];
  it("b3 or xray and no correlation.headers: the filter's default with b3 and x-amzn-trace-id after x-b3-traceid, on inbound and outbound", async () => {
    for (const [list, headers] of rows) {
      const s = withPropagators(list, "{}");
      const c = correlation(s);
      assert.deepEqual(c.inbound, { enabled: true, headers }, list);
      assert.ok(headers.length <= 8);
      assert.deepEqual(c.outbound, c.inbound);
      assert.equal(c.gateway, undefined, "the gateway records no trace");
      // Every generated configuration (asm/, istio/, ambient/) carries it, and the built module takes it.
      const configs = filterConfigs(s).map((x) => JSON.parse(x)).filter((x) => x.correlation);
      assert.ok(configs.length >= 2);
      for (const x of configs) assert.deepEqual(x.correlation.headers, headers, list);
      assert.deepEqual(await refusals(filterConfigs(s)), [], list);
    }
  });

  it("the spec's own correlation.headers stand; without b3 or xray the filter's default stands (no headers field)", () => {
    assert.deepEqual(correlation(withPropagators("b3", "{headers: [x-request-id]}")).inbound, { enabled: true, headers: ["x-request-id"] });
    assert.deepEqual(correlation(withPropagators("xray", "{headers: [traceparent]}")).inbound, { enabled: true, headers: ["traceparent"] });
    for (const list of ["b3multi", "tracecontext", "baggage"]) assert.deepEqual(correlation(withPropagators(list, "{}")).inbound, { enabled: true }, list);
    assert.equal(correlation(withPropagators("b3, baggage")).inbound, undefined, "no correlation, no headers");
  });
});

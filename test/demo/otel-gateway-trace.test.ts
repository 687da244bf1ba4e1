// The trace the demo's gateway starts (--gateway-trace): W3C as an OpenTelemetry tracer starts it, B3 as
// Envoy's Zipkin tracer does, X-Ray as its X-Ray tracer does; only on a request without one of its own
// format, with ids that follow the seed.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { traceStarter, traceparents, SEEDED_XRAY_EPOCH } from "../../demo/core/gateway-trace.ts";
import { startsTrace } from "../../demo/mesh.ts";

const take = <T>(n: number, next: () => T) => Array.from({ length: n }, next);

describe("the gateway's trace", () => {
  it("w3c: a traceparent, the same values as traceparents(seed), none on a request that has one", () => {
    const start = traceStarter("w3c", 49);
    const want = take(3, traceparents(49));
    assert.deepEqual(take(3, () => start({})), want.map((t) => [["traceparent", t]]));
    assert.deepEqual(start({ traceparent: want[0] }), []);
  });

  it("b3: x-b3-traceid (32 hex), x-b3-spanid (16 hex), x-b3-sampled 1, seeded like the W3C ids", () => {
    const [h] = take(1, () => traceStarter("b3", 49)({}));
    assert.deepEqual(h.map(([k]) => k), ["x-b3-traceid", "x-b3-spanid", "x-b3-sampled"]);
    assert.match(h[0][1], /^[0-9a-f]{32}$/);
    assert.match(h[1][1], /^[0-9a-f]{16}$/);
    assert.equal(h[2][1], "1");
    // The same ids as the W3C trace of that seed: one draw per request, in the same order.
    assert.equal(`00-${h[0][1]}-${h[1][1]}-01`, traceparents(49)());
    assert.deepEqual(take(3, () => traceStarter("b3", 49)({})), take(3, () => traceStarter("b3", 49)({})));
    const b3 = traceStarter("b3", 50);
    assert.notDeepEqual(take(2, () => b3({})), take(2, () => traceStarter("b3", 49)({})));
    const random = traceStarter("b3");
    assert.notDeepEqual(random({}), random({}), "random without a seed");
  });

  it("b3: a request with a B3 trace (either encoding) keeps it; a W3C one is not a B3 trace", () => {
    const start = traceStarter("b3", 1);
    assert.deepEqual(start({ "x-b3-traceid": "4bf92f3577b34da6a3ce929d0e0e4736" }), []);
    assert.deepEqual(start({ b3: "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1" }), []);
    assert.equal(start({ traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" }).length, 3);
  });

  it("xray: X-Amzn-Trace-Id Root=1-<epoch>-<24 hex>;Parent=<16 hex>;Sampled=1, seeded like the W3C ids", () => {
    const [[h]] = take(1, () => traceStarter("xray", 49)({}));
    assert.equal(h[0], "x-amzn-trace-id");
    const m = /^Root=1-([0-9a-f]{8})-([0-9a-f]{24});Parent=([0-9a-f]{16});Sampled=1$/.exec(h[1]);
    assert.ok(m, h[1]);
    // A seeded run's epoch is fixed, so the same seed gives the same headers; the ids are the W3C trace's.
    assert.equal(parseInt(m[1], 16), SEEDED_XRAY_EPOCH);
    const [, tid, sid] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(traceparents(49)())!;
    assert.deepEqual([m[2], m[3]], [tid.slice(8), sid]);
    assert.deepEqual(take(3, () => traceStarter("xray", 49)({})), take(3, () => traceStarter("xray", 49)({})));
    // Without a seed: random ids, the epoch now.
    const random = traceStarter("xray");
    const [a, b] = [random({}), random({})];
    assert.notDeepEqual(a, b);
    const epoch = parseInt(/^Root=1-([0-9a-f]{8})-/.exec(a[0][1])![1], 16);
    assert.ok(Math.abs(epoch - Date.now() / 1000) < 60, `epoch ${epoch}`);
  });

  it("xray: a request with an X-Amzn-Trace-Id keeps it; a W3C or B3 one is not an X-Ray trace", () => {
    const start = traceStarter("xray", 1);
    assert.deepEqual(start({ "x-amzn-trace-id": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1" }), []);
    assert.equal(start({ traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "x-b3-traceid": "4bf92f3577b34da6a3ce929d0e0e4736" }).length, 1);
  });

  it("which trace the mesh starts: the one asked for, else w3c where correlation needs one, else none", () => {
    assert.equal(startsTrace({ mode: "correlation" }), "w3c");
    assert.equal(startsTrace({ mode: "correlation", gatewayTrace: "b3" }), "b3");
    assert.equal(startsTrace({ mode: "correlation", gatewayTrace: "xray" }), "xray");
    assert.equal(startsTrace({ mode: "baggage", drop: "mockb" }), "w3c");
    assert.equal(startsTrace({ mode: "baggage", gatewayTrace: "b3" }), "b3");
    assert.equal(startsTrace({ mode: "baggage" }), undefined);
  });
});

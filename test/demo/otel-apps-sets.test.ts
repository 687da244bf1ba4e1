// --apps otel with the propagators that forward some baggage or trace context lane-tag could carry the
// lane in (tracestate, uberctx-*, ot-baggage-*), and none; b3, b3multi and xray: otel-apps-nobaggage.test.ts.
import { it } from "node:test";
import assert from "node:assert/strict";
import { laneOutcome } from "../../demo/otel/expectations.ts";
import { describeSets } from "./otel-sets.ts";

describeSets("--apps otel: carrier-bearing propagator sets end as the expectations table says", [
  ...[["tracecontext"], ["jaeger"], ["ottrace"], ["none"]].map((propagators) => ({ propagators, mode: "baggage" as const })),
  // The gateway starts the trace (no correlation): the lane rides in the tracestate entry alone.
  { propagators: ["tracecontext"], mode: "baggage", gatewayTrace: "w3c" },
  // The gateway starts the trace; lane-tag keys the lane on traceparent.
  { propagators: ["tracecontext"], mode: "correlation" },
  // ottrace extracted last replaces the trace context (tracestate with it): the lane rides on in ot baggage.
  { propagators: ["tracecontext", "ottrace"], mode: "correlation" },
  // xray extracted after tracecontext keeps its tracestate: the entry rides on through every app.
  { propagators: ["tracecontext", "xray"], mode: "baggage", gatewayTrace: "w3c" },
]);

it("the table: baggage and jaeger carry the lane on any request; tracestate and ot baggage only with their trace context", () => {
  const table = Object.fromEntries(["tracecontext", "jaeger", "ottrace", "b3", "b3multi", "xray", "none", "tracecontext,jaeger"].map((s) => [s, laneOutcome(s.split(","))]));
  // Without correlation the gateway starts no trace here: no traceparent for tracestate, no ot context ever.
  assert.deepEqual(table, { tracecontext: "lost", jaeger: "kept", ottrace: "lost", b3: "lost", b3multi: "lost", xray: "lost", none: "lost", "tracecontext,jaeger": "kept" });
  assert.equal(laneOutcome(["tracecontext"], { trace: "w3c" }), "kept", "a traceparent from the client or gateway: the tracestate entry holds");
  assert.equal(laneOutcome(["tracecontext"], { trace: "b3" }), "lost", "a B3 trace: the first app starts its own W3C trace, no traceparent for the entry");
  // At the second app b3, extracted after tracecontext, replaces the context and its tracestate.
  assert.equal(laneOutcome(["tracecontext", "b3"], { trace: "w3c" }), "drifts");
  assert.equal(laneOutcome(["tracecontext", "baggage"]), "kept");
  assert.equal(laneOutcome(["b3", "baggage"]), "kept");
  assert.equal(laneOutcome(["tracecontext"], { correlation: true }), "kept");
  assert.equal(laneOutcome(["b3multi"], { correlation: true }), "lost", "a W3C trace, which b3multi does not extract");
  assert.equal(laneOutcome(["b3multi"], { correlation: true, trace: "b3" }), "kept");
  assert.equal(laneOutcome(["xray"], { correlation: true, trace: "b3" }), "lost");
  assert.equal(laneOutcome(["xray"], { correlation: true, trace: "xray" }), "kept", "an X-Ray trace: correlation keys on its Root=");
  assert.equal(laneOutcome(["xray"], { correlation: true }), "lost", "a W3C trace, which xray does not extract");
  assert.equal(laneOutcome(["b3multi"], { correlation: true, trace: "xray" }), "lost");
  // xray's extract keeps the tracestate tracecontext took before it: the entry holds at the later apps too.
  assert.equal(laneOutcome(["tracecontext", "xray"], { trace: "w3c" }), "kept");
  assert.equal(laneOutcome(["tracecontext", "xray", "b3"], { trace: "w3c" }), "drifts");
  // The first app forwards the tracestate entry; the next sidecar also writes ot baggage, which the second
  // app's ot extract (replacing the trace context and its tracestate) keeps.
  assert.equal(laneOutcome(["tracecontext", "ottrace"], { correlation: true }), "kept");
  assert.equal(laneOutcome(["ottrace", "tracecontext"], { correlation: true }), "kept");
  assert.equal(laneOutcome(["tracecontext", "jaeger"], { correlation: true }), "kept");
  assert.equal(laneOutcome(["baggage", "none"]), "lost", "none anywhere: no propagator at all, as NodeSDK reads it");
});

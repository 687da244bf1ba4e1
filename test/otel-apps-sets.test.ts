// --apps otel with the propagators that forward some baggage or trace context lane-tag could carry the
// lane in (tracestate, uberctx-*, ot-baggage-*), and none; b3, b3multi and xray: otel-apps-nobaggage.test.ts.
import { it } from "node:test";
import assert from "node:assert/strict";
import { laneOutcome } from "../deploy/local/otel/expectations.ts";
import { describeSets } from "./otel-sets.ts";

describeSets("--apps otel: carrier-bearing propagator sets end as the expectations table says", [
  ...[["tracecontext"], ["jaeger"], ["ottrace"], ["none"]].map((propagators) => ({ propagators, mode: "baggage" as const })),
  // The gateway starts the trace; lane-tag keys the lane on traceparent.
  { propagators: ["tracecontext"], mode: "correlation" },
  // ottrace extracted last replaces the trace id with its 64-bit form: the trace changes at the second app.
  { propagators: ["tracecontext", "ottrace"], mode: "correlation" },
]);

it("today's table: only baggage carries the lane; trace correlation keeps it where traceparent is forwarded", () => {
  const table = Object.fromEntries(["tracecontext", "jaeger", "ottrace", "b3", "b3multi", "xray", "none", "tracecontext,jaeger"].map((s) => [s, laneOutcome(s.split(","))]));
  assert.deepEqual(table, { tracecontext: "lost", jaeger: "lost", ottrace: "lost", b3: "lost", b3multi: "lost", xray: "lost", none: "lost", "tracecontext,jaeger": "lost" });
  assert.equal(laneOutcome(["tracecontext", "baggage"]), "kept");
  assert.equal(laneOutcome(["b3", "baggage"]), "kept");
  assert.equal(laneOutcome(["tracecontext"], { correlation: true }), "kept");
  assert.equal(laneOutcome(["b3multi"], { correlation: true }), "lost");
  assert.equal(laneOutcome(["tracecontext", "ottrace"], { correlation: true }), "drifts");
  assert.equal(laneOutcome(["ottrace", "tracecontext"], { correlation: true }), "kept");
  assert.equal(laneOutcome(["tracecontext", "jaeger"], { correlation: true }), "kept");
  assert.equal(laneOutcome(["baggage", "none"]), "lost", "none anywhere: no propagator at all, as NodeSDK reads it");
});

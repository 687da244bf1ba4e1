// What npm run manifests says where the apps' propagators carry the lane only beside a trace context
// (tracestate, ot baggage): the request to the first app must bring that context, which no resource here starts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseSpec } from "../deploy/lib/spec.ts";
import { traceContextNotes } from "../deploy/lib/generate.ts";
import { EXAMPLE, spec } from "./manifests-shared.ts";

const text = readFileSync(EXAMPLE, "utf8");
/** The example spec (which has no otel) with otel.propagators, and correlation when asked. */
const withPropagators = (list: string, correlation = false) =>
  parseSpec(`${text}\notel:\n  propagators: [${list}]\n${correlation ? "correlation: {}\n" : ""}`, EXAMPLE);

describe("manifests: the trace context some carriers need", () => {
  it("tracecontext alone: start traces at the gateway (an OpenTelemetry provider), or clients send traceparent", () => {
    const notes = traceContextNotes(withPropagators("tracecontext")).join("\n");
    assert.match(notes, /tracestate entry, which their SDKs keep only beside a traceparent/);
    assert.match(notes, /meshConfig\.extensionProviders\[\]\.opentelemetry\) and a Telemetry resource/);
  });

  it("ottrace alone: only clients send an ot trace context; list baggage or tracecontext too", () => {
    assert.match(traceContextNotes(withPropagators("ottrace")).join("\n"), /ot-baggage-\* headers.*list baggage or tracecontext in otel\.propagators too/);
  });

  it("nothing to say where baggage or jaeger carries the lane, or correlation is on", () => {
    assert.deepEqual(traceContextNotes(spec), []);
    for (const list of ["baggage", "jaeger", "tracecontext, jaeger", "ottrace, baggage"]) assert.deepEqual(traceContextNotes(withPropagators(list)), [], list);
    assert.deepEqual(traceContextNotes(withPropagators("tracecontext", true)), []);
  });
});

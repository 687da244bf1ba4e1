// Loaded with `node --require` before an app, as the OpenTelemetry Operator's Node.js injection loads its
// autoinstrumentation.js (NODE_OPTIONS=--require ...): starts NodeSDK from the environment the Operator
// sets (OTEL_SERVICE_NAME, OTEL_PROPAGATORS, OTEL_TRACES_SAMPLER, OTEL_EXPORTER_OTLP_ENDPOINT), with the
// HTTP instrumentation: every server request is extracted and every client call injected by the SDK, none
// by the app.
"use strict";
const { NodeSDK, tracing } = require("@opentelemetry/sdk-node");
const { HttpInstrumentation } = require("@opentelemetry/instrumentation-http");
const { propagatorFor, parseNames } = require("./propagators.cjs");

const names = parseNames(process.env.OTEL_PROPAGATORS);
// NodeSDK reads OTEL_PROPAGATORS itself for the names it hosts; passing the same propagator explicitly
// adds xray and ottrace, which it lacks. An unset value is the SDK's default (tracecontext,baggage).
const propagator = names.length ? propagatorFor(names) : undefined;
// Nothing collects the spans, but they must exist: with OTEL_TRACES_EXPORTER=none alone NodeSDK registers no
// tracer provider, and a no-op tracer re-sends the incoming span id instead of starting a child span. A
// processor that drops every span keeps the Operator's tracer (sampler from OTEL_TRACES_SAMPLER) and exports nothing.
const sdk = new NodeSDK({
  instrumentations: [new HttpInstrumentation()],
  spanProcessors: [new tracing.NoopSpanProcessor()],
  ...(propagator !== undefined ? { textMapPropagator: propagator } : {}),
});
sdk.start();
process.on("SIGTERM", () => { sdk.shutdown().finally(() => process.exit(0)); });

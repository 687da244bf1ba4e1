// The text-map propagator an OpenTelemetry Node.js app runs for an OTEL_PROPAGATORS value, from the real
// SDK packages. For the names @opentelemetry/sdk-node hosts (tracecontext, baggage, b3, b3multi, jaeger)
// it is built as NodeSDK's getPropagatorFromEnv builds it: deduplicated, in the order given, one propagator
// alone or a CompositePropagator of several, none -> no propagator. NodeSDK has no xray and ottrace (it
// warns and skips them); they come from the contrib packages, as @opentelemetry/auto-instrumentations-node
// maps them, so every name the Operator's Instrumentation accepts gives a working propagator.
// CommonJS, so the --require preload can load it before the app.
"use strict";
const { core } = require("@opentelemetry/sdk-node");
const { B3Propagator, B3InjectEncoding } = require("@opentelemetry/propagator-b3");
const { JaegerPropagator } = require("@opentelemetry/propagator-jaeger");
const { OTTracePropagator } = require("@opentelemetry/propagator-ot-trace");
const { AWSXRayPropagator } = require("@opentelemetry/propagator-aws-xray");

/** The Operator's propagator names (Instrumentation.spec.propagators). */
const PROPAGATOR_NAMES = ["tracecontext", "baggage", "b3", "b3multi", "jaeger", "xray", "ottrace", "none"];

const FACTORIES = {
  tracecontext: () => new core.W3CTraceContextPropagator(),
  baggage: () => new core.W3CBaggagePropagator(),
  b3: () => new B3Propagator(),
  b3multi: () => new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }),
  jaeger: () => new JaegerPropagator(),
  xray: () => new AWSXRayPropagator(),
  ottrace: () => new OTTracePropagator(),
};

/** "tracecontext, baggage" -> ["tracecontext", "baggage"]: NodeSDK's list parsing (trimmed, empty dropped). */
function parseNames(value) {
  return String(value ?? "").split(",").map((v) => v.trim()).filter((v) => v !== "");
}

/** Unknown names, or a message-free empty array: a bad OTEL_PROPAGATORS is refused, not half-applied. */
function unknownNames(names) {
  return names.filter((n) => !PROPAGATOR_NAMES.includes(n));
}

/**
 * The propagator for a list of names; null for none (nothing propagated); throws on an unknown name
 * (NodeSDK would warn and drop it, which would make a demo quietly prove nothing).
 */
function propagatorFor(names) {
  const bad = unknownNames(names);
  if (bad.length) throw new Error(`unknown propagator ${bad.map((b) => JSON.stringify(b)).join(", ")}: one of ${PROPAGATOR_NAMES.join(", ")}`);
  if (names.length === 0) throw new Error(`no propagator named: one or more of ${PROPAGATOR_NAMES.join(", ")}`);
  if (names.includes("none")) return null;
  const unique = [...new Set(names)];
  const list = unique.map((n) => FACTORIES[n]());
  return list.length === 1 ? list[0] : new core.CompositePropagator({ propagators: list });
}

module.exports = { PROPAGATOR_NAMES, parseNames, unknownNames, propagatorFor };

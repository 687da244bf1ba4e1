// The topology helpers the hop test walks with, and a fixed trace per lane, in the format the gateway's tracer starts.
import type { Header } from "../../emulator/index.ts";
import type { StartedTrace } from "../../demo/otel/expectations.ts";
export { chain, resolve } from "../../demo/core/topology.ts";

/** A trace id per lane (distinct trace ids: correlation keys on them). */
const traceIdFor = (lane: string) => Buffer.from(lane.padEnd(16, "-")).toString("hex").slice(0, 32);

/** A traceparent per lane, as a gateway with an OpenTelemetry tracer starts one. */
export function traceparentFor(lane: string): string {
  return `00-${traceIdFor(lane)}-00f067aa0ba902b7-01`;
}

/** The headers the gateway's tracer adds for a request in `lane`: a traceparent (w3c), B3 multi-headers as
 *  Envoy's Zipkin tracer sends them (b3), an X-Amzn-Trace-Id as its X-Ray tracer does (xray), or nothing. */
export function gatewayTraceFor(lane: string, trace: StartedTrace): Header[] {
  if (trace === "w3c") return [["traceparent", traceparentFor(lane)]];
  if (trace === "b3") return [["x-b3-traceid", traceIdFor(lane)], ["x-b3-spanid", "00f067aa0ba902b7"], ["x-b3-sampled", "1"]];
  if (trace === "xray") return [["x-amzn-trace-id", `Root=1-${traceIdFor(lane).slice(0, 8)}-${traceIdFor(lane).slice(8)};Parent=00f067aa0ba902b7;Sampled=1`]];
  return [];
}

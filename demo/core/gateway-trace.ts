// The trace a demo gateway starts on a request without one, in its tracer's format: Envoy's OpenTelemetry
// tracer starts a W3C trace (traceparent), its Zipkin tracer (Istio's classic default) a B3 one
// (x-b3-traceid, x-b3-spanid, x-b3-sampled), its X-Ray tracer an X-Ray one (X-Amzn-Trace-Id). Trace correlation needs a trace id the first app continues, so
// the format must be one the apps' propagators extract.
import { randomBytes } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { Header } from "../../emulator/index.ts";
import { prng } from "./random.ts";

export const GATEWAY_TRACES = ["w3c", "b3", "xray"] as const;
export type GatewayTrace = (typeof GATEWAY_TRACES)[number];

/** A source of new trace and span ids (32 and 16 hex digits): from a seeded PRNG when `seed` is given, else random. */
export function traceIds(seed?: number): () => { traceId: string; spanId: string } {
  if (seed === undefined) return () => ({ traceId: randomBytes(16).toString("hex"), spanId: randomBytes(8).toString("hex") });
  // Its own stream: the client's lane split draws from prng(seed) too.
  const rand = prng((seed ^ 0x7ace1d5) >>> 0);
  const hex = (words: number) => Array.from({ length: words }, () => Math.floor(rand() * 2 ** 32).toString(16).padStart(8, "0")).join("");
  return () => ({ traceId: hex(4), spanId: hex(2) });
}

/** A source of new W3C traceparent values, seeded as traceIds. */
export function traceparents(seed?: number): () => string {
  const next = traceIds(seed);
  return () => {
    const { traceId, spanId } = next();
    return `00-${traceId}-${spanId}-01`;
  };
}

/** The epoch seconds of a seeded run's X-Ray trace ids: fixed (2023-11-14), so that a seed repeats its headers. */
export const SEEDED_XRAY_EPOCH = 1_700_000_000;

/**
 * A source of new X-Ray trace headers, as Envoy's X-Ray tracer starts a trace: Root=1-<8 hex epoch
 * seconds>-<24 hex>;Parent=<16 hex>;Sampled=1, with ids seeded as traceIds (the 24 hex are the last of its
 * 32) and the epoch now, or SEEDED_XRAY_EPOCH with a seed.
 */
export function xrayHeaders(seed?: number): () => string {
  const next = traceIds(seed);
  return () => {
    const { traceId, spanId } = next();
    const epoch = seed === undefined ? Math.floor(Date.now() / 1000) : SEEDED_XRAY_EPOCH;
    return `Root=1-${epoch.toString(16).padStart(8, "0")}-${traceId.slice(8)};Parent=${spanId};Sampled=1`;
  };
}

/**
 * What the gateway's tracer adds to a request: nothing when it already carries a trace of the format (the
 * tracer continues it), else a new sampled trace. Zipkin reads B3 in either encoding, so a b3 single header
 * counts as a trace too; X-Ray's is the X-Amzn-Trace-Id header.
 */
export function traceStarter(format: GatewayTrace, seed?: number): (request: IncomingHttpHeaders) => Header[] {
  if (format === "w3c") {
    const next = traceparents(seed);
    return (r) => r.traceparent ? [] : [["traceparent", next()]];
  }
  if (format === "xray") {
    const next = xrayHeaders(seed);
    return (r) => r["x-amzn-trace-id"] ? [] : [["x-amzn-trace-id", next()]];
  }
  const next = traceIds(seed);
  return (r) => {
    if (r["x-b3-traceid"] || r.b3) return [];
    const { traceId, spanId } = next();
    return [["x-b3-traceid", traceId], ["x-b3-spanid", spanId], ["x-b3-sampled", "1"]];
  };
}

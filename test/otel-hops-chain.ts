// The topology helpers the hop test walks with, and a fixed trace per lane for correlation mode.
export { chain, resolve } from "../deploy/local/topology.ts";

/** A traceparent per lane, as a gateway with a tracer starts one (distinct trace ids: correlation keys on them). */
export function traceparentFor(lane: string): string {
  const hex = Buffer.from(lane.padEnd(16, "-")).toString("hex").slice(0, 32);
  return `00-${hex}-00f067aa0ba902b7-01`;
}

// Random valid lanes specs for spec-limits.test.ts: seeded, reaching every limit the spec and the filter
// share (lane counts up to 256, names up to their lengths, fallbacks, gateway, correlation, observe,
// otel.propagators and so the filter's carriers, with baggage keys each carrier takes, ...).

import { prng } from "../../demo/core/random.ts";
import { carriersFor, carriesLane } from "../../deploy/lib/carriers.ts";

export type Rng = () => number;
/** mulberry32, seeded, so that a failure names the seed that reproduces it. */
export { prng };

export const str = (c: string, n: number) => c.repeat(n);

const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[int(rng, 0, xs.length - 1)];
/** Often the bounds themselves: that is where spec and filter may disagree. */
const len = (rng: Rng, max: number) => pick(rng, [1, max, max, int(rng, 1, max)]);
const from = (rng: Rng, alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[int(rng, 0, alphabet.length - 1)]).join("");

const LOWER = "abcdefghijklmnopqrstuvwxyz";
const ALNUM = `${LOWER}0123456789`;
// Token characters OpenTelemetry keeps in baggage keys (it rewrites #$%&+^`|), lowercase for header names.
const HEADER = `${ALNUM}!'*-._~`;

/** A DNS-1123 label of n characters (n >= 1). */
function dnsLabel(rng: Rng, n: number): string {
  if (n === 1) return from(rng, ALNUM, 1);
  return from(rng, ALNUM, 1) + from(rng, `${ALNUM}-`, n - 2) + from(rng, ALNUM, 1);
}

const labelValue = (rng: Rng, n: number) => n === 1 ? from(rng, ALNUM, 1) : from(rng, ALNUM, 1) + from(rng, `${ALNUM}-_.ABC`, n - 2) + from(rng, ALNUM, 1);

function header(rng: Rng, n: number, not: string[]): string {
  for (;;) {
    const h = from(rng, LOWER, 1) + from(rng, HEADER, n - 1);
    if (h !== "baggage" && !not.includes(h)) return h;
  }
}

// The Operator's propagators the spec takes ("none" it refuses: the lane would stop at the first app).
const PROPAGATORS = ["tracecontext", "baggage", "b3", "b3multi", "jaeger", "xray", "ottrace"];

/** 1-4 distinct propagators in a random order. */
function propagators(rng: Rng): string[] {
  const left = [...PROPAGATORS];
  return Array.from({ length: int(rng, 1, 4) }, () => left.splice(int(rng, 0, left.length - 1), 1)[0]);
}

/** A W3C tracestate simple key of n characters that is also a baggage key (no "/", which no token holds). */
const tracestateKey = (rng: Rng, n: number) => from(rng, LOWER, 1) + from(rng, `${ALNUM}_-*`, n - 1);

/**
 * A baggage key every carrier of `carriers` takes: a tracestate key for tracestate, a lowercase token for
 * jaeger and ottrace (header names), any token OpenTelemetry keeps for baggage alone.
 */
function baggageKey(rng: Rng, carriers: string[]): string {
  const n = len(rng, 256);
  if (carriers.includes("tracestate")) return tracestateKey(rng, n);
  if (carriers.includes("jaeger") || carriers.includes("ottrace")) return from(rng, LOWER, 1) + from(rng, HEADER, n - 1);
  return from(rng, "ABC", 1) + from(rng, `${HEADER}ABC`, n - 1);
}

function labelKey(rng: Rng): string {
  const name = labelValue(rng, len(rng, 63));
  if (rng() < 0.5) return name;
  const prefix = Array.from({ length: int(rng, 1, 3) }, () => dnsLabel(rng, len(rng, 63))).join(".").slice(0, len(rng, 253)).replace(/[-.]+$/, "") || "p";
  return `${prefix}/${name}`;
}

function unique<T>(make: () => T, n: number, tries = 50): T[] {
  const out = new Set<T>();
  for (let i = 0; out.size < n && i < n * tries; i++) out.add(make());
  return [...out];
}

export function baseSpec() {
  return { group: "g", namespace: "default", baseline: "s1", image: "registry.example.com/lane-tag:1", lanes: { s1: { label: "v1", services: ["a"] } } as Record<string, object> };
}

/** n lanes: the baseline s1 with every service, the others l1, l2, ... */
export function lanesOf(n: number): Record<string, object> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [i === 0 ? "s1" : `l${i}`, { label: `v${i}`, services: ["a"] }]));
}

/** A random spec the checks must accept; `i` picks the sizes, so that a run has small and full ones. */
export function randomSpec(rng: Rng, i: number): Record<string, unknown> {
  const nLanes = i % 10 === 0 ? 256 : i % 10 === 1 ? 1 : int(rng, 1, 20);
  const services = unique(() => dnsLabel(rng, len(rng, 63)), int(rng, 1, 6));
  const names = ["s1", ...unique(() => dnsLabel(rng, len(rng, 63)), nLanes * 2).filter((n) => n !== "s1")].slice(0, nLanes);
  const labels = unique(() => labelValue(rng, len(rng, 63)), nLanes * 2).slice(0, nLanes);
  const lanes: Record<string, object> = {};
  names.forEach((name, k) => {
    const svcs = k === 0 ? services : services.filter(() => rng() < 0.5);
    // Fallback to an earlier lane: chains end at the baseline, never in a cycle.
    const fallback = k > 1 && rng() < 0.3 ? { fallback: names[int(rng, 1, k - 1)] } : {};
    lanes[name] = { label: labels[k], services: svcs.length ? svcs : [services[0]], ...fallback };
  });
  // The apps' propagators choose the carriers, and the carriers which baggage keys ride in them.
  const otel = rng() < 0.6 ? (rng() < 0.2 ? true : { propagators: propagators(rng) }) : undefined;
  const carriers = (otel && otel !== true && carriersFor(otel.propagators)) || ["baggage"];
  const ownKey = rng() < 0.5;
  // Without its own baggage key the routing header is the key: then it must ride in the carriers too.
  const routingHeader = !ownKey && carriers.includes("tracestate") ? tracestateKey(rng, len(rng, 256)) : header(rng, len(rng, 256), []);
  const spec: Record<string, unknown> = {
    group: dnsLabel(rng, len(rng, 20)), namespace: dnsLabel(rng, len(rng, 63)), routingHeader, baseline: "s1",
    image: "registry.example.com/lane-tag:1", labelKey: labelKey(rng), workloadLabel: labelKey(rng), lanes,
  };
  if (ownKey) spec.baggageKey = baggageKey(rng, carriers);
  if (otel) spec.otel = otel;
  // Propagators that carry no lane (b3, b3multi, xray only): the spec needs correlation to follow the trace.
  const needsCorrelation = otel !== undefined && otel !== true && !otel.propagators.some(carriesLane);
  if (needsCorrelation || rng() < 0.5) spec.correlation = rng() < 0.3 ? true : {
    headers: unique(() => header(rng, len(rng, 256), [routingHeader]), int(rng, 1, 8)),
    capacity: pick(rng, [1, 1048576, int(rng, 1, 1048576)]), ttlMs: pick(rng, [1, 86400000, int(rng, 1, 86400000)]),
  };
  if (rng() < 0.5) spec.localLane = rng() < 0.5;
  if (rng() < 0.7) spec.observe = { laneMetrics: rng() < 0.5, filterState: rng() < 0.5, hopTrace: rng() < 0.5 };
  if (rng() < 0.4) spec.workloads = Object.fromEntries(services.filter(() => rng() < 0.5).map((s) => [s, labelValue(rng, len(rng, 63))]));
  if (rng() < 0.7) spec.gateway = randomGateway(rng, names, services[0], routingHeader);
  return spec;
}

function randomGateway(rng: Rng, lanes: string[], entry: string, routingHeader: string): Record<string, unknown> {
  const g: Record<string, unknown> = { name: "gw", labels: { istio: "ingressgateway" }, entry: { service: entry } };
  if (rng() < 0.3) g.baggageLimits = rng() < 0.8;
  const useFrom = rng() < 0.5;
  if (!useFrom || rng() < 0.5) {
    // Weights that add up to 100, over some of the lanes (zeros included).
    const some = lanes.filter(() => rng() < 0.5);
    const chosen = some.length ? some.slice(0, 100) : [lanes[0]];
    const w: Record<string, number> = Object.fromEntries(chosen.map((l) => [l, 0]));
    for (let left = 100; left > 0; left--) w[pick(rng, chosen)]++;
    g.weights = w;
    if (rng() < 0.5) g.stickyHeader = header(rng, len(rng, 256), [routingHeader]);
  }
  if (useFrom) {
    const lf: Record<string, unknown> = {};
    const kinds = ["header", "cookie", "query"].filter(() => rng() < 0.6);
    for (const k of kinds.length ? kinds : ["cookie"]) lf[k] = header(rng, len(rng, 256), [routingHeader]);
    if (rng() < 0.6) {
      // Client values: any characters but controls, up to 256 of them; up to 256 values.
      const value = () => from(rng, "abcXYZ019 ;=,\"'\\/?é漢", len(rng, 256));
      lf.values = Object.fromEntries(unique(value, pick(rng, [1, 256, int(rng, 1, 30)])).map((v) => [v, pick(rng, lanes)]));
    }
    g.laneFrom = lf;
  }
  return g;
}

// What the lanes spec accepts, the filter configures: random valid specs (seeded) and the specs at each
// limit generate filter configurations that the BUILT module takes; one past a limit the spec refuses,
// naming the field and the limit.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { parseSpec, SpecError, FILTER_LIMITS } from "../../deploy/lib/spec.ts";
import { ROOT } from "../support/helpers.ts";
import { filterConfigs, refusals, accepted } from "./spec-configs.ts";
import { randomSpec, prng, baseSpec, lanesOf, str } from "./spec-random.ts";

describe("the spec's limits are the filter's", () => {
  it("FILTER_LIMITS are the numbers in the filter's source", () => {
    const src = ["assembly/config/config.ts", "assembly/bytes/lane.ts"].map((f) => readFileSync(join(ROOT, f), "utf8")).join("\n");
    const num = (name: string) => Number(new RegExp(`export const ${name}: i32 = (\\d+);`).exec(src)?.[1]);
    assert.equal(FILTER_LIMITS.lanes, num("MAX_LANES"));
    assert.equal(FILTER_LIMITS.name, num("MAX_NAME"));
    assert.equal(FILTER_LIMITS.lane, num("MAX_LANE"));
    assert.equal(FILTER_LIMITS.traceHeaders, num("MAX_TRACE_HEADERS"));
    assert.equal(FILTER_LIMITS.capacity, num("MAX_CAPACITY"));
    assert.equal(FILTER_LIMITS.ttlMs, num("MAX_TTL_MS"));
  });

  it("random valid specs (seeded): the spec accepts each, and the built filter configures every config generated", async () => {
    const seed = 1717;
    const rng = prng(seed);
    const configs = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const text = stringify(randomSpec(rng, i), { lineWidth: 0 });
      for (const c of filterConfigs(accepted(text, `seed ${seed}, spec ${i}`))) configs.add(c);
    }
    assert.ok(configs.size > 100, `only ${configs.size} distinct configs`);
    // The propagators reached every carrier, and tracestate with the routing header as the key too.
    const parsed = [...configs].map((c) => JSON.parse(c));
    for (const carrier of ["baggage", "jaeger", "ottrace", "tracestate"]) {
      assert.ok(parsed.some((c) => (c.carriers ?? ["baggage"]).includes(carrier)), `no config with the ${carrier} carrier`);
    }
    assert.ok(parsed.some((c) => c.carriers?.includes("tracestate") && c.baggage_key === c.routing_header), "no tracestate key from the routing header");
    assert.ok(parsed.some((c) => c.baggage_limits === true), "no gateway config with baggage_limits");
    // Specs listing b3 without correlation.headers: the generated headers add the b3 single header.
    assert.ok(parsed.some((c) => c.correlation?.headers?.join() === "traceparent,x-b3-traceid,b3,x-request-id"), "no config keying on the b3 header");
    assert.deepEqual(await refusals([...configs]), [], `seed ${seed}`);
  });
});

// [what, the spec at the limit, the spec one past it, the message one past it]
type Edge = [string, (n: number) => object, number, RegExp];
const L = FILTER_LIMITS;
const withGateway = (gw: object) => ({ ...baseSpec(), gateway: { name: "gw", labels: { istio: "gw" }, entry: { service: "a" }, ...gw } });
const EDGES: Edge[] = [
  ["lanes", (n) => ({ ...baseSpec(), lanes: lanesOf(n) }), L.lanes, /lanes: has 257 lanes: the filter takes at most 256/],
  ["a lane name", (n) => ({ ...baseSpec(), lanes: { s1: { label: "v1", services: ["a"] }, [str("l", n)]: { label: "v2", services: ["a"] } } }), L.lane,
    /lanes\.l{64}: lane name "l{64}" is too long: a lane name has at most 63 characters .*this one has 64 \(line \d+\)/],
  ["routingHeader", (n) => ({ ...baseSpec(), routingHeader: str("x", n) }), L.name, /routingHeader: "x+"\.\.\. \(257 characters\) is too long: an HTTP header name .*has at most 256 characters, this one has 257 \(line \d+\)/],
  ["baggageKey", (n) => ({ ...baseSpec(), baggageKey: str("k", n) }), L.name, /baggageKey: .* is too long: a W3C baggage key .*at most 256/],
  ["labelKey name", (n) => ({ ...baseSpec(), labelKey: str("L", n) }), 63, /labelKey: .* is too long: the name part of a Kubernetes label key has at most 63/],
  ["labelKey prefix", (n) => ({ ...baseSpec(), labelKey: `${str("p", n)}/lane` }), 253, /labelKey: .* is too long: the prefix of a Kubernetes label key .*at most 253/],
  ["a lane label", (n) => ({ ...baseSpec(), lanes: { s1: { label: str("v", n), services: ["a"] } } }), 63, /lanes\.s1\.label: .* is too long: a Kubernetes label value has at most 63/],
  ["correlation.headers", (n) => ({ ...baseSpec(), correlation: { headers: Array.from({ length: n }, (_, i) => `t${i}`) } }), L.traceHeaders,
    /correlation\.headers: has 9 header names: the filter takes at most 8/],
  ["a correlation header", (n) => ({ ...baseSpec(), correlation: { headers: [str("t", n)] } }), L.name, /correlation\.headers\[0\]: .* too long: an HTTP header name has at most 256/],
  ["correlation.capacity", (n) => ({ ...baseSpec(), correlation: { capacity: n } }), L.capacity, /correlation\.capacity: must be an integer 1-1048576, got 1048577/],
  ["correlation.ttlMs", (n) => ({ ...baseSpec(), correlation: { ttlMs: n } }), L.ttlMs, /correlation\.ttlMs: must be an integer 1-86400000, got 86400001/],
  ["gateway.stickyHeader", (n) => withGateway({ weights: { s1: 100 }, stickyHeader: str("s", n) }), L.name, /gateway\.stickyHeader: .* too long: an HTTP header name has at most 256/],
  ["gateway.laneFrom.header", (n) => withGateway({ laneFrom: { header: str("h", n) } }), L.name, /gateway\.laneFrom\.header: .* too long: an HTTP header name has at most 256/],
  ["gateway.laneFrom.cookie", (n) => withGateway({ laneFrom: { cookie: str("c", n) } }), L.name, /gateway\.laneFrom\.cookie: .* too long: a cookie name \(a token\) has at most 256/],
  ["gateway.laneFrom.query", (n) => withGateway({ laneFrom: { query: str("q", n) } }), L.name, /gateway\.laneFrom\.query: .* too long: a query name \(a token\) has at most 256/],
  ["gateway.laneFrom.values", (n) => withGateway({ laneFrom: { cookie: "lane", values: Object.fromEntries(Array.from({ length: n }, (_, i) => [`v${i}`, "s1"])) } }), L.lanes,
    /gateway\.laneFrom\.values: has 257 values: the filter takes at most 256/],
  ["a gateway.laneFrom value", (n) => withGateway({ laneFrom: { cookie: "lane", values: { [str("v", n)]: "s1" } } }), L.name,
    /gateway\.laneFrom\.values\.v+: the client value .* is too long: the filter takes at most 256 characters, this one has 257/],
];

describe("each limit: the spec takes it and the filter configures it; one past it the spec refuses, naming it", () => {
  for (const [what, make, limit, message] of EDGES) {
    it(`${what}: ${limit} accepted and configured, ${limit + 1} refused`, async () => {
      const spec = accepted(stringify(make(limit), { lineWidth: 0 }), `${what} at ${limit}`);
      assert.deepEqual(await refusals(filterConfigs(spec)), []);
      assert.throws(() => parseSpec(stringify(make(limit + 1), { lineWidth: 0 }), "edge.yaml"), (e: unknown) => e instanceof SpecError && message.test(e.message) && e.problems.length === 1,
        `${what} at ${limit + 1}: expected one problem matching ${message}`);
    });
  }
  it("correlation.headers: a header listed twice is refused (the filter refuses it too)", () => {
    assert.throws(() => parseSpec(stringify({ ...baseSpec(), correlation: { headers: ["traceparent", "traceparent"] } }), "dup.yaml"),
      /dup\.yaml: correlation\.headers\[1\]: "traceparent" is listed twice/);
  });
  it("gateway.laneFrom.values: any text is a client value, \"__proto__\" too, and reaches the filter's lane_from", async () => {
    const spec = parseSpec(stringify(withGateway({ laneFrom: { cookie: "lane", values: { ["__proto__"]: "s1", "a b;c": "s1" } } })), "p.yaml");
    assert.deepEqual(Object.keys(spec.gateway!.laneFrom!.values!), ["__proto__", "a b;c"]);
    const gw = filterConfigs(spec).map((c) => JSON.parse(c)).find((c) => c.lane_from);
    assert.deepEqual(Object.keys(gw.lane_from.values), ["__proto__", "a b;c"]);
    assert.deepEqual(await refusals(filterConfigs(spec)), []);
  });
  it("gateway.laneFrom.values: an empty client value is refused (the filter refuses it too)", () => {
    assert.throws(() => parseSpec(stringify(withGateway({ laneFrom: { cookie: "lane", values: { "": "s1" } } })), "e.yaml"), /gateway\.laneFrom\.values\."": a client value must not be empty/);
  });
});

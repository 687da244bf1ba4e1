// The baggage key against the carriers otel.propagators choose: the spec refuses, at the field that set the
// key, every key the filter's configure refuses for those carriers (jaeger and ottrace put it in a header
// name, tracestate needs a W3C tracestate key), and what it accepts the BUILT module configures.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { parseSpec, SpecError } from "../../deploy/lib/spec.ts";
import { CARRIERS, DEFAULT_CARRIER, LANE_HEADERS, LANE_PROPAGATORS, carriersFor, carriesLane } from "../../deploy/lib/carriers.ts";
import { otelPropagators } from "../../deploy/lib/validate.ts";
import { laneOutcome } from "../../demo/otel/expectations.ts";
import { filterConfigs, refusals, accepted } from "./spec-configs.ts";
import { baseSpec, str } from "./spec-random.ts";

type Keys = { baggageKey?: string; routingHeader?: string };
const specOf = (propagators: string[], keys: Keys) => stringify({ ...baseSpec(), ...keys, otel: { propagators } }, { lineWidth: 0 });

// [propagators, the key fields, refused: the one problem's pattern | accepted: null]
type Row = [string[], Keys, RegExp | null];
const LOWER = /must be lowercase: the (jaeger|ottrace) propagator \(otel\.propagators\) sends baggage as (uberctx|ot-baggage)-<key> headers, whose names Envoy lowercases/;
const JAEGER = /^gen\.yaml: baggageKey: "X-lane" must be lowercase: the jaeger propagator \(otel\.propagators\) sends baggage as uberctx-<key> headers, whose names Envoy lowercases \(line \d+\)$/;
const TS = /is not a W3C tracestate key \(a lowercase letter, then lowercase letters, digits and _-\*\): with tracecontext and neither baggage nor jaeger in otel\.propagators, the lane rides in a tracestate entry under this key/;
const ROWS: Row[] = [
  // jaeger, ottrace: any lowercase token the spec takes as a baggage key; one capital is refused.
  [["jaeger"], { baggageKey: "x-lane" }, null],
  [["jaeger"], { baggageKey: "X-lane" }, JAEGER],
  [["ottrace", "b3"], { baggageKey: "x.l!a~n'e*_9" }, null],
  [["ottrace", "b3"], { baggageKey: "x.l!a~n'e*_9Z" }, /baggageKey: "x\.l!a~n'e\*_9Z" must be lowercase: the ottrace propagator .* ot-baggage-<key> headers/],
  [["tracecontext", "baggage", "jaeger"], { baggageKey: str("k", 256) }, null],
  [["tracecontext", "baggage", "jaeger"], { baggageKey: `${str("k", 255)}K` }, LOWER],
  // Baggage alone (b3 beside it) takes any token: the key rides in the baggage header's value.
  [["baggage", "b3"], { baggageKey: "X.Lane~" }, null],
  [["tracecontext", "baggage"], { baggageKey: "1.Lane" }, null],
  // tracestate (tracecontext without baggage or jaeger): a lowercase letter, then [a-z0-9_*-], at most 256.
  [["tracecontext"], { baggageKey: "a" }, null],
  [["tracecontext"], { baggageKey: "1" }, TS],
  [["tracecontext"], { baggageKey: "z" }, null],
  [["tracecontext"], { baggageKey: "A" }, TS],
  [["tracecontext", "b3multi"], { baggageKey: "k0_-*" }, null],
  [["tracecontext", "b3multi"], { baggageKey: "k0_-*." }, TS],
  [["tracecontext", "xray"], { baggageKey: "k!" }, TS],
  [["tracecontext", "xray"], { baggageKey: "k~" }, TS],
  [["tracecontext", "xray"], { baggageKey: "k'" }, TS],
  [["tracecontext"], { baggageKey: str("k", 256) }, null],
  // 257: refused for its length alone, once.
  [["tracecontext"], { baggageKey: str("k", 257) }, /baggageKey: .* is too long: a W3C baggage key \(a token\) has at most 256 characters, this one has 257/],
  // ottrace and tracestate both (in that order): the first carrier the key cannot ride in is named.
  [["ottrace", "tracecontext"], { baggageKey: "ot-lane" }, null],
  [["ottrace", "tracecontext"], { baggageKey: "Ot-lane" }, /baggageKey: "Ot-lane" must be lowercase: the ottrace propagator/],
  [["ottrace", "tracecontext"], { baggageKey: "ot.lane" }, TS],
  // Without baggageKey the routing header is the key: refused there, saying so.
  [["tracecontext"], { routingHeader: "x-lane" }, null],
  [["tracecontext"], { routingHeader: "x.lane" },
    /^gen\.yaml: routingHeader: "x\.lane" is not a W3C tracestate key .* under this key; it is also the baggage key unless baggageKey is set \(line \d+\)$/],
  [["tracecontext"], { routingHeader: "x.lane", baggageKey: "lane" }, null],
  // A routing header refused for its own reason gets that problem only.
  [["tracecontext"], { routingHeader: "X-lane" }, /^gen\.yaml: routingHeader: "X-lane" must be lowercase \(line \d+\)$/],
];

describe("spec: the baggage key must ride in the carriers otel.propagators choose", () => {
  for (const [propagators, keys, refused] of ROWS) {
    const key = keys.baggageKey ?? keys.routingHeader ?? "";
    const shown = (v: string) => v.length > 20 ? `${JSON.stringify(v.slice(0, 8))}... (${v.length})` : JSON.stringify(v);
    const name = `[${propagators.join(", ")}] ${Object.entries(keys).map(([k, v]) => `${k} ${shown(v)}`).join(", ")}`;
    if (!refused) {
      it(`${name}: accepted, and the built filter configures every config generated`, async () => {
        const spec = accepted(specOf(propagators, keys), name);
        assert.equal(spec.baggageKey, key);
        assert.deepEqual(await refusals(filterConfigs(spec)), []);
      });
    } else {
      it(`${name}: refused, one problem naming the field`, async () => {
        assert.throws(() => parseSpec(specOf(propagators, keys), "gen.yaml"), (e: unknown) => {
          assert.ok(e instanceof SpecError);
          assert.equal(e.problems.length, 1, e.message);
          assert.match(e.problems[0], refused);
          return true;
        });
        // The filter refuses it too, so the spec is not stricter than it: the key in those carriers.
        const carriers = carriersFor(propagators);
        if (carriers && key.length <= 256) assert.equal((await refusals([JSON.stringify({ baggage_key: key, carriers })])).length, 1, `the filter takes ${key} in ${carriers}`);
      });
    }
  }
});

describe("spec: otel.propagators as the Operator's Instrumentation takes them", () => {
  const refuse = (propagators: unknown[], re: RegExp) => assert.throws(() => parseSpec(stringify({ ...baseSpec(), otel: { propagators } }), "p.yaml"), (e: unknown) => {
    assert.ok(e instanceof SpecError);
    assert.equal(e.problems.length, 1, e.message);
    assert.match(e.problems[0], re);
    return true;
  });
  it("none, alone or with others, is refused: the lane would stop at the first instrumented app", () => {
    refuse(["none"], /otel\.propagators\[0\]: "none" turns propagation off: the lane would not survive an instrumented app/);
    refuse(["tracecontext", "none", "baggage"], /otel\.propagators\[1\]: "none" turns propagation off/);
  });
  it("a propagator listed twice is refused, and one the Operator does not know", () => {
    refuse(["tracecontext", "baggage", "tracecontext"], /otel\.propagators\[2\]: "tracecontext" is listed twice/);
    refuse(["baggage", "w3c"], /otel\.propagators\[1\]: "w3c" is not a propagator the operator knows \(tracecontext, baggage, b3, b3multi, jaeger, xray, ottrace, none\)/);
  });
});

describe("the carrier table (deploy/lib/carriers.ts): what the spec, the notes and the demo's expectations read", () => {
  it("every carrier is one the built filter configures, together and each alone", async () => {
    const names = CARRIERS.map((c) => c.name);
    assert.ok(names.includes(DEFAULT_CARRIER));
    assert.deepEqual(await refusals([names, ...names.map((n) => [n])].map((carriers) => JSON.stringify({ carriers }))), []);
  });

  it("every carrier's propagator is one the Operator knows, each the propagator of one carrier", () => {
    const known = otelPropagators();
    const propagators = CARRIERS.map((c) => c.propagator);
    assert.deepEqual(propagators.filter((p) => !known.includes(p)), []);
    assert.equal(new Set(propagators).size, propagators.length);
    assert.deepEqual(known.filter(carriesLane), known.filter((p) => propagators.includes(p)));
    assert.equal(LANE_PROPAGATORS, `${propagators.slice(0, -1).join(", ")} or ${propagators.at(-1)}`);
  });

  it("a carrier's propagator alone configures it (the default where it is the default's), a fallback only without one that rides on any request", () => {
    for (const c of CARRIERS) assert.deepEqual(carriersFor([c.propagator]) ?? [DEFAULT_CARRIER], [c.name], c.name);
    for (const f of CARRIERS.filter((c) => c.fallback)) {
      for (const any of CARRIERS.filter((c) => c.needs === "nothing")) assert.ok(!carriersFor([f.propagator, any.propagator])?.includes(f.name), `${f.name} beside ${any.name}`);
    }
  });

  it("the demo's expectations follow the table: a carrier that needs nothing keeps the lane, a propagator with no carrier loses it", () => {
    for (const c of CARRIERS) assert.equal(laneOutcome([c.propagator]), c.needs === "nothing" ? "kept" : "lost", c.name);
    for (const p of otelPropagators().filter((x) => !carriesLane(x))) assert.equal(laneOutcome([p]), "lost", p);
  });

  it("the demo's lost-lane text names every carrier's header from the table, with what it needs beside it", () => {
    assert.equal(LANE_HEADERS, "baggage, uberctx-*, ot-baggage-* with an ot trace context, tracestate with a traceparent");
    for (const c of CARRIERS) assert.ok(LANE_HEADERS.includes(c.header.replace("<key>", "*")), c.name);
  });
});

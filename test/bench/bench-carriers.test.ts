// The bench's "cost per carrier set" rows (test/bench/carrier-rows.ts) on the built module: each request
// gives the headers the row says (so the bench never times a broken path), and the sets cover every carrier
// set the generated configurations hold for the Operator's propagators.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { carriersFor } from "../../deploy/lib/carriers.ts";
import { otelPropagators } from "../../deploy/lib/validate.ts";
import { CARRIER_SETS, carrierConfig, carrierRows, expectedChanges, unconfigured, wrongOutput, UBER, OT, type Carrier } from "./carrier-rows.ts";
import { lane3 } from "./inputs.ts";
import { filter, values, IN, OUT } from "../support/helpers.ts";

const TAG = "x-asm-prefer-tag";
const dirName = (d: number) => (d === 1 ? "inbound" : "outbound");

describe("the bench's carrier rows give their expected headers on the built module", () => {
  for (const set of CARRIER_SETS) {
    for (const row of carrierRows(set)) {
      it(`${set.join(",")}: ${row.label}`, async () => {
        const { plugin } = await filter(carrierConfig(set, dirName(row.direction)));
        assert.equal(wrongOutput(plugin, row.headers, row.direction, expectedChanges(row)), undefined);
      });
    }
  }

  it("all four, inbound: the lane written to uberctx-, ot-baggage-, tracestate and baggage (lane member first)", async () => {
    const all: Carrier[] = ["baggage", "jaeger", "ottrace", "tracestate"];
    const row = carrierRows(all).find((r) => r.kind === "inbound")!;
    const { plugin } = await filter({ direction: "inbound", carriers: all });
    const r = plugin.request(row.headers, IN);
    assert.deepEqual(values(r.headers, "uberctx-x-asm-prefer-tag"), ["s2"]);
    assert.deepEqual(values(r.headers, "ot-baggage-x-asm-prefer-tag"), ["s2"]);
    assert.deepEqual(values(r.headers, "tracestate"), ["x-asm-prefer-tag=s2"]);
    assert.deepEqual(values(r.headers, "baggage"), ["x-asm-prefer-tag=s2,userId=alice,sessionId=8f2a"]);
    assert.deepEqual(values(r.headers, TAG), ["s2"]);
  });

  it("each set's lane row: the routing header from that carrier alone (its lane is nowhere else)", async () => {
    for (const first of ["jaeger", "ottrace", "tracestate"] as const) {
      const row = carrierRows([first]).find((r) => r.kind === "lane")!;
      assert.ok(!row.headers.some(([k, v]) => k === "baggage" && v.includes(TAG)), `${first}: no baggage lane`);
      const own = (await filter({ direction: "outbound", carriers: [first] })).plugin;
      assert.deepEqual(values(own.request(row.headers, OUT).headers, TAG), ["s2"], first);
      // The default configuration does not read that carrier: no lane.
      const dflt = (await filter({ direction: "outbound" })).plugin;
      assert.deepEqual(values(dflt.request(row.headers, OUT).headers, TAG), [], `${first} with ["baggage"]`);
    }
  });

  it("the checker finds a wrong answer: baggage-only on the jaeger inbound row writes no uberctx-", async () => {
    const row = carrierRows(["jaeger"]).find((r) => r.kind === "inbound")!;
    const { plugin } = await filter({ direction: "inbound" });
    assert.match(wrongOutput(plugin, row.headers, 1, expectedChanges(row)) ?? "", /uberctx-x-asm-prefer-tag: \[\], expected \["s2"\]/);
  });

  it("a carrier that is not configured: its headers left as sent, the routing header from baggage", async () => {
    const { plugin } = await filter({ direction: "outbound" });
    const r = plugin.request(unconfigured, OUT);
    assert.equal(r.mutations, 1);
    assert.deepEqual(values(r.headers, TAG), ["s2"]);
    for (const name of [UBER, OT, "tracestate", "ot-tracer-traceid"]) assert.deepEqual(values(r.headers, name), values(unconfigured, name), name);
    assert.ok(unconfigured.length > lane3.length && lane3.every((h, i) => unconfigured[i] === h), "the same request plus the other carriers' headers");
    assert.equal(wrongOutput(plugin, lane3, 2, { [TAG]: ["s2"] }), undefined);
  });
});

/** Every ordered list of distinct propagators (the spec rejects none). */
function lists(names: string[], prefix: string[] = []): string[][] {
  const out = prefix.length ? [prefix] : [];
  for (const n of names) if (!prefix.includes(n)) out.push(...lists(names, [...prefix, n]));
  return out;
}

describe("the bench's carrier sets", () => {
  it("cover every set carriersFor gives for the Operator's propagators (order aside), and all four", () => {
    const names = otelPropagators().filter((p) => p !== "none");
    assert.ok(names.includes("jaeger") && names.includes("ottrace"), `the Operator's propagators: ${names.join(", ")}`);
    const key = (s: readonly string[]) => [...s].sort().join(",");
    const benched = new Set(CARRIER_SETS.map(key));
    const produced = new Set(lists(names).map((l) => key(carriersFor(l) ?? ["baggage"])));
    assert.deepEqual([...produced].filter((s) => !benched.has(s)), [], "carrier sets the generated configurations hold that the bench does not time");
    for (const want of [["baggage"], ["jaeger"], ["ottrace"], ["tracestate"], ["baggage", "jaeger"], ["baggage", "ottrace"], ["baggage", "jaeger", "ottrace", "tracestate"]]) {
      assert.ok(CARRIER_SETS.some((s) => s.join(",") === want.join(",")), want.join(","));
    }
    assert.deepEqual(CARRIER_SETS[0], ["baggage"], "the first: the '/ baggage-only' reference");
  });
});

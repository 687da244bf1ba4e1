// The carriers beside baggage (configuration `carriers`), on the built module: Jaeger uberctx-<key>,
// OpenTracing ot-baggage-<key> and a W3C tracestate entry; read in the configured order, written where they
// differ, left alone (no host call) when not configured, and stripped of a client's lane at an untrusted
// gateway whether configured or not.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Header } from "../../emulator/index.ts";
import { filter, send, base, IN, OUT, values, traceparent } from "../support/helpers.ts";

const KEY = "x-asm-prefer-tag";
const UBER = `uberctx-${KEY}`;
const OT = `ot-baggage-${KEY}`;
const TP: Header = ["traceparent", traceparent("4bf92f3577b34da6a3ce929d0e0e4736")];
const OT_CTX: Header[] = [["ot-tracer-traceid", "80f198ee56343ba8"], ["ot-tracer-spanid", "e457b5a2e4d86bd1"]];
const ALL = ["baggage", "jaeger", "ottrace", "tracestate"];

describe("carriers: reading the lane", () => {
  it("jaeger: the lane from uberctx-<key> (percent-decoded); a repeated header is no lane", async () => {
    const { host, plugin } = await filter({ direction: "outbound", carriers: ["jaeger"] });
    assert.deepEqual(send(plugin, [...base, [UBER, "s3"]]).tag, ["s3"]);
    assert.deepEqual(send(plugin, [...base, [UBER, "s%33"]]).tag, ["s3"]);
    assert.deepEqual(send(plugin, [...base, [UBER, "s3"], [UBER, "s3"]]).tag, []);
    assert.equal(host.counter("lane_tag.outbound.invalid_lane"), 1);
    // Baggage is not a configured carrier here: its lane member is not read.
    assert.deepEqual(send(plugin, [...base, ["baggage", `${KEY}=s2`]]).tag, []);
  });

  it("ottrace: the lane from ot-baggage-<key>, only with a valid ot trace context (as the SDKs read it)", async () => {
    const { plugin } = await filter({ direction: "outbound", carriers: ["ottrace"] });
    assert.deepEqual(send(plugin, [...base, ...OT_CTX, [OT, "s3"]]).tag, ["s3"]);
    assert.deepEqual(send(plugin, [...base, [OT, "s3"]]).tag, [], "no ot-tracer-* headers");
    assert.deepEqual(send(plugin, [...base, ["ot-tracer-traceid", "0000000000000000"], OT_CTX[1], [OT, "s3"]]).tag, [], "all-zero trace id");
  });

  it("tracestate: the lane entry, only with a valid traceparent; repeated headers joined", async () => {
    const { plugin } = await filter({ direction: "outbound", carriers: ["tracestate"] });
    assert.deepEqual(send(plugin, [...base, TP, ["tracestate", `foo=1,${KEY}=s3`]]).tag, ["s3"]);
    assert.deepEqual(send(plugin, [...base, TP, ["tracestate", "foo=1"], ["tracestate", `${KEY}=s4`]]).tag, ["s4"]);
    assert.deepEqual(send(plugin, [...base, ["tracestate", `${KEY}=s3`]]).tag, [], "no traceparent");
  });

  it("the first configured carrier with a valid lane wins; a disagreement is counted and repaired", async () => {
    const req: Header[] = [...base, ["baggage", `a=1,${KEY}=s1`], [UBER, "s2"]];
    const j = await filter({ direction: "outbound", carriers: ["jaeger", "baggage"] });
    const r = send(j.plugin, req);
    assert.deepEqual(r.tag, ["s2"]);
    assert.deepEqual(r.baggage, [`${KEY}=s2,a=1`], "the losing carrier now says the same");
    assert.equal(j.host.counter("lane_tag.outbound.carrier_conflict"), 1);
    const b = await filter({ direction: "outbound", carriers: ["baggage", "jaeger"] });
    const s = send(b.plugin, req);
    assert.deepEqual(s.tag, ["s1"]);
    assert.deepEqual(values(s.headers, UBER), ["s1"]);
    assert.equal(b.host.counter("lane_tag.outbound.carrier_conflict"), 1);
    // An invalid lane in the first carrier does not win: the next valid one does, no conflict.
    const c = await filter({ direction: "outbound", carriers: ["jaeger", "baggage"] });
    assert.deepEqual(send(c.plugin, [...base, ["baggage", `${KEY}=s1`], [UBER, "bad lane"]]).tag, ["s1"]);
    assert.equal(c.host.counter("lane_tag.outbound.carrier_conflict"), 0);
  });
});

describe("carriers: writing the lane", () => {
  it("inbound: the routing header's lane goes to every configured carrier the app's SDK would take it from", async () => {
    const { plugin } = await filter({ direction: "inbound", carriers: ALL });
    const r = send(plugin, [...base, [KEY, "s2"], TP, ["tracestate", "foo=1"], ...OT_CTX, ["baggage", "a=1"]], IN);
    assert.deepEqual(r.baggage, [`${KEY}=s2,a=1`]);
    assert.deepEqual(values(r.headers, UBER), ["s2"]);
    assert.deepEqual(values(r.headers, OT), ["s2"]);
    assert.deepEqual(values(r.headers, "tracestate"), [`${KEY}=s2,foo=1`], "the entry first, the others kept");
    // Without a traceparent or an ot trace context, the SDK would drop those carriers: not written.
    const bare = send(plugin, [...base, [KEY, "s2"]], IN);
    assert.deepEqual(values(bare.headers, "tracestate"), []);
    assert.deepEqual(values(bare.headers, OT), []);
    assert.deepEqual(values(bare.headers, UBER), ["s2"]);
  });

  it("replaces every stale value, and leaves a carrier that holds the lane alone", async () => {
    const { plugin } = await filter({ direction: "inbound", carriers: ["jaeger", "tracestate"] });
    const r = send(plugin, [...base, [KEY, "s2"], [UBER, "s1"], [UBER, "s5"], TP, ["tracestate", `a=1,${KEY}=s1`]], IN);
    assert.deepEqual(values(r.headers, UBER), ["s2"]);
    assert.deepEqual(values(r.headers, "tracestate"), [`${KEY}=s2,a=1`]);
    const same = send(plugin, [...base, [KEY, "s2"], [UBER, "s2"]], IN);
    assert.equal(same.mutations, 0);
  });

  it("inbound: a configured carrier that lacks the lane gets it, though another holds it (the app may read only that one)", async () => {
    // tracecontext,ottrace: the SDK's ot extract replaces the trace context, and the tracestate entry with it.
    const { plugin } = await filter({ direction: "inbound", carriers: ["ottrace", "tracestate"] });
    const r = send(plugin, [...base, [KEY, "s2"], TP, ["tracestate", `${KEY}=s2`], ...OT_CTX], IN);
    assert.deepEqual(values(r.headers, OT), ["s2"]);
    assert.deepEqual(values(r.headers, "tracestate"), [`${KEY}=s2`]);
  });

  it("baggage too large to parse is passed on untouched, and the other carriers still get the lane", async () => {
    const big = `${KEY}=s1,` + Array.from({ length: 300 }, (_, i) => `m${i}=${"v".repeat(24)}`).join(",");
    assert.ok(big.length > 8192);
    for (const dir of [OUT, IN]) {
      const { host, plugin } = await filter({ direction: dir === OUT ? "outbound" : "inbound", carriers: ["baggage", "jaeger", "tracestate"] });
      const r = send(plugin, [...base, [KEY, "s2"], TP, ["baggage", big]], dir);
      assert.deepEqual(r.tag, ["s2"]);
      assert.deepEqual(r.baggage, [big], "oversize baggage is not rewritten");
      assert.deepEqual(values(r.headers, UBER), ["s2"]);
      assert.deepEqual(values(r.headers, "tracestate"), [`${KEY}=s2`]);
      assert.equal(host.counter(`lane_tag.${dir === OUT ? "outbound" : "inbound"}.baggage_oversize`), 1);
    }
  });

  it("a carrier that is not configured costs nothing: the same host calls, the headers untouched", async () => {
    const plain = await filter({ direction: "inbound" }, {}, { traceCalls: true });
    const calls = (req: Header[]) => {
      const n = plain.host.trace.length;
      const r = send(plain.plugin, req, IN);
      return { r, names: plain.host.trace.slice(n).map((c) => c.name) };
    };
    const without = calls([...base, [KEY, "s2"]]);
    const withOthers = calls([...base, [KEY, "s2"], [UBER, "s9"], TP, ["tracestate", `${KEY}=s9`], ...OT_CTX, [OT, "s9"]]);
    assert.deepEqual(withOthers.names, without.names);
    assert.deepEqual(values(withOthers.r.headers, UBER), ["s9"]);
    assert.deepEqual(values(withOthers.r.headers, "tracestate"), [`${KEY}=s9`]);
  });
});

describe("carriers: an untrusted gateway strips a client's lane from every carrier, configured or not", () => {
  const client: Header[] = [...base, TP, ...OT_CTX,
    [UBER, "s2"], ["uberctx-X-Asm-Prefer-Tag", "s2"], [OT, "s2"], [`ot-baggage-ot-baggage-${KEY}`, "s2"], ["ot-baggage-X-ASM-prefer-tag", "s2"],
    ["jaeger-baggage", `a=1, X-Asm-Prefer-Tag = s2, b=2`], ["tracestate", `foo=1, ${KEY}=s2`], ["tracestate", ` X-Asm-Prefer-Tag=s2,bar=2`],
    ["uberctx-other", "kept"], ["ot-baggage-other", "kept"]];
  const leftovers = (h: Header[]) => h.filter(([k, v]) => /uberctx-|ot-baggage-|jaeger-baggage|tracestate/i.test(k) && /s2/.test(v));

  for (const carriers of [["baggage"], ALL]) {
    it(`carriers ${JSON.stringify(carriers)}`, async () => {
      const { host, plugin } = await filter({ direction: "both", trust_client_lane: false, default_lane: "s1", carriers });
      const r = send(plugin, client, OUT);
      assert.deepEqual(r.tag, ["s1"]);
      assert.deepEqual(leftovers(r.headers), [], "no client lane left in any carrier");
      assert.deepEqual(values(r.headers, "jaeger-baggage"), ["a=1, b=2"]);
      assert.deepEqual(values(r.headers, "uberctx-other"), ["kept"]);
      assert.deepEqual(values(r.headers, "ot-baggage-other"), ["kept"]);
      const all = carriers.length > 1;
      assert.deepEqual(values(r.headers, "tracestate"), [all ? `${KEY}=s1,foo=1,bar=2` : "foo=1,bar=2"]);
      assert.deepEqual(values(r.headers, UBER), all ? ["s1"] : []);
      assert.deepEqual(values(r.headers, OT), all ? ["s1"] : []);
      assert.equal(host.counter("lane_tag.both.client_lane_removed"), 1);
    });
  }

  it("a client lane in another carrier only is removed too, and counted", async () => {
    const { host, plugin } = await filter({ direction: "both", trust_client_lane: false });
    const r = send(plugin, [...base, ["uberctx-x-asm-prefer-tag", "s2"]], OUT);
    assert.deepEqual(values(r.headers, UBER), []);
    assert.equal(host.counter("lane_tag.both.client_lane_removed"), 1);
  });
});

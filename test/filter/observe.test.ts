// Lane observability on the built module: per-lane counters, the lane as filter state, and the hop trace
// through a gateway and three sidecars with a fallback, all in the Envoy-like host emulator.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Host, type Header, type Plugin, type Stream } from "../../emulator/index.ts";
import { wasmBytes, values, base, IN, OUT, traceparent } from "../support/helpers.ts";

const LANES = ["s1", "s2", "s3"];
const VERSION_TO_LANE = { v1: "s1", v2: "s2", v3: "s3" };
const dec = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString("latin1"));

async function sidecar(workload: string, version: string, extra: object = {}) {
  const host = await Host.load(wasmBytes(), { vmId: "lane-tag", countCalls: true, nodeMetadata: { WORKLOAD_NAME: workload, LABELS: { app: workload.split("-")[0], version } } });
  const cfg = (direction: string) => JSON.stringify({ direction, lanes: LANES, ...(direction === "outbound" ? { default_lane: "s1" } : {}),
    hop_trace: { label: "version", label_to_lane: VERSION_TO_LANE }, ...extra });
  const inbound = host.configure({ configuration: cfg("inbound") });
  const outbound = host.configure({ configuration: cfg("outbound") });
  assert.ok(!inbound.failed && !outbound.failed, JSON.stringify(host.logs));
  return { host, inbound, outbound };
}

async function gateway(hopTrace: object = { accept_debug_header: true }) {
  const host = await Host.load(wasmBytes(), { countCalls: true, nodeMetadata: { WORKLOAD_NAME: "ingressgateway" } });
  const p = host.configure({ configuration: JSON.stringify({ direction: "both", lanes: LANES, trust_client_lane: false, hop_trace: hopTrace }) });
  assert.ok(!p.failed, JSON.stringify(host.logs));
  return { host, p };
}

/** What an app forwards on its upstream call: only baggage (OpenTelemetry), never the routing header. */
const appCall = (headers: Header[], authority: string): Header[] => [[":authority", authority], [":path", "/"], [":method", "GET"], ...headers.filter(([k]) => k === "baggage")];

/**
 * client -> gateway (assigns lane `lane`) -> mocka -> mockb -> mockc, routed as the mesh does: a lane's
 * version where it has one (s2: mocka-v2 and mockc-v2, no mockb), else the baseline's. Each sidecar's
 * inbound sees the request the mesh routed, the app calls on with its baggage, responses come back
 * through every filter in reverse. `appTrace`: a header some app adds to its response.
 */
async function chain(client: Header[], lane: string, appTrace?: string) {
  const gw = await gateway();
  const cars = { "mocka-v2": await sidecar("mocka-v2", "v2"), "mockb-v1": await sidecar("mockb-v1", "v1"), "mockc-v2": await sidecar("mockc-v2", "v2") };
  const open: Stream[] = [];
  const g = gw.p.open([...base, ...client], OUT);
  open.push(g);
  // The gateway's route sets the lane (a weighted VirtualService in the mesh).
  let req: Header[] = [...g.request.headers.filter(([k]) => k !== "x-asm-prefer-tag"), ["x-asm-prefer-tag", lane]];
  const hops = Object.values(cars);
  const inbound: Stream[] = [];
  const outbound: Stream[] = [];
  for (let i = 0; i < hops.length; i++) {
    const s = hops[i].inbound.open(req, IN);
    inbound.push(s);
    if (i === hops.length - 1) break;
    const o = hops[i].outbound.open(appCall(s.request.headers, `${["mocka", "mockb", "mockc"][i + 1]}:8000`), OUT);
    outbound.push(o);
    req = o.request.headers;
  }
  // Responses, innermost first. Apps answer with their own headers (they copy none from upstream).
  const appResponse: Header[] = [[":status", "200"], ...(appTrace ? [["x-lane-tag-trace", appTrace] as Header] : [])];
  let resp = inbound[2].respond(appResponse).headers;
  for (let i = 1; i >= 0; i--) {
    outbound[i].respond(resp); // what the app got back from its upstream (and does not pass on)
    resp = inbound[i].respond(appResponse).headers;
  }
  const final = g.respond(resp).headers;
  for (const s of [...open, ...inbound, ...outbound]) s.close();
  return { gatewayRequest: g.request.headers, response: final, inner: inbound[0].request.headers, cars, gw };
}

describe("hop trace", () => {
  it("gives the client the path through the lanes, in call order, with the fallback named", async () => {
    const { response, cars } = await chain([["x-lane-tag-debug", "1"]], "s2");
    assert.deepEqual(values(response, "x-lane-tag-trace"), ["mocka-v2@s2, mockb-v1@s1 (fallback from s2), mockc-v2@s2"]);
    // Every record was freed with its stream: a later untraced request is untraced everywhere.
    for (const c of Object.values(cars)) assert.equal(c.host.vmFailed, null);
  });

  it("rides in baggage as lane-tag-trace=<16 hex>, added by the gateway next to the lane", async () => {
    const { gatewayRequest, inner } = await chain([["x-lane-tag-debug", "1"], ["baggage", "userId=alice"]], "s1");
    const bag = values(gatewayRequest, "baggage");
    assert.equal(bag.length, 1);
    assert.match(bag[0], /^userId=alice,lane-tag-trace=[0-9a-f]{16}$/);
    assert.match(values(inner, "baggage")[0], /lane-tag-trace=[0-9a-f]{16}/);
  });

  it("is not started without the debug header, nor where the gateway does not accept it", async () => {
    for (const client of [[] as Header[], [["x-lane-tag-debug", "0"]] as Header[], [["x-lane-tag-debug", "1 "]] as Header[]]) {
      const { response, gatewayRequest } = await chain(client, "s2");
      assert.deepEqual(values(response, "x-lane-tag-trace"), [], JSON.stringify(client));
      assert.ok(!values(gatewayRequest, "baggage").some((b) => b.includes("lane-tag-trace")));
    }
    const gw = await gateway({});
    const r = gw.p.request([...base, ["x-lane-tag-debug", "1"]], OUT);
    assert.ok(!values(r.headers, "baggage").some((b) => b.includes("lane-tag-trace")));
  });

  it("a client cannot start or forge one: its trace header and baggage member are removed at the gateway", async () => {
    const { gatewayRequest, response } = await chain([["x-lane-tag-trace", "forged"], ["baggage", "a=1,lane-tag-trace=0123456789abcdef, lane-tag-trace = 1111111111111111"]], "s2");
    assert.deepEqual(values(gatewayRequest, "x-lane-tag-trace"), []);
    assert.deepEqual(values(gatewayRequest, "baggage"), ["a=1"]);
    assert.deepEqual(values(response, "x-lane-tag-trace"), []);
  });

  it("the gateway removes a trace from responses to untraced requests (an app's or a sidecar's)", async () => {
    const { response } = await chain([], "s2", "leaked-workload@s9");
    assert.deepEqual(values(response, "x-lane-tag-trace"), []);
    // Traced, the gateway passes what the mesh built (the inbound sidecars replace an app's header).
    const traced = await chain([["x-lane-tag-debug", "1"]], "s2", "leaked-workload@s9");
    assert.deepEqual(values(traced.response, "x-lane-tag-trace"), ["mocka-v2@s2, mockb-v1@s1 (fallback from s2), mockc-v2@s2"]);
  });

  it("traces in flight together through one sidecar keep their own entries, even in one shared-data slot", async () => {
    const c = await sidecar("mockb-v1", "v1");
    // Both tokens start "aa": the same slot. Interleaved: both requests in, both calls out, responses crossed.
    const tokens = ["aa00000000000001", "aa00000000000002", "bb00000000000003"];
    const ins = tokens.map((t) => c.inbound.open([...base, ["x-asm-prefer-tag", "s2"], ["baggage", `x-asm-prefer-tag=s2,lane-tag-trace=${t}`]], IN));
    const outs = tokens.map((t) => c.outbound.open([...base, ["baggage", `x-asm-prefer-tag=s2,lane-tag-trace=${t}`]], OUT));
    outs[1].respond([[":status", "200"], ["x-lane-tag-trace", "mockc-v2@s2"]]);
    outs[0].respond([[":status", "200"], ["x-lane-tag-trace", "mockc-v1@s1 (fallback from s2)"]]);
    outs[2].respond([[":status", "200"]]); // its upstream is not traced: nothing to collect
    const got = [ins[0], ins[2], ins[1]].map((s) => values(s.respond([[":status", "200"]]).headers, "x-lane-tag-trace")[0]);
    assert.deepEqual(got, ["mockb-v1@s1 (fallback from s2), mockc-v1@s1 (fallback from s2)", "mockb-v1@s1 (fallback from s2)", "mockb-v1@s1 (fallback from s2), mockc-v2@s2"]);
    for (const s of [...ins, ...outs]) s.close();
    // Taken records are removed: the slot holds nothing for them afterwards.
    const slot = c.host.sharedData.get("lane-tag", "lane-tag.hop.aa");
    assert.ok(slot && !Buffer.from(slot.value).toString("latin1").includes("aa0000000000000"));
  });

  it("a trace that never came back expires from its slot", async () => {
    const c = await sidecar("mockb-v1", "v1");
    let now = 1_700_000_000_000_000_000n;
    c.host.now = () => now;
    const lost = c.inbound.open([...base, ["x-asm-prefer-tag", "s1"], ["baggage", "lane-tag-trace=cc00000000000001"]], IN);
    lost.close(); // reset, never answered
    now += 61_000_000_000n;
    const s = c.inbound.open([...base, ["x-asm-prefer-tag", "s1"], ["baggage", "lane-tag-trace=cc00000000000002"]], IN);
    const slot = Buffer.from(c.host.sharedData.get("lane-tag", "lane-tag.hop.cc")!.value).toString("latin1");
    assert.ok(!slot.includes("cc00000000000001") && slot.includes("cc00000000000002"));
    s.close();
  });

  it("a proxy that is both inbound and outbound (plain Envoy, direction unknown) puts its entry before the upstream's", async () => {
    const host = await Host.load(wasmBytes(), { nodeMetadata: { WORKLOAD_NAME: "edge-proxy", LABELS: { version: "v1" } } });
    const p = host.configure({ configuration: JSON.stringify({ lanes: LANES, hop_trace: { label: "version", label_to_lane: VERSION_TO_LANE } }) });
    const s = p.open([...base, ["x-asm-prefer-tag", "s2"], ["baggage", "x-asm-prefer-tag=s2,lane-tag-trace=dd00000000000001"]], {});
    const r = s.respond([[":status", "200"], ["x-lane-tag-trace", "mockc-v2@s2"]]);
    s.close();
    assert.deepEqual(values(r.headers, "x-lane-tag-trace"), ["edge-proxy@s1 (fallback from s2), mockc-v2@s2"]);
  });

  it("untraced requests cost nothing on a sidecar's response path: no host call", async () => {
    const c = await sidecar("mockb-v1", "v1");
    const s = c.inbound.open([...base, ["x-asm-prefer-tag", "s2"], ["baggage", "x-asm-prefer-tag=s2"]], IN);
    const before = new Map(c.host.calls);
    const r = s.respond([[":status", "200"]]);
    s.close();
    assert.deepEqual(c.host.calls, before);
    assert.equal(r.mutations, 0);
  });

  it("without hop_trace the response callback makes no host call, even at a gateway", async () => {
    const host = await Host.load(wasmBytes(), { countCalls: true });
    const p = host.configure({ configuration: JSON.stringify({ direction: "both", trust_client_lane: false }) });
    const s = p.open([...base, ["x-lane-tag-debug", "1"]], OUT);
    const before = new Map(host.calls);
    const r = s.respond([[":status", "200"], ["x-lane-tag-trace", "x@y"]]);
    assert.deepEqual(host.calls, before);
    assert.deepEqual(values(r.headers, "x-lane-tag-trace"), ["x@y"]);
  });
});

const laneStat = (lane: string, dir: string, src: string) => `wasmcustom.lane=.=${lane};.;lane_direction=.=${dir};.;lane_source=.=${src};.;lanetag_requests_total`;
const nonZero = (host: Host) => new Map([...host.envoyStats()].filter(([k, v]) => k.includes("lanetag_requests_total") && v > 0n).map(([k, v]) => [k, Number(v)]));

describe("lane_metrics", () => {
  it("counts requests per lane, direction and source; other lanes as _other, none as _none", async () => {
    const host = await Host.load(wasmBytes(), { countCalls: true, vmId: "v" });
    const out = host.configure({ configuration: JSON.stringify({ direction: "outbound", lanes: ["s1", "s2"], default_lane: "s1", lane_metrics: true, correlation: { enabled: true } }) });
    const inb = host.configure({ configuration: JSON.stringify({ direction: "inbound", lane_metrics: true, correlation: { enabled: true } }) });
    const defines = host.calls.get("proxy_define_metric");
    for (let i = 0; i < 3; i++) out.request([...base, ["baggage", "x-asm-prefer-tag=s2"]], OUT);
    for (let i = 0; i < 2; i++) out.request([...base], OUT);
    out.request([...base, ["x-asm-prefer-tag", "s1"]], OUT);
    // Inbound, no `lanes`: only lanes the configuration names get a series (none here): s2 is _other.
    inb.request([...base, ["x-asm-prefer-tag", "s2"], ["traceparent", traceparent("4bf92f3577b34da6a3ce929d0e0e4736")]], IN);
    inb.request([...base], IN);
    out.request([...base, ["traceparent", traceparent("4bf92f3577b34da6a3ce929d0e0e4736")]], OUT); // s2, by trace id
    assert.deepEqual(nonZero(host), new Map([
      [laneStat("s2", "outbound", "baggage"), 3], [laneStat("s1", "outbound", "default"), 2], [laneStat("s1", "outbound", "header"), 1],
      [laneStat("_other", "inbound", "header"), 1], [laneStat("_none", "inbound", "none"), 1], [laneStat("s2", "outbound", "trace"), 1],
    ]));
    // Defined at configure only: the request path never defines a metric.
    assert.equal(host.calls.get("proxy_define_metric"), defines);
    // The source is counted once, per lane: the per-direction lane_from_* counters stay at 0.
    assert.equal(host.counter("lane_tag.outbound.lane_from_baggage") + host.counter("lane_tag.outbound.lane_from_default"), 0);
  });

  it("defines a bounded set at configure: lanes (at most 16) + _other per source, _none once, per direction", async () => {
    const host = await Host.load(wasmBytes(), { countCalls: true });
    const lanes = Array.from({ length: 20 }, (_, i) => `l${i}`);
    host.configure({ configuration: JSON.stringify({ direction: "outbound", lanes, lane_metrics: true }) });
    const names = [...host.envoyStats().keys()].filter((k) => k.includes("lanetag_requests_total"));
    // Outbound: 7 sources for each of 16 lanes and _other, and _none.
    assert.equal(names.length, 17 * 7 + 1);
    assert.ok(names.includes(laneStat("l15", "outbound", "client")) && !names.some((n) => n.includes("=l16;")));
    assert.ok(host.logs.some((l) => l.level === "warn" && l.message.includes("20 lanes; the first 16 get their own series")));
    // Inbound takes lanes from the header or baggage only; auto defines inbound, outbound and both.
    const h2 = await Host.load(wasmBytes());
    h2.configure({ configuration: JSON.stringify({ lanes: ["s1"], lane_metrics: true }) });
    const n2 = [...h2.envoyStats().keys()].filter((k) => k.includes("lanetag_requests_total"));
    assert.equal(n2.length, (2 * 2 + 1) + (2 * 7 + 1) * 2);
    // Names hold no "tag." (Istio's bootstrap extracts an unanchored tag\.(.+?);\. as a stray label).
    assert.ok(n2.every((n) => !/tag\.(.+?);\./.test(n)));
  });

  it("is off by default: no counters defined beyond the direction counters, no increments of them", async () => {
    const host = await Host.load(wasmBytes());
    const p = host.configure({ configuration: JSON.stringify({ direction: "outbound", lanes: ["s1"] }) });
    p.request([...base, ["baggage", "x-asm-prefer-tag=s1"]], OUT);
    assert.equal([...host.envoyStats().keys()].filter((k) => k.includes("lanetag")).length, 0);
  });
});

describe("filter_state", () => {
  const fs = (s: Stream) => Object.fromEntries([...s.filterState].map(([k, v]) => [k, dec(v)]));
  it("sets the lane and its source as wasm.lane_tag.lane / wasm.lane_tag.source, for access logs", async () => {
    const host = await Host.load(wasmBytes());
    const out = host.configure({ configuration: JSON.stringify({ direction: "outbound", default_lane: "s1", filter_state: true }) });
    const inb = host.configure({ configuration: JSON.stringify({ direction: "inbound", filter_state: true }) });
    const cases: [Plugin, Header[], object][] = [
      [out, [["baggage", "a=1,x-asm-prefer-tag=s2"]], { "wasm.lane_tag.lane": "s2", "wasm.lane_tag.source": "baggage" }],
      [out, [], { "wasm.lane_tag.lane": "s1", "wasm.lane_tag.source": "default" }],
      [inb, [["x-asm-prefer-tag", "s3"]], { "wasm.lane_tag.lane": "s3", "wasm.lane_tag.source": "header" }],
      [inb, [["baggage", "x-asm-prefer-tag=s3"]], { "wasm.lane_tag.lane": "s3", "wasm.lane_tag.source": "baggage" }],
      [inb, [["x-asm-prefer-tag", "-bad"]], {}], // no lane after the filter: nothing set
    ];
    for (const [p, h, want] of cases) {
      const s = p.open([...base, ...h], p === out ? OUT : IN);
      assert.deepEqual(fs(s), want, JSON.stringify(h));
      s.close();
    }
  });

  it("is off by default: no set_property call", async () => {
    const host = await Host.load(wasmBytes(), { countCalls: true });
    const p = host.configure({ configuration: JSON.stringify({ direction: "outbound", default_lane: "s1" }) });
    const s = p.open([...base], OUT);
    assert.equal(s.filterState.size, 0);
    assert.equal(host.calls.get("proxy_set_property"), undefined);
  });
});

// Each of the seven lane sources on the built module, named exactly in both places operators read it: the
// per-lane counter's lane_source (lane_metrics) and the filter state wasm.lane_tag.source (filter_state,
// for access logs). Every source puts the request in a lane of its own, so neither a swapped source name
// nor a lane credited to the wrong source can pass.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Host, type Header, type HostOptions, type Plugin, type StreamOptions } from "../../emulator/index.ts";
import { wasmBytes, base, values, IN, OUT, traceparent } from "../support/helpers.ts";

const LANES = ["s1", "s2", "s3", "s4", "s5", "s6", "s7"];
const OBSERVE = { lanes: LANES, lane_metrics: true, filter_state: true };
const KEY = "x-asm-prefer-tag";

const laneStat = (lane: string, dir: string, src: string) =>
  `wasmcustom.lane=.=${lane};.;lane_direction=.=${dir};.;lane_source=.=${src};.;lanetag_requests_total`;
const laneCounters = (host: Host) => new Map([...host.envoyStats()].filter(([k]) => k.includes("lanetag_requests_total")));

async function vm(opts: HostOptions = {}) {
  return Host.load(wasmBytes(), opts);
}

function plugin(host: Host, config: object): Plugin {
  const p = host.configure({ configuration: JSON.stringify({ ...OBSERVE, ...config }) });
  assert.ok(!p.failed, host.logs.map((l) => l.message).join("\n"));
  return p;
}

/** One request: the lane counters it incremented, the filter state it left, and its headers. */
function observe(host: Host, p: Plugin, headers: Header[], stream: StreamOptions) {
  const before = laneCounters(host);
  const s = p.open(headers, stream);
  const state = Object.fromEntries([...s.filterState].map(([k, v]) => [k, Buffer.from(v).toString("latin1")]));
  s.close();
  const counted: Record<string, number> = {};
  for (const [k, v] of laneCounters(host)) if (v !== (before.get(k) ?? 0n)) counted[k] = Number(v - (before.get(k) ?? 0n));
  return { counted, state, headers: s.request.headers };
}

/** The request is in `lane` by `source`: one count of that series, that filter state, that routing header. */
function assertSource(r: ReturnType<typeof observe>, lane: string, dir: string, source: string) {
  assert.deepEqual(r.counted, { [laneStat(lane, dir, source)]: 1 }, "lane_metrics");
  assert.deepEqual(r.state, { "wasm.lane_tag.lane": lane, "wasm.lane_tag.source": source }, "filter_state");
  assert.deepEqual(values(r.headers, KEY), [lane]);
}

describe("lane sources, in lane_metrics and filter_state", () => {
  it("baggage: the lane member of baggage", async () => {
    const host = await vm();
    const p = plugin(host, { direction: "outbound" });
    assertSource(observe(host, p, [...base, ["baggage", `a=1,${KEY}=s1`]], OUT), "s1", "outbound", "baggage");
    // Inbound too: only baggage has the lane.
    const inb = plugin(host, { direction: "inbound" });
    assertSource(observe(host, inb, [...base, ["baggage", `${KEY}=s1`]], IN), "s1", "inbound", "baggage");
  });

  it("header: the routing header", async () => {
    const host = await vm();
    const p = plugin(host, { direction: "outbound" });
    assertSource(observe(host, p, [...base, [KEY, "s2"], ["baggage", "a=1"]], OUT), "s2", "outbound", "header");
    const inb = plugin(host, { direction: "inbound" });
    assertSource(observe(host, inb, [...base, [KEY, "s2"], ["baggage", `${KEY}=s1`]], IN), "s2", "inbound", "header");
  });

  it("client: the lane the client names where lane_from says", async () => {
    const host = await vm();
    const p = plugin(host, { direction: "both", trust_client_lane: false, lane_from: { header: "version", values: { v3: "s3" }, trusted: true } });
    assertSource(observe(host, p, [...base, ["version", "v3"]], OUT), "s3", "both", "client");
  });

  it("trace: the lane recorded for the request's trace id", async () => {
    const host = await vm({ vmId: "lane-tag" });
    const inb = plugin(host, { direction: "inbound", correlation: { enabled: true } });
    const out = plugin(host, { direction: "outbound", correlation: { enabled: true }, default_lane: "s7" });
    const tp: Header = ["traceparent", traceparent("4bf92f3577b34da6a3ce929d0e0e4736")];
    assertSource(observe(host, inb, [...base, tp, [KEY, "s4"]], IN), "s4", "inbound", "header");
    assertSource(observe(host, out, [...base, tp], OUT), "s4", "outbound", "trace");
  });

  it("local: the workload's own lane label (local_lane)", async () => {
    const host = await vm({ nodeMetadata: { LABELS: { ASM_TRAFFIC_TAG: "v5" } } });
    const p = plugin(host, { direction: "outbound", local_lane: { label: "ASM_TRAFFIC_TAG", label_to_lane: { v5: "s5" } }, default_lane: "s7" });
    assertSource(observe(host, p, [...base], OUT), "s5", "outbound", "local");
  });

  it("assign: the lane chosen by weight", async () => {
    const host = await vm();
    // One lane with weight: the choice is certain, sticky value or not.
    const p = plugin(host, { direction: "both", trust_client_lane: false, assign: { weights: { s1: 0, s6: 1 }, sticky_header: "x-user-id" }, default_lane: "s7" });
    assertSource(observe(host, p, [...base, ["x-user-id", "alice"]], OUT), "s6", "both", "assign");
    assertSource(observe(host, p, [...base], OUT), "s6", "both", "assign");
  });

  it("default: default_lane", async () => {
    const host = await vm();
    const p = plugin(host, { direction: "outbound", default_lane: "s7" });
    assertSource(observe(host, p, [...base, ["baggage", "a=1"]], OUT), "s7", "outbound", "default");
  });

  it("no lane: counted as lane _none, source none; no filter state", async () => {
    const host = await vm();
    const p = plugin(host, { direction: "outbound" });
    const r = observe(host, p, [...base, [KEY, "not a lane"]], OUT);
    assert.deepEqual(r.counted, { [laneStat("_none", "outbound", "none")]: 1 });
    assert.deepEqual(r.state, {});
    assert.deepEqual(values(r.headers, KEY), []);
  });
});

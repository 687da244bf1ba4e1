// Rows of the behaviour spec, each pinned on the built module with the exact headers the request leaves
// with: a valid routing header that names another lane than baggage, a gateway's client routing header
// without a baggage lane, trace correlation on a `direction: both` proxy, and the order in which the
// configured trace headers are looked up.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Host, type Header } from "../../emulator/index.ts";
import { filter, send, base, wasmBytes, slotKey, traceparent, IN, OUT, UNSET } from "../support/helpers.ts";

const KEY = "x-asm-prefer-tag";
const LANES = ["s1", "s2", "s3"];

describe("one valid routing header, another lane in baggage", () => {
  const request: Header[] = [...base, [KEY, "s1"], ["baggage", `a=1,${KEY}=s2;p=1,b=2`]];

  for (const [way, config, stream] of [["direction: outbound", { direction: "outbound" }, UNSET], ["auto, outbound listener", {}, OUT]] as const) {
    it(`outbound (${way}): baggage wins, the header is set to its lane, baggage untouched`, async () => {
      const { host, plugin } = await filter(config);
      const r = send(plugin, request, stream);
      assert.deepEqual(r.headers, [...base, ["baggage", `a=1,${KEY}=s2;p=1,b=2`], [KEY, "s2"]]);
      assert.equal(r.mutations, 1);
      assert.equal(host.counter("lane_tag.outbound.lane_from_baggage"), 1);
      assert.equal(host.counter("lane_tag.outbound.baggage_replaced") + host.counter("lane_tag.outbound.baggage_added"), 0);
    });
  }

  for (const [way, config, stream] of [["direction: inbound", { direction: "inbound" }, UNSET], ["auto, inbound listener", {}, IN]] as const) {
    it(`inbound (${way}): the header wins, the baggage member is replaced and moved first`, async () => {
      const { host, plugin } = await filter(config);
      const r = send(plugin, request, stream);
      assert.deepEqual(r.headers, [...base, [KEY, "s1"], ["baggage", `${KEY}=s1,a=1,b=2`]]);
      assert.equal(r.mutations, 1);
      assert.equal(host.counter("lane_tag.inbound.lane_from_header"), 1);
      assert.equal(host.counter("lane_tag.inbound.baggage_replaced"), 1);
    });
  }

  for (const [way, config, stream] of [["direction: both", { direction: "both" }, OUT], ["auto, no listener direction", {}, UNSET]] as const) {
    it(`both (${way}): inbound rules first, so the header's lane goes to baggage and stays in the header`, async () => {
      const { host, plugin } = await filter(config);
      const r = send(plugin, request, stream);
      assert.deepEqual(r.headers, [...base, [KEY, "s1"], ["baggage", `${KEY}=s1,a=1,b=2`]]);
      assert.equal(host.counter("lane_tag.both.lane_from_header"), 1);
      assert.equal(host.counter("lane_tag.both.baggage_replaced"), 1);
    });
  }
});

describe("gateway (trust_client_lane: false): a client routing header, no baggage lane", () => {
  const gateway = { direction: "both", lanes: LANES, trust_client_lane: false };
  const client: Header[] = [...base, [KEY, "s2"], ["baggage", "userId=alice;p=1"]];

  it("the header is removed, baggage is left as it is", async () => {
    const { host, plugin } = await filter(gateway);
    const r = send(plugin, client, OUT);
    assert.deepEqual(r.headers, [...base, ["baggage", "userId=alice;p=1"]]);
    assert.equal(r.mutations, 1);
    assert.equal(host.counter("lane_tag.both.client_lane_removed"), 1);
    assert.equal(host.counter("lane_tag.both.no_lane"), 1);
    // Without any baggage: the header alone goes.
    assert.deepEqual(send(plugin, [...base, [KEY, "s2"]], OUT).headers, base);
  });

  it("the gateway's own lane (default_lane) replaces it, in header and baggage", async () => {
    const { host, plugin } = await filter({ ...gateway, default_lane: "s1" });
    const r = send(plugin, client, OUT);
    assert.deepEqual(r.headers, [...base, [KEY, "s1"], ["baggage", `${KEY}=s1,userId=alice;p=1`]]);
    assert.equal(host.counter("lane_tag.both.lane_from_default"), 1);
    assert.equal(host.counter("lane_tag.both.client_lane_removed"), 1);
  });

  it("an invalid client header is removed the same way, and not counted as the mesh's invalid lane", async () => {
    const { host, plugin } = await filter(gateway);
    assert.deepEqual(send(plugin, [...base, [KEY, "no such lane"], ["baggage", "a=1"]], OUT).headers, [...base, ["baggage", "a=1"]]);
    assert.equal(host.counter("lane_tag.both.invalid_lane"), 0);
  });
});

const T1 = "4bf92f3577b34da6a3ce929d0e0e4736";
const T2 = "0af7651916cd43dd8448eb211c80319c";

describe("correlation with direction: both", () => {
  it("records the lane of an arriving request and restores it on a request that carries only the trace id", async () => {
    const host = await Host.load(wasmBytes());
    const p = host.configure({ configuration: JSON.stringify({ direction: "both", lanes: LANES, default_lane: "s1", correlation: { enabled: true, capacity: 64 } }) });
    assert.ok(!p.failed);
    const tp: Header = ["traceparent", traceparent(T1)];
    const first = send(p, [...base, tp, [KEY, "s2"]], OUT);
    assert.deepEqual(first.headers, [...base, tp, [KEY, "s2"], ["baggage", `${KEY}=s2`]]);
    assert.equal(host.counter("lane_tag.both.trace_recorded"), 1);
    assert.deepEqual(host.sharedData.keys(), [slotKey(T1, 64)]);
    // Only the trace id: restored (trace correlation comes before default_lane).
    const again = send(p, [...base, tp], OUT);
    assert.deepEqual(again.headers, [...base, tp, [KEY, "s2"], ["baggage", `${KEY}=s2`]]);
    assert.equal(host.counter("lane_tag.both.lane_from_trace"), 1);
    // A lane taken from baggage is recorded as well.
    const tp2: Header = ["traceparent", traceparent(T2)];
    send(p, [...base, tp2, ["baggage", `${KEY}=s3`]], OUT);
    assert.deepEqual(send(p, [...base, tp2], UNSET).headers, [...base, tp2, [KEY, "s3"], ["baggage", `${KEY}=s3`]]);
    assert.equal(host.counter("lane_tag.both.trace_recorded"), 2, "a fresh entry with the same lane is not rewritten");
    // Another trace gets the default, and (both rule sets ran) the lane it leaves with is what is recorded.
    const tp3: Header = ["traceparent", traceparent("11111111111111111111111111111111")];
    assert.deepEqual(send(p, [...base, tp3], OUT).headers, [...base, tp3, [KEY, "s1"], ["baggage", `${KEY}=s1`]]);
    assert.equal(host.counter("lane_tag.both.trace_recorded"), 3);
  });
});

describe("correlation.headers: looked up in the configured order", () => {
  // T1 (traceparent) was recorded in s2, the request id in s3; the app's call carries both.
  async function sidecar(headers: string[]) {
    const host = await Host.load(wasmBytes());
    const correlation = { enabled: true, headers };
    const inbound = host.configure({ configuration: JSON.stringify({ direction: "inbound", lanes: LANES, correlation }) });
    const outbound = host.configure({ configuration: JSON.stringify({ direction: "outbound", lanes: LANES, correlation }) });
    assert.ok(!inbound.failed && !outbound.failed);
    send(inbound, [...base, ["traceparent", traceparent(T1)], [KEY, "s2"]], IN);
    send(inbound, [...base, ["x-request-id", "req-7"], [KEY, "s3"]], IN);
    assert.equal(host.counter("lane_tag.inbound.trace_recorded"), 2);
    return outbound;
  }
  // The request's own header order is the opposite of the first configuration's.
  const call: Header[] = [...base, ["x-request-id", "req-7"], ["traceparent", traceparent(T1)]];

  it("traceparent before x-request-id: traceparent's lane", async () => {
    const out = await sidecar(["traceparent", "x-request-id"]);
    assert.deepEqual(send(out, call, OUT).headers, [...call, [KEY, "s2"], ["baggage", `${KEY}=s2`]]);
  });

  it("x-request-id before traceparent: x-request-id's lane", async () => {
    const out = await sidecar(["x-request-id", "traceparent"]);
    assert.deepEqual(send(out, call, OUT).headers, [...call, [KEY, "s3"], ["baggage", `${KEY}=s3`]]);
  });

  it("the first header without a recorded lane gives way to the next", async () => {
    const out = await sidecar(["traceparent", "x-request-id"]);
    const other: Header[] = [...base, ["traceparent", traceparent(T2)], ["x-request-id", "req-7"]];
    assert.deepEqual(send(out, other, OUT).headers, [...other, [KEY, "s3"], ["baggage", `${KEY}=s3`]]);
  });

  it("the default order: traceparent, x-b3-traceid, x-request-id", async () => {
    const host = await Host.load(wasmBytes());
    const inbound = host.configure({ configuration: JSON.stringify({ direction: "inbound", lanes: LANES, correlation: { enabled: true } }) });
    const outbound = host.configure({ configuration: JSON.stringify({ direction: "outbound", lanes: LANES, correlation: { enabled: true } }) });
    send(inbound, [...base, ["x-request-id", "req-9"], [KEY, "s1"]], IN);
    send(inbound, [...base, ["x-b3-traceid", "463ac35c9f6413ad"], [KEY, "s2"]], IN);
    send(inbound, [...base, ["traceparent", traceparent(T1)], [KEY, "s3"]], IN);
    const all: Header[] = [...base, ["x-request-id", "req-9"], ["x-b3-traceid", "463ac35c9f6413ad"], ["traceparent", traceparent(T1)]];
    assert.deepEqual(send(outbound, all, OUT).headers, [...all, [KEY, "s3"], ["baggage", `${KEY}=s3`]]);
    const two = all.filter(([k]) => k !== "traceparent");
    assert.deepEqual(send(outbound, two, OUT).headers, [...two, [KEY, "s2"], ["baggage", `${KEY}=s2`]]);
  });
});

// baggage_limits on the built module: baggage leaves within W3C's limits (64 members, 8192 bytes), its
// malformed members dropped and the lane first, so that an app whose SDK parses every member it gets still
// gets little, and an SDK that keeps only the first 64 / 8192 keeps the lane. Off by default.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ROOT_CONTEXT, propagation, defaultTextMapGetter } from "@opentelemetry/api";
import { W3CBaggagePropagator } from "@opentelemetry/core";
import { WasmResult, type Header } from "../../emulator/index.ts";
import { filter, send, base, IN, OUT } from "../support/helpers.ts";

const KEY = "x-asm-prefer-tag";
const members = (n: number, from = 0, width = 1) => Array.from({ length: n }, (_, i) => `m${from + i}=${"v".repeat(width)}`);
const GATEWAY = { direction: "outbound", trust_client_lane: false, default_lane: "s1", lanes: ["s1", "s2"], baggage_limits: true };

/** What the real OpenTelemetry JS baggage propagator extracts from the request's baggage. */
function extracted(headers: Header[]): Map<string, string> {
  const carrier: Record<string, string> = {};
  for (const [k, v] of headers) if (k === "baggage") carrier.baggage = carrier.baggage === undefined ? v : `${carrier.baggage},${v}`;
  const bag = propagation.getBaggage(new W3CBaggagePropagator().extract(ROOT_CONTEXT, carrier, defaultTextMapGetter));
  return new Map((bag?.getAllEntries() ?? []).map(([k, e]) => [k, e.value]));
}

function checkLimits(value: string) {
  assert.ok(Buffer.byteLength(value) <= 8192, `${Buffer.byteLength(value)} bytes`);
  assert.ok(value.split(",").length <= 64, `${value.split(",").length} members`);
}

describe("baggage_limits", () => {
  it("off by default: 100 members pass as they are, the lane member first", async () => {
    const { plugin } = await filter({ direction: "outbound", default_lane: "s1" });
    const r = send(plugin, [...base, ["baggage", members(100).join(",")]]);
    assert.equal(r.baggage[0].split(",").length, 101);
  });

  it("a gateway: the client's lane removed, malformed members dropped, 64 members kept with the lane first", async () => {
    const { host, plugin } = await filter(GATEWAY);
    const sent = [...members(10), "bad member", "x=\u00e9", ...members(70, 10), `${KEY}=s2`].join(",");
    const r = send(plugin, [...base, ["baggage", sent]]);
    assert.deepEqual(r.tag, ["s1"]);
    assert.equal(r.baggage.length, 1);
    const out = r.baggage[0].split(",");
    assert.equal(out.length, 64);
    assert.equal(out[0], `${KEY}=s1`);
    assert.deepEqual(out.slice(1), members(63));
    checkLimits(r.baggage[0]);
    assert.equal(host.counter("lane_tag.outbound.baggage_trimmed"), 1);
    assert.equal(host.counter("lane_tag.outbound.client_lane_removed"), 1);
    // The real propagator reads every member that is left, the lane among them.
    const bag = extracted(r.headers);
    assert.equal(bag.size, 64);
    assert.equal(bag.get(KEY), "s1");
  });

  it("baggage of any size and repeated headers are cut to 8192 bytes, the lane kept first", async () => {
    const { host, plugin } = await filter({ direction: "outbound", lanes: ["s1", "s2"], baggage_limits: true });
    const half = members(200, 0, 60);
    const r = send(plugin, [...base, ["baggage", half.join(",")], ["baggage", `${members(200, 200, 60).join(",")},${KEY}=s2`]]);
    assert.deepEqual(r.tag, ["s2"], "the lane of the whole baggage (25 KB), not left unread as oversize");
    assert.equal(r.baggage.length, 1);
    checkLimits(r.baggage[0]);
    const out = r.baggage[0].split(",");
    assert.equal(out[0], `${KEY}=s2`);
    assert.deepEqual(out.slice(1), half.slice(0, out.length - 1));
    assert.equal(host.counter("lane_tag.outbound.baggage_oversize"), 0);
    assert.equal(host.counter("lane_tag.outbound.baggage_trimmed"), 1);
  });

  it("a lane member past the 64th is moved first when the rest is cut (a patched SDK would have dropped it)", async () => {
    const { plugin } = await filter({ direction: "outbound", baggage_limits: true });
    const r = send(plugin, [...base, [KEY, "s2"], ["baggage", [...members(90), `${KEY}=s2`].join(",")]]);
    assert.deepEqual(r.tag, ["s2"]);
    const out = r.baggage[0].split(",");
    assert.equal(out.length, 64);
    assert.equal(out[0], `${KEY}=s2`);
  });

  it("baggage within the limits is left as it is; everything malformed and no lane: removed", async () => {
    const { host, plugin } = await filter({ direction: "outbound", baggage_limits: true });
    const ok = send(plugin, [...base, [KEY, "s2"], ["baggage", `a=1,${KEY}=s2,b=2;p`]]);
    assert.equal(ok.mutations, 0);
    assert.equal(host.counter("lane_tag.outbound.baggage_trimmed"), 0);
    const none = send(plugin, [...base, ["baggage", "bad, worse=\"q\""]]);
    assert.deepEqual(none.baggage, []);
    assert.equal(host.counter("lane_tag.outbound.baggage_trimmed"), 1);
  });

  it("inbound: the app gets baggage within the limits, with the lane the mesh routed by first", async () => {
    const { host, plugin } = await filter({ direction: "inbound", baggage_limits: true });
    const r = send(plugin, [...base, [KEY, "s2"], ["baggage", members(100).join(",")]], IN);
    const out = r.baggage[0].split(",");
    assert.equal(out.length, 64);
    assert.equal(out[0], `${KEY}=s2`);
    assert.equal(host.counter("lane_tag.inbound.baggage_trimmed"), 1);
    assert.equal(host.counter("lane_tag.inbound.baggage_added"), 1);
  });

  it("an untrusted gateway whose baggage cannot be written removes it (unchecked baggage never reaches an app)", async () => {
    const faults = (call: string) => (call === "proxy_replace_header_map_value" ? WasmResult.InternalFailure : undefined);
    const { plugin } = await filter(GATEWAY, {}, { faults });
    const r = send(plugin, [...base, ["baggage", members(100).join(",")]], OUT);
    assert.deepEqual(r.baggage, []);
  });
});

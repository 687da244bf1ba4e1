// Memory limits on the request path, on the built module: host reads never starve the module's own
// buffers, and where a buffer cannot be had (its cap), an untrusted gateway fails closed: no client-chosen
// lane leaves it, whatever the header-map size.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Header } from "../../emulator/index.ts";
import { filter, send, base, OUT, slotKey, values } from "../support/helpers.ts";

const KEY = "x-asm-prefer-tag";
const TRACE_HEADERS = ["traceparent", "x-request-id", "x-b3-traceid", "x-t1", "x-t2", "x-t3", "x-t4"];
const TRACE_IDS = ["4bf92f3577b34da6a3ce929d0e0e4736", "req-1", "80f198ee56343ba8", "t1", "t2", "t3", "t4"];
// The gateway of the reported case: untrusted clients, sticky assignment, 6 or 7 correlation headers.
const gatewayConfig = (traceHeaders: number) => ({
  direction: "both", trust_client_lane: false, lanes: ["s1", "s2", "s3"],
  assign: { weights: { s1: 60, s2: 20, s3: 20 }, sticky_header: "x-user-id" },
  correlation: { enabled: true, headers: TRACE_HEADERS.slice(0, traceHeaders) },
});
const GATEWAY = gatewayConfig(6);

/** Envoy's wire size of a header map: count, lengths, then each key and value NUL-terminated. */
const mapSize = (h: Header[]) => 4 + h.reduce((n, [k, v]) => n + 8 + Buffer.byteLength(k) + 1 + Buffer.byteLength(v) + 1, 0);

/** A request whose header map is exactly `size` bytes: the client's lane in baggage, then padding. */
function request(size: number, baggage: string[]): Header[] {
  const h: Header[] = [...base, ["x-user-id", "alice"], [KEY, "s2"],
    ["traceparent", `00-${TRACE_IDS[0]}-00f067aa0ba902b7-01`], ...TRACE_IDS.slice(1).map((id, i) => [TRACE_HEADERS[i + 1], id] as Header),
    ...baggage.map((b) => ["baggage", b] as Header), ["x-pad", ""]];
  const missing = size - mapSize(h);
  if (missing < 0) throw new Error(`size ${size} is below the request's own ${mapSize(h)}`);
  h[h.length - 1] = ["x-pad", "p".repeat(missing)];
  assert.equal(mapSize(h), size);
  return h;
}

/**
 * Every lane member of the output, in any spelling a reader accepts, is the gateway's own (none when the
 * baggage left is over 8192 bytes: the filter does not add to baggage it does not parse).
 */
function assertNoClientLane(headers: Header[], what: string) {
  const tag = values(headers, KEY);
  assert.equal(tag.length, 1, `${what}: one routing header`);
  assert.ok(["s1", "s2", "s3"].includes(tag[0]), what);
  const members = values(headers, "baggage").join(",").split(",").map((m) => m.trim());
  const lane = members.filter((m) => /^x-asm-prefer-tag[ \t]*=/.test(m) || m.replace(/%2D/gi, "-").startsWith(KEY));
  const rest = Buffer.byteLength(members.filter((m) => !lane.includes(m)).join(","));
  assert.deepEqual(lane, rest > 8192 ? [] : [`${KEY}=${tag[0]}`], `${what}: only the gateway's lane member`);
}

async function gateway(traceHeaders = 6) {
  const f = await filter(gatewayConfig(traceHeaders));
  // A busy gateway: the trace ids' slots hold other traces, so every lookup reads (and allocates) an entry.
  // Refilled before each request, since the gateway records its own choice under these trace ids.
  const busy = () => { for (const id of TRACE_IDS) f.host.sharedData.set("", slotKey(id, 8192), new Uint8Array(40).fill(0x41), 0); };
  const sendBusy = (h: Header[]) => { busy(); return send(f.plugin, h, OUT); };
  return { ...f, sendBusy };
}

describe("an untrusted gateway never lets a client's lane through, at any header-map size", () => {
  // Before the arenas were split, a map of 16364-16384 bytes filled the one arena, every trace read took
  // one of 8 heap blocks, and the baggage rewrite got none: the client's member stayed.
  for (const [traceHeaders, bags] of [[6, 2], [7, 1]]) {
    it(`around the host arena's edge (16 KiB of header map), ${traceHeaders} trace reads, ${bags} baggage header(s)`, async () => {
      const { host, sendBusy } = await gateway(traceHeaders);
      const pad = "pad=" + "v".repeat(8000);
      const baggage = bags === 2 ? [`${KEY}=s2,${pad}`, "b=1"] : [`${KEY}=s2,${pad}`];
      const lane = new Set<string>();
      for (let size = 16280; size <= 16480; size++) {
        const r = sendBusy(request(size, baggage));
        assertNoClientLane(r.headers, `map of ${size} bytes`);
        assert.ok(r.baggage.join(",").includes(pad), `map of ${size} bytes: other members kept`);
        lane.add(r.tag[0]);
      }
      assert.equal(lane.size, 1, "the same user gets the same lane at every size");
      assert.equal(host.counter("lane_tag.both.client_baggage_dropped"), 0, "nothing had to be dropped whole");
      assert.equal(host.counter("lane_tag.both.host_error"), 0);
      assert.equal(host.counter("lane_tag.both.client_lane_removed"), 201);
    });
  }

  it("around the module's own arena (16 KiB) and the 8192-byte parse limit, with baggage joined from two headers", async () => {
    const { host, sendBusy } = await gateway();
    let n = 0;
    for (const target of [8192, 16384, 32768]) {
      for (let len = target - 80; len <= target + 80; len += 3) {
        const first = `${KEY}=s2,a=1`;
        const second = `b=${"w".repeat(len - first.length - 3)}`;
        const r = sendBusy(request(len + 2000, [first, second]));
        assertNoClientLane(r.headers, `baggage of ${len} bytes`);
        assert.ok(r.baggage.join(",").includes(second), `baggage of ${len} bytes: other members kept`);
        n++;
      }
    }
    assert.equal(host.counter("lane_tag.both.client_baggage_dropped"), 0);
    assert.equal(host.counter("lane_tag.both.client_lane_removed"), n);
  });

  it("baggage over the module's 1 MiB buffer cap is removed whole (fail closed), and counted", async () => {
    const { host, plugin } = await filter(GATEWAY);
    const big = `${KEY}=s2,pad=${"v".repeat(1 << 20)}`;
    const r = send(plugin, [...base, ["x-user-id", "alice"], ["baggage", big], ["baggage", "b=1"]], OUT);
    assert.equal(r.tag.length, 1);
    assert.deepEqual(r.baggage, [`${KEY}=${r.tag[0]}`], "only the gateway's own lane member");
    assert.equal(host.counter("lane_tag.both.client_baggage_dropped"), 1);
    // A trusted sidecar leaves such baggage alone: it is over 8192 bytes, not parsed, passed on.
    const sidecar = await filter({ direction: "outbound" });
    const s = send(sidecar.plugin, [...base, ["baggage", big], ["baggage", "b=1"]], OUT);
    assert.equal(s.mutations, 0);
    assert.equal(sidecar.host.counter("lane_tag.outbound.baggage_oversize"), 1);
  });

  it("a header map over the host cap (16 MiB) cannot be read: the gateway removes the routing header and baggage", async () => {
    const { host, plugin } = await filter(GATEWAY);
    const huge: Header[] = [...base, [KEY, "s2"], ["baggage", `${KEY}=s2`], ["x-pad", "p".repeat(16 << 20)]];
    const r = send(plugin, huge, OUT);
    assert.deepEqual(r.tag, []);
    assert.deepEqual(r.baggage, []);
    assert.equal(host.counter("lane_tag.both.client_baggage_dropped"), 1);
    assert.equal(host.counter("lane_tag.both.host_error"), 1);
    // A trusted sidecar leaves the unreadable request as it was.
    const sidecar = await filter({ direction: "outbound", default_lane: "s1" });
    const s = send(sidecar.plugin, huge, OUT);
    assert.equal(s.mutations, 0);
    assert.equal(sidecar.host.counter("lane_tag.outbound.host_error"), 1);
  });

  it("memory stays flat over these sizes", async () => {
    const { host, sendBusy } = await gateway();
    const warm = () => { for (let size = 16280; size <= 16480; size += 7) sendBusy(request(size, [`${KEY}=s2,a=1`, `b=${"w".repeat(9000)}`])); };
    warm();
    const before = host.memoryBytes();
    for (let i = 0; i < 20; i++) warm();
    assert.equal(host.memoryBytes(), before);
  });
});

// Lanes where baggage is not propagated: trace correlation, local lane (strict mode), weighted sticky
// assignment. All on the built module in the host emulator.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Host, SharedData, type Header, type Plugin } from "../../emulator/index.ts";
import { wasmBytes, send, base, IN, OUT, slotKey, traceparent } from "../support/helpers.ts";

const LANES = ["s1", "s2", "s3"];
const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const MS = 1_000_000n;

/** One sidecar VM (one worker) with an inbound and an outbound plugin, as Istio/ASM attach them. */
async function sidecar(extra: object = {}, opts: { sharedData?: SharedData; vmId?: string; nodeMetadata?: Record<string, unknown> } = {}) {
  const host = await Host.load(wasmBytes(), { countCalls: true, ...opts });
  let t = 1_700_000_000_000n * MS;
  host.now = () => t;
  const common = { lanes: LANES, ...extra };
  const inbound = host.configure({ configuration: JSON.stringify({ ...common, direction: "inbound" }) });
  const outbound = host.configure({ configuration: JSON.stringify({ ...common, direction: "outbound", default_lane: "s1" }) });
  assert.ok(!inbound.failed && !outbound.failed, host.logs.map((l) => l.message).join("\n"));
  return { host, inbound, outbound, advance: (ms: number) => { t += BigInt(ms) * MS; } };
}

const CORRELATION = { correlation: { enabled: true } };
const withTrace = (id = TRACE, extra: Header[] = []): Header[] => [...base, ["traceparent", traceparent(id)], ...extra];

describe("correlation: trace id -> lane in shared data", () => {
  it("an arriving request's lane comes back on the app's call that carries only traceparent", async () => {
    const s = await sidecar(CORRELATION);
    const arrived = send(s.inbound, withTrace(TRACE, [["x-asm-prefer-tag", "s2"]]), IN);
    assert.deepEqual(arrived.tag, ["s2"]);
    assert.equal(s.host.counter("lane_tag.inbound.trace_recorded"), 1);
    const leaving = send(s.outbound, withTrace(), OUT);
    assert.deepEqual(leaving.tag, ["s2"]);
    assert.deepEqual(leaving.baggage, ["x-asm-prefer-tag=s2"]);
    assert.equal(s.host.counter("lane_tag.outbound.lane_from_trace"), 1);
    // Another trace has no lane: the default applies.
    assert.deepEqual(send(s.outbound, withTrace("0af7651916cd43dd8448eb211c80319c"), OUT).tag, ["s1"]);
  });

  it("writes the slot the trace id hashes to, a bounded key", async () => {
    const s = await sidecar({ correlation: { enabled: true, capacity: 100 } });
    send(s.inbound, withTrace(TRACE, [["x-asm-prefer-tag", "s3"]]), IN);
    assert.deepEqual(s.host.sharedData.keys(), [slotKey(TRACE, 100)]);
  });

  it("records from baggage too, and under every trace header the request has", async () => {
    const s = await sidecar(CORRELATION);
    send(s.inbound, withTrace(TRACE, [["baggage", "x-asm-prefer-tag=s3"], ["x-request-id", "req-1"]]), IN);
    assert.equal(s.host.counter("lane_tag.inbound.trace_recorded"), 2);
    // The app forwards only x-request-id: found through it.
    assert.deepEqual(send(s.outbound, [...base, ["x-request-id", "req-1"]], OUT).tag, ["s3"]);
    // x-b3-traceid and b3 when configured.
    const b = await sidecar({ correlation: { enabled: true, headers: ["b3", "x-b3-traceid"] } });
    send(b.inbound, [...base, ["x-asm-prefer-tag", "s2"], ["b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"]], IN);
    assert.deepEqual(send(b.outbound, [...base, ["b3", "80f198ee56343ba864fe8b2a57d3eff7-05e3ac9a4f6e3b90-1"]], OUT).tag, ["s2"]);
    send(b.inbound, [...base, ["x-asm-prefer-tag", "s3"], ["x-b3-traceid", "463ac35c9f6413ad"]], IN);
    assert.deepEqual(send(b.outbound, [...base, ["x-b3-traceid", "463ac35c9f6413ad"]], OUT).tag, ["s3"]);
  });

  it("never overrides a lane the request carries", async () => {
    const s = await sidecar(CORRELATION);
    send(s.inbound, withTrace(TRACE, [["x-asm-prefer-tag", "s2"]]), IN);
    assert.deepEqual(send(s.outbound, withTrace(TRACE, [["baggage", "x-asm-prefer-tag=s3"]]), OUT).tag, ["s3"]);
    assert.deepEqual(send(s.outbound, withTrace(TRACE, [["x-asm-prefer-tag", "s1"]]), OUT).tag, ["s1"]);
    assert.equal(s.host.counter("lane_tag.outbound.lane_from_trace"), 0);
  });

  it("forgets a trace after ttl_ms", async () => {
    const s = await sidecar({ correlation: { enabled: true, ttl_ms: 1000 } });
    send(s.inbound, withTrace(TRACE, [["x-asm-prefer-tag", "s2"]]), IN);
    s.advance(999);
    assert.deepEqual(send(s.outbound, withTrace(), OUT).tag, ["s2"]);
    s.advance(1);
    assert.deepEqual(send(s.outbound, withTrace(), OUT).tag, ["s1"]);
  });

  it("is off by default, and then touches no shared data", async () => {
    const s = await sidecar();
    send(s.inbound, withTrace(TRACE, [["x-asm-prefer-tag", "s2"]]), IN);
    assert.deepEqual(send(s.outbound, withTrace(), OUT).tag, ["s1"]);
    assert.equal(s.host.calls.get("proxy_get_shared_data") ?? 0, 0);
    assert.equal(s.host.calls.get("proxy_set_shared_data") ?? 0, 0);
    assert.equal(s.host.calls.get("proxy_get_current_time_nanoseconds") ?? 0, 0);
  });

  it("works across the workers of one sidecar (same vm_id), not across vm_ids", async () => {
    const shared = new SharedData();
    const w1 = await sidecar(CORRELATION, { sharedData: shared, vmId: "lane-tag" });
    const w2 = await sidecar(CORRELATION, { sharedData: shared, vmId: "lane-tag" });
    const other = await sidecar(CORRELATION, { sharedData: shared, vmId: "another" });
    send(w1.inbound, withTrace(TRACE, [["x-asm-prefer-tag", "s2"]]), IN);
    assert.deepEqual(send(w2.outbound, withTrace(), OUT).tag, ["s2"]);
    assert.deepEqual(send(other.outbound, withTrace(), OUT).tag, ["s1"]);
  });

  it("does not rewrite a fresh entry, and rewrites one past half its TTL", async () => {
    const s = await sidecar({ correlation: { enabled: true, ttl_ms: 1000 } });
    const req = withTrace(TRACE, [["x-asm-prefer-tag", "s2"]]);
    send(s.inbound, req, IN);
    send(s.inbound, req, IN);
    assert.equal(s.host.calls.get("proxy_set_shared_data"), 1);
    s.advance(600);
    send(s.inbound, req, IN);
    assert.equal(s.host.calls.get("proxy_set_shared_data"), 2);
    // A new lane for the trace is written at once.
    send(s.inbound, withTrace(TRACE, [["x-asm-prefer-tag", "s3"]]), IN);
    assert.equal(s.host.calls.get("proxy_set_shared_data"), 3);
    assert.deepEqual(send(s.outbound, withTrace(), OUT).tag, ["s3"]);
  });

  it("compare-and-swap: a write by another worker between read and write makes it read again", async () => {
    // Another worker writes the slot right after each of our reads, for the first read only.
    class Racing extends SharedData {
      raced = false;
      override get(vmId: string, key: string) {
        const e = super.get(vmId, key);
        if (!this.raced) {
          this.raced = true;
          super.set(vmId, key, new TextEncoder().encode("written by another worker"), 0);
        }
        return e;
      }
    }
    const shared = new Racing();
    const s = await sidecar(CORRELATION, { sharedData: shared });
    // Every slot of the trace's set (4 from its own) exists (Envoy's set with cas 0 is unconditional, so a
    // race on an empty slot just means the last writer wins; both wrote a valid entry).
    const first = Number.parseInt(slotKey(TRACE, 8192).slice(-8), 16);
    for (let j = 0; j < 4; j++) shared.set("", `lane-tag.trace.${(first + j).toString(16).padStart(8, "0")}`, new Uint8Array(20), 0);
    shared.raced = false;
    send(s.inbound, withTrace(TRACE, [["x-asm-prefer-tag", "s2"]]), IN);
    assert.equal(s.host.calls.get("proxy_get_shared_data"), 8, "the set read twice");
    assert.equal(s.host.calls.get("proxy_set_shared_data"), 2, "first set failed with CasMismatch, second succeeded");
    assert.deepEqual(send(s.outbound, withTrace(), OUT).tag, ["s2"]);
  });

  it("restores only a lane the reading filter allows", async () => {
    const s = await sidecar(CORRELATION);
    send(s.inbound, withTrace(TRACE, [["x-asm-prefer-tag", "s3"]]), IN);
    // Another plugin of the same VM (same shared data) that routes only s1 and s2.
    const narrow = s.host.configure({ configuration: JSON.stringify({ direction: "outbound", lanes: ["s1", "s2"], correlation: { enabled: true }, default_lane: "s1" }) });
    assert.deepEqual(send(narrow, withTrace(), OUT).tag, ["s1"]);
    assert.deepEqual(send(s.outbound, withTrace(), OUT).tag, ["s3"]);
  });

  it("ignores garbage a peer left in a slot", async () => {
    const s = await sidecar({ correlation: { enabled: true, capacity: 1 } });
    s.host.sharedData.set("", slotKey(TRACE, 1), new Uint8Array(40).fill(0x41), 0);
    assert.deepEqual(send(s.outbound, withTrace(), OUT).tag, ["s1"]);
  });

  it("a newer trace takes over its slot: capacity bounds the store", async () => {
    const s = await sidecar({ correlation: { enabled: true, capacity: 1 } });
    const a = "0af7651916cd43dd8448eb211c80319c";
    send(s.inbound, withTrace(a, [["x-asm-prefer-tag", "s2"]]), IN);
    send(s.inbound, withTrace(TRACE, [["x-asm-prefer-tag", "s3"]]), IN);
    assert.deepEqual(send(s.outbound, withTrace(TRACE), OUT).tag, ["s3"]);
    assert.deepEqual(send(s.outbound, withTrace(a), OUT).tag, ["s1"]);
    assert.equal(s.host.sharedData.usage().keys, 1);
  });

  it("memory stays bounded after 1M distinct trace ids", async () => {
    const capacity = 4096;
    const s = await sidecar({ correlation: { enabled: true, capacity } });
    const hex = (i: number) => i.toString(16).padStart(32, "0").replace(/^0/, "a");
    const req = (i: number): Header[] => withTrace(hex(i), [["x-asm-prefer-tag", LANES[i % 3]]]);
    for (let i = 0; i < 20_000; i++) send(s.inbound, req(i), IN);
    const warm = { wasm: s.host.memoryBytes(), shared: s.host.sharedData.usage() };
    for (let i = 20_000; i < 1_000_000; i++) s.inbound.request(req(i), IN);
    const end = { wasm: s.host.memoryBytes(), shared: s.host.sharedData.usage() };
    assert.equal(end.wasm, warm.wasm, "linear memory did not grow");
    assert.ok(end.shared.keys <= capacity, `${end.shared.keys} keys`);
    // Every key is a slot key and every value at most 17 + 63 bytes.
    assert.ok(end.shared.bytes <= capacity * (23 + 80), `${end.shared.bytes} bytes`);
    assert.equal(s.host.counter("lane_tag.inbound.trace_recorded"), 1_000_000);
    // The newest traces are still found.
    assert.deepEqual(send(s.outbound, withTrace(hex(999_999)), OUT).tag, [LANES[999_999 % 3]]);
  });
});

describe("local_lane: the workload's own label (strict mode)", () => {
  const LOCAL = { local_lane: { label: "ASM_TRAFFIC_TAG", label_to_lane: { v1: "s1", v2: "s2", v3: "s3" } } };
  it("gives outbound requests without a lane the workload's lane", async () => {
    const s = await sidecar(LOCAL, { nodeMetadata: { LABELS: { ASM_TRAFFIC_TAG: "v2", app: "mocka" } } });
    assert.ok(s.host.logs.some((l) => l.level === "info" && l.message === 'lane-tag: local_lane: node.metadata.LABELS.ASM_TRAFFIC_TAG is "v2": local lane "s2"'));
    const r = send(s.outbound, base, OUT);
    assert.deepEqual(r.tag, ["s2"]);
    assert.deepEqual(r.baggage, ["x-asm-prefer-tag=s2"]);
    assert.equal(s.host.counter("lane_tag.outbound.lane_from_local"), 1);
    // A lane the request carries wins; inbound requests are not touched by it.
    assert.deepEqual(send(s.outbound, [...base, ["baggage", "x-asm-prefer-tag=s3"]], OUT).tag, ["s3"]);
    assert.deepEqual(send(s.inbound, base, IN).tag, []);
  });
  it("takes the label value itself without a table", async () => {
    const s = await sidecar({ local_lane: { label: "lane" } }, { nodeMetadata: { LABELS: { lane: "s3" } } });
    assert.deepEqual(send(s.outbound, base, OUT).tag, ["s3"]);
  });
  it("warns and falls back to the default when the label is missing or maps to no lane", async () => {
    const missing = await sidecar(LOCAL, { nodeMetadata: { LABELS: { app: "mocka" } } });
    assert.ok(missing.host.logs.some((l) => l.level === "warn" && l.message === "lane-tag: local_lane: node.metadata.LABELS.ASM_TRAFFIC_TAG is not set: outbound requests get no lane from it"));
    assert.deepEqual(send(missing.outbound, base, OUT).tag, ["s1"]);
    const unmapped = await sidecar(LOCAL, { nodeMetadata: { LABELS: { ASM_TRAFFIC_TAG: "v9" } } });
    assert.ok(unmapped.host.logs.some((l) => l.level === "warn" && l.message.includes('is "v9", which is no lane')));
    assert.deepEqual(send(unmapped.outbound, base, OUT).tag, ["s1"]);
  });
  it("comes after a trace-correlated lane", async () => {
    const s = await sidecar({ ...LOCAL, ...CORRELATION }, { nodeMetadata: { LABELS: { ASM_TRAFFIC_TAG: "v2" } } });
    send(s.inbound, withTrace(TRACE, [["x-asm-prefer-tag", "s3"]]), IN);
    assert.deepEqual(send(s.outbound, withTrace(), OUT).tag, ["s3"]);
    assert.deepEqual(send(s.outbound, base, OUT).tag, ["s2"]);
  });
});

describe("assign: weighted sticky lanes at the gateway", () => {
  const WEIGHTS = { s1: 60, s2: 20, s3: 20 };
  async function gateway(weights: Record<string, number> = WEIGHTS, sticky: string | undefined = "x-user-id") {
    const host = await Host.load(wasmBytes());
    const p = host.configure({ configuration: JSON.stringify({ lanes: LANES, direction: "both", trust_client_lane: false, assign: { weights, ...(sticky ? { sticky_header: sticky } : {}) } }) });
    assert.ok(!p.failed, host.logs.map((l) => l.message).join("\n"));
    return { host, p };
  }
  const laneOf = (p: Plugin, user: string) => send(p, [...base, ["x-user-id", user]], OUT).tag[0];
  const users = (n: number, seed: number) => Array.from({ length: n }, (_, i) => `user-${seed}-${i}-${((i * 2654435761) >>> 0).toString(36)}`);

  it("gives a lane-less request a lane by weight, in header and baggage", async () => {
    const { host, p } = await gateway();
    const r = send(p, [...base, ["x-user-id", "alice"]], OUT);
    assert.equal(r.tag.length, 1);
    assert.ok(LANES.includes(r.tag[0]));
    assert.deepEqual(r.baggage, [`x-asm-prefer-tag=${r.tag[0]}`]);
    assert.equal(host.counter("lane_tag.both.lane_from_assign"), 1);
  });

  it("the same user always lands in the same lane, whatever the client claims", async () => {
    const { p } = await gateway();
    const first = laneOf(p, "alice");
    for (let i = 0; i < 20; i++) {
      assert.equal(send(p, [...base, ["x-user-id", "alice"], ["x-asm-prefer-tag", "s3"], ["baggage", "x-asm-prefer-tag=s2"]], OUT).tag[0], first);
    }
    // A second gateway VM (another worker, another pod) agrees: the choice is a pure function of the user.
    const { p: p2 } = await gateway();
    for (const u of users(200, 1)) assert.equal(laneOf(p2, u), laneOf(p, u));
  });

  it("keeps the weights within ±2 points over 100k random users", async () => {
    const { p } = await gateway();
    const counts: Record<string, number> = { s1: 0, s2: 0, s3: 0 };
    const N = 100_000;
    for (const u of users(N, 2)) counts[laneOf(p, u)]++;
    for (const [lane, w] of Object.entries(WEIGHTS)) {
      const share = (100 * counts[lane]) / N;
      assert.ok(Math.abs(share - w) <= 2, `${lane}: ${share.toFixed(2)}% for weight ${w}`);
    }
  });

  it("changing one lane's weight moves only the users that must move", async () => {
    const before = (await gateway()).p;
    const after = (await gateway({ s1: 60, s2: 30, s3: 20 })).p;
    const N = 50_000;
    let moved = 0;
    for (const u of users(N, 3)) {
      const a = laneOf(before, u);
      const b = laneOf(after, u);
      if (a !== b) {
        moved++;
        assert.equal(b, "s2", `${u} moved ${a} -> ${b}: only the lane that grew may gain users`);
      }
    }
    // s2's share goes from 20/100 to 30/110: exactly that fraction of users must move, and no more.
    const must = 30 / 110 - 20 / 100;
    assert.ok(Math.abs(moved / N - must) < 0.01, `moved ${(100 * moved / N).toFixed(2)}%, must ${(100 * must).toFixed(2)}%`);
    // Removing a lane moves only its users.
    const without = (await gateway({ s1: 60, s2: 20, s3: 0 })).p;
    for (const u of users(5000, 4)) {
      const a = laneOf(before, u);
      if (a !== "s3") assert.equal(laneOf(without, u), a);
    }
  });

  it("without the sticky header each request is drawn by weight", async () => {
    const { p } = await gateway(WEIGHTS, undefined);
    const counts: Record<string, number> = { s1: 0, s2: 0, s3: 0 };
    const N = 30_000;
    for (let i = 0; i < N; i++) counts[send(p, base, OUT).tag[0]]++;
    for (const [lane, w] of Object.entries(WEIGHTS)) assert.ok(Math.abs((100 * counts[lane]) / N - w) <= 2, `${lane}: ${counts[lane]}`);
  });

  it("comes after the request's own lane where the client is trusted", async () => {
    const host = await Host.load(wasmBytes());
    const p = host.configure({ configuration: JSON.stringify({ lanes: LANES, direction: "outbound", assign: { weights: { s3: 1 } } }) });
    assert.deepEqual(send(p, [...base, ["baggage", "x-asm-prefer-tag=s2"]], OUT).tag, ["s2"]);
    assert.deepEqual(send(p, base, OUT).tag, ["s3"]);
  });
});

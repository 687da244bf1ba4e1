// The trace table behind correlation: a bounded set of shared-data slots. Traces in flight must keep their
// lane while the table has room; a record lost to a full table is counted. On the built module.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Host, type Header } from "../../emulator/index.ts";
import { wasmBytes, send, base, IN, OUT, slotKey, traceparent } from "../support/helpers.ts";

const MS = 1_000_000n;
const EVICTED = "lane_tag.inbound.trace_evicted";

async function sidecar(correlation: object) {
  const host = await Host.load(wasmBytes());
  let t = 1_700_000_000_000n * MS;
  host.now = () => t;
  const common = { lanes: ["s1", "s2", "s3"], correlation: { enabled: true, ...correlation } };
  const inbound = host.configure({ configuration: JSON.stringify({ ...common, direction: "inbound" }) });
  const outbound = host.configure({ configuration: JSON.stringify({ ...common, direction: "outbound", default_lane: "s1" }) });
  assert.ok(!inbound.failed && !outbound.failed, host.logs.map((l) => l.message).join("\n"));
  const arrive = (id: string, lane: string) => send(inbound, [...base, ["traceparent", traceparent(id)], ["x-asm-prefer-tag", lane]] as Header[], IN);
  const leave = (id: string) => send(outbound, [...base, ["traceparent", traceparent(id)]] as Header[], OUT).tag;
  return { host, arrive, leave, advance: (ms: number) => { t += BigInt(ms) * MS; } };
}

// Sequential ids that differ in their low digits (hash64 spreads them).
const id = (i: number) => `a${i.toString(16).padStart(31, "0")}`;

describe("correlation's trace table", () => {
  it("two traces in flight whose ids hash to one slot both keep their lane", async () => {
    // Two consecutive traces of the correlation demo (seed 49) that met in mocka-v1's sidecar: the second
    // took the first one's slot, and the first one's call went out without its lane (s3 -> s1).
    const a = "43f02d14f86eba3f931106a2ec5fb3e3";
    const b = "5b441c76e9489dcb19254e6ccf7e9871";
    assert.equal(slotKey(a, 8192), slotKey(b, 8192), "the two ids share a slot of the default table");
    const s = await sidecar({});
    s.arrive(a, "s3");
    s.arrive(b, "s1");
    assert.deepEqual(s.leave(a), ["s3"]);
    assert.deepEqual(s.leave(b), ["s1"]);
    assert.equal(s.host.counter(EVICTED), 0);
  });

  it("a full table gives up its oldest record, and counts it as trace_evicted", async () => {
    const s = await sidecar({ capacity: 4 });
    for (let i = 0; i < 4; i++) { s.arrive(id(i), i % 2 ? "s2" : "s3"); s.advance(1); }
    for (let i = 0; i < 4; i++) assert.deepEqual(s.leave(id(i)), [i % 2 ? "s2" : "s3"], `trace ${i} kept`);
    assert.equal(s.host.counter(EVICTED), 0);
    s.arrive(id(4), "s3");
    assert.equal(s.host.counter(EVICTED), 1);
    assert.deepEqual(s.leave(id(0)), ["s1"], "the oldest is gone: the default lane");
    for (let i = 1; i < 5; i++) assert.deepEqual(s.leave(id(i)), [i % 2 ? "s2" : "s3"], `trace ${i} kept`);
    assert.equal(s.host.sharedData.usage().keys, 4);
    assert.equal(s.host.counter("lane_tag.inbound.trace_recorded"), 5);
  });

  it("an expired record's slot is taken without counting an eviction", async () => {
    const s = await sidecar({ capacity: 4, ttl_ms: 1000 });
    for (let i = 0; i < 4; i++) s.arrive(id(i), "s2");
    s.advance(1000);
    for (let i = 4; i < 8; i++) s.arrive(id(i), "s3");
    for (let i = 4; i < 8; i++) assert.deepEqual(s.leave(id(i)), ["s3"]);
    assert.equal(s.host.counter(EVICTED), 0);
    assert.equal(s.host.sharedData.usage().keys, 4);
  });

  it("a trace that arrives again with another lane is updated in its own slot", async () => {
    const s = await sidecar({ capacity: 4 });
    for (let i = 0; i < 4; i++) s.arrive(id(i), "s2");
    s.arrive(id(2), "s3");
    assert.deepEqual(s.leave(id(2)), ["s3"]);
    for (const i of [0, 1, 3]) assert.deepEqual(s.leave(id(i)), ["s2"]);
    assert.equal(s.host.counter(EVICTED), 0);
  });

  it("a table smaller than a set (capacity 1, 2) still works: the newest trace wins", async () => {
    for (const capacity of [1, 2]) {
      const s = await sidecar({ capacity });
      for (let i = 0; i <= capacity; i++) { s.arrive(id(i), "s3"); s.advance(1); }
      assert.deepEqual(s.leave(id(capacity)), ["s3"]);
      assert.deepEqual(s.leave(id(0)), ["s1"], `capacity ${capacity}: the oldest is gone`);
      assert.equal(s.host.counter(EVICTED), 1);
      assert.equal(s.host.sharedData.usage().keys, capacity);
    }
  });
});

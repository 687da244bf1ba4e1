// hop_trace's bounds on the built module, each at its edge (the last size kept, the first one refused):
// the 4 KiB a trace's collected entries may grow to, the 4 KiB of entries a response may carry on, the
// 16 KiB a shared-data slot may hold, the 60 s a record lives, the 256 slot keys, and the 253-byte
// workload name.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Host, type Header, type Stream } from "../../emulator/index.ts";
import { wasmBytes, values, base, IN, OUT } from "../support/helpers.ts";

const LANES = ["s1", "s2"];
const TRACE = "x-lane-tag-trace";
const ME = "mockb-v1@s1"; // this sidecar's entry for a request in its own lane (no fallback)
const CAP = 4096; // a trace's entries
const SLOT_CAP = 16384; // one shared-data slot
const RECORD_HEAD = 22; // token (16), expiry (u32), entries' length (u16)
const SEC = 1_000_000_000n;
const T0 = 1_700_000_000n * SEC; // on a whole second: records expire by whole seconds

async function sidecar() {
  const host = await Host.load(wasmBytes(), { vmId: "lane-tag", nodeMetadata: { WORKLOAD_NAME: "mockb-v1", LABELS: { version: "v1" } } });
  let now = T0;
  host.now = () => now;
  const cfg = (direction: string) => JSON.stringify({ direction, lanes: LANES, hop_trace: { label: "version", label_to_lane: { v1: "s1", v2: "s2" } } });
  const inbound = host.configure({ configuration: cfg("inbound") });
  const outbound = host.configure({ configuration: cfg("outbound") });
  assert.ok(!inbound.failed && !outbound.failed, JSON.stringify(host.logs));
  const traced = (token: string): Header[] => [...base, ["x-asm-prefer-tag", "s1"], ["baggage", `x-asm-prefer-tag=s1,lane-tag-trace=${token}`]];
  /** The app's request arrives (its record is reset). */
  const arrive = (token: string) => inbound.open(traced(token), IN);
  /** One call of the app upstream, whose response carries `upstream` as its trace. */
  const call = (token: string, upstream: string) => {
    const o = outbound.open(traced(token), OUT);
    o.respond([[":status", "200"], [TRACE, upstream]]);
    o.close();
  };
  /** The app's response: the trace this sidecar hands downstream. */
  const answer = (s: Stream) => {
    const r = values(s.respond([[":status", "200"]]).headers, TRACE);
    s.close();
    return r;
  };
  return { host, arrive, call, answer, advance: (ns: bigint) => { now += ns; } };
}

const entries = (n: number, c = "a") => c.repeat(n);

describe("hop_trace caps", () => {
  it(`collected entries: a trace grows to ${CAP} bytes, not one more (", " counted between entries)`, async () => {
    for (const [second, kept] of [[CAP - 2000 - 2, true], [CAP - 2000 - 1, false]] as const) {
      const c = await sidecar();
      const s = c.arrive("ab00000000000001");
      c.call("ab00000000000001", entries(2000));
      c.call("ab00000000000001", entries(second, "b"));
      // 2000 + 2 + `second` bytes: at the cap both calls' entries are there; past it the second is not.
      assert.deepEqual(c.answer(s), [`${ME}, ${entries(2000)}${kept ? `, ${entries(second, "b")}` : ""}`], `second call ${second} bytes`);
    }
  });

  it(`collected entries: one upstream trace of ${CAP} bytes is kept, ${CAP + 1} is not (no separator before the first)`, async () => {
    for (const [size, kept] of [[CAP - 2, true], [CAP, true], [CAP + 1, false]] as const) {
      const c = await sidecar();
      const s = c.arrive("ab00000000000002");
      c.call("ab00000000000002", entries(size));
      assert.deepEqual(c.answer(s), [kept ? `${ME}, ${entries(size)}` : ME], `${size} bytes`);
    }
  });

  it(`an upstream's trace header of ${CAP} bytes is carried on by a proxy of unknown direction, ${CAP + 1} is not`, async () => {
    for (const [size, kept] of [[CAP, true], [CAP + 1, false]] as const) {
      const host = await Host.load(wasmBytes(), { nodeMetadata: { WORKLOAD_NAME: "edge-proxy", LABELS: { version: "v1" } } });
      const p = host.configure({ configuration: JSON.stringify({ lanes: LANES, hop_trace: { label: "version", label_to_lane: { v1: "s1" } } }) });
      const s = p.open([...base, ["x-asm-prefer-tag", "s1"], ["baggage", "lane-tag-trace=dd00000000000001"]], {});
      const r = s.respond([[":status", "200"], [TRACE, entries(size)]]);
      s.close();
      assert.deepEqual(values(r.headers, TRACE), [kept ? `edge-proxy@s1, ${entries(size)}` : "edge-proxy@s1"], `${size} bytes`);
    }
  });

  it(`entries a peer left in the slot: ${CAP} bytes are carried on, ${CAP + 1} are not`, async () => {
    for (const [size, kept] of [[CAP, true], [CAP + 1, false]] as const) {
      const c = await sidecar();
      const token = "ac00000000000001";
      const s = c.arrive(token);
      // Another worker of this proxy (perhaps of another release) collected them: token | expiry | length | entries.
      const rec = Buffer.alloc(RECORD_HEAD + size);
      rec.write(token, 0, "latin1");
      rec.writeUInt32LE(Number(T0 / SEC) + 60, 16);
      rec.writeUInt16LE(size, 20);
      rec.fill("p", RECORD_HEAD);
      const slot = c.host.sharedData.get("lane-tag", "lane-tag.hop.ac")!;
      c.host.sharedData.set("lane-tag", "lane-tag.hop.ac", new Uint8Array(rec), slot.cas);
      assert.deepEqual(c.answer(s), [kept ? `${ME}, ${entries(size, "p")}` : ME], `${size} bytes`);
    }
  });

  it(`a slot holds ${SLOT_CAP} bytes: one more and the other traces' records make room for the one being written`, async () => {
    // Four traces in flight in slot "ee" collect entries; a fifth arrives, writing its empty record (22 bytes).
    const sizes = [4068, 4068, 4068, 4070]; // 4 × 22 + 16274 + 22 = 16384
    for (const [extra, kept] of [[0, true], [1, false]] as const) {
      const c = await sidecar();
      const tokens = sizes.map((_, i) => `ee0000000000000${i + 1}`);
      const open = tokens.map((t) => c.arrive(t));
      const collected = sizes.map((n, i) => entries(n + (i === 3 ? extra : 0), String.fromCharCode(0x61 + i)));
      tokens.forEach((t, i) => c.call(t, collected[i]));
      const fifth = c.arrive("ee00000000000009");
      const total = c.host.sharedData.get("lane-tag", "lane-tag.hop.ee")!.value.length;
      assert.equal(total, kept ? SLOT_CAP : RECORD_HEAD, `slot bytes with ${extra} more`);
      open.forEach((s, i) => assert.deepEqual(c.answer(s), [kept ? `${ME}, ${collected[i]}` : ME], `trace ${i + 1}, ${extra} more`));
      assert.deepEqual(c.answer(fifth), [ME]);
    }
  });

  it("a record lives 60 s: at 59.999 s another trace's write keeps it, at 60 s drops it", async () => {
    for (const [after, kept] of [[60n * SEC - 1n, true], [60n * SEC, false]] as const) {
      const c = await sidecar();
      const s = c.arrive("ef00000000000001");
      c.call("ef00000000000001", "mockc-v1@s1");
      c.advance(after);
      c.answer(c.arrive("ef00000000000002")); // a write to the same slot
      assert.deepEqual(c.answer(s), [kept ? `${ME}, mockc-v1@s1` : ME], `${after} ns later`);
    }
  });

  it("shared data: at most 256 keys, lane-tag.hop.<2 hex>, however many traces", async () => {
    const c = await sidecar();
    for (let i = 0; i < 1000; i++) {
      const token = ((i * 2654435761) >>> 0).toString(16).padStart(8, "0") + "00000000";
      const s = c.arrive(token);
      c.call(token, "mockc-v1@s1");
      c.answer(s);
    }
    const keys = c.host.sharedData.keys("lane-tag");
    assert.ok(keys.length <= 256 && keys.length > 200, `${keys.length} keys`);
    assert.ok(keys.every((k) => /^lane-tag\.hop\.[0-9a-f]{2}$/.test(k)), keys.join(" "));
  });

  it("the workload's name: 253 bytes are taken, 254 are not (configured or from node metadata)", async () => {
    const host = await Host.load(wasmBytes());
    const ok = host.configure({ configuration: JSON.stringify({ hop_trace: { workload: "w".repeat(253) } }) });
    assert.equal(ok.failed, false);
    const refused = host.configure({ configuration: JSON.stringify({ hop_trace: { workload: "w".repeat(254) } }) });
    assert.equal(refused.failed, true);
    assert.match(host.logs.at(-1)!.message, /field "hop_trace\.workload": "w{100}"\.\.\.\(254 bytes\) is not a workload name \(1-253 printable ASCII/);
    for (const [name, entry] of [["n".repeat(253), "n".repeat(253)], ["n".repeat(254), "unknown"]]) {
      const h = await Host.load(wasmBytes(), { nodeMetadata: { WORKLOAD_NAME: name } });
      const p = h.configure({ configuration: JSON.stringify({ direction: "inbound", hop_trace: true }) });
      const s = p.open([...base, ["baggage", "lane-tag-trace=fa00000000000001"]], IN);
      assert.deepEqual(values(s.respond([[":status", "200"]]).headers, TRACE), [`${entry}@?`], `${name.length} bytes`);
      s.close();
    }
  });
});

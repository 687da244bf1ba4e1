import { traceIdSpan, traceKind, TRACE_W3C, TRACE_B3, TRACE_XRAY, TRACE_RAW } from "../grammar/trace-id";
import { hash64, mix64 } from "../bytes/hash";
import { slotOf, writeSlotKey, writeEntry, entryIsFor, entryExpires, ENTRY_HEADER, MAX_ENTRY } from "../lane/trace";
import { buf, ptr, str } from "./util";

// The trace id a header value yields, or "-" for none.
function idOf(kind: i32, value: string): string {
  const b = buf(value);
  const span = traceIdSpan(kind, ptr(b), b.byteLength);
  return span < 0 ? "-" : str(ptr(b) + <usize>(span >> 32), <i32>span);
}

const HASH_A: u64 = 0x8069bcc9868b03e2;
const TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

describe("trace ids", () => {
  it("names the header kinds", () => {
    expect(traceKind("traceparent")).toBe(TRACE_W3C);
    expect(traceKind("b3")).toBe(TRACE_B3);
    expect(traceKind("x-b3-traceid")).toBe(TRACE_RAW);
    expect(traceKind("x-request-id")).toBe(TRACE_RAW);
    expect(traceKind("x-amzn-trace-id")).toBe(TRACE_XRAY);
  });
  it("takes the trace-id field of traceparent", () => {
    // [value, trace id or "-"]
    const rows: string[][] = [
      [TP, "4bf92f3577b34da6a3ce929d0e0e4736"],
      ["01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future", "4bf92f3577b34da6a3ce929d0e0e4736"],
      ["ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "-"],
      ["00-00000000000000000000000000000000-00f067aa0ba902b7-01", "-"],
      ["00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", "-"],
      ["00-4bf92f3577b34da6a3ce929d0e0e47zz-00f067aa0ba902b7-01", "-"],
      ["00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "-"],
      ["", "-"],
      ["00-4bf92f3577b34da6a3ce929d0e0e4736", "-"],
    ];
    for (let i = 0; i < rows.length; i++) expect(idOf(TRACE_W3C, rows[i][0])).toBe(rows[i][1], rows[i][0]);
  });
  it("takes the trace id of a b3 single header", () => {
    expect(idOf(TRACE_B3, "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1")).toBe("80f198ee56343ba864fe8b2a57d3eff7");
    expect(idOf(TRACE_B3, "64fe8b2a57d3eff7-e457b5a2e4d86bd1")).toBe("64fe8b2a57d3eff7");
    expect(idOf(TRACE_B3, "0")).toBe("-");
    expect(idOf(TRACE_B3, "64fe8b2a57d3eff7")).toBe("-");
    expect(idOf(TRACE_B3, "0000000000000000-e457b5a2e4d86bd1")).toBe("-");
  });
  it("takes the Root field of an X-Ray header, wherever it stands", () => {
    const R = "1-5759e988-bd862e3fe1be46a994272793";
    // [value, trace id or "-"]
    const rows: string[][] = [
      ["Root=" + R + ";Parent=53995c3f42cd8ad8;Sampled=1", R],
      ["Root=" + R + ";Parent=0000000000000001;Sampled=0", R],
      ["Root=" + R, R],
      ["Root=" + R + ";", R],
      // A load balancer's Self= first, an application's own field after; Envoy's "; " and lowercase keys.
      ["Self=1-67891233-12456789abcdef0123456789;Root=1-67891233-abcdef012345678912345678;CalledFrom=app", "1-67891233-abcdef012345678912345678"],
      ["Parent=53995c3f42cd8ad8; Sampled=1; Root=" + R, R],
      ["root=" + R + ";parent=53995c3f42cd8ad8", R],
      ["ROOT=" + R, R],
      [" \tRoot=" + R + " \t;Sampled=1", R],
      ["Root=1-5759E988-BD862E3FE1BE46A994272793", "1-5759E988-BD862E3FE1BE46A994272793"],
      ["Root=1-00000000-000000000000000000000001", "1-00000000-000000000000000000000001"],
      // The last Root field counts, as the propagators read it: an invalid one there means no id.
      ["Root=1-00000000-000000000000000000000001;Root=" + R, R],
      ["Root=" + R + ";Root=bad", "-"],
      ["Root=" + R + ";Root=", "-"],
      // Not the root format: version, delimiters, lengths, digits, all zero.
      ["Root=2-5759e988-bd862e3fe1be46a994272793", "-"],
      ["Root=1_5759e988-bd862e3fe1be46a994272793", "-"],
      ["Root=1-5759e988_bd862e3fe1be46a994272793", "-"],
      ["Root=1-5759e98-bd862e3fe1be46a9942727933", "-"],
      ["Root=1-5759e988-bd862e3fe1be46a99427279", "-"],
      ["Root=1-5759e988-bd862e3fe1be46a9942727934", "-"],
      ["Root=1-5759e98g-bd862e3fe1be46a994272793", "-"],
      ["Root=1-5759e988-bd862e3fe1be46a99427279z", "-"],
      ["Root=1-00000000-000000000000000000000000", "-"],
      ["Root= " + R, "-"],
      ["Root =" + R, "-"],
      ["Rooted=" + R, "-"],
      ["XRoot=" + R, "-"],
      ["Root:" + R, "-"],
      ["Parent=53995c3f42cd8ad8;Sampled=1", "-"],
      [R, "-"],
      ["", "-"],
      [";", "-"],
      ["Root", "-"],
      ["Root=", "-"],
      [";;;Root=;;", "-"],
      ["\u00e9Root=" + R, "-"],
    ];
    for (let i = 0; i < rows.length; i++) expect(idOf(TRACE_XRAY, rows[i][0])).toBe(rows[i][1], rows[i][0]);
    // A long header of many fields: the Root at its end is found.
    expect(idOf(TRACE_XRAY, "a=b;".repeat(2000) + "Root=" + R)).toBe(R);
    expect(idOf(TRACE_XRAY, "Root=" + R + " ".repeat(3000))).toBe(R);
  });
  it("reads an X-Ray header only within the given length", () => {
    // Every prefix of a valid header: none but the whole (and those only short of ";...") yields an id.
    const v = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    const b = buf(v);
    for (let n = 0; n <= v.length; n++) {
      const span = traceIdSpan(TRACE_XRAY, ptr(b), n);
      expect(span).toBe(n >= 40 ? (<i64>5 << 32) | 35 : -1, n.toString());
    }
  });
  it("takes a whole raw value of visible ASCII up to 256 bytes", () => {
    expect(idOf(TRACE_RAW, "a3ce929d-0e0e-4736-9f12-00f067aa0ba9")).toBe("a3ce929d-0e0e-4736-9f12-00f067aa0ba9");
    expect(idOf(TRACE_RAW, "")).toBe("-");
    expect(idOf(TRACE_RAW, "a b")).toBe("-");
    expect(idOf(TRACE_RAW, "x".repeat(256))).toBe("x".repeat(256));
    expect(idOf(TRACE_RAW, "x".repeat(257))).toBe("-");
  });
});

// hash64 is FNV-1a 64 then splitmix64's finalizer (mix64). Each half is checked against its published
// vectors, and the whole against values from an independent BigInt implementation (test/support/helpers.ts
// hash64). They are pinned because workers of different releases share one sidecar's shared data and
// gateways must agree on sticky lanes: a trace must keep its slot and hash, a user its lane.
// FNV-1a 64 test vectors (the FNV reference): offset basis (the hash of ""), "a", "foobar".
const FNV1A: string[] = ["", "a", "foobar"];
const FNV1A_64: u64[] = [0xcbf29ce484222325, 0xaf63dc4c8601ec8c, 0x85944171f73967e8];
// splitmix64 seeded with 0: its first outputs are mix64(k * 0x9e3779b97f4a7c15), k = 1, 2, 3.
const SPLITMIX64_SEED0: u64[] = [0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f];
// [input, hash64] from test/support/helpers.ts.
const HASHES: string[] = ["", "a", "foobar", "4bf92f3577b34da6a3ce929d0e0e4736", "4bf92f3577b34da6a3ce929d0e0e4737", "req-1", "s1"];
const HASH64: u64[] = [0xf52a15e9a9b5e89b, 0x02c0bdbf481420f8, 0x404da9e3b74078c2, HASH_A, 0x3831f75a9cfee54a, 0x0a2881c3268a7392, 0x4c594168be82e9fe];

function hashOf(s: string): u64 {
  const b = buf(s);
  return hash64(ptr(b), b.byteLength);
}

describe("hash and slots", () => {
  it("mixes as splitmix64's finalizer", () => {
    expect(mix64(0)).toBe(0);
    for (let k = 0; k < SPLITMIX64_SEED0.length; k++) expect(mix64(<u64>(k + 1) * 0x9e3779b97f4a7c15)).toBe(SPLITMIX64_SEED0[k]);
  });
  it("hashes as FNV-1a 64, then mixed", () => {
    for (let i = 0; i < FNV1A.length; i++) expect(hashOf(FNV1A[i])).toBe(mix64(FNV1A_64[i]), FNV1A[i]);
  });
  it("gives the pinned hashes", () => {
    for (let i = 0; i < HASHES.length; i++) expect(hashOf(HASHES[i])).toBe(HASH64[i], HASHES[i]);
    const long = "x".repeat(256);
    expect(hashOf(long)).toBe(0x071057bd20738e69);
  });
  it("keeps slots within capacity and writes fixed-size keys", () => {
    // The slot is the hash's high 32 bits modulo capacity: 0x8069bcc9 % 8192 = 0x1cc9, % 7 = 3.
    expect(slotOf(HASH_A | 1, 8192)).toBe(0x1cc9);
    expect(slotOf(HASH_A, 7)).toBe(3);
    expect(slotOf(0xffffffff00000000, 1048576)).toBe(0xfffff);
    expect(slotOf(0x00000000ffffffff, 8192)).toBe(0);
    for (let i = 0; i < 1000; i++) {
      const h = mix64(<u64>i * 0x9e3779b97f4a7c15);
      expect(slotOf(h, 7) < 7).toBe(true);
    }
    const k = new ArrayBuffer(32);
    expect(writeSlotKey(ptr(k), 0x1ab)).toBe(23);
    expect(str(ptr(k), 23)).toBe("lane-tag.trace.000001ab");
    writeSlotKey(ptr(k), 0xfedcba98);
    expect(str(ptr(k), 23)).toBe("lane-tag.trace.fedcba98");
  });
  it("round-trips an entry and refuses anything else", () => {
    const e = new ArrayBuffer(MAX_ENTRY);
    const lane = buf("s2");
    const n = writeEntry(ptr(e), 42, 1000, ptr(lane), 2);
    expect(n).toBe(ENTRY_HEADER + 2);
    expect(entryIsFor(ptr(e), n, 42)).toBe(true);
    expect(entryExpires(ptr(e))).toBe(1000);
    expect(entryIsFor(ptr(e), n, 43)).toBe(false);
    expect(entryIsFor(ptr(e), n - 1, 42)).toBe(false);
    expect(entryIsFor(ptr(e), 3, 42)).toBe(false);
    const bad = buf("-");
    const m = writeEntry(ptr(e), 42, 1000, ptr(bad), 1);
    expect(entryIsFor(ptr(e), m, 42)).toBe(false);
  });
});

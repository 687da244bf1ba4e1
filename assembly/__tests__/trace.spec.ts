import { traceIdSpan, traceKind, hash64, slotOf, writeSlotKey, writeEntry, entryIsFor, entryExpires, TRACE_W3C, TRACE_B3, TRACE_RAW, ENTRY_HEADER, MAX_ENTRY } from "../trace";
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
  it("takes a whole raw value of visible ASCII up to 256 bytes", () => {
    expect(idOf(TRACE_RAW, "a3ce929d-0e0e-4736-9f12-00f067aa0ba9")).toBe("a3ce929d-0e0e-4736-9f12-00f067aa0ba9");
    expect(idOf(TRACE_RAW, "")).toBe("-");
    expect(idOf(TRACE_RAW, "a b")).toBe("-");
    expect(idOf(TRACE_RAW, "x".repeat(256))).toBe("x".repeat(256));
    expect(idOf(TRACE_RAW, "x".repeat(257))).toBe("-");
  });
});

describe("hash and slots", () => {
  it("hashes stably and spreads", () => {
    const a = buf("4bf92f3577b34da6a3ce929d0e0e4736");
    const b = buf("4bf92f3577b34da6a3ce929d0e0e4737");
    expect(hash64(ptr(a), a.byteLength)).toBe(hash64(ptr(a), a.byteLength));
    expect(hash64(ptr(a), a.byteLength) != hash64(ptr(b), b.byteLength)).toBe(true);
    // Pinned (FNV-1a + splitmix64, computed independently in test/helpers.ts): workers running different
    // releases share one sidecar's shared data, so a trace must keep its slot and hash.
    expect(hash64(ptr(a), a.byteLength)).toBe(HASH_A);
  });
  it("keeps slots within capacity and writes fixed-size keys", () => {
    for (let i = 0; i < 1000; i++) {
      const h = hash64(changetype<usize>(i), 0) ^ (<u64>i * 0x9e3779b97f4a7c15);
      expect(slotOf(h, 7) < 7).toBe(true);
    }
    const k = new ArrayBuffer(32);
    expect(writeSlotKey(ptr(k), 0x1ab)).toBe(23);
    expect(str(ptr(k), 23)).toBe("lane-tag.trace.000001ab");
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

import { traceToken, writeHex16, writeTraceEntry, traceEntryBound, findRecord, recordLen, copyOthers, writeRecord, RECORD_HEAD } from "../observe/hop";

function tokenOf(s: string): string {
  const b = String.UTF8.encode(s);
  const at = traceToken(changetype<usize>(b), b.byteLength);
  return at < 0 ? "-" : String.UTF8.decodeUnsafe(changetype<usize>(b) + at, 16);
}

const TOKENS: string[][] = [
  ["lane-tag-trace=0123456789abcdef", "0123456789abcdef"],
  ["a=1, lane-tag-trace = 0123456789abcdef ;p=1,b=2", "0123456789abcdef"],
  ["lane-tag-trace=0123456789ABCDEF", "-"], // uppercase: not a token this filter made
  ["lane-tag-trace=0123456789abcde", "-"],
  ["lane-tag-trace=0123456789abcdef0", "-"],
  ["xlane-tag-trace=0123456789abcdef", "-"],
  ["lane-tag-trace=zz23456789abcdef,lane-tag-trace=1111111111111111", "1111111111111111"],
  ["lane-tag-trace", "-"],
  ["", "-"],
  [",,,", "-"],
];

function entry(prefix: string, own: string, req: string): string {
  const p = String.UTF8.encode(prefix);
  const o = String.UTF8.encode(own);
  const r = String.UTF8.encode(req);
  const dst = heap.alloc(traceEntryBound(p.byteLength, r.byteLength));
  const n = writeTraceEntry(dst, changetype<usize>(p), p.byteLength, changetype<usize>(o), o.byteLength, changetype<usize>(r), r.byteLength);
  const s = String.UTF8.decodeUnsafe(dst, n);
  heap.free(dst);
  return s;
}

describe("hop trace", () => {
  it("finds the token of the first well-formed lane-tag-trace member", () => {
    for (let i = 0; i < TOKENS.length; i++) expect(tokenOf(TOKENS[i][0])).toBe(TOKENS[i][1], TOKENS[i][0]);
  });
  it("writes 16 lowercase hex digits", () => {
    const dst = heap.alloc(16);
    writeHex16(dst, 0x0123456789abcdef);
    expect(String.UTF8.decodeUnsafe(dst, 16)).toBe("0123456789abcdef");
    writeHex16(dst, 0);
    expect(String.UTF8.decodeUnsafe(dst, 16)).toBe("0000000000000000");
    heap.free(dst);
  });
  it("writes an entry, with the lane asked for when another lane served it", () => {
    expect(entry("mockb-v1@s1", "s1", "s2")).toBe("mockb-v1@s1 (fallback from s2)");
    expect(entry("mockb-v2@s2", "s2", "s2")).toBe("mockb-v2@s2");
    expect(entry("mockb-v1@s1", "s1", "")).toBe("mockb-v1@s1");
    expect(entry("mockb@?", "", "s2")).toBe("mockb@?");
  });
});

// Kept referenced: a buffer known only by its address could be collected and its memory reused.
const KEPT: ArrayBuffer[] = [];
function tok(s: string): usize {
  const b = String.UTF8.encode(s);
  KEPT.push(b);
  return changetype<usize>(b);
}

describe("hop trace slots", () => {
  it("writes, finds and copies records; drops the token's own and expired ones", () => {
    const buf = heap.alloc(1024);
    const a = tok("aa00000000000001");
    const b = tok("aa00000000000002");
    const e = String.UTF8.encode("x@s1");
    const f = String.UTF8.encode("y@s2");
    let n = writeRecord(buf, a, 100, changetype<usize>(e), e.byteLength, changetype<usize>(f), f.byteLength);
    expect(n).toBe(RECORD_HEAD + 10);
    expect(recordLen(buf, 0)).toBe(10);
    expect(String.UTF8.decodeUnsafe(buf + RECORD_HEAD, 10)).toBe("x@s1, y@s2");
    n += writeRecord(buf + n, b, 50, 0, 0, changetype<usize>(e), e.byteLength);
    expect(findRecord(buf, n, a)).toBe(0);
    expect(findRecord(buf, n, b)).toBe(RECORD_HEAD + 10);
    expect(findRecord(buf, n, tok("bb00000000000000"))).toBe(-1);
    const dst = heap.alloc(1024);
    // Others of a, at second 10: b's record only; at second 60: b expired, nothing.
    expect(copyOthers(buf, n, a, 10, dst)).toBe(RECORD_HEAD + 4);
    expect(findRecord(dst, RECORD_HEAD + 4, b)).toBe(0);
    expect(copyOthers(buf, n, a, 60, dst)).toBe(0);
    // A malformed tail (a length past the end) ends the walk without reading beyond it.
    expect(findRecord(buf, n - 1, b)).toBe(-1);
    expect(copyOthers(buf, n - 1, a, 10, dst)).toBe(0);
    heap.free(buf);
    heap.free(dst);
  });
});

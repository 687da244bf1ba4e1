import { traceToken, writeHex16, writeTraceEntry, traceEntryBound } from "../hop";

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

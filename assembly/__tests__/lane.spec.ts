import { isLaneRaw, decodeLane, MAX_LANE } from "../bytes/lane";
import { buf, ptr, str } from "./util";

const VALID: string[] = ["s1", "s2", "S2", "0", "a", "feature-x", "team_a.v2", "a-", "a.", "a_",
  "x".repeat(63), "9lives"];
const INVALID: string[] = ["", "-s2", ".s2", "_s2", "s 2", "s2 ", "s,2", "s;2", "s=2", "s%2", "s/2", "x".repeat(64),
  "é", "s\u00002", "s\r\n2", "s\t2"];

function raw(s: string): bool { const b = buf(s); return isLaneRaw(ptr(b), b.byteLength); }
function decoded(s: string): string {
  const b = buf(s);
  const out = heap.alloc(MAX_LANE);
  const n = decodeLane(ptr(b), b.byteLength, out);
  const r = n < 0 ? "<invalid>" : str(out, n);
  heap.free(out);
  return r;
}

describe("lane names", () => {
  it("accepts 1-63 of [A-Za-z0-9._-] starting with a letter or digit", () => {
    for (let i = 0; i < VALID.length; i++) expect(raw(VALID[i])).toBe(true, VALID[i]);
  });
  it("rejects everything else", () => {
    for (let i = 0; i < INVALID.length; i++) expect(raw(INVALID[i])).toBe(false, INVALID[i]);
  });
});

// [input, decoded or "<invalid>"]
const DECODE: string[][] = [
  ["s2", "s2"],
  ["s%32", "s2"],
  ["%73%32", "s2"],
  ["%7A", "z"],
  ["%7a", "z"],
  ["feature%2Dx", "feature-x"],
  ["s%2", "<invalid>"],        // truncated escape
  ["s%", "<invalid>"],
  ["%", "<invalid>"],
  ["s%zz", "<invalid>"],       // not hex
  ["s%g1", "<invalid>"],
  ["%20s2", "<invalid>"],      // decodes to a space
  ["s%2C2", "<invalid>"],      // decodes to a comma
  ["s%252", "<invalid>"],      // decodes to "s%2": not a lane (no double decoding)
  ["%C3%A9", "<invalid>"],     // UTF-8 é
  ["s%002", "<invalid>"],      // NUL
  ["", "<invalid>"],
  ["-s2", "<invalid>"],
  ["%2Ds2", "<invalid>"],      // decodes to a leading "-"
];

describe("percent-decoding", () => {
  it("decodes good escapes and refuses bad ones without trapping", () => {
    for (let i = 0; i < DECODE.length; i++) expect(decoded(DECODE[i][0])).toBe(DECODE[i][1], DECODE[i][0]);
  });
  it("caps the decoded length at 63", () => {
    expect(decoded("x".repeat(63))).toBe("x".repeat(63));
    expect(decoded("x".repeat(62) + "%78")).toBe("x".repeat(63));
    expect(decoded("x".repeat(63) + "%78")).toBe("<invalid>");
  });
});

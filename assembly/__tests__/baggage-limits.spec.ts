import { LIMIT_MEMBERS, LIMIT_BYTES, Trimmed, trimBaggage, memberValid } from "../grammar/baggage-limits";
import { buf, ptr, str } from "./util";

const KEY = "x-asm-prefer-tag";

function valid(member: string): bool {
  const b = buf(member);
  return memberValid(ptr(b), 0, b.byteLength);
}

/** `baggage` cut to the limits, with `lane` ("" none) first. */
function trim(baggage: string, lane: string = ""): string {
  const b = buf(baggage);
  const k = buf(KEY);
  const l = buf(lane);
  const dst = heap.alloc(LIMIT_BYTES);
  const n = trimBaggage(ptr(b), b.byteLength, ptr(k), k.byteLength, ptr(l), l.byteLength, dst);
  expect(n).toBeLessThanOrEqual(LIMIT_BYTES);
  const out = str(dst, n);
  heap.free(dst);
  return out;
}

function members(n: i32, width: i32 = 1): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push("m" + i.toString() + "=" + "v".repeat(width));
  return parts.join(",");
}

describe("memberValid: the W3C member grammar", () => {
  it("takes members as the grammar writes them", () => {
    const ok = ["a=1", "a=", "a = 1", "a\t=\t1", "k=v;p", "k=v;p=1;q", "k=v ; p = 1", "k=%zz", "k=a=b", "!#$%&'*+-.^_`|~=v"];
    for (let i = 0; i < ok.length; i++) expect(valid(ok[i])).toBe(true, ok[i]);
  });
  it("refuses what the grammar does not produce", () => {
    const bad = ["a", "=1", "a b=1", "a=1 2", "a=\"x\"", "a=x\\y", "k=v;", "k=v;;p", "k=v;=1", "k=v;p=a b", "a=\u00e9", "a=\x01", "a\x7f=1", "a=1\r"];
    for (let i = 0; i < bad.length; i++) expect(valid(bad[i])).toBe(false, bad[i]);
  });
});

describe("trimBaggage", () => {
  it("within the limits and valid: the members as they were, nothing counted", () => {
    expect(trim("a=1, b=2;p")).toBe("a=1,b=2;p");
    expect(Trimmed.malformed + Trimmed.overLimit).toBe(0);
    expect(trim(members(64))).toBe(members(64));
    expect(Trimmed.overLimit).toBe(0);
    expect(trim("")).toBe("");
    expect(trim(" , ,")).toBe("");
    expect(Trimmed.malformed).toBe(0, "empty members are left out, not counted");
  });
  it("drops malformed members wherever they are", () => {
    expect(trim("a=1,bad,c=3,d=\x01,e=5")).toBe("a=1,c=3,e=5");
    expect(Trimmed.malformed).toBe(2);
  });
  it("keeps the first 64 members, and the first that do not pass 8192 bytes", () => {
    expect(trim(members(65))).toBe(members(64));
    expect(Trimmed.overLimit).toBe(1);
    const wide = members(20, 500); // 20 members of 504-505 bytes: 16 fit in 8192
    const out = trim(wide);
    expect(out.length).toBeLessThanOrEqual(LIMIT_BYTES);
    expect(out.split(",").length).toBe(16);
    expect(Trimmed.overLimit).toBe(4);
    // A member too wide ends the copy: the smaller ones after it are dropped too (a prefix, as SDKs keep).
    expect(trim("a=1,b=" + "x".repeat(8200) + ",c=3")).toBe("a=1");
    expect(Trimmed.overLimit).toBe(2);
  });
  it("puts the lane first and counts it in the limits; other lane-key members are dropped", () => {
    const out = trim(members(70) + "," + KEY + "=s1," + KEY + "=bad lane", "s2");
    const parts = out.split(",");
    expect(parts[0]).toBe(KEY + "=s2");
    expect(parts.length).toBe(LIMIT_MEMBERS);
    expect(parts[1]).toBe("m0=v");
    expect(out.indexOf(KEY + "=s1")).toBe(-1);
  });
  it("exactly 8192 bytes is within; one more is not", () => {
    // "a=" + 8190 bytes is exactly 8192.
    const at = "a=" + "x".repeat(8190);
    expect(trim(at)).toBe(at);
    expect(Trimmed.overLimit).toBe(0);
    expect(trim(at + "x")).toBe("");
    expect(Trimmed.overLimit).toBe(1);
  });
  it("any input size, no lane: the output is within the limits", () => {
    const huge = members(3000, 30);
    const out = trim(huge);
    expect(out.length).toBeLessThanOrEqual(LIMIT_BYTES);
    expect(out.split(",").length).toBeLessThanOrEqual(LIMIT_MEMBERS);
    expect(Trimmed.overLimit).toBeGreaterThan(2900);
  });
});

import { MALFORMED, pairCount, firstName, nameLen, valueLen, valueOf, nextName, pairFits, findHeader, hvPtr, hvLen } from "../abi/pairs";
import { pairs, ptr, raw, text } from "./carriers-util";

/** The pairs walked with the cursor, as "name=value" joined with ";"; "!" where a pair does not fit. */
function walk(b: ArrayBuffer, size: usize = b.byteLength): string {
  const buf = ptr(b);
  const n = pairCount(buf, size);
  if (n == MALFORMED) return "malformed";
  let out = "";
  let at = firstName(buf, n);
  for (let i: u32 = 0; i < n; i++) {
    const kl = nameLen(buf, i);
    const vl = valueLen(buf, i);
    if (!pairFits(at, kl, vl, buf + size)) return out + "!";
    const v = valueOf(at, kl);
    out += (i > 0 ? ";" : "") + text(at, kl) + "=" + text(v, vl);
    at = nextName(v, vl);
  }
  return out;
}

describe("the header-pair cursor", () => {
  it("walks every pair in order, empty names and values included", () => {
    expect(walk(pairs([":path", "/", "baggage", "k=v", "x", ""]))).toBe(":path=/;baggage=k=v;x=");
    expect(walk(pairs([]))).toBe("");
  });

  it("an empty map is no headers; a count that does not fit is malformed", () => {
    expect(pairCount(0, 0)).toBe(0);
    expect(pairCount(ptr(pairs([])), 3)).toBe(MALFORMED);
    const b = pairs(["a", "b"]);
    store<u32>(ptr(b), 1000);
    expect(walk(b)).toBe("malformed");
  });

  it("a pair past the end of the map does not fit", () => {
    const b = pairs(["a", "b", "cc", "dd"]);
    expect(walk(b, b.byteLength - 1)).toBe("a=b!");
  });

  it("findHeader: the first value of a name, exact bytes", () => {
    const b = pairs(["x-a", "1", "x-b", "2", "x-b", "3"]);
    expect(findHeader(ptr(b), 3, raw("x-b"))).toBe(true);
    expect(text(hvPtr, hvLen)).toBe("2");
    expect(findHeader(ptr(b), 3, raw("X-B"))).toBe(false);
  });
});

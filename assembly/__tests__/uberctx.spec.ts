import {
  formatUberctxValue, isJaegerBaggageName, isUberctxName, readUberctxLane, stripJaegerBaggage,
} from "../grammar/uberctx";
import { LANE_BUF, laneResult, ptr, raw, text } from "./carriers-util";

const KEY = raw("x-asm-prefer-tag");

function nameIs(name: string, key: ArrayBuffer = KEY): bool {
  const n = raw(name);
  return isUberctxName(ptr(n), n.byteLength, ptr(key), key.byteLength);
}

function laneOf(value: string): string {
  const v = raw(value);
  const n = readUberctxLane(ptr(v), v.byteLength, LANE_BUF);
  return n > 0 ? laneResult(n, LANE_BUF) : "";
}

function formatted(lane: string): string {
  const l = raw(lane);
  const dst = heap.alloc(64);
  const n = formatUberctxValue(ptr(l), l.byteLength, dst);
  const out = n < 0 ? "-" : text(dst, n);
  heap.free(dst);
  return out;
}

function stripped(value: string): string {
  const v = raw(value);
  const dst = heap.alloc(v.byteLength + 1);
  const n = stripJaegerBaggage(ptr(v), v.byteLength, ptr(KEY), KEY.byteLength, dst);
  const out = text(dst, n);
  heap.free(dst);
  return out;
}

// [header name, is the lane's header]. Envoy and Node lowercase names; case is ignored either way.
const NAMES: string[][] = [
  ["uberctx-x-asm-prefer-tag", "y"],
  ["Uberctx-X-Asm-Prefer-Tag", "y"],
  ["UBERCTX-X-ASM-PREFER-TAG", "y"],
  ["uberctx-x-asm-prefer-ta", ""],
  ["uberctx-x-asm-prefer-tags", ""],
  ["uberctx-", ""],
  ["uberctx", ""],
  ["uberctxx-asm-prefer-tag", ""],
  ["uberctx_x-asm-prefer-tag", ""],
  ["x-uberctx-x-asm-prefer-tag", ""],
  ["ot-baggage-x-asm-prefer-tag", ""],
  ["x-asm-prefer-tag", ""],
  ["", ""],
];

// [value, lane ("" = none)], as propagator-jaeger's extract decodes it (decodeURIComponent; a malformed
// escape drops the entry).
const READ: string[][] = [
  ["s2", "s2"],
  ["s%32", "s2"],
  ["%73%32", "s2"],
  ["s%2", ""],
  ["s%", ""],
  ["s%zz", ""],
  ["s%FF", ""],
  ["s%2541", ""],   // decoded once: "s%41"
  ["s+2", ""],      // "+" is not a space for decodeURIComponent, and not a lane byte
  ["s%202", ""],
  ["  s2\t", "s2"], // servers trim OWS around a header value
  ["s 2", ""],
  ["s1, s2", ""],   // the same header twice, as Node joins it
  ["", ""],
  ["-s2", ""],
  ["a.b_c-D9", "a.b_c-D9"],
  ["a".repeat(63), "a".repeat(63)],
  ["a".repeat(64), ""],
  ["a".repeat(62) + "%61", "a".repeat(63)],
  ["s2\u00e9", ""],
  ["s\u00002", ""],
];

// [jaeger-baggage value, without the lane's members]
const STRIP: string[][] = [
  ["x-asm-prefer-tag=s2", ""],
  ["a=1, x-asm-prefer-tag = s2 ,b=2", "a=1,b=2"],
  ["a=1,x-asm-prefer-tag=s2", "a=1"],
  ["X-Asm-Prefer-Tag=s2,a=1", "a=1"],
  ["\u000bx-asm-prefer-tag\u00a0=s2,a=1", "a=1"],
  ["x-asm-prefer-tag=s1,x-asm-prefer-tag=s2,a=1", "a=1"],
  ["x-asm-prefer-tag=s=2,a=1", "a=1"],
  ["x-asm-prefer-tags=s2,a=1", "x-asm-prefer-tags=s2,a=1"],
  ["x-asm-prefer-tag,a=1", "x-asm-prefer-tag,a=1"],
  ["a = 1 ,, b=2", "a = 1 ,, b=2"],
  ["", ""],
];

describe("uberctx header names", () => {
  it("matches exactly uberctx-<key>, ASCII case ignored", () => {
    for (let i = 0; i < NAMES.length; i++) expect(nameIs(NAMES[i][0])).toBe(NAMES[i][1] == "y", NAMES[i][0]);
  });
  it("uses the configured key", () => {
    expect(nameIs("uberctx-lane", raw("lane"))).toBe(true);
    expect(nameIs("uberctx-x-asm-prefer-tag", raw("lane"))).toBe(false);
    expect(nameIs("uberctx-", raw(""))).toBe(false);
  });
  it("recognises jaeger-baggage", () => {
    const a = raw("jaeger-baggage");
    const b = raw("Jaeger-Baggage");
    const c = raw("jaeger-baggage-x");
    expect(isJaegerBaggageName(ptr(a), a.byteLength)).toBe(true);
    expect(isJaegerBaggageName(ptr(b), b.byteLength)).toBe(true);
    expect(isJaegerBaggageName(ptr(c), c.byteLength)).toBe(false);
  });
});

describe("reading the lane from uberctx", () => {
  it("decodes as the JS propagator does, then applies the lane grammar", () => {
    for (let i = 0; i < READ.length; i++) expect(laneOf(READ[i][0])).toBe(READ[i][1], READ[i][0]);
  });
});

describe("writing the lane to uberctx", () => {
  it("writes the lane as it stands (encodeURIComponent leaves lane bytes alone)", () => {
    expect(formatted("s2")).toBe("s2");
    expect(formatted("a.b_c-D9")).toBe("a.b_c-D9");
    expect(formatted("a".repeat(63))).toBe("a".repeat(63));
  });
  it("refuses what is not a lane", () => {
    expect(formatted("")).toBe("-");
    expect(formatted("-s")).toBe("-");
    expect(formatted("s 2")).toBe("-");
    expect(formatted("a".repeat(64))).toBe("-");
  });
  it("round-trips: the written value reads back as the lane", () => {
    const lanes = ["s2", "a.b_c-D9", "0", "a".repeat(63)];
    for (let i = 0; i < lanes.length; i++) expect(laneOf(formatted(lanes[i]))).toBe(lanes[i]);
  });
});

describe("stripping the lane from jaeger-baggage", () => {
  it("removes the key's members in every spelling, keeps the rest byte for byte", () => {
    for (let i = 0; i < STRIP.length; i++) expect(stripped(STRIP[i][0])).toBe(STRIP[i][1], STRIP[i][0]);
  });
});

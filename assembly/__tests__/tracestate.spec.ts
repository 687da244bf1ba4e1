import { findTracestateLane, stripTracestate, tracestateWriteBound, writeTracestate } from "../grammar/tracestate";
import { isTraceparent, isTracestateKey, isTracestateValue } from "../grammar/trace-context";
import { LANE_BUF, laneResult, members, ptr, raw, text } from "./carriers-util";

const K = "x-asm-prefer-tag";
const KEY = raw(K);

function find(ts: string, key: ArrayBuffer = KEY): string {
  const b = raw(ts);
  return laneResult(findTracestateLane(ptr(b), b.byteLength, ptr(key), key.byteLength, LANE_BUF), LANE_BUF);
}

function write(ts: string, lane: string, key: ArrayBuffer = KEY): string {
  const b = raw(ts);
  const l = raw(lane);
  const dst = heap.alloc(tracestateWriteBound(b.byteLength, key.byteLength));
  const n = writeTracestate(ptr(b), b.byteLength, ptr(key), key.byteLength, ptr(l), l.byteLength, dst);
  const out = n < 0 ? "!" : text(dst, n);
  heap.free(dst);
  return out;
}

function strip(ts: string): string {
  const b = raw(ts);
  const dst = heap.alloc(b.byteLength + 1);
  const out = text(dst, stripTracestate(ptr(b), b.byteLength, ptr(KEY), KEY.byteLength, dst));
  heap.free(dst);
  return out;
}

function keyOk(s: string): bool { const b = raw(s); return isTracestateKey(ptr(b), b.byteLength); }
function valueOk(s: string): bool { const b = raw(s); return isTracestateValue(ptr(b), b.byteLength); }
function parentOk(s: string): bool { const b = raw(s); return isTraceparent(ptr(b), b.byteLength); }

const KEYS: string[][] = [
  ["a", "y"], [K, "y"], ["a_-*/09", "y"], ["a" + "b".repeat(255), "y"], ["a" + "b".repeat(256), ""],
  ["", ""], ["A", ""], ["X-asm", ""], ["1a", ""], ["_a", ""], ["a b", ""], ["a.b", ""], ["a=b", ""], ["\u00e9", ""],
  ["t@s", "y"], ["0@s", "y"], ["t".repeat(241) + "@s", "y"], ["t".repeat(242) + "@s", ""],
  ["t@" + "s".repeat(14), "y"], ["t@" + "s".repeat(15), ""], ["@s", ""], ["t@", ""], ["t@1", ""], ["t@S", ""],
  ["t@s@u", ""], ["_t@s", ""],
];

const VALUES: string[][] = [
  ["v", "y"], [" v", "y"], ["a b", "y"], ["~!\"#;", "y"], ["v".repeat(256), "y"], ["v".repeat(257), ""],
  ["", ""], [" ", ""], ["v ", ""], ["a,b", ""], ["a=b", ""], ["a\u007fb", ""], ["a\u001fb", ""], ["a\tb", ""],
  ["\u00e9", ""],
];

const TP = "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01";
const PARENTS: string[][] = [
  [TP, "y"], [" " + TP, "y"], [TP + " ", "y"], ["\t" + TP + "\t", "y"], ["  " + TP, ""], [TP + "  ", ""],
  ["00-0123456789ABCDEF0123456789abcdef-0123456789abcdef-01", ""],
  ["00-00000000000000000000000000000000-0123456789abcdef-01", ""],
  ["00-0123456789abcdef0123456789abcdef-0000000000000000-01", ""],
  ["ff-0123456789abcdef0123456789abcdef-0123456789abcdef-01", ""],
  ["01-0123456789abcdef0123456789abcdef-0123456789abcdef-01-later", "y"],
  ["01-0123456789abcdef0123456789abcdef-0123456789abcdef-01x", ""],
  [TP + "-later", ""], [TP + "x", ""], [TP.slice(0, 54), ""], ["00_" + TP.slice(3), ""], ["", ""],
];

// [tracestate, lane as OpenTelemetry JS reads it: "" none, "-" the member that counts is not a lane]
const FIND: string[][] = [
  [K + "=s2", "s2"], ["", ""], ["a=1," + K + "=s2,b=2", "s2"], [",," + K + "=s2,,", "s2"],
  // whitespace: around members any that trim() removes; inside the member it is part of key or value
  ["\t" + K + "=s2\t", "s2"], [K + "=s2 ,a=1", "s2"], ["\u000b" + K + "=s2", "s2"], ["\u00a0" + K + "=s2", "s2"],
  [" " + K + " = s2 ", ""], [K + "= s2", "-"],
  // repeated key: the last valid member counts, even when it is not a lane; invalid ones are skipped
  [K + "=s1," + K + "=s2", "s2"], [K + "=s1," + K + "=bad=v", "s1"], [K + "=s2," + K + "=s 3", "-"],
  // bad members are skipped one by one
  ["bad key=1," + K + "=s2", "s2"], ["A=1,b,=3," + K + "=s2", "s2"], ["X-Asm-Prefer-Tag=s2", ""],
  [K + "=", ""], [K, ""], ["t@sys=1," + K + "=s2", "s2"],
  // the value is not decoded, and must be a lane as it stands
  [K + "=s%32", "-"], [K + "=s2;p", "-"], [K + "=" + "a".repeat(63), "a".repeat(63)], [K + "=" + "a".repeat(64), "-"],
  // at most 32 distinct keys are read
  [members(31) + "," + K + "=s2", "s2"], [members(32) + "," + K + "=s2", ""],
  ["k0=v0,k0=v1," + members(30, 1) + "," + K + "=s2", "s2"], ["k0=v0,k0=v1," + members(31, 1) + "," + K + "=s2", ""],
  [members(40) + "," + K + "=s2", ""], [K + "=s2," + members(40), "s2"],
  // at most 512 joined characters: a member beyond is skipped, a shorter one after it still read
  ["a=" + "v".repeat(256) + ",b=" + "v".repeat(231) + "," + K + "=s2", "s2"],
  ["a=" + "v".repeat(256) + ",b=" + "v".repeat(232) + "," + K + "=s2", ""],
  ["a=" + "v".repeat(256) + ",b=" + "v".repeat(256) + "," + K + "=s2", "s2"],
];

// [tracestate, tracestate with the lane s2 written]
const WRITE: string[][] = [
  ["", K + "=s2"], ["a=1,b=2", K + "=s2,a=1,b=2"], ["a=1," + K + "=s1,b=2", K + "=s2,a=1,b=2"],
  [" a=1 ,\tb=2\t", K + "=s2,a=1,b=2"], ["a= 1", K + "=s2,a= 1"], [",,a=1,,,", K + "=s2,a=1"],
  // every spelling of the lane's key goes, repeats included
  [K + "=s1," + K + "=s3,a=1", K + "=s2,a=1"], [" " + K + " = s1 ,a=1", K + "=s2,a=1"],
  ["X-ASM-PREFER-TAG=s1,a=1", K + "=s2,a=1"], ["\u000b" + K + "=s1,a=1", K + "=s2,a=1"],
  // members a strict reader would reject the whole header for are dropped; valid ones kept as written
  ["bad key=1,a=1,b=x y,c=\"q\"", K + "=s2,a=1,b=x y,c=\"q\""], ["a=1,a=2,b=3", K + "=s2,a=1,b=3"],
  ["a=1,\u000bb=2", K + "=s2,a=1"], ["a=1,b=\r\n", K + "=s2,a=1"], ["a=,b", K + "=s2"],
  ["a=" + "v".repeat(256), K + "=s2,a=" + "v".repeat(256)], ["a=" + "v".repeat(257), K + "=s2"],
  // at most 32 members: ours first, the last ones dropped
  [members(31), K + "=s2," + members(31)], [members(32), K + "=s2," + members(31)],
  [members(40) + "," + K + "=s1", K + "=s2," + members(31)],
];

// [tracestate, without the client's lane]
const STRIP: string[][] = [
  ["a=1," + K + "=s2,b=2", "a=1,b=2"], [K + "=s2", ""], ["a=1, " + K + " = s2 ,b=2", "a=1,b=2"],
  [" a=1 ," + K + "=s2", " a=1 "], [K + "=s1,a=1," + K + "=s2", "a=1"], ["X-Asm-Prefer-Tag=s2,a=1", "a=1"],
  ["\u00a0" + K + "\u0085=s2,a=1", "a=1"], ["\u001f" + K + "=s2,a=1", "a=1"], [K + "=bad=v,a=1", "a=1"],
  [members(40) + "," + K + "=s2", members(40)],
  // not the key: left exactly as they are
  [K + "-x=s2,a=1", K + "-x=s2,a=1"], [K + ",a=1", K + ",a=1"], ["a=1,,b=2", "a=1,,b=2"], ["", ""],
  ["a=" + K, "a=" + K],
];

describe("tracestate grammar", () => {
  it("checks keys, simple and multi-tenant, to their length limits", () => {
    for (let i = 0; i < KEYS.length; i++) expect(keyOk(KEYS[i][0])).toBe(KEYS[i][1] == "y", KEYS[i][0]);
  });
  it("checks values", () => {
    for (let i = 0; i < VALUES.length; i++) expect(valueOk(VALUES[i][0])).toBe(VALUES[i][1] == "y", VALUES[i][0]);
  });
  it("checks traceparent as the JS propagator does", () => {
    for (let i = 0; i < PARENTS.length; i++) expect(parentOk(PARENTS[i][0])).toBe(PARENTS[i][1] == "y", PARENTS[i][0]);
  });
});

describe("finding the lane in tracestate", () => {
  it("reads as OpenTelemetry JS reads", () => {
    for (let i = 0; i < FIND.length; i++) expect(find(FIND[i][0])).toBe(FIND[i][1], FIND[i][0]);
  });
  it("uses the configured key", () => {
    expect(find("lane@asm=s3," + K + "=s2", raw("lane@asm"))).toBe("s3");
    expect(find(K + "=s2", raw("lane@asm"))).toBe("");
  });
});

describe("writing the lane to tracestate", () => {
  it("puts the lane first and keeps only valid, distinct members, at most 32", () => {
    for (let i = 0; i < WRITE.length; i++) expect(write(WRITE[i][0], "s2")).toBe(WRITE[i][1], WRITE[i][0]);
  });
  it("refuses a key that is not a tracestate key, or a lane that is not a lane", () => {
    expect(write("a=1", "s2", raw("X-Lane"))).toBe("!");
    expect(write("a=1", "s2", raw(""))).toBe("!");
    expect(write("a=1", "s 2")).toBe("!");
    expect(write("a=1", "")).toBe("!");
  });
  it("round-trips: the written tracestate reads back as the lane", () => {
    for (let i = 0; i < WRITE.length; i++) expect(find(write(WRITE[i][0], "s9"))).toBe("s9", WRITE[i][0]);
    for (let i = 0; i < FIND.length; i++) expect(find(write(FIND[i][0], "a".repeat(63)))).toBe("a".repeat(63));
    expect(find(write("a=1,lane@asm=s1", "s9", raw("lane@asm")), raw("lane@asm"))).toBe("s9");
  });
  it("stays within its bound", () => {
    const worst = members(40) + "," + K + "=s1";
    expect(write(worst, "a".repeat(63)).length).toBeLessThanOrEqual(tracestateWriteBound(worst.length, K.length));
  });
});

describe("stripping the lane from tracestate", () => {
  it("removes the key's members in every spelling, keeps the rest byte for byte", () => {
    for (let i = 0; i < STRIP.length; i++) expect(strip(STRIP[i][0])).toBe(STRIP[i][1], STRIP[i][0]);
  });
  it("leaves a stripped tracestate without a lane for any reader", () => {
    for (let i = 0; i < FIND.length; i++) expect(find(strip(FIND[i][0]))).toBe("", FIND[i][0]);
  });
});

import {
  formatOtBaggageValue, isOtBaggageName, isOtBaggageNameLoose, isOtTraceContext, readOtBaggageLane,
} from "../grammar/ottrace";
import { LANE_BUF, laneResult, ptr, raw, text } from "./carriers-util";

const KEY = raw("x-asm-prefer-tag");

function exact(name: string): bool {
  const n = raw(name);
  return isOtBaggageName(ptr(n), n.byteLength, ptr(KEY), KEY.byteLength);
}

function loose(name: string, key: ArrayBuffer = KEY): bool {
  const n = raw(name);
  return isOtBaggageNameLoose(ptr(n), n.byteLength, ptr(key), key.byteLength);
}

function laneOf(value: string): string {
  const v = raw(value);
  const n = readOtBaggageLane(ptr(v), v.byteLength, LANE_BUF);
  return n > 0 ? laneResult(n, LANE_BUF) : "";
}

function formatted(lane: string): string {
  const l = raw(lane);
  const dst = heap.alloc(64);
  const n = formatOtBaggageValue(ptr(l), l.byteLength, dst);
  const out = n < 0 ? "-" : text(dst, n);
  heap.free(dst);
  return out;
}

function context(traceId: string, spanId: string): bool {
  const t = raw(traceId);
  const s = raw(spanId);
  return isOtTraceContext(ptr(t), t.byteLength, ptr(s), s.byteLength);
}

// [header name, exact reader name (JS), any reader's name (Java too)]
const NAMES: string[][] = [
  ["ot-baggage-x-asm-prefer-tag", "y", "y"],
  ["OT-Baggage-X-Asm-Prefer-Tag", "y", "y"],
  ["ot-baggage-ot-baggage-x-asm-prefer-tag", "", "y"], // Java removes every "ot-baggage-"
  ["ot-baggage-x-asm-ot-baggage-prefer-tag", "", "y"],
  ["ot-baggage-x-asm-prefer-tagot-baggage-", "", "y"],
  ["ot-baggage-x-asm-prefer-tag-", "", ""],
  ["ot-baggage-x-asm-prefer-ta", "", ""],
  ["ot-baggage-", "", ""],
  ["ot-baggage-ot-baggage-", "", ""],
  ["x-ot-baggage-x-asm-prefer-tag", "", ""],         // the name must start with the prefix
  ["ot-baggagex-asm-prefer-tag", "", ""],
  ["ot-baggage_x-asm-prefer-tag", "", ""],
  ["uberctx-x-asm-prefer-tag", "", ""],
  ["", "", ""],
];

// [value, lane]: taken as written, no decoding
const READ: string[][] = [
  ["s2", "s2"],
  ["s%32", ""],
  [" s2 ", "s2"],
  ["s 2", ""],
  ["s1, s2", ""],
  ["", ""],
  ["-s", ""],
  ["a".repeat(63), "a".repeat(63)],
  ["a".repeat(64), ""],
  ["s2\u00e9", ""],
];

// [ot-tracer-traceid, ot-tracer-spanid, valid]
const CONTEXT: string[][] = [
  ["0123456789abcdef", "0123456789abcdef", "y"],
  ["0123456789abcdef0123456789abcdef", "0123456789abcdef", "y"],
  ["0123456789ABCDEF", "0123456789ABCDEF", "y"],
  ["0000000000000000", "0123456789abcdef", ""],
  ["00000000000000000000000000000000", "0123456789abcdef", ""],
  ["0123456789abcdef", "0000000000000000", ""],
  ["123456789abcdef", "0123456789abcdef", ""],
  ["0123456789abcdef0", "0123456789abcdef", ""],
  ["0123456789abcdeg", "0123456789abcdef", ""],
  ["0123456789abcdef", "0123456789abcde", ""],
  ["0123456789abcdef", "0123456789abcdef0", ""],
  ["", "", ""],
];

describe("ot-baggage header names", () => {
  it("tells the reader's exact name and every name some reader takes for the key", () => {
    for (let i = 0; i < NAMES.length; i++) {
      expect(exact(NAMES[i][0])).toBe(NAMES[i][1] == "y", NAMES[i][0]);
      expect(loose(NAMES[i][0])).toBe(NAMES[i][2] == "y", NAMES[i][0]);
    }
  });
  it("matches the exact name even when the key itself holds the prefix", () => {
    expect(loose("ot-baggage-ot-baggage-k", raw("ot-baggage-k"))).toBe(true);
    expect(loose("ot-baggage-k", raw("k"))).toBe(true);
    expect(loose("ot-baggage-", raw(""))).toBe(false);
  });
});

describe("reading the lane from ot-baggage", () => {
  it("takes the value as written, then the lane grammar", () => {
    for (let i = 0; i < READ.length; i++) expect(laneOf(READ[i][0])).toBe(READ[i][1], READ[i][0]);
  });
  it("knows the trace context without which no reader takes ot baggage", () => {
    for (let i = 0; i < CONTEXT.length; i++) {
      expect(context(CONTEXT[i][0], CONTEXT[i][1])).toBe(CONTEXT[i][2] == "y", CONTEXT[i][0] + " " + CONTEXT[i][1]);
    }
  });
});

describe("writing the lane to ot-baggage", () => {
  it("writes the lane as it stands and refuses what is not a lane", () => {
    expect(formatted("s2")).toBe("s2");
    expect(formatted("a.b_c-D9")).toBe("a.b_c-D9");
    expect(formatted("")).toBe("-");
    expect(formatted("s\r\n2")).toBe("-");
    expect(formatted("a".repeat(64))).toBe("-");
  });
  it("round-trips", () => {
    const lanes = ["s2", "a.b_c-D9", "0", "a".repeat(63)];
    for (let i = 0; i < lanes.length; i++) expect(laneOf(formatted(lanes[i]))).toBe(lanes[i]);
  });
});

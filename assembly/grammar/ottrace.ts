// OpenTracing baggage: one request header per entry, `ot-baggage-<key>: <value>`, next to the ot trace
// context headers `ot-tracer-traceid` / `ot-tracer-spanid`. Both OpenTelemetry JS and Java read baggage only
// when that trace context is valid, take the value as written (no decoding) and inject it as it stands (JS
// skips values with bytes that are not legal in a header). JS takes the rest of the name after the prefix as
// the key; Java removes every "ot-baggage-" from the name, so `ot-baggage-ot-baggage-k` is key `k` there.
import { isLaneRaw } from "../bytes/lane";
import { isOws, lower, isPrefixedName, equalsIgnoreCase } from "../bytes/text";

// "ot-baggage-"
export const OT_BAGGAGE_PREFIX = memory.data<u8>([0x6f, 0x74, 0x2d, 0x62, 0x61, 0x67, 0x67, 0x61, 0x67, 0x65,
  0x2d]);
export const OT_BAGGAGE_PREFIX_LEN: i32 = 11;

/** Whether header name[0..nameLen) is `ot-baggage-<key>`, ASCII case ignored: the header the lane rides in. */
export function isOtBaggageName(name: usize, nameLen: i32, key: usize, keyLen: i32): bool {
  return isPrefixedName(name, nameLen, OT_BAGGAGE_PREFIX, OT_BAGGAGE_PREFIX_LEN, key, keyLen);
}

/**
 * Whether any OpenTracing reader takes header name[0..nameLen) for the baggage entry `key`: the exact name,
 * or (Java) a name starting with the prefix that is the key once every "ot-baggage-" in it is removed.
 * ASCII case ignored. What an untrusted gateway strips.
 */
export function isOtBaggageNameLoose(name: usize, nameLen: i32, key: usize, keyLen: i32): bool {
  if (isOtBaggageName(name, nameLen, key, keyLen)) return true;
  if (nameLen < OT_BAGGAGE_PREFIX_LEN || !equalsIgnoreCase(name, OT_BAGGAGE_PREFIX_LEN, OT_BAGGAGE_PREFIX,
    OT_BAGGAGE_PREFIX_LEN)) return false;
  // String.replace: occurrences are removed left to right, never overlapping.
  let j = 0;
  let i = 0;
  while (i < nameLen) {
    if (i + OT_BAGGAGE_PREFIX_LEN <= nameLen &&
      equalsIgnoreCase(name + i, OT_BAGGAGE_PREFIX_LEN, OT_BAGGAGE_PREFIX, OT_BAGGAGE_PREFIX_LEN)) {
      i += OT_BAGGAGE_PREFIX_LEN;
      continue;
    }
    if (j >= keyLen || lower(load<u8>(name + i)) != lower(load<u8>(key + j))) return false;
    i++;
    j++;
  }
  return j == keyLen && keyLen > 0;
}

/**
 * The lane in an `ot-baggage-<key>` value v[0..len): OWS trimmed, then the lane grammar on the value as
 * written (readers do not decode: "s%32" is not the lane "s2"). Writes it to dst (room for MAX_LANE bytes)
 * and returns its length, or -1. The readers take it only with a valid ot trace context (isOtTraceContext);
 * a header sent twice reaches a Node app joined as "v1, v2", never a lane.
 */
export function readOtBaggageLane(v: usize, len: i32, dst: usize): i32 {
  let s = 0;
  let e = len;
  while (s < e && isOws(load<u8>(v + s))) s++;
  while (e > s && isOws(load<u8>(v + e - 1))) e--;
  if (!isLaneRaw(v + s, e - s)) return -1;
  memory.copy(dst, v + s, e - s);
  return e - s;
}

/** Writes the `ot-baggage-<key>` value for lane[0..laneLen) to dst: the lane as it stands; -1 if not a lane. */
export function formatOtBaggageValue(lane: usize, laneLen: i32, dst: usize): i32 {
  if (!isLaneRaw(lane, laneLen)) return -1;
  memory.copy(dst, lane, laneLen);
  return laneLen;
}

/** Whether p[0..len) is hex digits (either case) and not all zero. */
function isNonZeroHex(p: usize, len: i32): bool {
  let nonZero = false;
  for (let i = 0; i < len; i++) {
    const c = <u32>load<u8>(p + i);
    if (!(c - 0x30 < 10 || (c | 0x20) - 0x61 < 6)) return false;
    if (c != 0x30) nonZero = true;
  }
  return nonZero;
}

/**
 * Whether `ot-tracer-traceid` t[0..tlen) and `ot-tracer-spanid` s[0..slen) form the valid trace context
 * without which no reader takes ot baggage: a trace id of 16 or 32 hex digits and a span id of 16, neither
 * all zero. Hex of either case, as OpenTelemetry JS accepts (Java: lowercase only).
 */
export function isOtTraceContext(t: usize, tlen: i32, s: usize, slen: i32): bool {
  return (tlen == 16 || tlen == 32) && slen == 16 && isNonZeroHex(t, tlen) && isNonZeroHex(s, slen);
}

// Jaeger baggage: one request header per entry, `uberctx-<key>: <value>`.
// OpenTelemetry JS (propagator-jaeger) takes every header whose name starts with "uberctx-" (names arrive
// lowercased from Node), the rest of the name is the key, and the value is decodeURIComponent'ed (an entry
// whose escape is malformed is skipped); it injects encodeURIComponent(value). OpenTelemetry Java takes
// the value as written and also reads `jaeger-baggage: k1=v1, k2=v2`, which JS ignores: a client's lane
// can therefore arrive in either, and both are stripped at an untrusted gateway.
import { decodeLane, isLaneRaw } from "../bytes/lane";
import { isOws, isPrefixedName, equalsIgnoreCase, stripLooseMembers } from "../bytes/text";

export const UBERCTX_PREFIX = memory.data<u8>([0x75, 0x62, 0x65, 0x72, 0x63, 0x74, 0x78, 0x2d]); // "uberctx-"
export const UBERCTX_PREFIX_LEN: i32 = 8;
// "jaeger-baggage"
export const JAEGER_BAGGAGE = memory.data<u8>([0x6a, 0x61, 0x65, 0x67, 0x65, 0x72, 0x2d, 0x62, 0x61, 0x67, 0x67,
  0x61, 0x67, 0x65]);
export const JAEGER_BAGGAGE_LEN: i32 = 14;

/** Whether header name[0..nameLen) is `uberctx-<key>`, ASCII case ignored: the header the lane rides in. */
export function isUberctxName(name: usize, nameLen: i32, key: usize, keyLen: i32): bool {
  return isPrefixedName(name, nameLen, UBERCTX_PREFIX, UBERCTX_PREFIX_LEN, key, keyLen);
}

/** Whether header name[0..nameLen) is `jaeger-baggage` (ASCII case ignored). */
export function isJaegerBaggageName(name: usize, nameLen: i32): bool {
  return equalsIgnoreCase(name, nameLen, JAEGER_BAGGAGE, JAEGER_BAGGAGE_LEN);
}

/**
 * The lane in an `uberctx-<key>` header value v[0..len): OWS trimmed (as HTTP servers do), percent-decoded
 * as decodeURIComponent does, then the lane grammar. Writes the lane to dst (room for MAX_LANE bytes) and
 * returns its length, or -1 when the value is not a lane (malformed escapes included). A header sent twice
 * reaches a Node app joined as "v1, v2", which is never a lane: the caller passes such a value, or none.
 */
export function readUberctxLane(v: usize, len: i32, dst: usize): i32 {
  let s = 0;
  let e = len;
  while (s < e && isOws(load<u8>(v + s))) s++;
  while (e > s && isOws(load<u8>(v + e - 1))) e--;
  return decodeLane(v + s, e - s, dst);
}

/**
 * Writes the `uberctx-<key>` value carrying lane[0..laneLen) to dst (room for MAX_LANE bytes), returns its length, or -1 when it
 * is not a lane name. Every lane byte ([A-Za-z0-9._-]) is unreserved for encodeURIComponent, so the value
 * is the lane as it stands and both the decoding (JS) and the literal (Java) readers get the lane back.
 */
export function formatUberctxValue(lane: usize, laneLen: i32, dst: usize): i32 {
  if (!isLaneRaw(lane, laneLen)) return -1;
  memory.copy(dst, lane, laneLen);
  return laneLen;
}

/**
 * Writes a `jaeger-baggage` value src[0..len) to dst without its members keyed `key` as any reader could
 * see it (Java splits on `\s*,\s*` and `\s*=\s*`; ASCII case ignored, since an app re-injects the key into
 * a header name that Envoy lowercases). Other members keep their bytes; the result is shorter than the
 * input exactly when something was removed. Returns the output length (at most len).
 */
export function stripJaegerBaggage(src: usize, len: i32, key: usize, keyLen: i32, dst: usize): i32 {
  return stripLooseMembers(src, len, key, keyLen, dst);
}

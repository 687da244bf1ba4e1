// The lane as a W3C `tracestate` entry `<key>=<lane>`, for apps that propagate trace context only: the SDK
// forwards tracestate as it parsed it. Readers differ on a header that breaks the rules: OpenTelemetry JS
// drops bad members one by one, keeps the last value of a repeated key (at the first one's place), keeps
// at most 32 keys and 512 characters; Java and Go drop the whole header on any bad member, repeated key or
// a 33rd member. So the lane is read as JS reads it, and written so that every reader keeps it: first,
// with only valid, distinct members after it, at most 32 in all. A value is never percent-decoded.
import { MAX_LANE, isLaneRaw } from "../bytes/lane";
import { isOws, isJsSpace, looseKeyIs, stripLooseMembers } from "../bytes/text";
import { MAX_TRACESTATE_MEMBERS, isTracestateKey, isTracestateValue } from "./trace-context";

/** OpenTelemetry JS keeps members of a parsed tracestate while their joined length stays within this. */
export const JS_TRACESTATE_LEN: i32 = 512;

// Keys seen so far in one scan, as (offset, length) pairs into its input: distinct keys are at most 32.
const keyOffsets = memory.data(MAX_TRACESTATE_MEMBERS * 8);
let keyCount = 0;

function keySeen(src: usize, k: i32, klen: i32): bool {
  for (let i = 0; i < keyCount; i++) {
    const o = load<i32>(keyOffsets + (<usize>i << 3));
    const l = load<i32>(keyOffsets + (<usize>i << 3) + 4);
    if (l == klen && memory.compare(src + o, src + k, klen) == 0) return true;
  }
  return false;
}

function addKey(k: i32, klen: i32): void {
  store<i32>(keyOffsets + (<usize>keyCount << 3), k);
  store<i32>(keyOffsets + (<usize>keyCount << 3) + 4, klen);
  keyCount++;
}

/** Offset of the first "=" in src[s..e), or -1. */
function equalsAt(src: usize, s: i32, e: i32): i32 {
  for (let i = s; i < e; i++) if (load<u8>(src + i) == 0x3d) return i;
  return -1;
}

/**
 * The lane in a tracestate value src[0..len) (repeated headers joined with ","), read as OpenTelemetry JS
 * reads it: members split on ",", trimmed of whitespace; a member without "=", with a bad key or value, or
 * past 512 joined characters is skipped; reading stops at the 32nd distinct key; of repeated keys the last
 * value counts. Writes the lane to dst (room for MAX_LANE bytes) and returns its length; 0 when no member
 * has the key; -1 when the member that counts is not a lane (e.g. "s 2", "s%32").
 */
export function findTracestateLane(src: usize, len: i32, key: usize, keyLen: i32, dst: usize): i32 {
  keyCount = 0;
  let joined = 0;
  let vs = -1;
  let ve = -1;
  let i = 0;
  while (i < len) {
    let s = i;
    let e = i;
    while (e < len && load<u8>(src + e) != 0x2c) e++;
    i = e + 1;
    while (s < e && isJsSpace(load<u8>(src + s))) s++;
    while (e > s && isJsSpace(load<u8>(src + e - 1))) e--;
    const eq = equalsAt(src, s, e);
    if (eq < 0 || !isTracestateKey(src + s, eq - s) || !isTracestateValue(src + eq + 1, e - eq - 1)) continue;
    const future = joined + (e - s) + (keyCount > 0 ? 1 : 0);
    if (future > JS_TRACESTATE_LEN) continue;
    joined = future;
    if (!keySeen(src, s, eq - s)) addKey(s, eq - s);
    if (eq - s == keyLen && memory.compare(src + s, key, keyLen) == 0) {
      vs = eq + 1;
      ve = e;
    }
    if (keyCount >= MAX_TRACESTATE_MEMBERS) break;
  }
  if (vs < 0) return 0;
  if (ve - vs > MAX_LANE || !isLaneRaw(src + vs, ve - vs)) return -1;
  memory.copy(dst, src + vs, ve - vs);
  return ve - vs;
}

/** Room writeTracestate needs for an input of len bytes. */
export function tracestateWriteBound(len: i32, keyLen: i32): i32 {
  return keyLen + 1 + MAX_LANE + 1 + len;
}

/**
 * Writes tracestate src[0..len) to dst with `key=lane` first (an updated entry moves to the front), then
 * the other members in order, each byte for byte but for OWS around it, joined with ",". Dropped: every
 * member a lenient reader takes for the key (looseKeyIs), empty members, members that break the grammar
 * (strict: only OWS around them), repeats of a key already written (the first stays), and members beyond
 * the 32nd. Returns the output length, or -1 (nothing written) when key is not a tracestate key or lane
 * not a lane name.
 */
export function writeTracestate(src: usize, len: i32, key: usize, keyLen: i32, lane: usize, laneLen: i32,
  dst: usize): i32 {
  if (!isTracestateKey(key, keyLen) || !isLaneRaw(lane, laneLen)) return -1;
  memory.copy(dst, key, keyLen);
  store<u8>(dst + keyLen, 0x3d);
  memory.copy(dst + keyLen + 1, lane, laneLen);
  let out = keyLen + 1 + laneLen;
  let members = 1;
  keyCount = 0;
  let i = 0;
  while (i < len && members < MAX_TRACESTATE_MEMBERS) {
    const ms = i;
    let e = i;
    while (e < len && load<u8>(src + e) != 0x2c) e++;
    i = e + 1;
    if (looseKeyIs(src, ms, e, key, keyLen)) continue;
    let s = ms;
    while (s < e && isOws(load<u8>(src + s))) s++;
    while (e > s && isOws(load<u8>(src + e - 1))) e--;
    const eq = equalsAt(src, s, e);
    if (eq < 0 || !isTracestateKey(src + s, eq - s) || !isTracestateValue(src + eq + 1, e - eq - 1)) continue;
    if (keySeen(src, s, eq - s)) continue;
    addKey(s, eq - s);
    store<u8>(dst + out++, 0x2c);
    memory.copy(dst + out, src + s, e - s);
    out += e - s;
    members++;
  }
  return out;
}

/**
 * Writes tracestate src[0..len) to dst without the members any reader could take for `key` (looseKeyIs:
 * whitespace a lenient reader trims, ASCII case ignored; repeats included). Every other member keeps its
 * bytes and order, so a result shorter than the input means a client's lane was removed. For an untrusted
 * gateway. Returns the output length (at most len).
 */
export function stripTracestate(src: usize, len: i32, key: usize, keyLen: i32, dst: usize): i32 {
  return stripLooseMembers(src, len, key, keyLen, dst);
}

// The trace -> lane entries kept in proxy-wasm shared data. Pure and allocation-free: pipeline/correlation.ts
// does the host calls.
import { isLaneRaw } from "../bytes/lane";

// Shared data never expires and has no delete: entries live in a fixed set of `capacity` slots chosen by
// the trace hash, so the store never holds more than `capacity` keys; a newer trace takes a slot over.
// Value: u64 trace hash, i64 expiry (ms since the epoch), u8 lane length, lane bytes.
export const ENTRY_HEADER: i32 = 17;
export const MAX_ENTRY: i32 = ENTRY_HEADER + 63;

/** The slot of a trace hash in [0, capacity). */
export function slotOf(hash: u64, capacity: i32): u32 {
  return <u32>((hash >> 32) % <u64>capacity);
}

/** Writes the slot key "lane-tag.trace.<8 hex digits>" at dst (23 bytes) and returns its length. */
export function writeSlotKey(dst: usize, slot: u32): i32 {
  const prefix = "lane-tag.trace.";
  for (let i = 0; i < 15; i++) store<u8>(dst + i, <u8>prefix.charCodeAt(i));
  for (let i = 0; i < 8; i++) {
    const d = (slot >> (28 - 4 * i)) & 15;
    store<u8>(dst + 15 + i, <u8>(d < 10 ? 0x30 + d : 0x57 + d));
  }
  return 23;
}

export function writeEntry(dst: usize, hash: u64, expiresMs: i64, lane: usize, laneLen: i32): i32 {
  store<u64>(dst, hash);
  store<i64>(dst + 8, expiresMs);
  store<u8>(dst + 16, <u8>laneLen);
  memory.copy(dst + ENTRY_HEADER, lane, laneLen);
  return ENTRY_HEADER + laneLen;
}

/** Whether a stored value is a well-formed entry for `hash`; a slot may hold anything a peer wrote. */
export function entryIsFor(p: usize, len: i32, hash: u64): bool {
  if (len < ENTRY_HEADER + 1 || len != ENTRY_HEADER + <i32>load<u8>(p + 16)) return false;
  return load<u64>(p) == hash && isLaneRaw(p + ENTRY_HEADER, len - ENTRY_HEADER);
}

// @ts-ignore: decorator
@inline export function entryExpires(p: usize): i64 { return load<i64>(p + 8); }

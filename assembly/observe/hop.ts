// hop_trace's pure parts: the trace token in baggage, and the text of a trace entry. No host calls.
import { bytesEqual } from "../bytes/lane";

/** The baggage member that carries a trace through the apps: `lane-tag-trace=<16 hex digits>`. */
export const TRACE_KEY = String.UTF8.encode("lane-tag-trace");
export const TOKEN_LEN: i32 = 16;
// Entries and the shared-data value that collects them are bounded: a longer trace stops growing.
export const MAX_TRACE: i32 = 4096;

// @ts-ignore: decorator
@inline function isOws(c: u32): bool { return c == 0x20 || c == 0x09; }

// @ts-ignore: decorator
@inline function isLowerHex(c: u32): bool { return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66); }

/**
 * The offset of the token of the first `lane-tag-trace` member of baggage src[0..len) whose value is
 * exactly 16 lowercase hex digits (properties after `;` allowed), or -1.
 */
export function traceToken(src: usize, len: i32): i32 {
  const key = changetype<usize>(TRACE_KEY);
  const keyLen = TRACE_KEY.byteLength;
  let i = 0;
  while (i < len) {
    let j = i;
    while (j < len && load<u8>(src + j) != 0x2c) j++;
    // One member: [i, j).
    let a = i;
    while (a < j && isOws(load<u8>(src + a))) a++;
    if (a + keyLen <= j && bytesEqual(src + a, keyLen, key, keyLen)) {
      let b = a + keyLen;
      while (b < j && isOws(load<u8>(src + b))) b++;
      if (b < j && load<u8>(src + b) == 0x3d) {
        b++;
        while (b < j && isOws(load<u8>(src + b))) b++;
        let e = b;
        while (e < j && isLowerHex(load<u8>(src + e))) e++;
        let k = e;
        while (k < j && isOws(load<u8>(src + k))) k++;
        if (e - b == TOKEN_LEN && (k == j || load<u8>(src + k) == 0x3b)) return b;
      }
    }
    i = j + 1;
  }
  return -1;
}

const HEX = memory.data<u8>([0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66]);

/** Writes x as 16 lowercase hex digits at dst. */
export function writeHex16(dst: usize, x: u64): void {
  for (let i = 15; i >= 0; i--) {
    store<u8>(dst + i, load<u8>(HEX + <usize>(x & 15)));
    x >>= 4;
  }
}

const FALLBACK = String.UTF8.encode(" (fallback from ");

/**
 * Writes one trace entry at dst: `<prefix>` (workload@lane) and, when the request asked for another lane
 * than the workload's own (both known), ` (fallback from <requested>)`. Returns its length; dst must hold
 * prefixLen + 17 + reqLen bytes.
 */
export function writeTraceEntry(dst: usize, prefix: usize, prefixLen: i32, own: usize, ownLen: i32, requested: usize, reqLen: i32): i32 {
  memory.copy(dst, prefix, prefixLen);
  let n = prefixLen;
  if (ownLen > 0 && reqLen > 0 && !bytesEqual(own, ownLen, requested, reqLen)) {
    memory.copy(dst + n, changetype<usize>(FALLBACK), FALLBACK.byteLength);
    n += FALLBACK.byteLength;
    memory.copy(dst + n, requested, reqLen);
    n += reqLen;
    store<u8>(dst + n++, 0x29);
  }
  return n;
}

/** Bytes writeTraceEntry may write. */
export function traceEntryBound(prefixLen: i32, reqLen: i32): i32 {
  return prefixLen + FALLBACK.byteLength + reqLen + 1;
}

// A shared-data slot holds the entries of every trace in flight whose token maps to it, one record each:
// token (16) | expires, seconds (u32) | length (u16) | entries. Records of traces that never finished
// expire; a slot that would grow past MAX_SLOT keeps only the record being written.
export const RECORD_HEAD: i32 = TOKEN_LEN + 6;
export const MAX_SLOT: i32 = 16384;

/** The offset of the token's record in slot src[0..n), or -1; a malformed tail ends the walk. */
export function findRecord(src: usize, n: i32, token: usize): i32 {
  let i = 0;
  while (i + RECORD_HEAD <= n) {
    const len = <i32>load<u16>(src + i + TOKEN_LEN + 4);
    if (i + RECORD_HEAD + len > n) return -1;
    if (memory.compare(src + i, token, TOKEN_LEN) == 0) return i;
    i += RECORD_HEAD + len;
  }
  return -1;
}

/** The entries' length of the record at `at`. */
export function recordLen(src: usize, at: i32): i32 {
  return <i32>load<u16>(src + at + TOKEN_LEN + 4);
}

/** Copies the records of other tokens that have not expired by `nowSec` to dst; returns the bytes written. */
export function copyOthers(src: usize, n: i32, token: usize, nowSec: u32, dst: usize): i32 {
  let i = 0;
  let out = 0;
  while (i + RECORD_HEAD <= n) {
    const size = RECORD_HEAD + <i32>load<u16>(src + i + TOKEN_LEN + 4);
    if (i + size > n) break;
    if (memory.compare(src + i, token, TOKEN_LEN) != 0 && load<u32>(src + i + TOKEN_LEN) > nowSec) {
      memory.copy(dst + out, src + i, size);
      out += size;
    }
    i += size;
  }
  return out;
}

/** Writes the token's record at dst: head, then `a`, and ", " + `b` when both are non-empty. */
export function writeRecord(dst: usize, token: usize, expiresSec: u32, a: usize, aLen: i32, b: usize, bLen: i32): i32 {
  memory.copy(dst, token, TOKEN_LEN);
  store<u32>(dst + TOKEN_LEN, expiresSec);
  let n = RECORD_HEAD;
  memory.copy(dst + n, a, aLen);
  n += aLen;
  if (aLen > 0 && bLen > 0) {
    store<u16>(dst + n, 0x202c); // ", "
    n += 2;
  }
  memory.copy(dst + n, b, bLen);
  n += bLen;
  store<u16>(dst + TOKEN_LEN + 4, <u16>(n - RECORD_HEAD));
  return n;
}

// hop_trace's pure parts: the trace token in baggage, and the text of a trace entry. No host calls.
import { bytesEqual } from "./lane";

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

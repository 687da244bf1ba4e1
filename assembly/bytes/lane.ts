// Lane names, byte-level and allocation-free: this runs on every request.
// A lane is 1..63 bytes of [A-Za-z0-9._-] starting with a letter or digit. That is a DNS-label-like
// shape that is safe in a header, in a baggage value (no escaping needed) and in a Kubernetes label.

export const MAX_LANE: i32 = 63;

// @ts-ignore: decorator
@inline export function isAlnum(c: u32): bool {
  return (c - 0x30 < 10) || ((c | 0x20) - 0x61 < 26);
}

// @ts-ignore: decorator
@inline export function isLaneByte(c: u32): bool {
  return isAlnum(c) || c == 0x2d /* - */ || c == 0x2e /* . */ || c == 0x5f /* _ */;
}

// @ts-ignore: decorator
@inline export function hexValue(c: u32): i32 {
  if (c - 0x30 < 10) return <i32>(c - 0x30);
  const l = c | 0x20;
  if (l - 0x61 < 6) return <i32>(l - 0x61 + 10);
  return -1;
}

/** True when src[0..len) is a lane name as it stands (no decoding): the form of a routing header value. */
export function isLaneRaw(src: usize, len: i32): bool {
  if (len < 1 || len > MAX_LANE || !isAlnum(load<u8>(src))) return false;
  for (let i = 1; i < len; i++) {
    if (!isLaneByte(load<u8>(src + i))) return false;
  }
  return true;
}

/**
 * Percent-decodes src[0..len) into dst (room for MAX_LANE bytes) and returns the decoded length, or -1 when
 * the result is not a lane name or an escape is malformed. Never throws: a bad escape is a bad value, and
 * a trap here would take down every request on the worker.
 */
export function decodeLane(src: usize, len: i32, dst: usize): i32 {
  let n = 0;
  let i = 0;
  while (i < len) {
    let c = <u32>load<u8>(src + i);
    if (c == 0x25 /* % */) {
      if (i + 2 >= len) return -1;
      const hi = hexValue(load<u8>(src + i + 1));
      const lo = hexValue(load<u8>(src + i + 2));
      if (hi < 0 || lo < 0) return -1;
      c = <u32>((hi << 4) | lo);
      i += 3;
    } else {
      i += 1;
    }
    if (n == MAX_LANE) return -1;
    if (n == 0 ? !isAlnum(c) : !isLaneByte(c)) return -1;
    store<u8>(dst + n, <u8>c);
    n++;
  }
  return n == 0 ? -1 : n;
}

/** Byte equality of two spans. */
export function bytesEqual(a: usize, alen: i32, b: usize, blen: i32): bool {
  if (alen != blen) return false;
  for (let i = 0; i < alen; i++) {
    if (load<u8>(a + i) != load<u8>(b + i)) return false;
  }
  return true;
}

/** Whether lane ptr[0..len) is one of `lanes` (the configured allow-list): any lane when the list is empty. */
export function laneAllowed(lanes: ArrayBuffer[], ptr: usize, len: i32): bool {
  const n = lanes.length;
  if (n == 0) return true;
  for (let i = 0; i < n; i++) {
    const b = unchecked(lanes[i]);
    if (bytesEqual(changetype<usize>(b), b.byteLength, ptr, len)) return true;
  }
  return false;
}

/** isLaneRaw for a configuration string (any length, any characters). */
export function isLaneString(s: string): bool {
  if (s.length > MAX_LANE) return false; // before encoding: a value can be 1 MiB
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  const b = String.UTF8.encode(s);
  return isLaneRaw(changetype<usize>(b), b.byteLength);
}

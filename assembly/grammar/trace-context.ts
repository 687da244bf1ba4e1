// W3C Trace Context grammars the tracestate carrier depends on, as OpenTelemetry JS checks them.
//   key   = simple-key / multi-tenant-key
//   simple-key       = lcalpha 0*255( lcalpha / DIGIT / "_" / "-" / "*" / "/" )
//   multi-tenant-key = ( lcalpha / DIGIT ) 0*240( keychar ) "@" lcalpha 0*13( keychar )
//   value = 0*255( %x20-2B / %x2D-3C / %x3E-7E ) ( %x21-2B / %x2D-3C / %x3E-7E )
//   traceparent = version "-" trace-id "-" parent-id "-" flags, lowercase hex, ids not all zero,
//                 version not "ff"; a version above 00 may carry more "-" fields.

import { isJsSpace } from "../bytes/text";

export const MAX_TRACESTATE_MEMBERS: i32 = 32;
export const MAX_TRACESTATE_VALUE: i32 = 256;

// @ts-ignore: decorator
@inline function isLcalpha(c: u32): bool { return c - 0x61 < 26; }
// @ts-ignore: decorator
@inline function isDigit(c: u32): bool { return c - 0x30 < 10; }
// @ts-ignore: decorator
@inline function isKeyChar(c: u32): bool {
  return isLcalpha(c) || isDigit(c) || c == 0x5f || c == 0x2d || c == 0x2a || c == 0x2f;
}
// @ts-ignore: decorator
@inline function isLowerHex(c: u32): bool { return isDigit(c) || c - 0x61 < 6; }

/** Whether p[0..len) is a tracestate key (simple or multi-tenant). */
export function isTracestateKey(p: usize, len: i32): bool {
  if (len < 1) return false;
  let at = -1;
  for (let i = 0; i < len; i++) {
    const c = <u32>load<u8>(p + i);
    if (c == 0x40 /* @ */) {
      if (at >= 0) return false;
      at = i;
    } else if (!isKeyChar(c)) return false;
  }
  const c0 = <u32>load<u8>(p);
  if (at < 0) return len <= 256 && isLcalpha(c0);
  const system = len - at - 1;
  return at >= 1 && at <= 241 && (isLcalpha(c0) || isDigit(c0)) && system >= 1 && system <= 14 &&
    isLcalpha(load<u8>(p + at + 1));
}

/** Whether p[0..len) is a tracestate value: 1..256 printable ASCII bytes but "," and "=", no trailing space. */
export function isTracestateValue(p: usize, len: i32): bool {
  if (len < 1 || len > MAX_TRACESTATE_VALUE || load<u8>(p + len - 1) == 0x20) return false;
  for (let i = 0; i < len; i++) {
    const c = <u32>load<u8>(p + i);
    if (c < 0x20 || c > 0x7e || c == 0x2c || c == 0x3d) return false;
  }
  return true;
}

/** Checks hex p[0..n): lowercase hex, and (when nonZero) not all "0". */
function hexField(p: usize, n: i32, nonZero: bool): bool {
  let any = false;
  for (let i = 0; i < n; i++) {
    const c = <u32>load<u8>(p + i);
    if (!isLowerHex(c)) return false;
    if (c != 0x30) any = true;
  }
  return any || !nonZero;
}

/**
 * Whether p[0..len) is a traceparent the OpenTelemetry JS propagator accepts (one optional whitespace byte
 * before and after, as its pattern allows). Without one, no SDK reads tracestate, so the lane is not
 * written there either.
 */
export function isTraceparent(p: usize, len: i32): bool {
  let s = 0;
  let e = len;
  if (s < e && isJsSpace(load<u8>(p + s))) s++;
  if (e - s < 55) return false;
  const q = p + s;
  if (load<u8>(q + 2) != 0x2d || load<u8>(q + 35) != 0x2d || load<u8>(q + 52) != 0x2d) return false;
  if (!hexField(q, 2, false) || (load<u8>(q) == 0x66 && load<u8>(q + 1) == 0x66)) return false;
  if (!hexField(q + 3, 32, true) || !hexField(q + 36, 16, true) || !hexField(q + 53, 2, false)) return false;
  const rest = e - s - 55;
  if (rest == 0) return true;
  if (rest == 1 && isJsSpace(load<u8>(q + 55))) return true;
  if (load<u8>(q) == 0x30 && load<u8>(q + 1) == 0x30) return false; // version 00 has exactly four fields
  if (load<u8>(q + 55) != 0x2d) return false;
  // ".*" stops at line ends; one whitespace byte may close the value.
  for (let i = 56; i < e - s; i++) {
    const c = load<u8>(q + i);
    if ((c == 0x0a || c == 0x0d) && i != e - s - 1) return false;
  }
  return true;
}

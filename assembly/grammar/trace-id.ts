// Trace id headers: how each kind holds the trace id, and where the id is in a value. Pure and
// allocation-free; the same trace has the same id on every hop.
import { hexValue } from "../bytes/lane";

/** A trace id header's kind: how its value holds the trace id. */
export const TRACE_RAW: i32 = 0; // the whole value (x-b3-traceid, x-request-id, ...)
export const TRACE_W3C: i32 = 1; // traceparent: version "-" trace-id "-" parent-id "-" flags
export const TRACE_B3: i32 = 2; // b3 single header: trace-id "-" span-id ...
export const TRACE_XRAY: i32 = 3; // x-amzn-trace-id: fields "key=value" split by ";", the id in Root=

export const MAX_TRACE_VALUE: i32 = 256;

export function traceKind(name: string): i32 {
  if (name == "traceparent") return TRACE_W3C;
  if (name == "b3") return TRACE_B3;
  if (name == "x-amzn-trace-id") return TRACE_XRAY;
  return TRACE_RAW;
}

// `len` hex digits at p: 1 when not all zero, 0 when all zero, -1 when not all hex.
function hexDigits(p: usize, len: i32): i32 {
  let nonZero = 0;
  for (let i = 0; i < len; i++) {
    const c = <u32>load<u8>(p + i);
    if (hexValue(c) < 0) return -1;
    if (c != 0x30) nonZero = 1;
  }
  return nonZero;
}

// `len` hex digits at p, not all zero (W3C and B3 both call an all-zero id invalid).
function isHexId(p: usize, len: i32): bool {
  return hexDigits(p, len) > 0;
}

// SP or HTAB: the whitespace readers trim around a field.
// @ts-ignore: decorator
@inline function isOws(c: u32): bool { return c == 0x20 || c == 9; }

/**
 * The X-Ray trace id: the value of the last Root field (the one the propagators keep), in any position
 * (a load balancer puts Self= first), the key in any case (Envoy's tracer lowercases it), the field
 * trimmed of SP/HTAB. Valid only as "1-" 8 hex (epoch seconds) "-" 24 hex, not all zero; the span starts
 * at that value, so every hop, whatever Parent= it sends, yields the same id.
 */
function xrayIdSpan(v: usize, len: i32): i64 {
  let root: i32 = -1;
  let rootEnd: i32 = 0;
  let i = 0;
  while (i < len) {
    while (i < len && isOws(load<u8>(v + i))) i++;
    const start = i;
    while (i < len && load<u8>(v + i) != 0x3b) i++;
    let end = i;
    while (end > start && isOws(load<u8>(v + end - 1))) end--;
    if (end - start >= 5 && (load<u32>(v + start) | 0x20202020) == 0x746f6f72 && load<u8>(v + start + 4) == 0x3d) {
      root = start + 5;
      rootEnd = end;
    }
    i++; // past the ";"
  }
  if (root < 0 || rootEnd - root != 35) return -1;
  const p = v + <usize>root;
  if (load<u8>(p) != 0x31 || load<u8>(p + 1) != 0x2d || load<u8>(p + 10) != 0x2d) return -1;
  const epoch = hexDigits(p + 2, 8), unique = hexDigits(p + 11, 24);
  if (epoch < 0 || unique < 0 || epoch + unique == 0) return -1;
  return (<i64>root << 32) | 35;
}

/**
 * The trace id's span within a header value as [start, start + length) packed into an i64 (start in the
 * high half), or -1 when the value holds no usable id. The same trace has the same id on every hop.
 */
export function traceIdSpan(kind: i32, v: usize, len: i32): i64 {
  if (kind == TRACE_W3C) {
    // 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 (version ff is invalid; later versions may
    // append fields, so only the prefix is checked).
    if (len < 55 || load<u8>(v + 2) != 0x2d || load<u8>(v + 35) != 0x2d || load<u8>(v + 52) != 0x2d) return -1;
    if (hexValue(load<u8>(v)) < 0 || hexValue(load<u8>(v + 1)) < 0 || (load<u8>(v) | 0x20) == 0x66 && (load<u8>(v + 1) | 0x20) == 0x66) return -1;
    if (!isHexId(v + 3, 32)) return -1;
    return (<i64>3 << 32) | 32;
  }
  if (kind == TRACE_B3) {
    let n = 0;
    while (n < len && load<u8>(v + n) != 0x2d) n++;
    if ((n != 16 && n != 32) || n == len || !isHexId(v, n)) return -1;
    return <i64>n;
  }
  if (kind == TRACE_XRAY) return xrayIdSpan(v, len);
  if (len < 1 || len > MAX_TRACE_VALUE) return -1;
  for (let i = 0; i < len; i++) {
    const c = load<u8>(v + i);
    if (c <= 0x20 || c >= 0x7f) return -1;
  }
  return <i64>len;
}

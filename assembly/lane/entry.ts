// Where a client names its lane in ways a browser can (`lane_from`): a cookie or a query parameter of the
// request path. Byte-level and allocation-free; bad input is never an error, only "not found".
import { bytesEqual, hexValue } from "../bytes/lane";

// @ts-ignore: decorator
@inline function isOws(c: u32): bool { return c == 0x20 || c == 0x09; }

/**
 * The value of the first cookie named name[0..nameLen) in one Cookie header value (RFC 6265:
 * `name=value` pairs separated by ";", optional whitespace around them; a value may be in DQUOTEs, which
 * are not part of it). Returns start << 32 | length, relative to src, or -1 when there is none.
 */
export function cookieValue(src: usize, len: i32, name: usize, nameLen: i32): i64 {
  let i = 0;
  while (i < len) {
    let s = i;
    let e = i;
    while (e < len && load<u8>(src + e) != 0x3b /* ; */) e++;
    i = e + 1;
    while (s < e && isOws(load<u8>(src + s))) s++;
    while (e > s && isOws(load<u8>(src + e - 1))) e--;
    let eq = s;
    while (eq < e && load<u8>(src + eq) != 0x3d /* = */) eq++;
    if (eq == e) continue;
    let ne = eq;
    while (ne > s && isOws(load<u8>(src + ne - 1))) ne--;
    if (!bytesEqual(src + s, ne - s, name, nameLen)) continue;
    let vs = eq + 1;
    while (vs < e && isOws(load<u8>(src + vs))) vs++;
    if (e - vs >= 2 && load<u8>(src + vs) == 0x22 && load<u8>(src + e - 1) == 0x22) { vs++; e--; }
    return (<i64>vs << 32) | <i64>(e - vs);
  }
  return -1;
}

/**
 * The first query parameter of path[0..len) (the `:path` pseudo-header: "?" starts the query, "#" would end
 * it) whose percent-decoded name ("+" is a space) is name[0..nameLen): its value, decoded the same way,
 * into dst (room for cap bytes). Returns the decoded length, -1 when there is no such parameter, -2 when
 * its value is malformed (a bad escape) or longer than cap.
 */
export function queryValue(path: usize, len: i32, name: usize, nameLen: i32, dst: usize, cap: i32): i32 {
  let end = 0;
  while (end < len && load<u8>(path + end) != 0x23 /* # */) end++;
  let i = 0;
  while (i < end && load<u8>(path + i) != 0x3f /* ? */) i++;
  i++;
  while (i < end) {
    let e = i;
    while (e < end && load<u8>(path + e) != 0x26 /* & */) e++;
    let eq = i;
    while (eq < e && load<u8>(path + eq) != 0x3d) eq++;
    if (decodeEquals(path + i, eq - i, name, nameLen)) {
      return eq == e ? 0 : decodeInto(path + eq + 1, e - eq - 1, dst, cap);
    }
    i = e + 1;
  }
  return -1;
}

/** The byte at src[i] of a form-encoded text, decoded: its value, and in `step` how many bytes it took; -1 when malformed. */
let step = 1;
function decodedAt(src: usize, i: i32, len: i32): i32 {
  const c = <u32>load<u8>(src + i);
  step = 1;
  if (c == 0x2b /* + */) return 0x20;
  if (c != 0x25 /* % */) return <i32>c;
  if (i + 2 >= len) return -1;
  const hi = hexValue(load<u8>(src + i + 1));
  const lo = hexValue(load<u8>(src + i + 2));
  if (hi < 0 || lo < 0) return -1;
  step = 3;
  return (hi << 4) | lo;
}

function decodeEquals(src: usize, len: i32, name: usize, nameLen: i32): bool {
  let j = 0;
  for (let i = 0; i < len; i += step) {
    const c = decodedAt(src, i, len);
    if (c < 0 || j == nameLen || c != <i32>load<u8>(name + j)) return false;
    j++;
  }
  return j == nameLen;
}

function decodeInto(src: usize, len: i32, dst: usize, cap: i32): i32 {
  let n = 0;
  for (let i = 0; i < len; i += step) {
    const c = decodedAt(src, i, len);
    if (c < 0 || n == cap) return -2;
    store<u8>(dst + n++, <u8>c);
  }
  return n;
}

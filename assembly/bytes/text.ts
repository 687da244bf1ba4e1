// Byte helpers shared by the carriers' grammars: pointer + length, no strings, no allocation.

/** HTTP optional whitespace (SP / HTAB), the only whitespace the W3C grammars allow. */
// @ts-ignore: decorator
@inline export function isOws(c: u32): bool { return c == 0x20 || c == 0x09; }

/**
 * What JavaScript's trim() removes from a header value as Node decodes it (Latin-1, one char per byte):
 * 0x09-0x0D, SP and NBSP. OpenTelemetry JS trims tracestate members this way.
 */
// @ts-ignore: decorator
@inline export function isJsSpace(c: u32): bool { return c == 0x20 || c - 0x09 < 5 || c == 0xa0; }

/**
 * Whitespace some reader trims somewhere: JavaScript (isJsSpace), Java's trim() (every byte up to 0x20),
 * Python's \s on Latin-1 strings (0x1C-0x1F, 0x85, 0xA0 too). Only to decide what to strip.
 */
// @ts-ignore: decorator
@inline export function isLooseSpace(c: u32): bool { return c <= 0x20 || c == 0x85 || c == 0xa0; }

// @ts-ignore: decorator
@inline export function lower(c: u32): u32 { return c - 0x41 < 26 ? c | 0x20 : c; }

/** Whether a[0..alen) equals b[0..blen), ASCII case ignored. */
export function equalsIgnoreCase(a: usize, alen: i32, b: usize, blen: i32): bool {
  if (alen != blen) return false;
  for (let i = 0; i < alen; i++) {
    if (lower(load<u8>(a + i)) != lower(load<u8>(b + i))) return false;
  }
  return true;
}

/** Whether header name[0..nameLen) is prefix + key, ASCII case ignored (Envoy and Node lowercase names). */
export function isPrefixedName(name: usize, nameLen: i32, prefix: usize, prefixLen: i32, key: usize,
  keyLen: i32): bool {
  if (nameLen != prefixLen + keyLen || keyLen < 1) return false;
  return equalsIgnoreCase(name, prefixLen, prefix, prefixLen) &&
    equalsIgnoreCase(name + prefixLen, keyLen, key, keyLen);
}

/**
 * Whether the comma-list member src[ms..me) has, before its first "=", text that a lenient reader takes for
 * `key`: trimmed of loose whitespace on both sides, ASCII case ignored. A member without "=" has no key.
 */
export function looseKeyIs(src: usize, ms: i32, me: i32, key: usize, keyLen: i32): bool {
  let eq = ms;
  while (eq < me && load<u8>(src + eq) != 0x3d /* = */) eq++;
  if (eq >= me) return false;
  let s = ms;
  let e = eq;
  while (s < e && isLooseSpace(load<u8>(src + s))) s++;
  while (e > s && isLooseSpace(load<u8>(src + e - 1))) e--;
  return equalsIgnoreCase(src + s, e - s, key, keyLen);
}

/**
 * Writes src[0..len) to dst without the comma-list members looseKeyIs takes for `key`. Every other member
 * keeps its bytes (whitespace included) and order, so the result equals the input exactly when nothing was
 * removed: a shorter result means a lane was stripped. Returns the output length (at most len).
 */
export function stripLooseMembers(src: usize, len: i32, key: usize, keyLen: i32, dst: usize): i32 {
  let out = 0;
  let first = true;
  let i = 0;
  while (i <= len) {
    let j = i;
    while (j < len && load<u8>(src + j) != 0x2c /* , */) j++;
    if (!looseKeyIs(src, i, j, key, keyLen)) {
      if (!first) store<u8>(dst + out++, 0x2c);
      memory.copy(dst + out, src + i, j - i);
      out += j - i;
      first = false;
    }
    i = j + 1;
  }
  return out;
}

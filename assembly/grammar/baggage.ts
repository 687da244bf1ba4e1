// W3C Baggage, read and rewritten in place over the header bytes: no strings, no allocation per request.
//   baggage    = member *( OWS "," OWS member )
//   member     = key OWS "=" OWS value *( OWS ";" OWS property )
//   property   = key OWS "=" OWS value / key OWS
//   key        = token;  value = *baggage-octet (printable ASCII but DQUOTE "," ";" "\"; "=" allowed)
// Values are percent-decoded; a "%" must start a valid escape. Invalid members are skipped, never fatal;
// the lane member counts as valid only when its properties follow the grammar too (an empty property, as in
// a trailing ";", does not). The lane is the last valid member with the lane key (OpenTelemetry keeps the
// last of duplicate keys too).
import { MAX_LANE, decodeLane, hexValue, laneAllowed } from "../bytes/lane";
import { lower } from "../bytes/text";

/** The header that carries the lane through the apps. */
export const BAGGAGE = memory.data<u8>([0x62, 0x61, 0x67, 0x67, 0x61, 0x67, 0x65]); // "baggage"
export const BAGGAGE_LEN: i32 = 7;

/** Combined `baggage` larger than this is not parsed and is passed on untouched. */
export const MAX_BAGGAGE: i32 = 8192;

// @ts-ignore: decorator
@inline function isOws(c: u32): bool { return c == 0x20 || c == 0x09; }

// @ts-ignore: decorator
@inline export function isBaggageOctet(c: u32): bool {
  return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) ||
    (c >= 0x5d && c <= 0x7e);
}

// @ts-ignore: decorator
@inline export function isCtl(c: u32): bool { return (c < 0x20 && c != 0x09) || c == 0x7f; }

/**
 * If the member src[s..e) (already trimmed) has key `key`, returns the offset just after its "=" and the
 * OWS that follows; otherwise -1.
 */
export function valueStartIfKey(src: usize, s: i32, e: i32, key: usize, keyLen: i32): i32 {
  if (e - s < keyLen + 1) return -1;
  for (let k = 0; k < keyLen; k++) {
    if (load<u8>(src + s + k) != load<u8>(key + k)) return -1;
  }
  let p = s + keyLen;
  while (p < e && isOws(load<u8>(src + p))) p++;
  if (p >= e || load<u8>(src + p) != 0x3d /* = */) return -1;
  p++;
  while (p < e && isOws(load<u8>(src + p))) p++;
  return p;
}

/**
 * Whether src[p..e) is a valid property list: *( OWS ";" OWS property ), with e already trimmed of OWS.
 * Property keys are tokens; property values are baggage-octets, whose "%" each start a valid escape when
 * `escapes` (the lane member's properties: OpenTelemetry decodes them).
 */
export function propertiesValid(src: usize, p: i32, e: i32, escapes: bool = true): bool {
  while (p < e) {
    if (load<u8>(src + p) != 0x3b /* ; */) return false;
    p++;
    while (p < e && isOws(load<u8>(src + p))) p++;
    const k = p;
    while (p < e && isTchar(load<u8>(src + p))) p++;
    if (p == k) return false; // empty property key: ";;", a trailing ";", or ";=v"
    while (p < e && isOws(load<u8>(src + p))) p++;
    if (p < e && load<u8>(src + p) == 0x3d /* = */) {
      p++;
      while (p < e && isOws(load<u8>(src + p))) p++;
      while (p < e) {
        const c = <u32>load<u8>(src + p);
        if (!isBaggageOctet(c)) break;
        if (c == 0x25 /* % */ && escapes) {
          if (p + 2 >= e || hexValue(load<u8>(src + p + 1)) < 0 || hexValue(load<u8>(src + p + 2)) < 0) return false;
          p += 3;
        } else p++;
      }
      while (p < e && isOws(load<u8>(src + p))) p++;
    }
  }
  return true;
}

/** What a scan of the baggage found about the lane member. Reused across requests. */
export class LaneScan {
  /** A valid (and allowed) lane member was found; its decoded value is lane[0..laneLen). */
  found: bool = false;
  lane: usize = heap.alloc(MAX_LANE);
  laneLen: i32 = 0;
  /** Members carrying the lane key, valid or not. */
  keyMembers: i32 = 0;
  /** Lane-key members whose value is not a valid or allowed lane. */
  invalid: i32 = 0;
  private tmp: usize = heap.alloc(MAX_LANE);

  reset(): void {
    this.found = false;
    this.laneLen = 0;
    this.keyMembers = 0;
    this.invalid = 0;
  }

  /** Scans src[0..len) for the lane member with key key[0..keyLen) whose lane is one of `lanes` (empty: any). */
  scan(src: usize, len: i32, key: usize, keyLen: i32, lanes: ArrayBuffer[]): void {
    this.reset();
    let i = 0;
    while (i < len) {
      const ms = i;
      let j = i;
      while (j < len && load<u8>(src + j) != 0x2c /* , */) j++;
      i = j + 1;
      let s = ms;
      let e = j;
      while (s < e && isOws(load<u8>(src + s))) s++;
      while (e > s && isOws(load<u8>(src + e - 1))) e--;
      const vs = valueStartIfKey(src, s, e, key, keyLen);
      if (vs < 0) continue;
      this.keyMembers++;
      // The value ends at the first ";" (properties follow) and carries no trailing OWS.
      let ve = vs;
      while (ve < e && load<u8>(src + ve) != 0x3b /* ; */) ve++;
      while (ve > vs && isOws(load<u8>(src + ve - 1))) ve--;
      let ok = true;
      for (let k = vs; k < ve; k++) {
        if (!isBaggageOctet(load<u8>(src + k))) { ok = false; break; }
      }
      if (ok) {
        let ps = ve;
        while (ps < e && isOws(load<u8>(src + ps))) ps++;
        ok = propertiesValid(src, ps, e);
      }
      let n = ok ? decodeLane(src + vs, ve - vs, this.tmp) : -1;
      if (n > 0 && !laneAllowed(lanes, this.tmp, n)) n = -1;
      if (n > 0) {
        memory.copy(this.lane, this.tmp, n);
        this.laneLen = n;
        this.found = true;
      } else {
        this.invalid++;
      }
    }
  }

  /** Whether the found lane equals b[0..blen). */
  laneIs(b: usize, blen: i32): bool {
    if (!this.found || blen != this.laneLen) return false;
    for (let k = 0; k < blen; k++) if (load<u8>(this.lane + k) != load<u8>(b + k)) return false;
    return true;
  }
}

/** Upper bound of writeBaggage's output for an input of `len` bytes. */
export function rewriteBound(len: i32, keyLen: i32): i32 {
  return len + keyLen + MAX_LANE + 2;
}

/**
 * Writes src[0..len) to dst with exactly one lane member `key=lane`, first: SDKs that keep only the first
 * 64 members or 8192 bytes of baggage then never drop it. Every other member keeps its text (properties
 * included) and order; other members with the lane key are dropped, as are members holding control bytes,
 * which must never reach the wire. Members are joined with ",". Returns the output length.
 */
export function writeBaggage(src: usize, len: i32, key: usize, keyLen: i32, lane: usize, laneLen: i32, dst: usize): i32 {
  let out = writeMember(dst, 0, key, keyLen, lane, laneLen);
  let i = 0;
  while (i < len) {
    const ms = i;
    let j = i;
    while (j < len && load<u8>(src + j) != 0x2c) j++;
    i = j + 1;
    let s = ms;
    let e = j;
    while (s < e && isOws(load<u8>(src + s))) s++;
    while (e > s && isOws(load<u8>(src + e - 1))) e--;
    if (s == e || valueStartIfKey(src, s, e, key, keyLen) >= 0) continue;
    out = appendMember(src, s, e, dst, out);
  }
  return out;
}

/** Appends member src[s..e) to dst[0..out) after a ",", unless it holds control bytes; returns the new length. */
function appendMember(src: usize, s: i32, e: i32, dst: usize, out: i32): i32 {
  for (let k = s; k < e; k++) if (isCtl(load<u8>(src + k))) return out;
  if (out > 0) store<u8>(dst + out++, 0x2c);
  memory.copy(dst + out, src + s, e - s);
  return out + e - s;
}

export function writeMember(dst: usize, out: i32, key: usize, keyLen: i32, lane: usize, laneLen: i32): i32 {
  memory.copy(dst + out, key, keyLen);
  out += keyLen;
  store<u8>(dst + out++, 0x3d /* = */);
  memory.copy(dst + out, lane, laneLen);
  return out + laneLen;
}

// ---- removing a client's lane ---------------------------------------------------------------------------

// RFC 9110 tchar: the bytes a baggage key is made of.
// @ts-ignore: decorator
@inline export function isTchar(c: u32): bool {
  if (c - 0x30 < 10 || (c | 0x20) - 0x61 < 26) return true;
  return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b || c == 0x2d || c == 0x2e ||
    c == 0x5e || c == 0x5f || c == 0x60 || c == 0x7c || c == 0x7e;
}

/**
 * Whether member src[s..e) has the lane key as a lenient reader could see it. Readers differ: OpenTelemetry
 * JS percent-decodes keys, others take them as written; and they trim whitespace that is not OWS
 * (JavaScript: U+00A0; Go: any Unicode space; Java: every byte up to 0x20). So: the text before the
 * member's first "=" (and before any ";"), as written or percent-decoded, with every byte that cannot be
 * part of a token left out, equals the lane key, ASCII case ignored.
 */
function looseKeyIs(src: usize, s: i32, e: i32, key: usize, keyLen: i32): bool {
  let ke = s;
  while (ke < e && load<u8>(src + ke) != 0x3d && load<u8>(src + ke) != 0x3b) ke++;
  if (ke >= e || load<u8>(src + ke) != 0x3d) return false;
  return looseKeyEquals(src, s, ke, key, keyLen, false) || looseKeyEquals(src, s, ke, key, keyLen, true);
}

function looseKeyEquals(src: usize, s: i32, ke: i32, key: usize, keyLen: i32, decode: bool): bool {
  let j = 0;
  for (let i = s; i < ke;) {
    let c = <u32>load<u8>(src + i++);
    if (decode && c == 0x25 && i + 1 < ke) {
      const hi = hexValue(load<u8>(src + i));
      const lo = hexValue(load<u8>(src + i + 1));
      if (hi >= 0 && lo >= 0) { c = <u32>((hi << 4) | lo); i += 2; }
    }
    if (!isTchar(c)) continue;
    // ASCII case ignored: an app that re-sends a member as a header (uberctx-<key>) has its name lowercased.
    if (j >= keyLen || lower(c) != lower(<u32>load<u8>(key + j))) return false;
    j++;
  }
  return j == keyLen;
}

/** How many members of src[0..len) carry the lane key as any reader would see it (see looseKeyIs). */
export function countLooseLaneMembers(src: usize, len: i32, key: usize, keyLen: i32): i32 {
  let n = 0;
  let i = 0;
  while (i < len) {
    let j = i;
    while (j < len && load<u8>(src + j) != 0x2c) j++;
    if (looseKeyIs(src, i, j, key, keyLen)) n++;
    i = j + 1;
  }
  return n;
}

/**
 * Writes src[0..len) to dst without the members countLooseLaneMembers counts, without empty members and
 * without members holding control bytes; every other member keeps its text and order. Returns the length.
 */
export function stripLaneMembers(src: usize, len: i32, key: usize, keyLen: i32, dst: usize): i32 {
  let out = 0;
  let i = 0;
  while (i < len) {
    const ms = i;
    let j = i;
    while (j < len && load<u8>(src + j) != 0x2c) j++;
    i = j + 1;
    let s = ms;
    let e = j;
    while (s < e && isOws(load<u8>(src + s))) s++;
    while (e > s && isOws(load<u8>(src + e - 1))) e--;
    if (s == e || looseKeyIs(src, ms, j, key, keyLen)) continue;
    out = appendMember(src, s, e, dst, out);
  }
  return out;
}

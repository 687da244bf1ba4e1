// baggage_limits: baggage held to W3C Baggage's limits (at most 64 list-members and 8192 bytes) with its
// malformed members dropped, for apps whose SDKs parse whatever arrives (before the 2026 fixes, the
// OpenTelemetry SDKs kept every member). Pure: bytes in, bytes out.
import { isOws } from "../bytes/text";
import { isBaggageOctet, isTchar, propertiesValid, valueStartIfKey, writeMember } from "./baggage";

/** W3C Baggage: a platform must propagate at least this many members and bytes; SDKs keep no more. */
export const LIMIT_MEMBERS: i32 = 64;
export const LIMIT_BYTES: i32 = 8192;

/** What the last trimBaggage left out: malformed members, and members past the limits. */
export class Trimmed {
  static malformed: i32 = 0;
  static overLimit: i32 = 0;
}

/**
 * Whether member src[s..e) (trimmed of OWS, not empty) follows the W3C grammar: a token key, OWS "=" OWS,
 * a value of baggage-octets, then properties (so no control byte but OWS's tab). Percent signs are octets like any other: the grammar allows
 * them, and decoding is the reader's.
 */
export function memberValid(src: usize, s: i32, e: i32): bool {
  let p = s;
  while (p < e && isTchar(load<u8>(src + p))) p++;
  if (p == s) return false;
  while (p < e && isOws(load<u8>(src + p))) p++;
  if (p >= e || load<u8>(src + p) != 0x3d /* = */) return false;
  p++;
  while (p < e && isOws(load<u8>(src + p))) p++;
  while (p < e && isBaggageOctet(load<u8>(src + p))) p++;
  while (p < e && isOws(load<u8>(src + p))) p++;
  return propertiesValid(src, p, e, false);
}

/**
 * Writes baggage src[0..len) to dst within the limits: the lane member `key=lane` first when laneLen > 0
 * (every other member with the lane key left out, as writeBaggage does), then the valid members in order
 * while they fit; the first that does not fit ends the copy (SDKs keep a prefix too). Empty members are
 * left out uncounted. dst needs LIMIT_BYTES. Returns the output length; Trimmed says what was left out.
 */
export function trimBaggage(src: usize, len: i32, key: usize, keyLen: i32, lane: usize, laneLen: i32, dst: usize): i32 {
  Trimmed.malformed = 0;
  Trimmed.overLimit = 0;
  let out = laneLen > 0 ? writeMember(dst, 0, key, keyLen, lane, laneLen) : 0;
  let members = laneLen > 0 ? 1 : 0;
  let i = 0;
  while (i < len) {
    let j = i;
    while (j < len && load<u8>(src + j) != 0x2c /* , */) j++;
    let s = i;
    let e = j;
    i = j + 1;
    while (s < e && isOws(load<u8>(src + s))) s++;
    while (e > s && isOws(load<u8>(src + e - 1))) e--;
    if (s == e) continue;
    if (!memberValid(src, s, e)) { Trimmed.malformed++; continue; }
    if (laneLen > 0 && valueStartIfKey(src, s, e, key, keyLen) >= 0) continue;
    const sep = out > 0 ? 1 : 0;
    if (Trimmed.overLimit > 0 || members == LIMIT_MEMBERS || out + sep + (e - s) > LIMIT_BYTES) { Trimmed.overLimit++; continue; }
    if (sep > 0) store<u8>(dst + out++, 0x2c);
    memory.copy(dst + out, src + s, e - s);
    out += e - s;
    members++;
  }
  return out;
}

// The W3C baggage carrier on the request path: take the `baggage` headers the read found, strip a client's
// lane member (untrusted), read the lane member, write it. The grammar is carriers/baggage.ts (pure); this
// module holds the request's baggage and makes the host calls.
import { Config, CARRIER_BAGGAGE } from "../config/config";
import {
  BAGGAGE, BAGGAGE_LEN, LaneScan, MAX_BAGGAGE, rewriteBound, writeBaggage, countLooseLaneMembers, stripLaneMembers,
} from "../grammar/baggage";
import { bytesEqual } from "../bytes/lane";
import { equalsIgnoreCase } from "../bytes/text";
import { BAG_REPLACE } from "../lane/decide";
import { TRACE_KEY } from "../observe/hop";
import { firstName, nameLen, valueLen, valueOf, nextName } from "../abi/pairs";
import { scratch, replaceHeader, removeHeader } from "../abi/host";
import { count, M_BAGGAGE_ADDED, M_BAGGAGE_REPLACED, M_BAGGAGE_DROPPED, M_BAGGAGE_TRIMMED } from "../observe/metrics";
import { LIMIT_BYTES, Trimmed, trimBaggage } from "../grammar/baggage-limits";
import { state, decision } from "./request";

// An untrusted gateway's baggage: as the client sent it; to be rewritten without the client's members (the
// request's header still has them, Bag.ptr/len hold the rest); removed whole, as it could not be checked.
const AS_SENT: u8 = 0;
const STRIPPED: u8 = 1;
const DROPPED: u8 = 2;

export class Bag {
  /** The request's baggage: repeated headers joined, the client's lane members stripped (0, 0: none). */
  static ptr: usize = 0;
  static len: i32 = 0;
  /** What the request's header must become whatever the decision: AS_SENT, STRIPPED or DROPPED. */
  static fate: u8 = 0; // AS_SENT, as a literal: the named constant costs 4 bytes in the build
  /** What the request's baggage holds once written, for hop_trace's member (len 0 when removed). */
  static finalPtr: usize = 0;
  static finalLen: i32 = 0;
}

/** What the scan of the baggage found about the lane member. */
export const scan = new LaneScan();

/**
 * The request's `baggage` headers, seen as the pairs were read: the first value at bag (in place), `headers`
 * of them, bagLen bytes when joined with ",". Repeated headers are joined into one value; baggage that an
 * untrusted gateway cannot check (no memory to join it) is dropped. False only where a trusted one cannot
 * be joined, which the cap makes impossible.
 */
// @ts-ignore: decorator
@inline export function takeBaggage(buf: usize, n: u32, headers: i32, bag: usize, bagLen: i32, untrusted: bool, limits: bool): bool {
  Bag.ptr = bag;
  Bag.len = bagLen;
  Bag.fate = AS_SENT;
  if (headers > 1 && (bagLen <= MAX_BAGGAGE || untrusted || limits)) {
    const joined = joinHeader(buf, n, BAGGAGE, BAGGAGE_LEN, bagLen, false);
    if (joined != 0) Bag.ptr = joined;
    else if (untrusted) Bag.fate = DROPPED;
    else return false; // no memory: the request is left alone (below the cap, or without limits, it cannot happen)
  }
  return true;
}

/**
 * Untrusted: removes the client's lane members from baggage of any size, in any spelling an application's
 * baggage reader would accept as the lane key (and, with hop_trace, its trace member: a client cannot
 * start a trace through baggage). True when lane members were removed.
 */
// @ts-ignore: decorator
@inline export function stripBaggage(config: Config): bool {
  let laneStripped = false;
  if (Bag.fate != DROPPED && Bag.len > 0) { // (empty baggage has no member to strip)
    let r = stripKey(Bag.ptr, Bag.len, changetype<usize>(config.baggageKeyBytes), config.baggageKeyBytes.byteLength);
    if (r > 0) { Bag.ptr = strippedPtr; Bag.len = strippedLen; Bag.fate = STRIPPED; laneStripped = true; }
    if (r >= 0 && config.hopTrace) {
      r = stripKey(Bag.ptr, Bag.len, changetype<usize>(TRACE_KEY), TRACE_KEY.byteLength);
      if (r > 0) { Bag.ptr = strippedPtr; Bag.len = strippedLen; Bag.fate = STRIPPED; }
    }
    if (r < 0) Bag.fate = DROPPED;
  }
  if (Bag.fate == DROPPED) {
    Bag.ptr = 0;
    Bag.len = 0;
  }
  return laneStripped;
}

/**
 * The lane member, into `scan` and `state`; baggage above the cap is not parsed (oversize), unless
 * baggage_limits will cut it down to size: then its lane is the one the whole baggage holds.
 */
// @ts-ignore: decorator
@inline export function readBaggageLane(config: Config): void {
  if ((config.carrierMask & CARRIER_BAGGAGE) == 0) {
    scan.reset(); // not a configured carrier: not read (an untrusted gateway has still stripped it)
  } else if (Bag.len > MAX_BAGGAGE && !config.baggageLimits) {
    state.oversize = true;
    scan.reset();
  } else {
    scan.scan(Bag.ptr, Bag.len, changetype<usize>(config.baggageKeyBytes), config.baggageKeyBytes.byteLength, config.laneBytes);
  }
  state.baggageValid = scan.found;
  state.baggageHasKey = scan.keyMembers > 0;
}

/**
 * Writes the lane lp[0..ll) into baggage when `write`, and leaves no client lane member behind: baggage an
 * untrusted gateway cannot rewrite is removed whole.
 */
// @ts-ignore: decorator
@inline export function writeBaggageLane(config: Config, dir: i32, lp: usize, ll: i32, write: bool): void {
  let clean = Bag.fate == AS_SENT; // no client lane member is left in the request's baggage
  let finalPtr = Bag.ptr;
  let finalLen = Bag.len;
  if (config.baggageLimits) {
    if (Bag.fate != DROPPED) clean = writeLimited(config, dir, lp, ll, write, clean);
  } else if (write) {
    const keyLen = config.baggageKeyBytes.byteLength;
    const dst = scratch(rewriteBound(Bag.len, keyLen));
    if (dst != 0) {
      const out = writeBaggage(Bag.ptr, Bag.len, changetype<usize>(config.baggageKeyBytes), keyLen, lp, ll, dst);
      if (replaceHeader(BAGGAGE, BAGGAGE_LEN, dst, out)) {
        clean = true;
        finalPtr = dst;
        finalLen = out;
        count(dir, decision.baggage == BAG_REPLACE || scan.keyMembers > 0 ? M_BAGGAGE_REPLACED : M_BAGGAGE_ADDED);
      }
    }
  }
  if (!clean) {
    clean = Bag.len > 0 ? replaceHeader(BAGGAGE, BAGGAGE_LEN, Bag.ptr, Bag.len) : removeHeader(BAGGAGE, BAGGAGE_LEN);
    if (!clean) { // fail closed: no client lane may leave an untrusted gateway
      removeHeader(BAGGAGE, BAGGAGE_LEN);
      Bag.fate = DROPPED;
    }
  }
  if (config.baggageLimits && clean) { finalPtr = Bag.finalPtr; finalLen = Bag.finalLen; }
  if (Bag.fate == DROPPED) {
    count(dir, M_BAGGAGE_DROPPED);
    finalLen = 0;
  }
  Bag.finalPtr = finalPtr;
  Bag.finalLen = finalLen;
}

/**
 * baggage_limits: the baggage as writeBaggageLane would leave it, cut to the W3C limits with its malformed
 * members dropped (carriers/baggage-limits.ts): the lane first (the one written, else the one it holds).
 * Rewritten only where something is left out or the lane is written. True when the request's baggage is
 * clean (Bag.finalPtr/finalLen what it holds); false leaves writeBaggageLane's fallback to decide, and an
 * untrusted gateway that could not cut it removes it, as unchecked.
 */
function writeLimited(config: Config, dir: i32, lp: usize, ll: i32, write: bool, clean: bool): bool {
  const key = changetype<usize>(config.baggageKeyBytes);
  const keyLen = config.baggageKeyBytes.byteLength;
  const lane = write ? lp : scan.lane;
  const laneLen = write ? ll : scan.found ? scan.laneLen : 0;
  Bag.finalPtr = Bag.ptr;
  Bag.finalLen = Bag.len;
  const dst = scratch(LIMIT_BYTES);
  const out = dst != 0 ? trimBaggage(Bag.ptr, Bag.len, key, keyLen, lane, laneLen, dst) : 0;
  const trimmed = dst == 0 || Trimmed.malformed + Trimmed.overLimit > 0;
  if (!write && !trimmed) return clean;
  const ok = dst != 0 && (out > 0 ? replaceHeader(BAGGAGE, BAGGAGE_LEN, dst, out) : removeHeader(BAGGAGE, BAGGAGE_LEN));
  if (!ok) {
    if (trimmed && !config.trustClientLane) { Bag.fate = DROPPED; Bag.ptr = 0; Bag.len = 0; }
    return false;
  }
  if (trimmed) count(dir, M_BAGGAGE_TRIMMED);
  if (write) count(dir, decision.baggage == BAG_REPLACE || scan.keyMembers > 0 ? M_BAGGAGE_REPLACED : M_BAGGAGE_ADDED);
  Bag.finalPtr = dst;
  Bag.finalLen = out;
  return true;
}

// stripKey's result: the baggage without the key's members, in the module's own arena.
let strippedPtr: usize = 0;
let strippedLen = 0;

/**
 * Copies baggage src[0..len) without its members keyed `key` in any spelling a reader would take for it:
 * 1 (the copy at strippedPtr/strippedLen), 0 when no member has the key, -1 when there is no memory for it.
 */
function stripKey(src: usize, len: i32, key: usize, keyLen: i32): i32 {
  if (countLooseLaneMembers(src, len, key, keyLen) == 0) return 0;
  const dst = scratch(len);
  if (dst == 0) return -1;
  strippedLen = stripLaneMembers(src, len, key, keyLen, dst);
  strippedPtr = dst;
  return 1;
}

/**
 * Joins the values of every header named name[0..nl) with "," into the arena (Envoy lists repeated headers
 * in order; `total` counts one separator per header after the first, even around empty values); 0 when there
 * is no room. `ignoreCase` for carriers whose header names readers match ignoring case.
 */
export function joinHeader(buf: usize, n: u32, name: usize, nl: i32, total: i32, ignoreCase: bool): usize {
  const dst = scratch(total);
  if (dst == 0) return 0;
  let out = 0;
  let first = true;
  let at = firstName(buf, n);
  for (let i: u32 = 0; i < n; i++) {
    const kl = <i32>nameLen(buf, i);
    const vl = <i32>valueLen(buf, i);
    const v = valueOf(at, kl);
    if (ignoreCase ? equalsIgnoreCase(at, kl, name, nl) : kl == nl && bytesEqual(at, kl, name, nl)) {
      if (!first) store<u8>(dst + out++, 0x2c);
      first = false;
      memory.copy(dst + out, v, vl);
      out += vl;
    }
    at = nextName(v, vl);
  }
  return dst;
}

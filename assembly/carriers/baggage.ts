// The W3C baggage carrier on the request path: take the `baggage` headers the read found, strip a client's
// lane member (untrusted), read the lane member, write it. The grammar is grammar/baggage.ts (pure); this
// module works on the request's baggage (Request.bagPtr/bagLen, Request.scan) and makes the host calls.
import { Config } from "../config/config";
import { CARRIER_BAGGAGE } from "../config/carrier-table";
import {
  BAGGAGE, BAGGAGE_LEN, MAX_BAGGAGE, rewriteBound, writeBaggage, countLooseLaneMembers, stripLaneMembers,
} from "../grammar/baggage";
import { LIMIT_BYTES, Trimmed, trimBaggage } from "../grammar/baggage-limits";
import { BAG_REPLACE } from "../lane/decide";
import { Request } from "../lane/request";
import { TRACE_KEY } from "../observe/hop";
import { count, M_BAGGAGE_ADDED, M_BAGGAGE_REPLACED, M_BAGGAGE_DROPPED, M_BAGGAGE_TRIMMED } from "../observe/metrics";
import { scratch, replaceHeader, removeHeader } from "../abi/host";
import { joinHeader } from "./repeated";

// An untrusted gateway's baggage (Request.bagFate): as the client sent it; to be rewritten without the
// client's members (the request's header still has them, Request.bagPtr/bagLen the rest); removed whole,
// as it could not be checked.
const AS_SENT: u8 = 0;
const STRIPPED: u8 = 1;
const DROPPED: u8 = 2;

/**
 * The request's `baggage` headers, seen as the pairs were read: the first value at bag (in place), `headers`
 * of them, bagLen bytes when joined with ",". Repeated headers are joined into one value; baggage that an
 * untrusted gateway cannot check (no memory to join it) is dropped. False only where a trusted one cannot
 * be joined, which the cap makes impossible.
 */
// @ts-ignore: decorator
@inline export function takeBaggage(headers: i32, bag: usize, bagLen: i32, limits: bool): bool {
  Request.bagPtr = bag;
  Request.bagLen = bagLen;
  Request.bagFate = AS_SENT;
  if (headers > 1 && (bagLen <= MAX_BAGGAGE || Request.untrusted || limits)) {
    const joined = joinHeader(Request.buf, Request.n, BAGGAGE, BAGGAGE_LEN, bagLen, false);
    if (joined != 0) Request.bagPtr = joined;
    else if (Request.untrusted) Request.bagFate = DROPPED;
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
  if (Request.bagFate != DROPPED && Request.bagLen > 0) { // (empty baggage has no member to strip)
    let r = stripKey(Request.bagPtr, Request.bagLen, changetype<usize>(config.baggageKeyBytes), config.baggageKeyBytes.byteLength);
    if (r > 0) { Request.bagPtr = strippedPtr; Request.bagLen = strippedLen; Request.bagFate = STRIPPED; laneStripped = true; }
    if (r >= 0 && config.hopTrace) {
      r = stripKey(Request.bagPtr, Request.bagLen, changetype<usize>(TRACE_KEY), TRACE_KEY.byteLength);
      if (r > 0) { Request.bagPtr = strippedPtr; Request.bagLen = strippedLen; Request.bagFate = STRIPPED; }
    }
    if (r < 0) Request.bagFate = DROPPED;
  }
  if (Request.bagFate == DROPPED) {
    Request.bagPtr = 0;
    Request.bagLen = 0;
  }
  return laneStripped;
}

/**
 * The lane member, into Request.scan and Request.state; baggage above the cap is not parsed (oversize), unless
 * baggage_limits will cut it down to size: then its lane is the one the whole baggage holds.
 */
// @ts-ignore: decorator
@inline export function readBaggageLane(config: Config): void {
  const scan = Request.scan;
  const state = Request.state;
  if ((config.carrierMask & CARRIER_BAGGAGE) == 0) {
    scan.reset(); // not a configured carrier: not read (an untrusted gateway has still stripped it)
  } else if (Request.bagLen > MAX_BAGGAGE && !config.baggageLimits) {
    state.oversize = true;
    scan.reset();
  } else {
    scan.scan(Request.bagPtr, Request.bagLen, changetype<usize>(config.baggageKeyBytes), config.baggageKeyBytes.byteLength, config.laneBytes);
  }
  state.baggageValid = scan.found;
  state.baggageHasKey = scan.keyMembers > 0;
}

/**
 * Writes the lane lp[0..ll) into baggage when `write`, and leaves no client lane member behind: baggage an
 * untrusted gateway cannot rewrite is removed whole.
 */
// @ts-ignore: decorator
@inline export function writeBaggageLane(config: Config, lp: usize, ll: i32, write: bool): void {
  const dir = Request.dir;
  let clean = Request.bagFate == AS_SENT; // no client lane member is left in the request's baggage
  let finalPtr = Request.bagPtr;
  let finalLen = Request.bagLen;
  if (config.baggageLimits) {
    if (Request.bagFate != DROPPED) clean = writeLimited(config, lp, ll, write, clean);
  } else if (write) {
    const keyLen = config.baggageKeyBytes.byteLength;
    const dst = scratch(rewriteBound(Request.bagLen, keyLen));
    if (dst != 0) {
      const out = writeBaggage(Request.bagPtr, Request.bagLen, changetype<usize>(config.baggageKeyBytes), keyLen, lp, ll, dst);
      if (replaceHeader(BAGGAGE, BAGGAGE_LEN, dst, out)) {
        clean = true;
        finalPtr = dst;
        finalLen = out;
        count(dir, Request.decision.baggage == BAG_REPLACE || Request.scan.keyMembers > 0 ? M_BAGGAGE_REPLACED : M_BAGGAGE_ADDED);
      }
    }
  }
  if (!clean) {
    clean = Request.bagLen > 0 ? replaceHeader(BAGGAGE, BAGGAGE_LEN, Request.bagPtr, Request.bagLen) : removeHeader(BAGGAGE, BAGGAGE_LEN);
    if (!clean) { // fail closed: no client lane may leave an untrusted gateway
      removeHeader(BAGGAGE, BAGGAGE_LEN);
      Request.bagFate = DROPPED;
    }
  }
  if (config.baggageLimits && clean) { finalPtr = Request.bagFinalPtr; finalLen = Request.bagFinalLen; }
  if (Request.bagFate == DROPPED) {
    count(dir, M_BAGGAGE_DROPPED);
    finalLen = 0;
  }
  Request.bagFinalPtr = finalPtr;
  Request.bagFinalLen = finalLen;
}

/**
 * baggage_limits: the baggage as writeBaggageLane would leave it, cut to the W3C limits with its malformed
 * members dropped (grammar/baggage-limits.ts): the lane first (the one written, else the one it holds).
 * Rewritten only where something is left out or the lane is written. True when the request's baggage is
 * clean (bag.finalPtr/finalLen what it holds); false leaves writeBaggageLane's fallback to decide, and an
 * untrusted gateway that could not cut it removes it, as unchecked.
 */
function writeLimited(config: Config, lp: usize, ll: i32, write: bool, clean: bool): bool {
  const scan = Request.scan;
  const key = changetype<usize>(config.baggageKeyBytes);
  const keyLen = config.baggageKeyBytes.byteLength;
  const lane = write ? lp : scan.lane;
  const laneLen = write ? ll : scan.found ? scan.laneLen : 0;
  Request.bagFinalPtr = Request.bagPtr;
  Request.bagFinalLen = Request.bagLen;
  const dst = scratch(LIMIT_BYTES);
  const out = dst != 0 ? trimBaggage(Request.bagPtr, Request.bagLen, key, keyLen, lane, laneLen, dst) : 0;
  const trimmed = dst == 0 || Trimmed.malformed + Trimmed.overLimit > 0;
  if (!write && !trimmed) return clean;
  const ok = dst != 0 && (out > 0 ? replaceHeader(BAGGAGE, BAGGAGE_LEN, dst, out) : removeHeader(BAGGAGE, BAGGAGE_LEN));
  if (!ok) {
    if (trimmed && !config.trustClientLane) { Request.bagFate = DROPPED; Request.bagPtr = 0; Request.bagLen = 0; }
    return false;
  }
  if (trimmed) count(Request.dir, M_BAGGAGE_TRIMMED);
  if (write) count(Request.dir, Request.decision.baggage == BAG_REPLACE || scan.keyMembers > 0 ? M_BAGGAGE_REPLACED : M_BAGGAGE_ADDED);
  Request.bagFinalPtr = dst;
  Request.bagFinalLen = out;
  return true;
}

/** Fail closed: the baggage of a request that cannot be read, removed by its name. */
export function removeBaggage(): void {
  removeHeader(BAGGAGE, BAGGAGE_LEN);
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

// The carriers beside baggage on the request path: Jaeger `uberctx-<key>`, OpenTracing `ot-baggage-<key>`
// and a W3C `tracestate` entry. Their headers are noted in the read's one pass over the pairs (noteHeader,
// only when a carrier is configured or the gateway is untrusted); an untrusted gateway strips a client's
// lane from every one of them, configured or not (an app may read one the filter does not); the lane is
// read in the configured order and written where it differs. Grammars are pure in carriers/.
import { Config, CARRIER_BAGGAGE, CARRIER_JAEGER, CARRIER_OTTRACE, CARRIER_TRACESTATE } from "../config/config";
import { MAX_LANE } from "../bytes/lane";
import { lower, equalsIgnoreCase } from "../bytes/text";
import {
  isUberctxName, isJaegerBaggageName, readUberctxLane, stripJaegerBaggage, JAEGER_BAGGAGE, JAEGER_BAGGAGE_LEN,
} from "../grammar/uberctx";
import { isOtBaggageName, isOtBaggageNameLoose, readOtBaggageLane, isOtTraceContext } from "../grammar/ot-baggage";
import { isTraceparent } from "../grammar/trace-context";
import { findTracestateLane, tracestateWriteBound, writeTracestate, stripTracestate } from "../grammar/tracestate";
import { scratch, replaceHeader, removeHeader } from "../abi/host";
import { firstName, nameLen, valueLen, valueOf, nextName } from "../abi/pairs";
import { count, M_CARRIER_CONFLICT } from "../observe/metrics";
import { scan, joinHeader } from "./baggage";

/** noteHeader's mask: the configured carriers' bits, and STRIP_ALL at an untrusted gateway. */
export const STRIP_ALL: i32 = 16;

// "tracestate", "traceparent", "ot-tracer-traceid", "ot-tracer-spanid"
const TRACESTATE = memory.data<u8>([0x74, 0x72, 0x61, 0x63, 0x65, 0x73, 0x74, 0x61, 0x74, 0x65]);
const TRACEPARENT = memory.data<u8>([0x74, 0x72, 0x61, 0x63, 0x65, 0x70, 0x61, 0x72, 0x65, 0x6e, 0x74]);
const OT_TRACEID = memory.data<u8>([0x6f, 0x74, 0x2d, 0x74, 0x72, 0x61, 0x63, 0x65, 0x72, 0x2d, 0x74, 0x72, 0x61, 0x63, 0x65, 0x69, 0x64]);
const OT_SPANID = memory.data<u8>([0x6f, 0x74, 0x2d, 0x74, 0x72, 0x61, 0x63, 0x65, 0x72, 0x2d, 0x73, 0x70, 0x61, 0x6e, 0x69, 0x64]);

/** What the read noted, and the lanes found: len > 0 a lane, 0 none, -1 not a (allowed) lane. */
/** The carriers' winning lane (the first configured carrier with a valid lane), and whether another named a different one. */
export class Won {
  static ptr: usize = 0;
  static len: i32 = 0;
  static conflict: bool = false;
}

export class Other {
  static uberCount: i32 = 0;
  static uberV: usize = 0;
  static uberVl: i32 = 0;
  static otCount: i32 = 0;
  static otV: usize = 0;
  static otVl: i32 = 0;
  static otTrace: usize = 0;
  static otTraceLen: i32 = -1;
  static otSpan: usize = 0;
  static otSpanLen: i32 = -1;
  static tsCount: i32 = 0;
  static tsV: usize = 0;
  static tsLen: i32 = 0;
  static tp: usize = 0;
  static tpLen: i32 = -1;
  /** Untrusted: client headers that may carry a lane (uberctx-/ot-baggage- names, jaeger-baggage). */
  static clientNames: i32 = 0;
  static jaegerBaggage: i32 = 0;
  static jLen: i32 = 0;
  static oLen: i32 = 0;
  static tLen: i32 = 0;
  /** Lane values of these carriers that are no (allowed) lane, for invalid_lane. */
  static invalid: i32 = 0;

  static reset(): void {
    Other.uberCount = 0; Other.otCount = 0; Other.tsCount = 0; Other.tsLen = 0;
    Other.otTraceLen = -1; Other.otSpanLen = -1; Other.tpLen = -1;
    Other.clientNames = 0; Other.jaegerBaggage = 0;
    Other.jLen = 0; Other.oLen = 0; Other.tLen = 0; Other.invalid = 0;
  }
}

// Each carrier's lane, decoded (room for MAX_LANE bytes).
export const jLane = heap.alloc(MAX_LANE);
export const oLane = heap.alloc(MAX_LANE);
export const tLane = heap.alloc(MAX_LANE);

/** One header pair of the read's pass, name[0..kl) and v[0..vl): noted when a carrier in `mask` reads it. */
export function noteHeader(config: Config, mask: i32, name: usize, kl: i32, v: usize, vl: i32): void {
  if (kl < 10) return;
  const c = lower(load<u8>(name));
  const key = changetype<usize>(config.baggageKeyBytes);
  const keyLen = config.baggageKeyBytes.byteLength;
  if (c == 0x75 /* u */) {
    if ((mask & (CARRIER_JAEGER | STRIP_ALL)) != 0 && isUberctxName(name, kl, key, keyLen)) {
      if (Other.uberCount++ == 0) { Other.uberV = v; Other.uberVl = vl; }
      Other.clientNames++;
    }
  } else if (c == 0x6f /* o */) {
    if ((mask & CARRIER_OTTRACE) != 0) {
      if (kl == 17 && equalsIgnoreCase(name, kl, OT_TRACEID, 17)) { if (Other.otTraceLen < 0) { Other.otTrace = v; Other.otTraceLen = vl; } return; }
      if (kl == 16 && equalsIgnoreCase(name, kl, OT_SPANID, 16)) { if (Other.otSpanLen < 0) { Other.otSpan = v; Other.otSpanLen = vl; } return; }
      if (isOtBaggageName(name, kl, key, keyLen)) { if (Other.otCount++ == 0) { Other.otV = v; Other.otVl = vl; } }
    }
    if ((mask & STRIP_ALL) != 0 && isOtBaggageNameLoose(name, kl, key, keyLen)) Other.clientNames++;
  } else if (c == 0x74 /* t */) {
    if ((mask & (CARRIER_TRACESTATE | STRIP_ALL)) != 0 && kl == 10 && equalsIgnoreCase(name, kl, TRACESTATE, 10)) {
      if (Other.tsCount++ == 0) Other.tsV = v;
      Other.tsLen += (Other.tsCount > 1 ? 1 : 0) + vl;
    } else if ((mask & CARRIER_TRACESTATE) != 0 && kl == 11 && Other.tpLen < 0 && equalsIgnoreCase(name, kl, TRACEPARENT, 11)) {
      Other.tp = v;
      Other.tpLen = vl;
    }
  } else if (c == 0x6a /* j */) {
    if ((mask & STRIP_ALL) != 0 && isJaegerBaggageName(name, kl)) Other.jaegerBaggage++;
  }
}


/** The request's tracestate, repeated headers joined: Other.tsV/tsLen (tsLen 0 and tsCount 0 when none or no room). */
function tracestateValue(buf: usize, n: u32): bool {
  if (Other.tsCount <= 1) return true;
  const j = joinHeader(buf, n, TRACESTATE, 10, Other.tsLen, true);
  if (j == 0) return false;
  Other.tsV = j;
  return true;
}

/**
 * Untrusted: removes the client's lane from every carrier beside baggage, configured or not: every header
 * some reader takes for `uberctx-<key>` or `ot-baggage-<key>`, the key's members of `jaeger-baggage` and of
 * `tracestate`. What cannot be rewritten is removed whole. True when a lane was removed.
 */
export function stripOtherCarriers(config: Config, buf: usize, n: u32): bool {
  const key = changetype<usize>(config.baggageKeyBytes);
  const keyLen = config.baggageKeyBytes.byteLength;
  let stripped = false;
  if (Other.clientNames > 0) {
    let p = firstName(buf, n);
    for (let i: u32 = 0; i < n; i++) {
      const kl = <i32>nameLen(buf, i);
      const vl = <i32>valueLen(buf, i);
      if (isUberctxName(p, kl, key, keyLen) || isOtBaggageNameLoose(p, kl, key, keyLen)) removeHeader(p, kl);
      p = nextName(valueOf(p, kl), vl);
    }
    Other.uberCount = 0;
    Other.otCount = 0;
    stripped = true;
  }
  if (Other.jaegerBaggage > 0 && stripMembers(buf, n, JAEGER_BAGGAGE, JAEGER_BAGGAGE_LEN, key, keyLen, false)) stripped = true;
  if (Other.tsCount > 0 && stripMembers(buf, n, TRACESTATE, 10, key, keyLen, true)) stripped = true;
  return stripped;
}

/**
 * The key's members out of every header named name[0..nl) (jaeger-baggage or tracestate), the values joined
 * with ","; removed whole when there is no memory to check them. True when something was removed.
 */
function stripMembers(buf: usize, n: u32, name: usize, nl: i32, key: usize, keyLen: i32, tracestate: bool): bool {
  let total = 0;
  let count = 0;
  let p = firstName(buf, n);
  for (let i: u32 = 0; i < n; i++) {
    const kl = <i32>nameLen(buf, i);
    const vl = <i32>valueLen(buf, i);
    if (equalsIgnoreCase(p, kl, name, nl)) { total += (count++ > 0 ? 1 : 0) + vl; }
    p = nextName(valueOf(p, kl), vl);
  }
  const src = count == 1 && tracestate ? Other.tsV : joinHeader(buf, n, name, nl, total, true);
  const dst = src != 0 ? scratch(total) : 0;
  if (dst == 0) { // fail closed
    removeHeader(name, nl);
    if (tracestate) { Other.tsCount = 0; Other.tsLen = 0; }
    return true;
  }
  const out = tracestate ? stripTracestate(src, total, key, keyLen, dst) : stripJaegerBaggage(src, total, key, keyLen, dst);
  if (tracestate) { Other.tsV = out < total ? dst : src; Other.tsLen = out; Other.tsCount = 1; }
  if (out == total) return false;
  if (out == 0 || !replaceHeader(name, nl, dst, out)) {
    removeHeader(name, nl);
    if (tracestate) { Other.tsCount = 0; Other.tsLen = 0; }
  }
  return true;
}

/** The lane of `carrier` (CARRIER_JAEGER, _OTTRACE or _TRACESTATE), read as the apps' propagators read it. */
export function readOtherLane(config: Config, carrier: i32, buf: usize, n: u32): void {
  let len = 0;
  let dst = jLane;
  if (carrier == CARRIER_JAEGER) {
    if (Other.uberCount > 0) len = Other.uberCount > 1 ? -1 : readUberctxLane(Other.uberV, Other.uberVl, jLane);
  } else if (carrier == CARRIER_OTTRACE) {
    dst = oLane;
    if (Other.otCount > 0 && otContext()) len = Other.otCount > 1 ? -1 : readOtBaggageLane(Other.otV, Other.otVl, oLane);
  } else {
    dst = tLane;
    if (Other.tsCount > 0 && traceparent() && tracestateValue(buf, n)) {
      len = findTracestateLane(Other.tsV, Other.tsLen, changetype<usize>(config.baggageKeyBytes), config.baggageKeyBytes.byteLength, tLane);
    }
  }
  if (len > 0 && !config.allows(dst, len)) len = -1;
  if (len < 0) Other.invalid++;
  if (carrier == CARRIER_JAEGER) Other.jLen = len;
  else if (carrier == CARRIER_OTTRACE) Other.oLen = len;
  else Other.tLen = len;
}

/**
 * The lane the carriers hold, into Won: the first carrier in the configured order with a valid lane (baggage
 * already scanned); another carrier holding a different valid lane is a conflict, counted.
 */
export function findCarrierLane(config: Config, dir: i32, buf: usize, n: u32): void {
  Won.len = 0;
  Won.conflict = false;
  const list = config.carriers;
  for (let i = 0; i < list.length; i++) {
    const c = unchecked(list[i]);
    let lp = scan.lane;
    let ll = scan.found ? scan.laneLen : 0;
    if (c != CARRIER_BAGGAGE) {
      readOtherLane(config, c, buf, n);
      lp = otherLanePtr(c);
      ll = otherLaneLen(c);
    }
    if (ll <= 0) continue;
    if (Won.len == 0) { Won.ptr = lp; Won.len = ll; }
    else if (ll != Won.len || memory.compare(lp, Won.ptr, ll) != 0) Won.conflict = true;
  }
  if (Won.conflict) count(dir, M_CARRIER_CONFLICT);
}

/** The carrier's lane buffer and length. */
export function otherLanePtr(carrier: i32): usize {
  return carrier == CARRIER_JAEGER ? jLane : carrier == CARRIER_OTTRACE ? oLane : tLane;
}
export function otherLaneLen(carrier: i32): i32 {
  return carrier == CARRIER_JAEGER ? Other.jLen : carrier == CARRIER_OTTRACE ? Other.oLen : Other.tLen;
}

// SDKs take and send ot baggage only with a valid ot trace context, tracestate only with a valid traceparent.
function otContext(): bool {
  return Other.otTraceLen >= 0 && Other.otSpanLen >= 0 && isOtTraceContext(Other.otTrace, Other.otTraceLen, Other.otSpan, Other.otSpanLen);
}
function traceparent(): bool {
  return Other.tpLen >= 0 && isTraceparent(Other.tp, Other.tpLen);
}

/**
 * Writes lane lp[0..ll) to `carrier` unless it holds it already; where the apps' SDK would not take it
 * (ot baggage without an ot trace context, tracestate without a traceparent) nothing is written.
 */
export function writeOtherLane(config: Config, carrier: i32, buf: usize, n: u32, lp: usize, ll: i32): void {
  const have = otherLaneLen(carrier);
  if (have == ll && memory.compare(otherLanePtr(carrier), lp, ll) == 0) return;
  if (carrier == CARRIER_JAEGER) {
    // Every lane byte is unreserved for encodeURIComponent: the value is the lane as it stands.
    replaceHeader(changetype<usize>(config.uberctxName), config.uberctxName.byteLength, lp, ll);
  } else if (carrier == CARRIER_OTTRACE) {
    if (otContext()) replaceHeader(changetype<usize>(config.otBaggageName), config.otBaggageName.byteLength, lp, ll);
  } else if (traceparent()) {
    const keyLen = config.baggageKeyBytes.byteLength;
    const len = Other.tsCount > 0 && tracestateValue(buf, n) ? Other.tsLen : 0;
    const dst = scratch(tracestateWriteBound(len, keyLen));
    if (dst == 0) return;
    const out = writeTracestate(Other.tsV, len, changetype<usize>(config.baggageKeyBytes), keyLen, lp, ll, dst);
    if (out > 0) replaceHeader(TRACESTATE, 10, dst, out);
  }
}

/** Fail closed: the carriers' headers of a request that cannot be read, removed by their names. */
export function removeUnreadCarriers(config: Config): void {
  removeHeader(changetype<usize>(config.uberctxName), config.uberctxName.byteLength);
  removeHeader(changetype<usize>(config.otBaggageName), config.otBaggageName.byteLength);
  removeHeader(JAEGER_BAGGAGE, JAEGER_BAGGAGE_LEN);
  removeHeader(TRACESTATE, 10);
}

/** Writes lane lp[0..ll) to every configured carrier beside baggage (writeOtherLane says where it is left out). */
export function writeOtherCarriers(config: Config, buf: usize, n: u32, lp: usize, ll: i32): void {
  const list = config.carriers;
  for (let i = 0; i < list.length; i++) {
    const c = unchecked(list[i]);
    if (c != CARRIER_BAGGAGE) writeOtherLane(config, c, buf, n, lp, ll);
  }
}

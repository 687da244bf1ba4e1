// The tracestate carrier on the request path: the lane as a W3C `tracestate` entry (grammar/tracestate.ts),
// read and written only with a valid traceparent, as the SDKs do. Its CarrierState: count/value/len the
// `tracestate` headers (len: their joined length), ctx the `traceparent` header.
import { Config } from "../config/config";
import { CARRIER_TRACESTATE, STRIP_ALL, carrierSlot } from "../config/carrier-table";
import { findTracestateLane, tracestateWriteBound, writeTracestate } from "../grammar/tracestate";
import { isTraceparent } from "../grammar/trace-context";
import { equalsIgnoreCase } from "../bytes/text";
import { Request, CarrierState } from "../lane/request";
import { scratch, replaceHeader, removeHeader } from "../abi/host";
import { joinHeader, stripMembers } from "./repeated";

const SLOT = carrierSlot(CARRIER_TRACESTATE);
// "tracestate", "traceparent"
const TRACESTATE = memory.data<u8>([0x74, 0x72, 0x61, 0x63, 0x65, 0x73, 0x74, 0x61, 0x74, 0x65]);
const TRACEPARENT = memory.data<u8>([0x74, 0x72, 0x61, 0x63, 0x65, 0x70, 0x61, 0x72, 0x65, 0x6e, 0x74]);

// @ts-ignore: decorator
@inline function seen(): CarrierState { return Request.carrier(SLOT); }

/** A header of the read's pass whose lowercased first byte is c: true when it is this carrier's to note ("t"). */
// @ts-ignore: decorator
@inline export function noteTracestate(mask: i32, c: u32, name: usize, kl: i32, v: usize, vl: i32): bool {
  if (c != 0x74 /* t */) return false;
  const st = seen();
  if ((mask & (CARRIER_TRACESTATE | STRIP_ALL)) != 0 && kl == 10 && equalsIgnoreCase(name, kl, TRACESTATE, 10)) {
    if (st.count++ == 0) st.value = v;
    st.len += (st.count > 1 ? 1 : 0) + vl;
  } else if ((mask & CARRIER_TRACESTATE) != 0 && kl == 11 && st.ctxLen < 0 && equalsIgnoreCase(name, kl, TRACEPARENT, 11)) {
    st.ctx = v;
    st.ctxLen = vl;
  }
  return true;
}

/** The request's tracestate, repeated headers joined: value/len (len 0 and count 0 when none or no room). */
function tracestateValue(st: CarrierState): bool {
  if (st.count <= 1) return true;
  const j = joinHeader(Request.buf, Request.n, TRACESTATE, 10, st.len, true);
  if (j == 0) return false;
  st.value = j;
  return true;
}

// SDKs take and send tracestate only with a valid traceparent.
function traceparent(st: CarrierState): bool {
  return st.ctxLen >= 0 && isTraceparent(st.ctx, st.ctxLen);
}

/** The lane as the propagators read it, into the carrier's lane buffer: its length (CarrierState.laneLen). */
// @ts-ignore: decorator
@inline export function readTracestate(config: Config): i32 {
  const st = seen();
  if (st.count == 0 || !traceparent(st) || !tracestateValue(st)) return 0;
  return findTracestateLane(st.value, st.len, changetype<usize>(config.baggageKeyBytes), config.baggageKeyBytes.byteLength, st.lane);
}

/** Writes lane lp[0..ll) as the first entry, where the apps' SDK would take it (with a traceparent). */
// @ts-ignore: decorator
@inline export function writeTracestateLane(config: Config, lp: usize, ll: i32): void {
  const st = seen();
  if (!traceparent(st)) return;
  const keyLen = config.baggageKeyBytes.byteLength;
  const len = st.count > 0 && tracestateValue(st) ? st.len : 0;
  const dst = scratch(tracestateWriteBound(len, keyLen));
  if (dst == 0) return;
  const out = writeTracestate(st.value, len, changetype<usize>(config.baggageKeyBytes), keyLen, lp, ll, dst);
  if (out > 0) replaceHeader(TRACESTATE, 10, dst, out);
}

/** Untrusted: the key's members out of `tracestate`, configured or not. True when a lane was removed. */
// @ts-ignore: decorator
@inline export function stripTracestateLane(config: Config): bool {
  const st = seen();
  if (st.count == 0) return false;
  return stripMembers(Request.buf, Request.n, TRACESTATE, 10, changetype<usize>(config.baggageKeyBytes), config.baggageKeyBytes.byteLength, st);
}

/** Fail closed: the carrier's header of a request that cannot be read, removed by its name. */
// @ts-ignore: decorator
@inline export function removeTracestate(): void {
  removeHeader(TRACESTATE, 10);
}

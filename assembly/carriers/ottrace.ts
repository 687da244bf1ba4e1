// The OpenTracing carrier on the request path: the lane in `ot-baggage-<key>` (grammar/ottrace.ts), read
// and written only with a valid ot trace context, as the SDKs do. Its CarrierState: count/value/len the
// `ot-baggage-<key>` headers, ctx the `ot-tracer-traceid` and ctx2 the `ot-tracer-spanid` header.
import { Config } from "../config/config";
import { CARRIER_OTTRACE, STRIP_ALL, carrierSlot } from "../config/carrier-table";
import { isOtBaggageName, isOtBaggageNameLoose, readOtBaggageLane, isOtTraceContext } from "../grammar/ottrace";
import { equalsIgnoreCase } from "../bytes/text";
import { Request, CarrierState } from "../lane/request";
import { replaceHeader, removeHeader } from "../abi/host";

const SLOT = carrierSlot(CARRIER_OTTRACE);
// "ot-tracer-traceid", "ot-tracer-spanid"
const OT_TRACEID = memory.data<u8>([0x6f, 0x74, 0x2d, 0x74, 0x72, 0x61, 0x63, 0x65, 0x72, 0x2d, 0x74, 0x72, 0x61, 0x63, 0x65, 0x69, 0x64]);
const OT_SPANID = memory.data<u8>([0x6f, 0x74, 0x2d, 0x74, 0x72, 0x61, 0x63, 0x65, 0x72, 0x2d, 0x73, 0x70, 0x61, 0x6e, 0x69, 0x64]);

// @ts-ignore: decorator
@inline function seen(): CarrierState { return Request.carrier(SLOT); }

/** A header of the read's pass whose lowercased first byte is c: true when it is this carrier's to note ("o"). */
// @ts-ignore: decorator
@inline export function noteOttrace(mask: i32, c: u32, name: usize, kl: i32, v: usize, vl: i32, key: usize, keyLen: i32): bool {
  if (c != 0x6f /* o */) return false;
  if ((mask & CARRIER_OTTRACE) != 0) {
    const st = seen();
    if (kl == 17 && equalsIgnoreCase(name, kl, OT_TRACEID, 17)) { if (st.ctxLen < 0) { st.ctx = v; st.ctxLen = vl; } return true; }
    if (kl == 16 && equalsIgnoreCase(name, kl, OT_SPANID, 16)) { if (st.ctx2Len < 0) { st.ctx2 = v; st.ctx2Len = vl; } return true; }
    if (isOtBaggageName(name, kl, key, keyLen)) { if (st.count++ == 0) { st.value = v; st.len = vl; } }
  }
  if ((mask & STRIP_ALL) != 0 && isOtBaggageNameLoose(name, kl, key, keyLen)) Request.clientNames++;
  return true;
}

// SDKs take and send ot baggage only with a valid ot trace context.
function otContext(st: CarrierState): bool {
  return st.ctxLen >= 0 && st.ctx2Len >= 0 && isOtTraceContext(st.ctx, st.ctxLen, st.ctx2, st.ctx2Len);
}

/** The lane as the propagators read it, into the carrier's lane buffer: its length (CarrierState.laneLen). */
// @ts-ignore: decorator
@inline export function readOttrace(): i32 {
  const st = seen();
  if (st.count == 0 || !otContext(st)) return 0;
  return st.count > 1 ? -1 : readOtBaggageLane(st.value, st.len, st.lane);
}

/** Writes lane lp[0..ll), as it stands, where the apps' SDK would take it (with an ot trace context). */
// @ts-ignore: decorator
@inline export function writeOttrace(config: Config, lp: usize, ll: i32): void {
  if (!otContext(seen())) return;
  const name = unchecked(config.carrierHeaders[SLOT]);
  replaceHeader(changetype<usize>(name), name.byteLength, lp, ll);
}

/** Untrusted: whether header name[0..kl) is one some reader takes for `ot-baggage-<key>` (stripClientNames removes it). */
// @ts-ignore: decorator
@inline export function claimsOttrace(name: usize, kl: i32, key: usize, keyLen: i32): bool {
  return isOtBaggageNameLoose(name, kl, key, keyLen);
}

/** Untrusted: what is left to strip once the client's names are removed: nothing but the count of them. */
// @ts-ignore: decorator
@inline export function stripOttrace(): bool {
  if (Request.clientNames > 0) seen().count = 0;
  return false;
}

/** Fail closed: the carrier's header of a request that cannot be read, removed by its name. */
// @ts-ignore: decorator
@inline export function removeOttrace(config: Config): void {
  const name = unchecked(config.carrierHeaders[SLOT]);
  removeHeader(changetype<usize>(name), name.byteLength);
}

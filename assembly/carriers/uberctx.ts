// The Jaeger carrier on the request path: the lane in `uberctx-<key>` (grammar/uberctx.ts), and a client's
// lane stripped from there and from `jaeger-baggage` members. Its CarrierState: count/value/len the
// `uberctx-<key>` headers, extra the `jaeger-baggage` headers.
import { Config } from "../config/config";
import { CARRIER_JAEGER, STRIP_ALL, carrierSlot } from "../config/carrier-table";
import { isUberctxName, isJaegerBaggageName, readUberctxLane, JAEGER_BAGGAGE, JAEGER_BAGGAGE_LEN } from "../grammar/uberctx";
import { Request, CarrierState } from "../lane/request";
import { replaceHeader, removeHeader } from "../abi/host";
import { stripMembers } from "./repeated";

const SLOT = carrierSlot(CARRIER_JAEGER);

// @ts-ignore: decorator
@inline function seen(): CarrierState { return Request.carrier(SLOT); }

/** A header of the read's pass whose lowercased first byte is c: true when it is this carrier's to note ("u", "j"). */
// @ts-ignore: decorator
@inline export function noteUberctx(mask: i32, c: u32, name: usize, kl: i32, v: usize, vl: i32, key: usize, keyLen: i32): bool {
  if (c == 0x75 /* u */) {
    if ((mask & (CARRIER_JAEGER | STRIP_ALL)) != 0 && isUberctxName(name, kl, key, keyLen)) {
      const st = seen();
      if (st.count++ == 0) { st.value = v; st.len = vl; }
      Request.clientNames++;
    }
    return true;
  }
  if (c == 0x6a /* j */) {
    if ((mask & STRIP_ALL) != 0 && isJaegerBaggageName(name, kl)) seen().extra++;
    return true;
  }
  return false;
}

/** The lane as the propagators read it, into the carrier's lane buffer: its length (CarrierState.laneLen). */
// @ts-ignore: decorator
@inline export function readUberctx(): i32 {
  const st = seen();
  if (st.count == 0) return 0;
  return st.count > 1 ? -1 : readUberctxLane(st.value, st.len, st.lane);
}

/** Writes lane lp[0..ll): every lane byte is unreserved for encodeURIComponent, so the value is the lane as it stands. */
// @ts-ignore: decorator
@inline export function writeUberctx(config: Config, lp: usize, ll: i32): void {
  const name = unchecked(config.carrierHeaders[SLOT]);
  replaceHeader(changetype<usize>(name), name.byteLength, lp, ll);
}

/** Untrusted: whether header name[0..kl) is one some reader takes for `uberctx-<key>` (stripClientNames removes it). */
// @ts-ignore: decorator
@inline export function claimsUberctx(name: usize, kl: i32, key: usize, keyLen: i32): bool {
  return isUberctxName(name, kl, key, keyLen);
}

/** Untrusted: the key's members out of `jaeger-baggage` (its `uberctx-<key>` headers are gone already). True when a lane was removed. */
// @ts-ignore: decorator
@inline export function stripUberctx(config: Config): bool {
  if (Request.clientNames > 0) seen().count = 0;
  return seen().extra > 0 && stripMembers(Request.buf, Request.n, JAEGER_BAGGAGE, JAEGER_BAGGAGE_LEN, changetype<usize>(config.baggageKeyBytes),
    config.baggageKeyBytes.byteLength, null);
}

/** Fail closed: the carrier's headers of a request that cannot be read, removed by their names. */
// @ts-ignore: decorator
@inline export function removeUberctx(config: Config): void {
  const name = unchecked(config.carrierHeaders[SLOT]);
  removeHeader(changetype<usize>(name), name.byteLength);
  removeHeader(JAEGER_BAGGAGE, JAEGER_BAGGAGE_LEN);
}

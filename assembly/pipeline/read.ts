// The pipeline's first stage: the request's header pairs, read in one pass for the routing header and the
// carriers' headers.
import { Config } from "../config/config";
import { CARRIER_BAGGAGE, STRIP_ALL } from "../config/carrier-table";
import { bytesEqual, isLaneRaw } from "../bytes/lane";
import { BAGGAGE, BAGGAGE_LEN } from "../grammar/baggage";
import { Request } from "../lane/request";
import { count, M_HOST_ERROR, M_BAGGAGE_DROPPED } from "../observe/metrics";
import { takeBaggage, removeBaggage } from "../carriers/baggage";
import { noteHeader, resetCarriers, removeCarriers } from "../carriers/carrier";
import { MALFORMED, pairCount, firstName, nameLen, valueLen, valueOf, nextName, pairFits } from "../abi/pairs";
import { readPtr, readSize, readRequestHeaders, removeHeader, hostErrorCount } from "../abi/host";

/**
 * Where the request cannot be read or its baggage cannot be checked, an untrusted gateway removes what a
 * client could have chosen a lane with: the routing header, the whole baggage and the other carriers' headers.
 */
function failClosed(dir: i32, config: Config): void {
  removeHeader(changetype<usize>(config.routingHeaderBytes), config.routingHeaderBytes.byteLength);
  removeBaggage();
  removeCarriers(config);
  count(dir, M_BAGGAGE_DROPPED);
}

/**
 * Reads the header pairs and, in one pass, the routing header's values and the carriers' headers. False
 * when there is nothing more to do: the map is unreadable or malformed (the request is left alone, or an
 * untrusted gateway fails closed; counted).
 */
// @ts-ignore: decorator
@inline export function readHeaders(config: Config): bool {
  let buf: usize = 0;
  let size: usize = 0;
  if (readRequestHeaders()) {
    buf = readPtr();
    size = readSize();
  } else {
    size = 1; // unreadable, like a malformed map
  }
  const n = pairCount(buf, size);
  if (n == MALFORMED) { // unreadable or malformed: leave the request alone, or fail closed
    if (Request.untrusted) failClosed(Request.dir, config);
    count(Request.dir, M_HOST_ERROR, hostErrorCount() > 0 ? hostErrorCount() : 1);
    return false;
  }
  Request.buf = buf;
  Request.n = n;
  return readPairs(config, buf, n, buf + size);
}

/** The pass over the pairs: the routing header's lane (the first valid one), the baggage headers and the other carriers'. */
// @ts-ignore: decorator
@inline function readPairs(config: Config, buf: usize, n: u32, end: usize): bool {
  const rh = changetype<usize>(config.routingHeaderBytes);
  const rhLen = config.routingHeaderBytes.byteLength;
  const state = Request.state;
  state.reset();
  // The other carriers' headers are looked at only when configured, or stripped (untrusted).
  const mask = (config.carrierMask & ~CARRIER_BAGGAGE) | (Request.untrusted ? STRIP_ALL : 0);
  if (mask != 0) resetCarriers();
  let invalid = 0;
  let hdr: usize = 0;
  let hdrLen = 0;
  let bags = 0;
  let bag: usize = 0;
  let bagLen = 0;
  let p = firstName(buf, n);
  for (let i: u32 = 0; i < n; i++) {
    const kl = nameLen(buf, i);
    const vl = valueLen(buf, i);
    if (!pairFits(p, kl, vl, end)) { // malformed map
      if (Request.untrusted) failClosed(Request.dir, config);
      count(Request.dir, M_HOST_ERROR);
      return false;
    }
    const v = valueOf(p, kl);
    if (kl == BAGGAGE_LEN && bytesEqual(p, kl, BAGGAGE, BAGGAGE_LEN)) {
      if (bags++ == 0) bag = v;
      bagLen += (bags > 1 ? 1 : 0) + vl;
    } else if (kl == <u32>rhLen && bytesEqual(p, kl, rh, rhLen)) {
      state.headerCount++;
      if (isLaneRaw(v, vl) && config.allows(v, vl)) {
        if (!state.headerValid) { state.headerValid = true; hdr = v; hdrLen = vl; }
      } else invalid++;
    } else if (mask != 0) {
      noteHeader(config, mask, p, <i32>kl, v, <i32>vl);
    }
    p = nextName(v, vl);
  }
  Request.invalid = invalid;
  Request.hdr = hdr;
  Request.hdrLen = hdrLen;
  return takeBaggage(bags, bag, bagLen, config.baggageLimits);
}

// The pipeline's first stage: the request's header pairs, read in one pass for the routing header and the
// carriers' headers.
import { Config, CARRIER_BAGGAGE } from "../config/config";
import { Other, noteHeader, removeUnreadCarriers, STRIP_ALL } from "./carriers";
import { isLaneRaw, bytesEqual } from "../bytes/lane";
import { BAGGAGE, BAGGAGE_LEN } from "../grammar/baggage";
import { MALFORMED, pairCount, firstName, nameLen, valueLen, valueOf, nextName, pairFits } from "../abi/pairs";
import { takeBaggage } from "./baggage";
import { Req, state } from "./request";
import { readPtr, readSize, readRequestHeaders, removeHeader, hostErrorCount } from "../abi/host";
import { count, M_HOST_ERROR, M_BAGGAGE_DROPPED } from "../observe/metrics";

/**
 * Where the request cannot be read or its baggage cannot be checked, an untrusted gateway removes what a
 * client could have chosen a lane with: the routing header, the whole baggage and the other carriers' headers.
 */
function failClosed(dir: i32, config: Config): void {
  removeHeader(changetype<usize>(config.routingHeaderBytes), config.routingHeaderBytes.byteLength);
  removeHeader(BAGGAGE, BAGGAGE_LEN);
  removeUnreadCarriers(config);
  count(dir, M_BAGGAGE_DROPPED);
}

/**
 * Reads the header pairs and, in one pass, the routing header's values and the carriers' headers. False
 * when there is nothing more to do: the map is unreadable or malformed (the request is left alone, or an
 * untrusted gateway fails closed; counted).
 */
// @ts-ignore: decorator
@inline export function readHeaders(config: Config, dir: i32, untrusted: bool): bool {
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
    if (untrusted) failClosed(dir, config);
    count(dir, M_HOST_ERROR, hostErrorCount() > 0 ? hostErrorCount() : 1);
    return false;
  }
  Req.buf = buf;
  Req.n = n;
  return readPairs(config, dir, untrusted, buf, n, buf + size);
}

/** The pass over the pairs: the routing header's lane (the first valid one), the baggage headers and the other carriers'. */
// @ts-ignore: decorator
@inline function readPairs(config: Config, dir: i32, untrusted: bool, buf: usize, n: u32, end: usize): bool {
  const rh = changetype<usize>(config.routingHeaderBytes);
  const rhLen = config.routingHeaderBytes.byteLength;
  state.reset();
  // The other carriers' headers are looked at only when configured, or stripped (untrusted).
  const mask = (config.carrierMask & ~CARRIER_BAGGAGE) | (untrusted ? STRIP_ALL : 0);
  if (mask != 0) Other.reset();
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
      if (untrusted) failClosed(dir, config);
      count(dir, M_HOST_ERROR);
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
  Req.invalid = invalid;
  Req.hdr = hdr;
  Req.hdrLen = hdrLen;
  return takeBaggage(buf, n, bags, bag, bagLen, untrusted, config.baggageLimits);
}

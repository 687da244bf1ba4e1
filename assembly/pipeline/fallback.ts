// The fallback sources of an outbound request without a lane, in order: lane_from, trace correlation, the
// local lane, the weighted choice (assign), the default lane.
import { Config } from "../config/config";
import { Request } from "../lane/request";
import { isLaneRaw, bytesEqual } from "../bytes/lane";
import { SRC_DEFAULT, SRC_NONE, SRC_TRACE, SRC_LOCAL, SRC_ASSIGN, SRC_CLIENT } from "../lane/decide";
import { cookieValue, queryValue } from "../lane/entry";
import { hash64, mix64 } from "../bytes/hash";
import { pickLane } from "../lane/assign";
import { traceLane } from "./correlation";
import { findHeader, hvPtr, hvLen, firstName, nameLen, valueLen, valueOf, nextName } from "../abi/pairs";
import { nowNs } from "../abi/host";
import { Root } from "./root";

// Varies the weighted draw of requests without a sticky value that arrive within one clock tick.
let requestCounter: u64 = 0;

// ---- lane_from: the lane a client names in a header, a cookie or a query parameter ---------------------

const COOKIE = String.UTF8.encode("cookie");
const PATH = String.UTF8.encode(":path");
const QUERY_CAP: i32 = 256;
const QUERY_BUF = memory.data(QUERY_CAP);

/** The lane value v[0..len) names (through lane_from.values when given), at Request.fbPtr/fbLen; false when none. */
function clientLane(config: Config, v: usize, len: i32): bool {
  const values = config.fromValueBytes;
  const k = values.length;
  if (k > 0) {
    for (let i = 0; i < k; i++) {
      const b = unchecked(values[i]);
      if (bytesEqual(changetype<usize>(b), b.byteLength, v, len)) {
        const lane = unchecked(config.fromLaneBytes[i]);
        Request.fbPtr = changetype<usize>(lane);
        Request.fbLen = lane.byteLength;
        return true;
      }
    }
  } else if (isLaneRaw(v, len) && config.allows(v, len)) {
    Request.fbPtr = v; // in the header pairs or QUERY_BUF: valid until the end of this callback
    Request.fbLen = len;
    return true;
  }
  Request.invalid++; // a value the client named that is no (allowed) lane
  return false;
}

/** lane_from's sources in order (header, cookie, query); each takes the first occurrence of its name. */
function fromClient(config: Config): bool {
  const buf = Request.buf;
  const n = Request.n;
  if (config.fromHeaderBytes.byteLength > 0 && findHeader(buf, n, config.fromHeaderBytes) && clientLane(config, hvPtr, hvLen)) return true;
  const cookie = config.fromCookieBytes;
  if (cookie.byteLength > 0) {
    let p = firstName(buf, n);
    for (let i: u32 = 0; i < n; i++) {
      const kl = nameLen(buf, i);
      const vl = valueLen(buf, i);
      const v = valueOf(p, kl);
      if (kl == 6 && bytesEqual(p, 6, changetype<usize>(COOKIE), 6)) {
        const r = cookieValue(v, vl, changetype<usize>(cookie), cookie.byteLength);
        if (r >= 0) {
          if (clientLane(config, v + <usize>(r >> 32), <i32>r)) return true;
          break;
        }
      }
      p = nextName(v, vl);
    }
  }
  const query = config.fromQueryBytes;
  if (query.byteLength > 0 && findHeader(buf, n, PATH)) {
    const r = queryValue(hvPtr, hvLen, changetype<usize>(query), query.byteLength, QUERY_BUF, QUERY_CAP);
    if (r >= 0) return clientLane(config, QUERY_BUF, r);
    if (r == -2) Request.invalid++;
  }
  return false;
}

/** assign: the weighted choice, sticky to the sticky header's value when the request has one. */
// @ts-ignore: decorator
@inline function assigned(config: Config): bool {
  const buf = Request.buf;
  const n = Request.n;
  let key: u64;
  if (config.stickyHeaderBytes.byteLength > 0 && findHeader(buf, n, config.stickyHeaderBytes) && hvLen > 0) {
    key = hash64(hvPtr, hvLen);
  } else {
    // No user to stick to: any request-unique value will do.
    key = mix64(nowNs() ^ (++requestCounter * 0x9e3779b97f4a7c15));
  }
  const i = pickLane(key, config.assignSeeds, config.assignWeightsF);
  if (i < 0) return false;
  const b = unchecked(config.assignLaneBytes[i]);
  Request.fbPtr = changetype<usize>(b);
  Request.fbLen = b.byteLength;
  return true;
}

/** The first fallback source with a lane (at Request.fbPtr/fbLen), or SRC_NONE. */
export function fallback(root: Root, config: Config): u8 {
  if (config.hasLaneFrom && fromClient(config)) return SRC_CLIENT;
  if (config.correlation && traceLane(config)) return SRC_TRACE;
  if (root.localLane.byteLength > 0) {
    Request.fbPtr = changetype<usize>(root.localLane);
    Request.fbLen = root.localLane.byteLength;
    return SRC_LOCAL;
  }
  if (config.assignLaneBytes.length > 0 && assigned(config)) return SRC_ASSIGN;
  if (config.defaultLaneBytes.byteLength > 0) {
    Request.fbPtr = changetype<usize>(config.defaultLaneBytes);
    Request.fbLen = config.defaultLaneBytes.byteLength;
    return SRC_DEFAULT;
  }
  return SRC_NONE;
}

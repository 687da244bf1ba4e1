// The request pipeline: what the filter does with a request's headers, from reading them to the writes and
// counters. Rules: no logging, no strings, no GC allocation; host data is read in place (host.ts); a host
// failure leaves a valid request (see onRequest), and an untrusted gateway fails closed.
import { Config, DIR_AUTO, DIR_INBOUND, DIR_OUTBOUND, DIR_BOTH } from "../config/config";
import { LaneScan, MAX_BAGGAGE, rewriteBound, writeBaggage, countLooseLaneMembers, stripLaneMembers } from "../carriers/baggage";
import { isLaneRaw, bytesEqual } from "../lane/lane";
import { TRACE_KEY } from "../observe/hop";
import { LaneState, Decision, decide, SRC_BAGGAGE, SRC_HEADER, SRC_DEFAULT, SRC_NONE, SRC_TRACE, SRC_LOCAL, SRC_ASSIGN, SRC_CLIENT, BAG_KEEP, BAG_REPLACE } from "../lane/decide";
import { cookieValue, queryValue } from "../lane/entry";
import { hash64, mix64 } from "../lane/trace";
import { pickLane } from "../lane/assign";
import { findHeader, hvPtr, hvLen, BAGGAGE, BAGGAGE_LEN } from "../carriers/pairs";
import { traceLane, tracedPtr, tracedLen, recordTrace } from "../lane/correlation";
import { LaneMetrics } from "../observe/lane-metrics";
import { observeRequest } from "../observe/observe";
import {
  scratch, readPtr, readSize, getProperty, readRequestHeaders, replaceHeader, removeHeader, resetHostErrors, hostErrorCount,
  nowNs, PROP_DIRECTION_LEGACY, PROP_DIRECTION_XDS, RESULT_OK, RESULT_NOT_FOUND,
} from "../abi/host";
import {
  count, countInline, M_FROM_BAGGAGE, M_FROM_HEADER, M_FROM_DEFAULT, M_NO_LANE, M_INVALID, M_BAGGAGE_ADDED, M_BAGGAGE_REPLACED,
  M_OVERSIZE, M_CLIENT_LANE_REMOVED, M_FROM_TRACE, M_FROM_LOCAL, M_FROM_ASSIGN, M_BAGGAGE_DROPPED, M_HOST_ERROR, M_FROM_CLIENT,
} from "../observe/metrics";


// One root context per plugin configuration; several can share this VM (e.g. inbound and outbound
// listeners with the same vm_id, or several Istio/ASM plugins), so each HTTP context remembers its root.
export class Root {
  id: u32;
  config: Config | null = null;
  /** local_lane: this workload's lane, read from node metadata at configure (empty: none). */
  localLane: ArrayBuffer = new ArrayBuffer(0);
  /** direction: auto: the property that names the listener direction on this Envoy (see resolveDirection). */
  directionPath: ArrayBuffer = PROP_DIRECTION_XDS;
  /** lane_metrics: the counters defined at configure, or null when off. */
  laneMetrics: LaneMetrics | null = null;
  /** hop_trace: this workload's entry ("workload@lane") and lane (empty: unknown), read at configure. */
  hopPrefix: ArrayBuffer = new ArrayBuffer(0);
  hopLane: ArrayBuffer = new ArrayBuffer(0);
  constructor(id: u32) { this.id = id; }
}

const scan = new LaneScan();
const state = new LaneState();
const decision = new Decision();

function resolveDirection(root: Root, config: Config): i32 {
  if (config.direction != DIR_AUTO) return config.direction;
  // The listener direction: 8-byte little-endian int, 1 inbound, 2 outbound (gateways are 2 too); 0 (plain
  // Envoy) or unreadable means we cannot tell, so apply both rule sets. Configure picked the name this Envoy
  // answers; if it does not here, the other name is tried, and kept when it answers.
  let r = getProperty(root.directionPath);
  if (r == RESULT_NOT_FOUND) {
    const other = root.directionPath === PROP_DIRECTION_XDS ? PROP_DIRECTION_LEGACY : PROP_DIRECTION_XDS;
    r = getProperty(other);
    if (r == RESULT_OK) root.directionPath = other;
  }
  if (r != RESULT_OK || readSize() != 8) return DIR_BOTH;
  const d = load<i64>(readPtr());
  return d == 1 ? DIR_INBOUND : d == 2 ? DIR_OUTBOUND : DIR_BOTH;
}

// The lane a fallback source found (trace, local, assign, default).
let fbPtr: usize = 0;
let fbLen: i32 = 0;
/**
 * Where the request cannot be read or its baggage cannot be checked, an untrusted gateway removes what a
 * client could have chosen a lane with: the routing header and the whole baggage.
 */
function failClosed(dir: i32, config: Config): void {
  removeHeader(changetype<usize>(config.routingHeaderBytes), config.routingHeaderBytes.byteLength);
  removeHeader(BAGGAGE, BAGGAGE_LEN);
  count(dir, M_BAGGAGE_DROPPED);
}

export function onRequest(root: Root, config: Config, contextId: u32): void {
  resetHostErrors();
  const dir = resolveDirection(root, config);
  // An operator who does not trust clients (a gateway) has their lane removed in every direction: Istio and
  // ASM report gateways as outbound listeners.
  const untrusted = !config.trustClientLane;
  let buf: usize = 0;
  let size: usize = 0;
  if (readRequestHeaders()) {
    buf = readPtr();
    size = readSize();
  } else {
    size = 1; // unreadable, like a malformed map
  }
  let n: u32 = 0;
  if (size > 0) { // an empty map is empty data (pointer 0, size 0): no headers
    n = size >= 4 ? load<u32>(buf) : 0xffffffff;
    if (<u64>n * 8 + 4 > <u64>size) { // unreadable or malformed: leave the request alone, or fail closed
      if (untrusted) failClosed(dir, config);
      count(dir, M_HOST_ERROR, hostErrorCount() > 0 ? hostErrorCount() : 1);
      return;
    }
  }
  const end = buf + size;

  const rh = changetype<usize>(config.routingHeaderBytes);
  const rhLen = config.routingHeaderBytes.byteLength;
  state.reset();
  let invalid = 0;
  let hdr: usize = 0;
  let hdrLen = 0;
  let bags = 0;
  let bag: usize = 0;
  let bagLen = 0;
  let p = buf + 4 + (<usize>n << 3);
  for (let i: u32 = 0; i < n; i++) {
    const kl = load<u32>(buf + 4 + (<usize>i << 3));
    const vl = load<u32>(buf + 8 + (<usize>i << 3));
    if (<u64>p + kl + vl + 2 > <u64>end) { // malformed map
      if (untrusted) failClosed(dir, config);
      count(dir, M_HOST_ERROR);
      return;
    }
    const v = p + kl + 1;
    if (kl == BAGGAGE_LEN && bytesEqual(p, kl, BAGGAGE, BAGGAGE_LEN)) {
      if (bags++ == 0) bag = v;
      bagLen += (bags > 1 ? 1 : 0) + vl;
    } else if (kl == <u32>rhLen && bytesEqual(p, kl, rh, rhLen)) {
      state.headerCount++;
      if (isLaneRaw(v, vl) && config.allows(v, vl)) {
        if (!state.headerValid) { state.headerValid = true; hdr = v; hdrLen = vl; }
      } else invalid++;
    }
    p = v + vl + 1;
  }

  const key = changetype<usize>(config.baggageKeyBytes);
  const keyLen = config.baggageKeyBytes.byteLength;
  // Baggage that an untrusted gateway cannot check (no memory to join or strip it) is removed whole.
  let dropped = false;
  if (bags > 1 && (bagLen <= MAX_BAGGAGE || untrusted)) {
    const joined = joinBaggage(buf, n, bagLen);
    if (joined != 0) bag = joined;
    else if (untrusted) dropped = true;
    else return; // cannot happen below the cap: trusted baggage this size is at most MAX_BAGGAGE
  }
  let stripHeader = false;
  let stripped = false;
  if (untrusted) {
    // The client's lane is removed before lane assignment, from baggage of any size and in any spelling an
    // application's baggage reader would accept as the lane key.
    stripHeader = state.headerCount > 0;
    let laneStripped = false;
    if (!dropped && bags > 0) {
      let r = stripKey(bag, bagLen, key, keyLen);
      if (r > 0) { bag = strippedPtr; bagLen = strippedLen; laneStripped = true; }
      // hop_trace: a client cannot start a trace through baggage; only x-lane-tag-debug where allowed.
      if (r >= 0 && config.hopTrace) {
        r = stripKey(bag, bagLen, changetype<usize>(TRACE_KEY), TRACE_KEY.byteLength);
        if (r > 0) { bag = strippedPtr; bagLen = strippedLen; stripped = true; }
      }
      if (r < 0) dropped = true;
    }
    stripped = stripped || laneStripped;
    if (dropped) {
      bag = 0;
      bagLen = 0;
    }
    if (stripHeader || laneStripped) {
      state.headerCount = 0;
      state.headerValid = false;
      invalid = 0;
      count(dir, M_CLIENT_LANE_REMOVED);
    }
  }

  if (bagLen > MAX_BAGGAGE) {
    state.oversize = true;
    scan.reset();
  } else {
    scan.scan(bag, bagLen, key, keyLen, config);
  }
  invalid += scan.invalid;
  state.baggageValid = scan.found;
  state.baggageHasKey = scan.keyMembers > 0;
  state.same = state.headerValid && scan.laneIs(hdr, hdrLen);
  // Outbound rules give a lane-less request one from a fallback source; look only when they will need it.
  if (dir != DIR_INBOUND && !state.baggageValid && !state.headerValid) {
    clientInvalid = 0;
    state.fallback = fallback(root, config, buf, n);
    invalid += clientInvalid;
  }

  decide(dir, state, decision);

  // Writes, ordered so that a refused one leaves a valid request: a routing header that cannot be set is
  // removed (never an invalid or a client's lane left there), and baggage an untrusted gateway cannot
  // rewrite is removed whole.
  if (decision.setHeader) {
    const src = state.headerSrc;
    const lp = src == SRC_HEADER ? hdr : src == SRC_BAGGAGE ? scan.lane : fbPtr;
    const ll = src == SRC_HEADER ? hdrLen : src == SRC_BAGGAGE ? scan.laneLen : fbLen;
    if (!replaceHeader(rh, rhLen, lp, ll)) removeHeader(rh, rhLen);
    hdr = lp;
    hdrLen = ll;
  } else if (decision.removeHeader || stripHeader) {
    removeHeader(rh, rhLen);
  }
  let bagClean = !(stripped || dropped); // the client's lane members are gone from the request's baggage
  // What the request's baggage now holds (repeated headers joined), for hop_trace's member.
  let finalBag = bag;
  let finalLen = bagLen;
  if (decision.baggage != BAG_KEEP) {
    const src = state.baggageSrc;
    const lp = src == SRC_HEADER ? hdr : fbPtr;
    const ll = src == SRC_HEADER ? hdrLen : fbLen;
    const dst = scratch(rewriteBound(bagLen, keyLen));
    if (dst != 0) {
      const out = writeBaggage(bag, bagLen, key, keyLen, lp, ll, scan.anchor, dst);
      if (replaceHeader(BAGGAGE, BAGGAGE_LEN, dst, out)) {
        bagClean = true;
        finalBag = dst;
        finalLen = out;
        count(dir, decision.baggage == BAG_REPLACE ? M_BAGGAGE_REPLACED : M_BAGGAGE_ADDED);
      }
    }
  }
  if (!bagClean) {
    bagClean = bagLen > 0 ? replaceHeader(BAGGAGE, BAGGAGE_LEN, bag, bagLen) : removeHeader(BAGGAGE, BAGGAGE_LEN);
    if (!bagClean) { // fail closed: no client lane may leave an untrusted gateway
      removeHeader(BAGGAGE, BAGGAGE_LEN);
      dropped = true;
    }
  }
  if (dropped) {
    count(dir, M_BAGGAGE_DROPPED);
    finalLen = 0;
  }

  // correlation: an arriving request with a lane records it under its trace ids for the app's calls.
  if (config.correlation && dir != DIR_OUTBOUND && state.headerValid) recordTrace(dir, config, buf, n, hdr, hdrLen);

  const f = decision.found;
  // Observability (each off by default): per-lane counters, filter state, hop trace.
  if (config.observes) {
    observeRequest(root.laneMetrics, config, contextId, dir, buf, n, state.headerValid ? hdr : 0, state.headerValid ? hdrLen : 0, f,
      bag, bagLen, finalBag, finalLen, untrusted);
  }
  // Where the lane came from: per lane when lane_metrics is on (the same count, with the lane: one host call,
  // not two), else per direction.
  if (root.laneMetrics === null) {
    countInline(dir, f == SRC_BAGGAGE ? M_FROM_BAGGAGE : f == SRC_HEADER ? M_FROM_HEADER : f == SRC_DEFAULT ? M_FROM_DEFAULT :
      f == SRC_TRACE ? M_FROM_TRACE : f == SRC_LOCAL ? M_FROM_LOCAL : f == SRC_ASSIGN ? M_FROM_ASSIGN : f == SRC_CLIENT ? M_FROM_CLIENT : M_NO_LANE);
  }
  if (invalid > 0) count(dir, M_INVALID, invalid);
  if (state.oversize) count(dir, M_OVERSIZE);
  if (hostErrorCount() > 0) count(dir, M_HOST_ERROR, hostErrorCount());
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

/** Joins every `baggage` header value with "," into the arena (Envoy lists repeated headers in order). */
function joinBaggage(buf: usize, n: u32, total: i32): usize {
  const dst = scratch(total);
  if (dst == 0) return 0;
  let out = 0;
  let first = true;
  let p = buf + 4 + (<usize>n << 3);
  for (let i: u32 = 0; i < n; i++) {
    const kl = load<u32>(buf + 4 + (<usize>i << 3));
    const vl = load<u32>(buf + 8 + (<usize>i << 3));
    const v = p + kl + 1;
    if (kl == BAGGAGE_LEN && bytesEqual(p, kl, BAGGAGE, BAGGAGE_LEN)) {
      // One separator per header after the first, even around empty values: `total` counts them so.
      if (!first) store<u8>(dst + out++, 0x2c);
      first = false;
      memory.copy(dst + out, v, vl);
      out += vl;
    }
    p = v + vl + 1;
  }
  return dst;
}

// ---- fallback sources: lane_from, trace correlation, local lane, weighted choice, default ---------------

// Varies the weighted draw of requests without a sticky value that arrive within one clock tick.
let requestCounter: u64 = 0;

// ---- lane_from: the lane a client names in a header, a cookie or a query parameter ---------------------

const COOKIE = String.UTF8.encode("cookie");
const PATH = String.UTF8.encode(":path");
const QUERY_CAP: i32 = 256;
const QUERY_BUF = memory.data(QUERY_CAP);
// Values the client named that are no (allowed) lane, for invalid_lane.
let clientInvalid = 0;

/** The lane value v[0..len) names (through lane_from.values when given), at fbPtr/fbLen; false when none. */
function clientLane(config: Config, v: usize, len: i32): bool {
  const values = config.fromValueBytes;
  const k = values.length;
  if (k > 0) {
    for (let i = 0; i < k; i++) {
      const b = unchecked(values[i]);
      if (bytesEqual(changetype<usize>(b), b.byteLength, v, len)) {
        const lane = unchecked(config.fromLaneBytes[i]);
        fbPtr = changetype<usize>(lane);
        fbLen = lane.byteLength;
        return true;
      }
    }
  } else if (isLaneRaw(v, len) && config.allows(v, len)) {
    fbPtr = v; // in the header pairs or QUERY_BUF: valid until the end of this callback
    fbLen = len;
    return true;
  }
  clientInvalid++;
  return false;
}

/** lane_from's sources in order (header, cookie, query); each takes the first occurrence of its name. */
function fromClient(config: Config, buf: usize, n: u32): bool {
  if (config.fromHeaderBytes.byteLength > 0 && findHeader(buf, n, config.fromHeaderBytes) && clientLane(config, hvPtr, hvLen)) return true;
  const cookie = config.fromCookieBytes;
  if (cookie.byteLength > 0) {
    let p = buf + 4 + (<usize>n << 3);
    for (let i: u32 = 0; i < n; i++) {
      const kl = load<u32>(buf + 4 + (<usize>i << 3));
      const vl = load<u32>(buf + 8 + (<usize>i << 3));
      const v = p + kl + 1;
      if (kl == 6 && bytesEqual(p, 6, changetype<usize>(COOKIE), 6)) {
        const r = cookieValue(v, vl, changetype<usize>(cookie), cookie.byteLength);
        if (r >= 0) {
          if (clientLane(config, v + <usize>(r >> 32), <i32>r)) return true;
          break;
        }
      }
      p = v + vl + 1;
    }
  }
  const query = config.fromQueryBytes;
  if (query.byteLength > 0 && findHeader(buf, n, PATH)) {
    const r = queryValue(hvPtr, hvLen, changetype<usize>(query), query.byteLength, QUERY_BUF, QUERY_CAP);
    if (r >= 0) return clientLane(config, QUERY_BUF, r);
    if (r == -2) clientInvalid++;
  }
  return false;
}

function fallback(root: Root, config: Config, buf: usize, n: u32): u8 {
  if (config.hasLaneFrom && fromClient(config, buf, n)) return SRC_CLIENT;
  if (config.correlation && traceLane(config, buf, n)) {
    fbPtr = tracedPtr; // in the host arena until the end of this callback
    fbLen = tracedLen;
    return SRC_TRACE;
  }
  if (root.localLane.byteLength > 0) {
    fbPtr = changetype<usize>(root.localLane);
    fbLen = root.localLane.byteLength;
    return SRC_LOCAL;
  }
  const lanes = config.assignLaneBytes.length;
  if (lanes > 0) {
    let key: u64;
    if (config.stickyHeaderBytes.byteLength > 0 && findHeader(buf, n, config.stickyHeaderBytes) && hvLen > 0) {
      key = hash64(hvPtr, hvLen);
    } else {
      // No user to stick to: any request-unique value will do.
      key = mix64(nowNs() ^ (++requestCounter * 0x9e3779b97f4a7c15));
    }
    const i = pickLane(key, config.assignSeeds, config.assignWeightsF);
    if (i >= 0) {
      const b = unchecked(config.assignLaneBytes[i]);
      fbPtr = changetype<usize>(b);
      fbLen = b.byteLength;
      return SRC_ASSIGN;
    }
  }
  if (config.defaultLaneBytes.byteLength > 0) {
    fbPtr = changetype<usize>(config.defaultLaneBytes);
    fbLen = config.defaultLaneBytes.byteLength;
    return SRC_DEFAULT;
  }
  return SRC_NONE;
}

// The request pipeline: what the filter does with a request's headers, as stages called in order by
// onRequest. Rules: no logging, no strings, no GC allocation; host data is read in place (abi/host.ts); a
// host failure leaves a valid request, and an untrusted gateway fails closed.
//
// A carrier (a header the apps' propagators forward the lane in) is a module of this folder with its read,
// strip and write (baggage.ts; its grammar pure in carriers/), called from the stages below; a carrier the
// configuration does not name must cost nothing here beyond the check that skips it.
//
// The stages are @inline: compiled, the request path stays one function with no calls between stages; what
// they share lives in globals (request.ts, baggage.ts), which no stage allocates.
import { Config, DIR_AUTO, DIR_INBOUND, DIR_OUTBOUND, DIR_BOTH, CARRIER_BAGGAGE } from "../config/config";
import { bytesEqual } from "../bytes/lane";
import {
  decide, SRC_NONE, SRC_BAGGAGE, SRC_HEADER, SRC_DEFAULT, SRC_TRACE, SRC_LOCAL, SRC_ASSIGN, SRC_CLIENT,
} from "../lane/decide";
import { recordTrace } from "./correlation";
import { observeRequest } from "../observe/observe";
import {
  count, countInline, M_FROM_BAGGAGE, M_FROM_HEADER, M_FROM_DEFAULT, M_NO_LANE, M_INVALID, M_OVERSIZE,
  M_CLIENT_LANE_REMOVED, M_FROM_TRACE, M_FROM_LOCAL, M_FROM_ASSIGN, M_HOST_ERROR, M_FROM_CLIENT,
} from "../observe/metrics";
import {
  readPtr, readSize, getProperty, replaceHeader, removeHeader, resetHostErrors, hostErrorCount,
  PROP_DIRECTION_LEGACY, PROP_DIRECTION_XDS, RESULT_OK, RESULT_NOT_FOUND,
} from "../abi/host";
import { Req, state, decision } from "./request";
import { readHeaders } from "./read";
import { Bag, scan, stripBaggage, readBaggageLane, writeBaggageLane } from "./baggage";
import { fallback, fbPtr, fbLen } from "./fallback";
import { Won, Other, stripOtherCarriers, findCarrierLane, writeOtherCarriers } from "./carriers";
import { Root } from "./root";

export function onRequest(root: Root, config: Config, contextId: u32): void {
  resetHostErrors();
  const dir = resolveDirection(root, config);
  // An operator who does not trust clients (a gateway) has their lane removed in every direction: Istio and
  // ASM report gateways as outbound listeners.
  const untrusted = !config.trustClientLane;
  if (!readHeaders(config, dir, untrusted)) return;
  const headerStripped = untrusted && stripClientLanes(config, dir);
  findLane(root, config, dir);
  decide(dir, state, decision);
  writeCarriers(config, dir, headerStripped);
  record(config, dir);
  observe(root, config, contextId, dir, untrusted);
}

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

/**
 * Untrusted: the client's lane is removed from every carrier before any lane is found or assigned. True when
 * the request has the routing header, which the writes then remove whatever the decision.
 */
// @ts-ignore: decorator
@inline function stripClientLanes(config: Config, dir: i32): bool {
  const stripHeader = state.headerCount > 0;
  const laneStripped = stripBaggage(config);
  // (The read noted whether the client sent any of the other carriers' headers: most requests did not.)
  const otherStripped = (Other.clientNames | Other.jaegerBaggage | Other.tsCount) != 0 && stripOtherCarriers(config, Req.buf, Req.n);
  if (stripHeader || laneStripped || otherStripped) {
    state.headerCount = 0;
    state.headerValid = false;
    Req.invalid = 0;
    count(dir, M_CLIENT_LANE_REMOVED);
  }
  return stripHeader;
}

/**
 * The lane the carriers hold (the first configured carrier with a valid lane: Won), then, where outbound
 * rules will need one, a fallback source's.
 */
// @ts-ignore: decorator
@inline function findLane(root: Root, config: Config, dir: i32): void {
  readBaggageLane(config);
  if (config.carrierMask == CARRIER_BAGGAGE) {
    Won.ptr = scan.lane;
    Won.len = scan.found ? scan.laneLen : 0;
    Won.conflict = false;
    state.same = state.headerValid && scan.laneIs(Req.hdr, Req.hdrLen);
  } else {
    findCarrierLane(config, dir, Req.buf, Req.n);
    state.baggageValid = Won.len > 0;
    state.same = state.headerValid && Won.len > 0 && bytesEqual(Won.ptr, Won.len, Req.hdr, Req.hdrLen);
  }
  // Outbound rules give a lane-less request one from a fallback source; look only when they will need it.
  if (dir != DIR_INBOUND && !state.baggageValid && !state.headerValid) {
    state.fallback = fallback(root, config, Req.buf, Req.n);
  }
}

/**
 * The writes, ordered so that a refused one leaves a valid request: a routing header that cannot be set is
 * removed (never an invalid or a client's lane left there), then the carriers (baggage.ts says how each
 * keeps a client's lane from leaving an untrusted gateway).
 */
// @ts-ignore: decorator
@inline function writeCarriers(config: Config, dir: i32, stripHeader: bool): void {
  const rh = changetype<usize>(config.routingHeaderBytes);
  const rhLen = config.routingHeaderBytes.byteLength;
  if (decision.setHeader) {
    const src = state.headerSrc;
    const lp = src == SRC_HEADER ? Req.hdr : src == SRC_BAGGAGE ? Won.ptr : fbPtr;
    const ll = src == SRC_HEADER ? Req.hdrLen : src == SRC_BAGGAGE ? Won.len : fbLen;
    if (!replaceHeader(rh, rhLen, lp, ll)) removeHeader(rh, rhLen);
    Req.hdr = lp;
    Req.hdrLen = ll;
  } else if (decision.removeHeader || stripHeader) {
    removeHeader(rh, rhLen);
  }
  // The carriers' lane: decision.carry's, which is baggage's, or, where baggage is oversize, what it would be.
  const fromHeader = decision.carry == SRC_HEADER;
  let lp = fromHeader ? Req.hdr : fbPtr;
  let ll = fromHeader ? Req.hdrLen : fbLen;
  let write = decision.carry != SRC_NONE;
  // Carriers that disagree are made to agree on the lane that won, so no app reads the loser.
  if (!write && Won.conflict) { write = true; lp = Won.ptr; ll = Won.len; }
  const toBaggage = write && !state.oversize && (config.carrierMask & CARRIER_BAGGAGE) != 0 && !(scan.keyMembers == 1 && scan.laneIs(lp, ll));
  writeBaggageLane(config, dir, lp, ll, toBaggage);
  if (config.carrierMask == CARRIER_BAGGAGE) return;
  if (write) writeOtherCarriers(config, Req.buf, Req.n, lp, ll);
  // To an app, the lane also goes to a carrier that lacks it: an SDK whose later propagator replaces the
  // trace context (ottrace after tracecontext) drops the tracestate the lane was in, but keeps ot baggage.
  else if (dir != DIR_OUTBOUND && state.headerValid) writeOtherCarriers(config, Req.buf, Req.n, Req.hdr, Req.hdrLen);
}

/** correlation: an arriving request with a lane records it under its trace ids for the app's calls. */
// @ts-ignore: decorator
@inline function record(config: Config, dir: i32): void {
  if (config.correlation && dir != DIR_OUTBOUND && state.headerValid) recordTrace(dir, config, Req.buf, Req.n, Req.hdr, Req.hdrLen);
}

// The counter of each lane source: a nibble per SRC_* value (decide.ts), so counter indexes must stay below 16.
const FROM_METRIC: u32 = <u32>M_NO_LANE << (SRC_NONE * 4) | <u32>M_FROM_BAGGAGE << (SRC_BAGGAGE * 4) |
  <u32>M_FROM_HEADER << (SRC_HEADER * 4) | <u32>M_FROM_DEFAULT << (SRC_DEFAULT * 4) | <u32>M_FROM_TRACE << (SRC_TRACE * 4) |
  <u32>M_FROM_LOCAL << (SRC_LOCAL * 4) | <u32>M_FROM_ASSIGN << (SRC_ASSIGN * 4) | <u32>M_FROM_CLIENT << (SRC_CLIENT * 4);

/** The counters, and the observability features (each off by default): per-lane counters, filter state, hop trace. */
// @ts-ignore: decorator
@inline function observe(root: Root, config: Config, contextId: u32, dir: i32, untrusted: bool): void {
  const f = decision.found;
  if (config.observes) {
    const lane = state.headerValid ? Req.hdr : 0;
    const laneLen = state.headerValid ? Req.hdrLen : 0;
    observeRequest(root.laneMetrics, config, contextId, dir, Req.buf, Req.n, lane, laneLen, f, Bag.ptr, Bag.len, Bag.finalPtr, Bag.finalLen, untrusted);
  }
  // Where the lane came from: per lane when lane_metrics is on (the same count, with the lane: one host call,
  // not two), else per direction.
  if (root.laneMetrics === null) {
    countInline(dir, <i32>(FROM_METRIC >> ((<u32>f & 7) << 2) & 15));
  }
  // The routing header's and lane_from's, baggage's, and the other carriers' (Other: only read when configured).
  const invalid = Req.invalid + scan.invalid + (config.carrierMask != CARRIER_BAGGAGE ? Other.invalid : 0);
  if (invalid > 0) count(dir, M_INVALID, invalid);
  if (state.oversize) count(dir, M_OVERSIZE);
  if (hostErrorCount() > 0) count(dir, M_HOST_ERROR, hostErrorCount());
}

// The request pipeline: what the filter does with a request's headers, as stages called in order by
// onRequest. Rules: no logging, no strings, no GC allocation; host data is read in place (abi/host.ts); a
// host failure leaves a valid request, and an untrusted gateway fails closed.
//
// A carrier (a header the apps' propagators forward the lane in) is a module of carriers/ with its note,
// strip, read and write, behind carriers/carrier.ts (its grammar pure in grammar/); the stages below loop
// over the configured ones, and a carrier the configuration does not name costs nothing here beyond the
// check that skips it.
//
// The stages are @inline: compiled, the request path stays one function with no calls between stages. What
// they share is named in the one Request (lane/request.ts), static fields no stage allocates.
import { Config, DIR_AUTO, DIR_INBOUND, DIR_OUTBOUND, DIR_BOTH } from "../config/config";
import { CARRIER_BAGGAGE } from "../config/carrier-table";
import { bytesEqual } from "../bytes/lane";
import {
  decide, SRC_NONE, SRC_BAGGAGE, SRC_HEADER, SRC_DEFAULT, SRC_TRACE, SRC_LOCAL, SRC_ASSIGN, SRC_CLIENT,
} from "../lane/decide";
import { Request } from "../lane/request";
import { observeRequest } from "../observe/observe";
import {
  count, countInline, M_FROM_BAGGAGE, M_FROM_HEADER, M_FROM_DEFAULT, M_NO_LANE, M_INVALID, M_OVERSIZE,
  M_CLIENT_LANE_REMOVED, M_FROM_TRACE, M_FROM_LOCAL, M_FROM_ASSIGN, M_HOST_ERROR, M_FROM_CLIENT,
} from "../observe/metrics";
import { stripBaggage, readBaggageLane, writeBaggageLane } from "../carriers/baggage";
import { clientCarriers, stripCarriers } from "../carriers/carrier";
import {
  readPtr, readSize, getProperty, replaceHeader, removeHeader, resetHostErrors, hostErrorCount,
  PROP_DIRECTION_LEGACY, PROP_DIRECTION_XDS, RESULT_OK, RESULT_NOT_FOUND,
} from "../abi/host";
import { recordTrace } from "./correlation";
import { readHeaders } from "./read";
import { fallback } from "./fallback";
import { findCarrierLane, writeCarrierLanes } from "./carriers";
import { Root } from "./root";

export function onRequest(root: Root, config: Config, contextId: u32): void {
  resetHostErrors();
  Request.contextId = contextId;
  Request.dir = resolveDirection(root, config);
  // An operator who does not trust clients (a gateway) has their lane removed in every direction: Istio and
  // ASM report gateways as outbound listeners.
  Request.untrusted = !config.trustClientLane;
  if (!readHeaders(config)) return;
  const headerStripped = Request.untrusted && stripClientLanes(config);
  findLane(root, config);
  decide(Request.dir, Request.state, Request.decision);
  writeCarriers(config, headerStripped);
  record(config);
  observe(root, config);
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
@inline function stripClientLanes(config: Config): bool {
  const state = Request.state;
  const stripHeader = state.headerCount > 0;
  const laneStripped = stripBaggage(config);
  const otherStripped = clientCarriers() && stripCarriers(config);
  if (stripHeader || laneStripped || otherStripped) {
    state.headerCount = 0;
    state.headerValid = false;
    Request.invalid = 0;
    count(Request.dir, M_CLIENT_LANE_REMOVED);
  }
  return stripHeader;
}

/**
 * The lane the carriers hold (the first configured carrier with a valid lane: Request.wonPtr/wonLen), then,
 * where outbound rules will need one, a fallback source's.
 */
// @ts-ignore: decorator
@inline function findLane(root: Root, config: Config): void {
  const state = Request.state;
  const scan = Request.scan;
  readBaggageLane(config);
  if (config.carrierMask == CARRIER_BAGGAGE) {
    Request.wonPtr = scan.lane;
    Request.wonLen = scan.found ? scan.laneLen : 0;
    Request.conflict = false;
    state.same = state.headerValid && scan.laneIs(Request.hdr, Request.hdrLen);
  } else {
    findCarrierLane(config);
    state.baggageValid = Request.wonLen > 0;
    state.same = state.headerValid && Request.wonLen > 0 && bytesEqual(Request.wonPtr, Request.wonLen, Request.hdr, Request.hdrLen);
  }
  // Outbound rules give a lane-less request one from a fallback source; look only when they will need it.
  if (Request.dir != DIR_INBOUND && !state.baggageValid && !state.headerValid) {
    state.fallback = fallback(root, config);
  }
}

/**
 * The writes, ordered so that a refused one leaves a valid request: a routing header that cannot be set is
 * removed (never an invalid or a client's lane left there), then the carriers (carriers/baggage.ts says how
 * each keeps a client's lane from leaving an untrusted gateway).
 */
// @ts-ignore: decorator
@inline function writeCarriers(config: Config, stripHeader: bool): void {
  const decision = Request.decision;
  const rh = changetype<usize>(config.routingHeaderBytes);
  const rhLen = config.routingHeaderBytes.byteLength;
  if (decision.setHeader) {
    const src = Request.state.headerSrc;
    const lp = src == SRC_HEADER ? Request.hdr : src == SRC_BAGGAGE ? Request.wonPtr : Request.fbPtr;
    const ll = src == SRC_HEADER ? Request.hdrLen : src == SRC_BAGGAGE ? Request.wonLen : Request.fbLen;
    if (!replaceHeader(rh, rhLen, lp, ll)) removeHeader(rh, rhLen);
    Request.hdr = lp;
    Request.hdrLen = ll;
  } else if (decision.removeHeader || stripHeader) {
    removeHeader(rh, rhLen);
  }
  // The carriers' lane: decision.carry's, which is baggage's, or, where baggage is oversize, what it would be.
  const fromHeader = decision.carry == SRC_HEADER;
  let lp = fromHeader ? Request.hdr : Request.fbPtr;
  let ll = fromHeader ? Request.hdrLen : Request.fbLen;
  let write = decision.carry != SRC_NONE;
  // Carriers that disagree are made to agree on the lane that won, so no app reads the loser.
  if (!write && Request.conflict) { write = true; lp = Request.wonPtr; ll = Request.wonLen; }
  const scan = Request.scan;
  const toBaggage = write && !Request.state.oversize && (config.carrierMask & CARRIER_BAGGAGE) != 0 && !(scan.keyMembers == 1 && scan.laneIs(lp, ll));
  writeBaggageLane(config, lp, ll, toBaggage);
  if (config.carrierMask == CARRIER_BAGGAGE) return;
  if (write) writeCarrierLanes(config, lp, ll);
  // To an app, the lane also goes to a carrier that lacks it: an SDK whose later propagator replaces the
  // trace context (ottrace after tracecontext) drops the tracestate the lane was in, but keeps ot baggage.
  else if (Request.dir != DIR_OUTBOUND && Request.state.headerValid) writeCarrierLanes(config, Request.hdr, Request.hdrLen);
}

/** correlation: an arriving request with a lane records it under its trace ids for the app's calls. */
// @ts-ignore: decorator
@inline function record(config: Config): void {
  if (config.correlation && Request.dir != DIR_OUTBOUND && Request.state.headerValid) recordTrace(config);
}

// The counter of each lane source: a nibble per SRC_* value (lane/decide.ts), so counter indexes must stay below 16.
const FROM_METRIC: u32 = <u32>M_NO_LANE << (SRC_NONE * 4) | <u32>M_FROM_BAGGAGE << (SRC_BAGGAGE * 4) |
  <u32>M_FROM_HEADER << (SRC_HEADER * 4) | <u32>M_FROM_DEFAULT << (SRC_DEFAULT * 4) | <u32>M_FROM_TRACE << (SRC_TRACE * 4) |
  <u32>M_FROM_LOCAL << (SRC_LOCAL * 4) | <u32>M_FROM_ASSIGN << (SRC_ASSIGN * 4) | <u32>M_FROM_CLIENT << (SRC_CLIENT * 4);

/** The counters, and the observability features (each off by default): per-lane counters, filter state, hop trace. */
// @ts-ignore: decorator
@inline function observe(root: Root, config: Config): void {
  const f = Request.decision.found;
  const dir = Request.dir;
  if (config.observes) observeRequest(root.laneMetrics, config);
  // Where the lane came from: per lane when lane_metrics is on (the same count, with the lane: one host call,
  // not two), else per direction.
  if (root.laneMetrics === null) {
    countInline(dir, <i32>(FROM_METRIC >> ((<u32>f & 7) << 2) & 15));
  }
  // The routing header's and lane_from's, baggage's, and the other carriers' (only read when configured).
  const invalid = Request.invalid + Request.scan.invalid + (config.carrierMask != CARRIER_BAGGAGE ? Request.carrierInvalid : 0);
  if (invalid > 0) count(dir, M_INVALID, invalid);
  if (Request.state.oversize) count(dir, M_OVERSIZE);
  if (hostErrorCount() > 0) count(dir, M_HOST_ERROR, hostErrorCount());
}

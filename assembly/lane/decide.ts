// The lane decision: which lane a request is in and what to change so it stays there. Pure and tiny; the
// pipeline (pipeline/filter.ts) feeds it what it saw in the headers and applies what it returns.
import { DIR_INBOUND, DIR_OUTBOUND } from "../config/config";

// Where a lane came from.
export const SRC_NONE: u8 = 0;
export const SRC_BAGGAGE: u8 = 1;
export const SRC_HEADER: u8 = 2;
export const SRC_DEFAULT: u8 = 3;
export const SRC_TRACE: u8 = 4; // restored from the trace id (correlation)
export const SRC_LOCAL: u8 = 5; // the workload's own lane label (local_lane)
export const SRC_ASSIGN: u8 = 6; // chosen by weight (assign)
export const SRC_CLIENT: u8 = 7; // named by the client where lane_from says (a header, cookie or query)

// What to do with baggage.
export const BAG_KEEP: u8 = 0;
export const BAG_ADD: u8 = 1;
export const BAG_REPLACE: u8 = 2;

/** What the request carries. Set by the caller, then updated in place by decide(). */
export class LaneState {
  /** Number of routing header values, and whether one of them is a valid lane (the first valid one). */
  headerCount: i32 = 0;
  headerValid: bool = false;
  /** Source of the header's lane once the filter has set it (SRC_HEADER while untouched). */
  headerSrc: u8 = SRC_HEADER;
  /** Baggage carries a valid lane member; any member with the lane key; baggage too big to parse. */
  baggageValid: bool = false;
  baggageSrc: u8 = SRC_BAGGAGE;
  baggageHasKey: bool = false;
  oversize: bool = false;
  /** Header lane and baggage lane are both valid and equal. */
  same: bool = false;
  /** Where an outbound request without a lane gets one (trace, local, assign, default), or SRC_NONE. */
  fallback: u8 = SRC_NONE;

  reset(): void {
    this.headerCount = 0;
    this.headerValid = false;
    this.headerSrc = SRC_HEADER;
    this.baggageValid = false;
    this.baggageSrc = SRC_BAGGAGE;
    this.baggageHasKey = false;
    this.oversize = false;
    this.same = false;
    this.fallback = SRC_NONE;
  }

  /** Exactly one routing header and it is valid: nothing to clean up. */
  headerClean(): bool { return this.headerCount == 1 && this.headerValid; }
}

export class Decision {
  /** How the lane was found (for metrics): the first rule that matched. */
  found: u8 = SRC_NONE;
  /** Replace the routing header(s) with one header holding the lane from `headerSrc`. */
  setHeader: bool = false;
  /** Remove the routing header(s): none of them is a valid lane and there is no lane to put there. */
  removeHeader: bool = false;
  /** Add or replace the lane member of baggage with the lane from `baggageSrc`. */
  baggage: u8 = BAG_KEEP;
  /** The source of the lane the carriers must hold (SRC_NONE: leave them), set even where baggage is oversize. */
  carry: u8 = SRC_NONE;

  reset(): void {
    this.found = SRC_NONE;
    this.setHeader = false;
    this.removeHeader = false;
    this.baggage = BAG_KEEP;
    this.carry = SRC_NONE;
  }
}

// The carriers must hold the lane from `src`: baggage, unless oversize, and the other configured carriers.
function putInBaggage(st: LaneState, d: Decision, src: u8): void {
  d.carry = src;
  if (st.oversize) return; // not parsed, so not rewritten: passed on untouched
  d.baggage = st.baggageHasKey || d.baggage == BAG_REPLACE ? BAG_REPLACE : BAG_ADD;
  st.baggageValid = true;
  st.baggageHasKey = true;
  st.baggageSrc = src;
  st.same = st.headerValid && st.headerSrc == src;
}

// The routing header must be exactly one header holding the lane from `src`.
function putInHeader(st: LaneState, d: Decision, src: u8): void {
  d.setHeader = true;
  d.removeHeader = false;
  // Only a header that now holds another lane changes whether header and baggage agree.
  if (!st.headerValid || src != st.headerSrc) st.same = st.baggageValid && st.baggageSrc == src;
  st.headerCount = 1;
  st.headerValid = true;
  st.headerSrc = src;
}

function inbound(st: LaneState, d: Decision): void {
  if (st.headerValid) {
    // The mesh routed this request by the header: baggage must say the same, so the app carries it on.
    if (d.found == SRC_NONE) d.found = SRC_HEADER;
    if (!st.headerClean()) putInHeader(st, d, st.headerSrc);
    if (!st.same) putInBaggage(st, d, st.headerSrc);
  } else if (st.baggageValid) {
    if (d.found == SRC_NONE) d.found = SRC_BAGGAGE;
    putInHeader(st, d, st.baggageSrc);
  } else if (st.headerCount > 0) {
    d.removeHeader = true;
  }
}

function outbound(st: LaneState, d: Decision): void {
  if (st.baggageValid) {
    // Baggage is what the app propagated: it wins over a stale header.
    if (d.found == SRC_NONE) d.found = SRC_BAGGAGE;
    if (!(st.headerClean() && st.same)) putInHeader(st, d, st.baggageSrc);
  } else if (st.headerValid) {
    if (d.found == SRC_NONE) d.found = SRC_HEADER;
    if (!st.headerClean()) putInHeader(st, d, st.headerSrc);
    putInBaggage(st, d, st.headerSrc);
  } else if (st.fallback != SRC_NONE) {
    const src = st.fallback;
    if (d.found == SRC_NONE) d.found = src;
    putInHeader(st, d, src);
    putInBaggage(st, d, src);
  } else if (st.headerCount > 0) {
    d.removeHeader = true;
  }
}

/** Decides for direction `dir` (inbound, outbound, or both: inbound rules then outbound rules). */
export function decide(dir: i32, st: LaneState, d: Decision): void {
  d.reset();
  if (dir != DIR_OUTBOUND) inbound(st, d);
  if (dir != DIR_INBOUND) outbound(st, d);
}

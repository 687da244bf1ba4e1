// The request in hand: every piece of state the pipeline's stages share is named here, as a static field of
// Request (a wasm global: the request path reads and writes them as cheaply as locals' neighbours, where an
// instance's fields would each cost a load through its pointer, about 1 KB of module over the request
// path). Objects and lane buffers are made once at start and reset per request, so no stage allocates.
// Pointers are into the host arena or the module's own, valid until the end of the callback. (The host
// errors of the request are counted where the host calls are: abi/host.ts hostErrorCount.)
import { LaneState, Decision } from "./decide";
import { LaneScan } from "../grammar/baggage";
import { MAX_LANE } from "../bytes/lane";
import { CARRIER_COUNT } from "../config/carrier-table";

/**
 * What the read noted of one carrier beside baggage, and the lane found there; carriers/<name>.ts says what
 * each field holds for it. Lengths of -1 mean absent. A view of a fixed block (Request.carrier): no object
 * is made for it, and its address is a constant in the code that uses it.
 */
// @ts-ignore: decorator
@unmanaged export class CarrierState {
  /** The carrier's lane headers: how many, the first one's value (or all of them joined, `len` their length). */
  count: i32;
  value: usize;
  len: i32;
  /** The trace context the carrier's readers require (ottrace: trace id and span id; tracestate: traceparent). */
  ctx: usize;
  ctxLen: i32;
  ctx2: usize;
  ctx2Len: i32;
  /** Other headers of the carrier a client's lane may hide in (jaeger: jaeger-baggage). */
  extra: i32;
  /** The length of the lane read: > 0 a lane, 0 none, -1 not an (allowed) lane. */
  laneLen: i32;

  /** The lane read, decoded: MAX_LANE bytes after the fields. */
  // @ts-ignore: decorator
  @inline get lane(): usize { return changetype<usize>(this) + offsetof<CarrierState>(); }

  reset(): void {
    this.count = 0;
    this.len = 0;
    this.ctxLen = -1;
    this.ctx2Len = -1;
    this.extra = 0;
    this.laneLen = 0;
  }
}

const STATE_SIZE: usize = (offsetof<CarrierState>() + <usize>MAX_LANE + 7) & ~(<usize>7);
const STATES = memory.data(<i32>STATE_SIZE * CARRIER_COUNT, 8);

export class Request {
  static contextId: u32 = 0;
  /** The resolved direction (DIR_INBOUND, _OUTBOUND or _BOTH), and whether the client's lane is untrusted. */
  static dir: i32 = 0;
  static untrusted: bool = false;
  /** The header pairs (Envoy's layout, abi/pairs.ts) and their number. */
  static buf: usize = 0;
  static n: u32 = 0;
  /** The routing header's first valid lane; once the header is written, the lane written there. */
  static hdr: usize = 0;
  static hdrLen: i32 = 0;
  /** Values of the routing header and of lane_from that are no (allowed) lane, for invalid_lane (baggage's: scan). */
  static invalid: i32 = 0;
  /** What the carriers show (filled by the stages) and what decide() makes of it. */
  static state: LaneState = new LaneState();
  static decision: Decision = new Decision();
  /** The baggage to read and write (carriers/baggage.ts): repeated headers joined, the client's members stripped (0, 0: none). */
  static bagPtr: usize = 0;
  static bagLen: i32 = 0;
  /** What the request's baggage header must become whatever the decision: AS_SENT, STRIPPED or DROPPED (carriers/baggage.ts). */
  static bagFate: u8 = 0;
  /** What the request's baggage holds once written, for hop_trace's member (len 0 when removed). */
  static bagFinalPtr: usize = 0;
  static bagFinalLen: i32 = 0;
  /** What the scan of the baggage found about the lane member. */
  static scan: LaneScan = new LaneScan();

  /** Untrusted: client headers named for the key in a header-name carrier (uberctx-, ot-baggage-). */
  static clientNames: i32 = 0;
  /** The other carriers' lane values that are no (allowed) lane, for invalid_lane. */
  static carrierInvalid: i32 = 0;
  /** The carriers' winning lane (the first configured carrier with a valid lane), and whether another named a different one. */
  static wonPtr: usize = 0;
  static wonLen: i32 = 0;
  static conflict: bool = false;
  /** The lane a fallback source found (pipeline/fallback.ts). */
  static fbPtr: usize = 0;
  static fbLen: i32 = 0;

  /** The other carriers, by slot (carrierSlot), only reset and read when configured or stripped. */
  // @ts-ignore: decorator
  @inline static carrier(slot: i32): CarrierState { return changetype<CarrierState>(STATES + <usize>slot * STATE_SIZE); }
}

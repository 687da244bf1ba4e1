// The request side of lane observability, each part off by default: per-lane counters (lane_metrics),
// the lane and its source as Envoy filter state (filter_state), and hop_trace's start and marking of
// traced streams (hop-trace.ts has the response side).
import { Config, DIR_INBOUND, DIR_OUTBOUND } from "../config/config";
import { LaneMetrics, sourceName } from "./lane-metrics";
import { TRACE_KEY, TOKEN_LEN, traceToken, writeHex16 } from "./hop";
import { startHop, TRACE_HEADER, DEBUG_HEADER, HOP_ENTRY, HOP_COLLECT, HOP_BOTH, HOP_EDGE } from "./hop-trace";
import { findHeader, hvPtr, hvLen } from "../abi/pairs";
import { BAGGAGE, BAGGAGE_LEN } from "../grammar/baggage";
import { mix64 } from "../bytes/hash";
import { Request } from "../lane/request";
import { scratch, setProperty, replaceHeader, removeHeader, nowNs } from "../abi/host";

// Envoy keeps a property set by the filter as filter state wasm.<path>: %FILTER_STATE(wasm.lane_tag.lane:PLAIN)%.
const PROP_LANE = String.UTF8.encode("lane_tag.lane");
const PROP_SOURCE = String.UTF8.encode("lane_tag.source");
const SOURCES: ArrayBuffer[] = [];
for (let i: u8 = 0; i < 8; i++) SOURCES.push(String.UTF8.encode(sourceName(i)));

/** The request's lane (the routing header's, once written) counted, as filter state, and hop_trace's start. */
export function observeRequest(metrics: LaneMetrics | null, config: Config): void {
  const lane = Request.state.headerValid ? Request.hdr : 0;
  const laneLen = Request.state.headerValid ? Request.hdrLen : 0;
  const src = Request.decision.found;
  if (metrics !== null) metrics.count(Request.dir, lane, laneLen, src);
  if (config.filterState && laneLen > 0) {
    setProperty(PROP_LANE, lane, laneLen);
    const s = unchecked(SOURCES[src & 7]);
    setProperty(PROP_SOURCE, changetype<usize>(s), s.byteLength);
  }
  if (config.hopTrace) hopRequest(config, lane, laneLen);
}

const TOKEN = memory.data(TOKEN_LEN);
let tokens: u64 = 0;

function hopRequest(config: Config, lane: usize, laneLen: i32): void {
  const contextId = Request.contextId;
  const dir = Request.dir;
  const buf = Request.buf;
  const n = Request.n;
  const bag = Request.bagPtr;
  const bagLen = Request.bagLen;
  const finalBag = Request.bagFinalPtr;
  const finalLen = Request.bagFinalLen;
  if (Request.untrusted) {
    // A client's own trace header never reaches the mesh.
    if (findHeader(buf, n, TRACE_HEADER)) removeHeader(changetype<usize>(TRACE_HEADER), TRACE_HEADER.byteLength);
  } else if (bagLen > 0) {
    // Baggage from a trusted peer (a stripped client member never gets here): this stream is traced.
    const t = traceToken(bag, bagLen);
    if (t >= 0) {
      startHop(contextId, dir == DIR_INBOUND ? HOP_ENTRY : dir == DIR_OUTBOUND ? HOP_COLLECT : HOP_BOTH, bag + t, lane, laneLen);
      return;
    }
  }
  if (!config.traceAccept || !findHeader(buf, n, DEBUG_HEADER) || hvLen != 1 || load<u8>(hvPtr) != 0x31) return;
  // Start a trace: a fresh token in a baggage member the apps carry on.
  writeHex16(TOKEN, mix64(nowNs() ^ (++tokens * 0x9e3779b97f4a7c15)));
  const keyLen = TRACE_KEY.byteLength;
  const size = finalLen + 1 + keyLen + 1 + TOKEN_LEN;
  const dst = scratch(size);
  if (dst == 0) return;
  let o = 0;
  if (finalLen > 0) {
    memory.copy(dst, finalBag, finalLen);
    o = finalLen;
    store<u8>(dst + o++, 0x2c);
  }
  memory.copy(dst + o, changetype<usize>(TRACE_KEY), keyLen);
  o += keyLen;
  store<u8>(dst + o++, 0x3d);
  memory.copy(dst + o, TOKEN, TOKEN_LEN);
  o += TOKEN_LEN;
  if (replaceHeader(BAGGAGE, BAGGAGE_LEN, dst, o)) startHop(contextId, HOP_EDGE, TOKEN, 0, 0);
}

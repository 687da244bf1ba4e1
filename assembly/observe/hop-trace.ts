// hop_trace on the wire: which streams are traced, and the response side. A traced request carries the
// baggage member lane-tag-trace=<token> (the apps forward it with their baggage). Inbound, a sidecar adds
// its entry (workload@lane, and the lane asked for when it differs) in front of the entries its own
// outbound calls brought back, which it collected in shared data under the token (the app does not copy
// response headers); outbound, it collects the x-lane-tag-trace of the upstream's response there. An
// untrusted gateway (the edge) starts traces only from x-lane-tag-debug: 1 where allowed, and removes
// the header from responses to untraced requests. Only traced streams have a record: untraced ones cost
// one table lookup on the response.
import { StreamTable } from "../abi/streams";
import {
  TOKEN_LEN, MAX_TRACE, MAX_SLOT, RECORD_HEAD, writeTraceEntry, traceEntryBound, findRecord, recordLen, copyOthers,
  writeRecord,
} from "./hop";
import {
  scratch, readPtr, readSize, readCas, readShared, writeShared, readResponseHeader, replaceResponseHeader,
  removeResponseHeader, nowNs, RESULT_CAS_MISMATCH,
} from "../abi/host";

export const TRACE_HEADER = String.UTF8.encode("x-lane-tag-trace");
export const DEBUG_HEADER = String.UTF8.encode("x-lane-tag-debug");

// What a traced stream does on its response.
export const HOP_ENTRY: u8 = 1; // a sidecar's inbound: add this workload's entry
export const HOP_COLLECT: u8 = 2; // a sidecar's outbound: keep the upstream's entries for the inbound side
export const HOP_BOTH: u8 = 3; // a proxy that is both (direction unknown): its entry before the upstream's
export const HOP_EDGE: u8 = 4; // the gateway that started the trace: pass the header on

// Record: kind u8, requested lane length u8, token (16), requested lane (≤ 63).
const RECORD = 96;
const traced = new StreamTable();

export function startHop(ctxId: u32, kind: u8, token: usize, lane: usize, laneLen: i32): void {
  if (traced.get(ctxId) != 0) return;
  const r = heap.alloc(RECORD);
  store<u8>(r, kind);
  const n = laneLen > 63 ? 0 : laneLen;
  store<u8>(r, <u8>n, 1);
  memory.copy(r + 2, token, TOKEN_LEN);
  memory.copy(r + 2 + TOKEN_LEN, lane, n);
  traced.set(ctxId, <u32>r);
  if (kind == HOP_ENTRY) updateSlot(token, SLOT_RESET, 0, 0); // entries of an earlier call under this token are done
}

/** Frees the stream's record, if any. */
export function endHop(ctxId: u32): void {
  if (traced.size == 0) return;
  const r = traced.get(ctxId);
  if (r == 0) return;
  traced.delete(ctxId);
  heap.free(<usize>r);
}

// Shared data: 256 slots "lane-tag.hop.<2 hex>" named by the token's first two digits; each holds a record
// per trace in flight (hop.ts), so traces that share a slot do not disturb each other.
const SLOT_KEY = memory.data<u8>([0x6c, 0x61, 0x6e, 0x65, 0x2d, 0x74, 0x61, 0x67, 0x2e, 0x68, 0x6f, 0x70, 0x2e, 0, 0]); // "lane-tag.hop.xx"
const SLOT_KEY_LEN: i32 = 15;
// A trace's record outlives any request that could still add to it.
const RECORD_TTL_S: u32 = 60;

function slotKey(token: usize): usize {
  store<u8>(SLOT_KEY + 13, load<u8>(token));
  store<u8>(SLOT_KEY + 14, load<u8>(token + 1));
  return SLOT_KEY;
}

const SLOT_RESET: i32 = 0; // the token's record, empty
const SLOT_ADD: i32 = 1; // the token's record with v added
const SLOT_TAKE: i32 = 2; // the token's entries out (at takenPtr/takenLen), its record removed
let takenPtr: usize = 0;
let takenLen = 0;

/** Reads, changes and writes the token's slot (compare-and-swap, retried twice on a concurrent write). */
function updateSlot(token: usize, op: i32, v: usize, len: i32): void {
  takenLen = 0;
  const nowSec = <u32>(nowNs() / 1000000000);
  for (let attempt = 0; attempt < 3; attempt++) {
    let src: usize = 0;
    let n = 0;
    let cas: u32 = 0;
    if (readShared(slotKey(token), SLOT_KEY_LEN)) {
      src = readPtr();
      n = <i32>readSize();
      cas = readCas();
    }
    const at = findRecord(src, n, token);
    const oldLen = at >= 0 ? recordLen(src, at) : 0;
    const old = at >= 0 ? src + at + RECORD_HEAD : 0;
    if (op == SLOT_TAKE) {
      if (at < 0) return;
      const copy = scratch(oldLen);
      if (copy == 0) return;
      memory.copy(copy, old, oldLen);
      takenPtr = copy;
      takenLen = oldLen;
    }
    let own = op == SLOT_TAKE ? 0 : RECORD_HEAD + (op == SLOT_ADD ? oldLen + (oldLen > 0 && len > 0 ? 2 : 0) + len : 0);
    if (own > MAX_TRACE + RECORD_HEAD) return; // this trace stops growing
    const dst = scratch(n + own);
    if (dst == 0) return;
    let out = copyOthers(src, n, token, nowSec, dst);
    if (out + own > MAX_SLOT) out = 0; // make room: other traces' records go
    if (op == SLOT_RESET) out += writeRecord(dst + out, token, nowSec + RECORD_TTL_S, 0, 0, 0, 0);
    else if (op == SLOT_ADD) out += writeRecord(dst + out, token, nowSec + RECORD_TTL_S, old, oldLen, v, len);
    if (writeShared(slotKey(token), SLOT_KEY_LEN, dst, out, cas) != RESULT_CAS_MISMATCH) return;
  }
}

/**
 * The response side. `prefix` is this workload's "workload@lane" and `own` its lane (empty: unknown);
 * `edge`: this proxy is where clients enter (an untrusted gateway).
 */
export function hopResponse(ctxId: u32, edge: bool, prefix: ArrayBuffer, own: ArrayBuffer): void {
  const r = traced.size > 0 ? <usize>traced.get(ctxId) : 0;
  if (r == 0) {
    if (edge) removeResponseHeader(TRACE_HEADER); // nobody asked for it: a client never sees the mesh's workloads
    return;
  }
  const kind = load<u8>(r);
  const token = r + 2;
  if (kind == HOP_EDGE) return;
  if (kind == HOP_COLLECT) {
    if (readResponseHeader(TRACE_HEADER) && readSize() > 0) {
      const len = <i32>readSize();
      const v = scratch(len);
      if (v == 0) return;
      memory.copy(v, readPtr(), len); // the next read reuses the host's buffer
      updateSlot(token, SLOT_ADD, v, len);
    }
    return;
  }
  // HOP_ENTRY: this entry, then what this workload's calls collected; HOP_BOTH: then the upstream's header.
  const reqLen = <i32>load<u8>(r, 1);
  let rest: usize = 0;
  let restLen = 0;
  if (kind == HOP_ENTRY) {
    updateSlot(token, SLOT_TAKE, 0, 0);
    rest = takenPtr;
    restLen = takenLen;
  } else if (readResponseHeader(TRACE_HEADER)) {
    rest = readPtr();
    restLen = <i32>readSize();
  }
  if (restLen > MAX_TRACE) restLen = 0;
  const dst = scratch(traceEntryBound(prefix.byteLength, reqLen) + 2 + restLen);
  if (dst == 0) return;
  let n = writeTraceEntry(dst, changetype<usize>(prefix), prefix.byteLength, changetype<usize>(own), own.byteLength, token + TOKEN_LEN, reqLen);
  if (restLen > 0) {
    store<u16>(dst + n, 0x202c);
    n += 2;
    memory.copy(dst + n, rest, restLen);
    n += restLen;
  }
  replaceResponseHeader(TRACE_HEADER, dst, n);
}

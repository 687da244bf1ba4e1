// Trace correlation: trace id -> lane in Envoy's shared data, recorded on arriving requests (the record
// stage) and restored on the application's calls that carry only the trace id (a fallback source). The slot
// store is bounded (see README; its entries: lane/trace.ts); the host calls go through abi/host.ts.
import { Config } from "../config/config";
import { Request } from "../lane/request";
import { bytesEqual } from "../bytes/lane";
import { traceIdSpan } from "../grammar/trace-id";
import { hash64 } from "../bytes/hash";
import { slotOf, writeSlotKey, writeEntry, entryIsFor, entryExpires, ENTRY_HEADER, MAX_ENTRY } from "../lane/trace";
import { findHeader, hvPtr, hvLen } from "../abi/pairs";
import {
  readShared, writeShared, readPtr, readSize, readCas, nowNs, RESULT_OK, RESULT_CAS_MISMATCH,
} from "../abi/host";
import { count, M_TRACE_RECORDED, M_TRACE_EVICTED } from "../observe/metrics";

// Scratch for shared-data keys and values.
const KEY_BUF = memory.data(32, 8);
const ENTRY_BUF = memory.data(MAX_ENTRY, 8);

function nowMs(): i64 {
  return <i64>(nowNs() / 1000000);
}

// Hash of the trace id in configured header i, or 0 when the request has no usable id there.
function traceHash(config: Config, buf: usize, n: u32, i: i32): u64 {
  if (!findHeader(buf, n, unchecked(config.traceHeaderBytes[i]))) return 0;
  const span = traceIdSpan(unchecked(config.traceKinds[i]), hvPtr, hvLen);
  if (span < 0) return 0;
  return hash64(hvPtr + <usize>(span >> 32), <i32>span) | 1; // never 0
}

// A trace may sit in any of WAYS consecutive slots from slotOf(hash): one slot per trace would let a trace
// in flight lose its record to any newer trace hashing there (at 8 traces in flight and 8192 slots, about
// one lane lost per 1000 requests); in a set, the record given up is the oldest of WAYS.
const WAYS: u32 = 4;

// Reads slot j of the set of `hash`; true with the value at readPtr()/readSize() and its cas at readCas().
function readWay(config: Config, hash: u64, j: u32): bool {
  return readShared(KEY_BUF, writeSlotKey(KEY_BUF, wayOf(config, hash, j)));
}

function wayOf(config: Config, hash: u64, j: u32): u32 {
  return (slotOf(hash, config.capacity) + j) % <u32>config.capacity;
}

function waysOf(config: Config): u32 {
  return <u32>config.capacity < WAYS ? <u32>config.capacity : WAYS;
}

/**
 * The live, allowed lane recorded for one of the request's trace ids (in header order), at Request.fbPtr/fbLen
 * (in the host arena until the end of this callback).
 */
export function traceLane(config: Config): bool {
  const buf = Request.buf;
  const n = Request.n;
  const now = nowMs();
  const ways = waysOf(config);
  for (let i = 0, k = config.traceHeaderBytes.length; i < k; i++) {
    const h = traceHash(config, buf, n, i);
    if (h == 0) continue;
    // Records fill a set from its start and slots are never emptied: an empty slot ends the search.
    for (let j: u32 = 0; j < ways && readWay(config, h, j); j++) {
      const v = readPtr();
      const vl = <i32>readSize();
      if (!entryIsFor(v, vl, h)) continue;
      if (entryExpires(v) > now && config.allows(v + ENTRY_HEADER, vl - ENTRY_HEADER)) {
        Request.fbPtr = v + ENTRY_HEADER;
        Request.fbLen = vl - ENTRY_HEADER;
        return true;
      }
      break;
    }
  }
  return false;
}

// Where recordTrace writes: the slot (way) of the set and its cas, whether a live record of another trace
// is given up there, or none (SKIP) when the trace's record is fresh already.
const SKIP: u32 = 0xffffffff;
let pickCas: u32 = 0;
let pickEvicts = false;

/**
 * The way of the set for trace `hash`: its own record, else the first empty slot, else the record that
 * expires first (an expired or malformed one counts as expired). SKIP when its own record already holds
 * `lane` for more than half the TTL.
 */
function pickWay(config: Config, hash: u64, now: i64, lane: usize, laneLen: i32): u32 {
  const ways = waysOf(config);
  let best: u32 = 0;
  let bestExpires = I64.MAX_VALUE;
  pickCas = 0;
  for (let j: u32 = 0; j < ways; j++) {
    if (!readWay(config, hash, j)) {
      pickCas = 0;
      pickEvicts = false;
      return j;
    }
    const v = readPtr();
    const vl = <i32>readSize();
    if (entryIsFor(v, vl, hash)) {
      if (bytesEqual(v + ENTRY_HEADER, vl - ENTRY_HEADER, lane, laneLen) && entryExpires(v) - now > <i64>config.ttlMs / 2) return SKIP;
      pickCas = readCas();
      pickEvicts = false;
      return j;
    }
    const e = vl > ENTRY_HEADER && vl == ENTRY_HEADER + <i32>load<u8>(v + 16) ? entryExpires(v) : I64.MIN_VALUE;
    if (e < bestExpires) {
      best = j;
      bestExpires = e;
      pickCas = readCas();
    }
  }
  pickEvicts = bestExpires > now;
  return best;
}

/**
 * Records trace id -> lane in the set of each trace id the request carries. A compare-and-swap write:
 * another worker may have written the slot since we read it, and then we pick again (at most twice).
 * A live record of another trace given up for it is counted (trace_evicted): the table is too small for
 * the traces that arrive within ttl_ms.
 */
export function recordTrace(config: Config): void {
  const buf = Request.buf;
  const n = Request.n;
  const lane = Request.hdr;
  const laneLen = Request.hdrLen;
  const dir = Request.dir;
  const now = nowMs();
  for (let i = 0, k = config.traceHeaderBytes.length; i < k; i++) {
    const h = traceHash(config, buf, n, i);
    if (h == 0) continue;
    for (let attempt = 0; attempt < 2; attempt++) {
      const j = pickWay(config, h, now, lane, laneLen);
      if (j == SKIP) break;
      const el = writeEntry(ENTRY_BUF, h, now + <i64>config.ttlMs, lane, laneLen);
      const r = writeShared(KEY_BUF, writeSlotKey(KEY_BUF, wayOf(config, h, j)), ENTRY_BUF, el, pickCas);
      if (r == RESULT_CAS_MISMATCH) continue;
      if (r == RESULT_OK) {
        count(dir, M_TRACE_RECORDED);
        if (pickEvicts) count(dir, M_TRACE_EVICTED);
      }
      break;
    }
  }
}

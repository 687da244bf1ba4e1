// Trace correlation: trace id -> lane in Envoy's shared data, recorded on arriving requests and restored on
// the application's calls that carry only the trace id. The slot store is bounded (see README); the host
// calls go through host.ts.
import { Config } from "./config";
import { bytesEqual } from "./lane";
import { traceIdSpan, hash64, slotOf, writeSlotKey, writeEntry, entryIsFor, entryExpires, ENTRY_HEADER, MAX_ENTRY } from "./trace";
import { findHeader, hvPtr, hvLen } from "./pairs";
import { readShared, writeShared, readPtr, readSize, readCas, nowNs, RESULT_OK, RESULT_CAS_MISMATCH } from "./host";
import { count, M_TRACE_RECORDED } from "./metrics";

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

// Reads the slot of `hash`; true with the value at readPtr()/readSize() and its cas at readCas().
function readSlot(config: Config, hash: u64): bool {
  return readShared(KEY_BUF, writeSlotKey(KEY_BUF, slotOf(hash, config.capacity)));
}

// The lane traceLane found: in the host arena until the end of this callback.
export let tracedPtr: usize = 0;
export let tracedLen: i32 = 0;

/** The live, allowed lane recorded for one of the request's trace ids (in header order), at tracedPtr/tracedLen. */
export function traceLane(config: Config, buf: usize, n: u32): bool {
  const now = nowMs();
  for (let i = 0, k = config.traceHeaderBytes.length; i < k; i++) {
    const h = traceHash(config, buf, n, i);
    if (h == 0 || !readSlot(config, h)) continue;
    const v = readPtr();
    const vl = <i32>readSize();
    if (entryIsFor(v, vl, h) && entryExpires(v) > now && config.allows(v + ENTRY_HEADER, vl - ENTRY_HEADER)) {
      tracedPtr = v + ENTRY_HEADER;
      tracedLen = vl - ENTRY_HEADER;
      return true;
    }
  }
  return false;
}

/**
 * Records trace id -> lane in the slot of each trace id the request carries. A compare-and-swap write:
 * another worker may have written the slot since we read it, and then we read again (at most twice).
 * A slot that already holds this trace and lane for more than half the TTL is left alone.
 */
export function recordTrace(dir: i32, config: Config, buf: usize, n: u32, lane: usize, laneLen: i32): void {
  const now = nowMs();
  const ttl = <i64>config.ttlMs;
  for (let i = 0, k = config.traceHeaderBytes.length; i < k; i++) {
    const h = traceHash(config, buf, n, i);
    if (h == 0) continue;
    for (let attempt = 0; attempt < 2; attempt++) {
      let cas: u32 = 0;
      if (readSlot(config, h)) {
        cas = readCas();
        const v = readPtr();
        const vl = <i32>readSize();
        if (entryIsFor(v, vl, h) && bytesEqual(v + ENTRY_HEADER, vl - ENTRY_HEADER, lane, laneLen) &&
          entryExpires(v) - now > ttl / 2) break;
      }
      const el = writeEntry(ENTRY_BUF, h, now + ttl, lane, laneLen);
      const r = writeShared(KEY_BUF, writeSlotKey(KEY_BUF, slotOf(h, config.capacity)), ENTRY_BUF, el, cas);
      if (r == RESULT_CAS_MISMATCH) continue;
      if (r == RESULT_OK) count(dir, M_TRACE_RECORDED);
      break;
    }
  }
}

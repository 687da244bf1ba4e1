// Helpers for specs: strings in and out of the byte-level APIs.
import { Config } from "../config/config";
import { parseConfig } from "../config/config-parse";
import { LaneScan, rewriteBound, writeBaggage } from "../grammar/baggage";

export function ptr(b: ArrayBuffer): usize { return changetype<usize>(b); }
export function buf(s: string): ArrayBuffer { return String.UTF8.encode(s); }
export function str(p: usize, n: i32): string { return String.UTF8.decodeUnsafe(p, n); }

export function config(json: string): Config {
  const r = parseConfig(json);
  const c = r.config;
  if (c === null) throw new Error("bad test config: " + r.error);
  return c;
}

/** The lane a scan finds in `baggage`, or "" when none. */
export function laneOf(baggage: string, c: Config = config("")): string {
  const s = new LaneScan();
  const b = buf(baggage);
  s.scan(ptr(b), b.byteLength, ptr(c.baggageKeyBytes), c.baggageKeyBytes.byteLength, c.laneBytes);
  return s.found ? str(s.lane, s.laneLen) : "";
}

export function scanOf(baggage: string, c: Config = config("")): LaneScan {
  const s = new LaneScan();
  const b = buf(baggage);
  s.scan(ptr(b), b.byteLength, ptr(c.baggageKeyBytes), c.baggageKeyBytes.byteLength, c.laneBytes);
  return s;
}

/** baggage rewritten to carry `lane`, its lane member first. */
export function withLane(baggage: string, lane: string, c: Config = config("")): string {
  const b = buf(baggage);
  const l = buf(lane);
  const key = c.baggageKeyBytes;
  const dst = heap.alloc(rewriteBound(b.byteLength, key.byteLength));
  const n = writeBaggage(ptr(b), b.byteLength, ptr(key), key.byteLength, ptr(l), l.byteLength, dst);
  const out = str(dst, n);
  heap.free(dst);
  return out;
}

// Helpers for the carriers' specs: header bytes in and out as Latin-1 (one char per byte), as Node sees them.
import { MAX_LANE } from "../bytes/lane";

export function raw(s: string): ArrayBuffer {
  const b = new ArrayBuffer(s.length);
  for (let i = 0; i < s.length; i++) store<u8>(changetype<usize>(b) + i, <u8>s.charCodeAt(i));
  return b;
}

export function text(p: usize, n: i32): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(load<u8>(p + i));
  return s;
}

export function ptr(b: ArrayBuffer): usize { return changetype<usize>(b); }

/** A lane reader's result as a string: the lane, "" for no member, "-" for one that is not a lane. */
export function laneResult(n: i32, dst: usize): string {
  if (n > 0) return text(dst, n);
  return n == 0 ? "" : "-";
}

export const LANE_BUF: usize = heap.alloc(MAX_LANE);

/** `n` tracestate members k0=v0, k1=v1, ... joined with ",". */
export function members(n: i32, from: i32 = 0): string {
  let s = "";
  for (let i = from; i < from + n; i++) s += (i > from ? "," : "") + "k" + i.toString() + "=v" + i.toString();
  return s;
}

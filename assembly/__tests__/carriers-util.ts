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

/** Envoy's pairs buffer for headers given as [name, value, name, value, ...]. */
export function pairs(h: string[]): ArrayBuffer {
  const n = h.length / 2;
  let size = 4 + n * 8;
  for (let i = 0; i < h.length; i++) size += h[i].length + 1;
  const b = new ArrayBuffer(size);
  const p = ptr(b);
  store<u32>(p, n);
  let o = 4 + n * 8;
  for (let i = 0; i < n; i++) {
    store<u32>(p + 4 + i * 8, h[2 * i].length);
    store<u32>(p + 8 + i * 8, h[2 * i + 1].length);
    for (let k = 0; k < 2; k++) {
      const s = h[2 * i + k];
      for (let c = 0; c < s.length; c++) store<u8>(p + o + c, <u8>s.charCodeAt(c));
      store<u8>(p + o + s.length, 0);
      o += s.length + 1;
    }
  }
  return b;
}

// Envoy's header pairs, read in place: u32 count, count × (u32 name length, u32 value length), then each
// name and value NUL-terminated. This module is the one place that knows the layout: every walk over the
// pairs is the cursor below. Pure: no host calls.
//
// The cursor is a position kept by the caller in two locals (the pair's index and the address of its name),
// stepped with @inline accessors: a managed cursor object would put the position in memory, and the read
// stage walks every header of every request.
//   let at = firstName(buf, n);
//   for (let i: u32 = 0; i < n; i++) {
//     const kl = nameLen(buf, i); const vl = valueLen(buf, i); const v = valueOf(at, kl);
//     ...; at = nextName(v, vl);
//   }
import { bytesEqual } from "../bytes/lane";

/** Marks a map whose count cannot be read (pairCount). */
export const MALFORMED: u32 = 0xffffffff;

/** The number of pairs of a map of `size` bytes at buf, MALFORMED when the table does not fit (0 when empty). */
// @ts-ignore: decorator
@inline export function pairCount(buf: usize, size: usize): u32 {
  if (size == 0) return 0; // an empty map is empty data (pointer 0, size 0): no headers
  const n = size >= 4 ? load<u32>(buf) : MALFORMED;
  return <u64>n * 8 + 4 > <u64>size ? MALFORMED : n;
}

/** The address of the first pair's name. */
// @ts-ignore: decorator
@inline export function firstName(buf: usize, n: u32): usize { return buf + 4 + (<usize>n << 3); }

/** The name length of pair i. */
// @ts-ignore: decorator
@inline export function nameLen(buf: usize, i: u32): u32 { return load<u32>(buf + 4 + (<usize>i << 3)); }

/** The value length of pair i. */
// @ts-ignore: decorator
@inline export function valueLen(buf: usize, i: u32): u32 { return load<u32>(buf + 8 + (<usize>i << 3)); }

/** The address of the value of the pair whose name is name[0..nl). */
// @ts-ignore: decorator
@inline export function valueOf(name: usize, nl: u32): usize { return name + nl + 1; }

/** The address of the next pair's name, after value v[0..vl). */
// @ts-ignore: decorator
@inline export function nextName(v: usize, vl: u32): usize { return v + vl + 1; }

/** Whether the pair whose name is at `name` ends within the map (`end` its first byte past). */
// @ts-ignore: decorator
@inline export function pairFits(name: usize, nl: u32, vl: u32, end: usize): bool {
  return <u64>name + nl + vl + 2 <= <u64>end;
}

// Value of the header found by findHeader: pointer and length into the pairs buffer.
export let hvPtr: usize = 0;
export let hvLen: i32 = 0;

/**
 * Finds the first header named `name` among the n pairs at buf, its value at hvPtr/hvLen; false when absent.
 * Only called once the request path has checked that every pair lies within the buffer.
 */
export function findHeader(buf: usize, n: u32, name: ArrayBuffer): bool {
  const np = changetype<usize>(name);
  const nl = name.byteLength;
  let at = firstName(buf, n);
  for (let i: u32 = 0; i < n; i++) {
    const kl = nameLen(buf, i);
    const vl = valueLen(buf, i);
    const v = valueOf(at, kl);
    if (kl == <u32>nl && bytesEqual(at, kl, np, nl)) {
      hvPtr = v;
      hvLen = vl;
      return true;
    }
    at = nextName(v, vl);
  }
  return false;
}

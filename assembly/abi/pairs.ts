// Envoy's header pairs, read in place: u32 count, count × (u32 key length, u32 value length), then each key
// and value NUL-terminated. Pure: no host calls.
import { bytesEqual } from "../bytes/lane";

/** The header that carries the lane through the apps. */
export const BAGGAGE = memory.data<u8>([0x62, 0x61, 0x67, 0x67, 0x61, 0x67, 0x65]); // "baggage"
export const BAGGAGE_LEN: i32 = 7;

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
  let p = buf + 4 + (<usize>n << 3);
  for (let i: u32 = 0; i < n; i++) {
    const kl = load<u32>(buf + 4 + (<usize>i << 3));
    const vl = load<u32>(buf + 8 + (<usize>i << 3));
    const v = p + kl + 1;
    if (kl == <u32>nl && bytesEqual(p, kl, np, nl)) {
      hvPtr = v;
      hvLen = vl;
      return true;
    }
    p = v + vl + 1;
  }
  return false;
}

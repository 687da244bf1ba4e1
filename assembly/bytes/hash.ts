// The hashes the trace ids, the sticky lane choice and the configuration use. Pure, stable across builds,
// platforms and VMs.

// @ts-ignore: decorator
@inline export function mix64(x: u64): u64 {
  // splitmix64's finalizer: every input bit affects every output bit.
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

/** A 64-bit hash of bytes (FNV-1a, then mixed). Stable across builds, platforms and VMs. */
export function hash64(p: usize, len: i32): u64 {
  let h: u64 = 0xcbf29ce484222325;
  for (let i = 0; i < len; i++) h = (h ^ <u64>load<u8>(p + i)) * 0x100000001b3;
  return mix64(h);
}

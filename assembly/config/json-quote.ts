// JSON text of strings, for configure's log lines: whole for the effective configuration, cut for the
// messages that name a value, so that a log line stays short however long the value. Each is built in one
// allocation (configure runs on the minimal runtime, which collects only after it).

/** How much of a value a message shows: ~100 bytes of its JSON text, so a log line stays short whatever its size. */
export const SHOWN: i32 = 100;

/** JSON text of a string, whole: for the effective configuration, whose strings are all bounded. */
export function jsonString(s: string): string {
  return quoted(s, i32.MAX_VALUE);
}

/** JSON text of a value for a message: cut after ~SHOWN characters, then `...(<its size> bytes)`. */
export function quote(s: string): string {
  return quoted(s, SHOWN);
}

// How many characters of JSON text code unit c takes.
function width(c: i32): i32 {
  return c == 0x22 || c == 0x5c ? 2 : c < 0x20 ? 6 : 1;
}

// The JSON text of the first code units of s that take at most `max` characters, in one allocation.
function quoted(s: string, max: i32): string {
  const n = s.length;
  let len = 0;
  let i = 0;
  for (; i < n; i++) {
    const w = width(s.charCodeAt(i));
    if (len + w > max) break;
    len += w;
  }
  if (i < n && i > 0 && (s.charCodeAt(i - 1) & 0xfc00) == 0xd800) { i--; len--; } // never half a surrogate pair
  const out = changetype<string>(__new(<usize>(len + 2) << 1, idof<string>()));
  const p = changetype<usize>(out);
  store<u16>(p, 0x22);
  let o = p + 2;
  for (let j = 0; j < i; j++) {
    const c = s.charCodeAt(j);
    if (c == 0x22 || c == 0x5c) {
      store<u16>(o, 0x5c);
      store<u16>(o, c, 2);
      o += 4;
    } else if (c < 0x20) {
      store<u64>(o, 0x0030_0030_0075_005c); // \u00
      store<u16>(o, 0x30 + (c >> 4), 8);
      store<u16>(o, hexDigit(c & 15), 10);
      o += 12;
    } else {
      store<u16>(o, c);
      o += 2;
    }
  }
  store<u16>(o, 0x22);
  return i < n ? out + "...(" + String.UTF8.byteLength(s).toString() + " bytes)" : out;
}

function hexDigit(d: i32): i32 {
  return d < 10 ? 0x30 + d : 0x61 + d - 10;
}

/**
 * The strings of `parts` with `sep` between them, in one allocation. (Array.join is not used: at the
 * release build's shrink level it concatenates one part at a time, which is quadratic in memory here.)
 */
export function joined(parts: string[], sep: string): string {
  const n = parts.length;
  if (n == 0) return "";
  let len = sep.length * (n - 1);
  for (let i = 0; i < n; i++) len += parts[i].length;
  const out = changetype<string>(__new(<usize>len << 1, idof<string>()));
  let o = changetype<usize>(out);
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      memory.copy(o, changetype<usize>(sep), <usize>sep.length << 1);
      o += <usize>sep.length << 1;
    }
    const p = parts[i];
    memory.copy(o, changetype<usize>(p), <usize>p.length << 1);
    o += <usize>p.length << 1;
  }
  return out;
}

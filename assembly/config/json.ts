// A small strict JSON reader (RFC 8259) for the plugin configuration. It runs once per configure, never on
// the request path, and reports the first error with its byte offset instead of throwing: a throw in
// AssemblyScript ends in proc_exit and would take the whole VM down instead of failing configure.
// Every step is linear in the input: the minimal runtime collects only after configure, so a quadratic
// number of bytes allocated here is memory the VM must grow to hold (and past 4 GiB, a trap).
import { hash64 } from "../bytes/hash";

export { SHOWN, quote, jsonString, joined } from "./json-quote";

export const enum Kind { Null, Bool, Number, String, Array, Object }

export class JValue {
  kind: Kind = Kind.Null;
  b: bool = false;
  n: f64 = 0;
  s: string = "";
  items: JValue[] = [];
  keys: string[] = [];

  static null_(): JValue { return new JValue(); }

  kindName(): string {
    switch (this.kind) {
      case Kind.Null: return "null";
      case Kind.Bool: return "a boolean";
      case Kind.Number: return "a number";
      case Kind.String: return "a string";
      case Kind.Array: return "an array";
      default: return "an object";
    }
  }
}

const MAX_DEPTH = 32;
/**
 * The most values (of any kind, at any depth) a document may hold: the largest valid configuration has
 * about 1,300 (five 256-entry lists or maps), and the tree of a 1 MiB document of tiny values would be
 * ~100 MiB of linear memory, which a VM never gives back.
 */
export const MAX_VALUES: i32 = 16384;

/** A character for an error message: printable ASCII quoted, anything else as U+XXXX (a NUL byte named). */
function charName(c: i32): string {
  if (c > 0x20 && c < 0x7f) return "'" + String.fromCharCode(c) + "'";
  // By hand: toString(16) costs the module kilobytes.
  let name = "U+";
  for (let shift = 12; shift >= 0; shift -= 4) name += "0123456789ABCDEF".charAt((c >> shift) & 15);
  return c == 0 ? name + " (a NUL byte: binary data, not JSON)" : name;
}

export class JsonReader {
  private src: string;
  private pos: i32 = 0;
  error: string = "";
  /** Set with `error` when the document is valid JSON but holds more than MAX_VALUES values. */
  tooMany: bool = false;
  duplicateKey: string = "";
  private values: i32 = 0;
  private buf: StaticArray<u16> = new StaticArray<u16>(0);

  constructor(src: string) {
    this.src = src;
  }

  /** Parses the whole input; returns null with `error` set on failure. */
  parse(): JValue | null {
    this.ws();
    const v = this.value(0);
    if (v === null) return null;
    this.ws();
    if (this.pos < this.src.length) return this.fail("unexpected text after the JSON value");
    return v;
  }

  private fail(msg: string): JValue | null {
    if (this.error.length == 0) this.error = msg + " at offset " + this.pos.toString();
    return null;
  }

  private ws(): void {
    const s = this.src;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d) this.pos++;
      else break;
    }
  }

  private value(depth: i32): JValue | null {
    if (depth > MAX_DEPTH) return this.fail("nesting deeper than " + MAX_DEPTH.toString());
    if (++this.values > MAX_VALUES) {
      this.tooMany = true;
      return this.fail("more than " + MAX_VALUES.toString() + " values");
    }
    const s = this.src;
    if (this.pos >= s.length) return this.fail("unexpected end of input");
    const c = s.charCodeAt(this.pos);
    if (c == 0x7b /* { */) return this.object(depth);
    if (c == 0x5b /* [ */) return this.array(depth);
    if (c == 0x22 /* " */) {
      const str = this.string();
      if (str === null) return null;
      const v = new JValue();
      v.kind = Kind.String;
      v.s = str;
      return v;
    }
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (this.word("true")) { const v = new JValue(); v.kind = Kind.Bool; v.b = true; return v; }
    if (this.word("false")) { const v = new JValue(); v.kind = Kind.Bool; return v; }
    if (this.word("null")) return new JValue();
    return this.fail("unexpected character " + charName(c));
  }

  private word(w: string): bool {
    if (this.src.substring(this.pos, this.pos + w.length) == w) {
      this.pos += w.length;
      return true;
    }
    return false;
  }

  private object(depth: i32): JValue | null {
    const v = new JValue();
    v.kind = Kind.Object;
    this.pos++; // {
    this.ws();
    if (this.pos < this.src.length && this.src.charCodeAt(this.pos) == 0x7d) { this.pos++; return v; }
    const seen = new KeySet(v.keys);
    while (true) {
      this.ws();
      if (this.pos >= this.src.length || this.src.charCodeAt(this.pos) != 0x22) return this.fail("expected a field name");
      const key = this.string();
      if (key === null) return null;
      if (this.duplicateKey.length == 0 && seen.has(key)) this.duplicateKey = key;
      this.ws();
      if (this.pos >= this.src.length || this.src.charCodeAt(this.pos) != 0x3a) return this.fail("expected ':'");
      this.pos++;
      this.ws();
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.keys.push(key);
      v.items.push(item);
      this.ws();
      if (this.pos >= this.src.length) return this.fail("unexpected end of input in an object");
      const c = this.src.charCodeAt(this.pos++);
      if (c == 0x7d) return v;
      if (c != 0x2c) { this.pos--; return this.fail("expected ',' or '}'"); }
    }
  }

  private array(depth: i32): JValue | null {
    const v = new JValue();
    v.kind = Kind.Array;
    this.pos++; // [
    this.ws();
    if (this.pos < this.src.length && this.src.charCodeAt(this.pos) == 0x5d) { this.pos++; return v; }
    while (true) {
      this.ws();
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.items.push(item);
      this.ws();
      if (this.pos >= this.src.length) return this.fail("unexpected end of input in an array");
      const c = this.src.charCodeAt(this.pos++);
      if (c == 0x5d) return v;
      if (c != 0x2c) { this.pos--; return this.fail("expected ',' or ']'"); }
    }
  }

  private number(): JValue | null {
    const s = this.src;
    const start = this.pos;
    if (s.charCodeAt(this.pos) == 0x2d) this.pos++;
    if (this.pos >= s.length) return this.fail("bad number");
    let c = s.charCodeAt(this.pos);
    if (c == 0x30) this.pos++;
    else if (c >= 0x31 && c <= 0x39) { while (this.pos < s.length && isDigit(s.charCodeAt(this.pos))) this.pos++; }
    else return this.fail("bad number");
    if (this.pos < s.length && s.charCodeAt(this.pos) == 0x2e) {
      this.pos++;
      if (this.pos >= s.length || !isDigit(s.charCodeAt(this.pos))) return this.fail("bad number");
      while (this.pos < s.length && isDigit(s.charCodeAt(this.pos))) this.pos++;
    }
    if (this.pos < s.length && (s.charCodeAt(this.pos) | 0x20) == 0x65) {
      this.pos++;
      if (this.pos < s.length && (s.charCodeAt(this.pos) == 0x2b || s.charCodeAt(this.pos) == 0x2d)) this.pos++;
      if (this.pos >= s.length || !isDigit(s.charCodeAt(this.pos))) return this.fail("bad number");
      while (this.pos < s.length && isDigit(s.charCodeAt(this.pos))) this.pos++;
    }
    const v = new JValue();
    v.kind = Kind.Number;
    v.n = numberValue(s, start, this.pos);
    return v;
  }

  // Returns the decoded string, or null with `error` set. A string without escapes is one substring; with
  // escapes it is decoded into `buf`, so that building it costs its length, whatever the escapes.
  private string(): string | null {
    const s = this.src;
    this.pos++; // opening quote
    let run = this.pos;
    let k = 0; // code units in `buf`, once an escape is seen
    while (true) {
      if (this.pos >= s.length) { this.fail("unterminated string"); return null; }
      const c = s.charCodeAt(this.pos);
      if (c == 0x22) {
        if (k == 0) { const out = s.substring(run, this.pos++); return out; }
        k = this.copy(run, k);
        this.pos++;
        return String.UTF16.decodeUnsafe(changetype<usize>(this.buf), <usize>k << 1);
      }
      if (c < 0x20) { this.fail("control character in a string"); return null; }
      if (c == 0x5c) {
        k = this.copy(run, k);
        this.pos++;
        const code = this.escape();
        if (code < 0) return null;
        this.room(k + 1);
        store<u16>(changetype<usize>(this.buf) + (<usize>k << 1), <u16>code);
        k++;
        run = this.pos;
        continue;
      }
      this.pos++;
    }
  }

  // The code unit of the escape after a backslash, or -1 with `error` set.
  private escape(): i32 {
    const s = this.src;
    if (this.pos >= s.length) { this.fail("unterminated string"); return -1; }
    const e = s.charCodeAt(this.pos++);
    if (e == 0x22 || e == 0x5c || e == 0x2f) return e;
    if (e == 0x62) return 0x08;
    if (e == 0x66) return 0x0c;
    if (e == 0x6e) return 0x0a;
    if (e == 0x72) return 0x0d;
    if (e == 0x74) return 0x09;
    if (e != 0x75) { this.pos--; this.fail("bad escape"); return -1; }
    let code = 0;
    for (let i = 0; i < 4; i++) {
      if (this.pos >= s.length) { this.fail("bad \\u escape"); return -1; }
      const h = hex(s.charCodeAt(this.pos++));
      if (h < 0) { this.pos--; this.fail("bad \\u escape"); return -1; }
      code = (code << 4) | h;
    }
    return code;
  }

  // Appends src[run, pos) to `buf` after its first k code units; the new count.
  private copy(run: i32, k: i32): i32 {
    const n = this.pos - run;
    this.room(k + n);
    memory.copy(changetype<usize>(this.buf) + (<usize>k << 1), changetype<usize>(this.src) + (<usize>run << 1), <usize>n << 1);
    return k + n;
  }

  // Grows `buf` to hold n code units, doubling, so that a string's decoding stays linear in its length.
  private room(n: i32): void {
    const cap = this.buf.length;
    if (n <= cap) return;
    let size = cap < 32 ? 32 : cap << 1;
    if (size < n) size = n;
    const next = new StaticArray<u16>(size);
    memory.copy(changetype<usize>(next), changetype<usize>(this.buf), <usize>cap << 1);
    this.buf = next;
  }
}

// The keys of one object, for the duplicate check: a scan while there are few, then a hash table of their
// indexes (open addressing), so that an object with many keys is checked in time linear in their number.
const NO_SLOTS = new StaticArray<i32>(0);

class KeySet {
  private slots: StaticArray<i32> = NO_SLOTS; // index + 1 of a key, 0 when empty
  private indexed: i32 = 0; // keys[0, indexed) are in `slots`

  constructor(private keys: string[]) {}

  /** Whether `key` is one of the keys so far (the caller then pushes it). */
  has(key: string): bool {
    const keys = this.keys;
    const n = keys.length;
    if (n < 8) return keys.includes(key);
    if (this.slots.length < n << 1) {
      this.slots = new StaticArray<i32>(<i32>nextPow2(<u32>n << 2));
      this.indexed = 0;
    }
    for (; this.indexed < n; this.indexed++) {
      const i = this.slot(keys[this.indexed]);
      if (this.slots[i] == 0) this.slots[i] = this.indexed + 1;
    }
    return this.slots[this.slot(key)] != 0;
  }

  // The slot that holds `key`, or the empty one where it would go.
  private slot(key: string): i32 {
    const mask = this.slots.length - 1;
    let i = <i32>hash64(changetype<usize>(key), key.length << 1) & mask;
    while (true) {
      const at = this.slots[i];
      if (at == 0 || this.keys[at - 1] == key) return i;
      i = (i + 1) & mask;
    }
  }
}

function nextPow2(n: u32): u32 {
  return 1 << (32 - clz(n - 1));
}

function isDigit(c: i32): bool { return c >= 0x30 && c <= 0x39; }

function hex(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

// The value of a number the grammar has accepted. Exact for integers up to 2^53, which is what a
// configuration holds; the standard library's float parser would add 2 KiB to a module that must stay small.
function numberValue(s: string, start: i32, end: i32): f64 {
  let i = start;
  const neg = s.charCodeAt(i) == 0x2d;
  if (neg) i++;
  let v: f64 = 0;
  while (i < end && isDigit(s.charCodeAt(i))) v = v * 10 + <f64>(s.charCodeAt(i++) - 0x30);
  if (i < end && s.charCodeAt(i) == 0x2e) {
    i++;
    let scale: f64 = 0.1;
    while (i < end && isDigit(s.charCodeAt(i))) { v += <f64>(s.charCodeAt(i++) - 0x30) * scale; scale /= 10; }
  }
  if (i < end) { // exponent
    i++;
    let eneg = false;
    if (s.charCodeAt(i) == 0x2b || s.charCodeAt(i) == 0x2d) { eneg = s.charCodeAt(i) == 0x2d; i++; }
    let e = 0;
    while (i < end && e < 400) e = e * 10 + (s.charCodeAt(i++) - 0x30);
    for (; e > 0; e--) v = eneg ? v / 10 : v * 10;
  }
  return neg ? -v : v;
}

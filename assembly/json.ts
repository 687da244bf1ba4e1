// A small strict JSON reader (RFC 8259) for the plugin configuration. It runs once per configure, never on
// the request path, and reports the first error with its byte offset instead of throwing: a throw in
// AssemblyScript ends in proc_exit and would take the whole VM down instead of failing configure.

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
  duplicateKey: string = "";

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
    while (true) {
      this.ws();
      if (this.pos >= this.src.length || this.src.charCodeAt(this.pos) != 0x22) return this.fail("expected a field name");
      const key = this.string();
      if (key === null) return null;
      if (v.keys.includes(key) && this.duplicateKey.length == 0) this.duplicateKey = key;
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

  // Returns the decoded string, or null with `error` set.
  private string(): string | null {
    const s = this.src;
    this.pos++; // opening quote
    let out = "";
    let run = this.pos;
    while (true) {
      if (this.pos >= s.length) { this.fail("unterminated string"); return null; }
      const c = s.charCodeAt(this.pos);
      if (c == 0x22) {
        out += s.substring(run, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) { this.fail("control character in a string"); return null; }
      if (c == 0x5c) {
        out += s.substring(run, this.pos);
        this.pos++;
        if (this.pos >= s.length) { this.fail("unterminated string"); return null; }
        const e = s.charCodeAt(this.pos++);
        if (e == 0x22) out += "\"";
        else if (e == 0x5c) out += "\\";
        else if (e == 0x2f) out += "/";
        else if (e == 0x62) out += "\b";
        else if (e == 0x66) out += "\f";
        else if (e == 0x6e) out += "\n";
        else if (e == 0x72) out += "\r";
        else if (e == 0x74) out += "\t";
        else if (e == 0x75) {
          let code = 0;
          for (let k = 0; k < 4; k++) {
            if (this.pos >= s.length) { this.fail("bad \\u escape"); return null; }
            const h = hex(s.charCodeAt(this.pos++));
            if (h < 0) { this.pos--; this.fail("bad \\u escape"); return null; }
            code = (code << 4) | h;
          }
          out += String.fromCharCode(code);
        } else { this.pos--; this.fail("bad escape"); return null; }
        run = this.pos;
        continue;
      }
      this.pos++;
    }
  }
}

function isDigit(c: i32): bool { return c >= 0x30 && c <= 0x39; }

function hex(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** JSON text of a string, for log lines and the effective configuration. */
export function quote(s: string): string {
  let out = "\"";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22) out += "\\\"";
    else if (c == 0x5c) out += "\\\\";
    else if (c < 0x20) {
      const h = c.toString(16);
      out += "\\u" + "0000".substring(h.length) + h;
    } else out += String.fromCharCode(c);
  }
  return out + "\"";
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

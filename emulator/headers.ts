// Header maps, as Envoy's HeaderMap holds them: lists of (key, value) byte strings, as Envoy's
// HeaderString. Values are passed byte for byte (a BOM, UTF-8, obs-text all stay); keys are lowercased
// ASCII-only (LowerCaseString, absl::AsciiStrToLower: bytes >= 0x80 untouched); get_header_map_value
// returns only the first value; replace removes every value and adds one; get_header_map_size is the sum
// of key and value byte lengths; pairs use the wire format u32 count, count × (u32 key_len,
// u32 value_len), then each key and value NUL-terminated (1.38).
import { WasmResult } from "./abi.ts";
import { asciiScan, bytesToText, enc, textToBytes, utf8 } from "./bytes.ts";
import type { ModuleMemory } from "./memory.ts";
import type { Header, HeaderInput, RawHeader, RequestResult } from "./types.ts";

/**
 * A header during a request. The key is a lowercased byte string. The value is a string as the caller
 * gave it (text in "utf8" mode, a byte string in "bytes" mode; so ASCII strings need no conversion), or
 * exact bytes: values given as bytes, and values the module wrote that are not ASCII.
 */
export type HeldHeader = [string, string | Uint8Array];

/** Set when a header key has a byte >= 0x80 or a value is held as bytes: RequestResult.headers needs converting. */
export interface Conversion { convert?: boolean }

function checkByteString(s: string, what: string): string {
  // Node's http module refuses such header strings too.
  if (/[^\x00-\xff]/.test(s)) throw new TypeError(`${what} ${JSON.stringify(s)} is not a byte string (headerStrings "bytes"): it has a char above \\xff`);
  return s;
}

/** absl::AsciiStrToLower: A-Z only (toLowerCase would also map bytes such as 0xC0 and U+00C0). */
function asciiLower(s: string): string {
  if (asciiScan(s)) return s.toLowerCase(); // identical to A-Z-only lowering on ASCII
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 32 : c);
  }
  return out;
}

// Envoy hands header bytes to the module with a memcpy. To keep the emulator's own cost from drowning
// the module's in benchmarks, the bytes of strings are cached (bounded: cleared when it fills up), per
// reading: text (UTF-8) and byte strings ("latin1", exact ISO-8859-1).
const utf8Cache = new Map<string, Uint8Array>();
const latin1Cache = new Map<string, Uint8Array>();
function encodeCached(s: string, byteString: boolean): Uint8Array {
  const cache = byteString ? latin1Cache : utf8Cache;
  let b = cache.get(s);
  if (b === undefined) {
    b = byteString ? Buffer.from(s, "latin1") : enc.encode(s);
    if (cache.size >= 4096) cache.clear();
    cache.set(s, b);
  }
  return b;
}

/** The bytes of a held value: a string read per headerStrings (byteStrings: one char per byte). */
const valueBytes = (v: string | Uint8Array, byteStrings: boolean) => (typeof v === "string" ? encodeCached(v, byteStrings) : v);

/** Reads a header key the module wrote and lowercases it as Envoy's LowerCaseString; notes non-ASCII bytes. */
export function readKey(mem: ModuleMemory, state: Conversion, ptr: number, size: number): string | null {
  const key = mem.readBytes(ptr, size);
  if (key === null) return null;
  if (!mem.readAscii) { state.convert = true; return asciiLower(key); }
  return key.toLowerCase();
}

/** A header value the module wrote: an ASCII string (the same as text and as a byte string), or bytes. */
export function readValue(mem: ModuleMemory, state: Conversion, ptr: number, size: number): string | Uint8Array | null {
  const s = mem.readBytes(ptr, size);
  if (s === null || mem.readAscii) return s;
  state.convert = true;
  return mem.u8().slice(ptr >>> 0, (ptr >>> 0) + (size >>> 0));
}

export const firstValue = (map: HeldHeader[], key: string) => map.find(([k]) => k === key)?.[1];

export function removeAll(map: HeldHeader[], key: string): void {
  for (let i = map.length - 1; i >= 0; i--) if (map[i][0] === key) map.splice(i, 1);
}

/**
 * Header strings as Plugin.request takes and RequestResult gives them: text (UTF-8 on the wire) or, with
 * HostOptions.headerStrings "bytes", byte strings; and the held headers' bytes as the module sees them.
 */
export class HeaderStrings {
  readonly byteStrings: boolean;
  // Request header name -> lowercased byte string, for ASCII names (few and reused).
  private readonly names = new Map<string, string>();

  constructor(mode: unknown) {
    if (mode !== "utf8" && mode !== "bytes") throw new Error(`HostOptions.headerStrings must be "utf8" or "bytes", not ${JSON.stringify(mode)}`);
    this.byteStrings = mode === "bytes";
  }

  /** Request headers as held: keys lowercased byte strings, string values kept as they are. */
  import(headers: readonly HeaderInput[], state: Conversion): HeldHeader[] {
    const out: HeldHeader[] = new Array(headers.length);
    const byteStrings = this.byteStrings;
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i];
      const name = h[0];
      let k = this.names.get(name);
      if (k === undefined) {
        if (asciiScan(name)) {
          k = name.toLowerCase();
          if (this.names.size >= 4096) this.names.clear();
          this.names.set(name, k);
        } else {
          k = asciiLower(byteStrings ? checkByteString(name, "header name") : textToBytes(name));
          state.convert = true;
        }
      }
      let v = h[1];
      if (typeof v !== "string") {
        v = new Uint8Array(v); // a copy: the caller may change theirs later
        state.convert = true;
      } else if (byteStrings) checkByteString(v, "header value");
      out[i] = [k, v];
    }
    return out;
  }

  result(outcome: RequestResult["outcome"], pairs: HeldHeader[], mutations: number, convert: boolean | undefined): RequestResult {
    const b = this.byteStrings;
    // Without bytes or non-ASCII keys every value is a string of the right kind: handed out as it is.
    const headers = convert
      ? pairs.map(([k, v]): Header => [b ? k : bytesToText(k), typeof v === "string" ? v : b ? Buffer.from(v).toString("latin1") : utf8.decode(v)])
      : (pairs as Header[]);
    return new Result(outcome, headers, mutations, pairs, b);
  }

  /** The bytes of a held value, as the module reads them. */
  bytes(v: string | Uint8Array): Uint8Array { return valueBytes(v, this.byteStrings); }

  /** HeaderMap::byteSize(): key and value bytes. */
  byteSize(map: HeldHeader[]): number {
    let size = 0;
    for (const [k, v] of map) size += k.length + valueBytes(v, this.byteStrings).length;
    return size;
  }

  /** Writes the pairs in Envoy's wire format straight into module memory (via malloc). */
  writePairs(mem: ModuleMemory, pairs: HeldHeader[], ptrPtr: number, sizePtr: number): number {
    const enc: Uint8Array[] = new Array(pairs.length * 2);
    let size = 4;
    for (let i = 0; i < pairs.length; i++) {
      enc[2 * i] = encodeCached(pairs[i][0], true);
      enc[2 * i + 1] = valueBytes(pairs[i][1], this.byteStrings);
      size += 8 + enc[2 * i].length + 1 + enc[2 * i + 1].length + 1;
    }
    const ptr = mem.alloc(size);
    if (ptr === 0) return WasmResult.InvalidMemoryAccess;
    const u8 = mem.u8();
    const dv = mem.view();
    dv.setUint32(ptr, pairs.length, true);
    let p = ptr + 4 + 8 * pairs.length;
    for (let i = 0; i < pairs.length; i++) {
      const k = enc[2 * i], v = enc[2 * i + 1];
      dv.setUint32(ptr + 4 + 8 * i, k.length, true);
      dv.setUint32(ptr + 8 + 8 * i, v.length, true);
      u8.set(k, p); p += k.length; u8[p++] = 0;
      u8.set(v, p); p += v.length; u8[p++] = 0;
    }
    return mem.setPointerSize(ptrPtr, ptr, sizePtr, size);
  }
}

/** RequestResult with `raw` computed on demand, so requests that never read it do not pay for it. */
class Result implements RequestResult {
  #pairs: HeldHeader[];
  #byteStrings: boolean;
  #raw: RawHeader[] | undefined;
  constructor(public outcome: RequestResult["outcome"], public headers: Header[], public mutations: number, pairs: HeldHeader[], byteStrings: boolean) {
    this.#pairs = pairs;
    this.#byteStrings = byteStrings;
  }
  get raw(): RawHeader[] {
    const b = this.#byteStrings;
    return (this.#raw ??= this.#pairs.map(([k, v]): RawHeader => [b ? k : bytesToText(k), new Uint8Array(valueBytes(v, b))]));
  }
}

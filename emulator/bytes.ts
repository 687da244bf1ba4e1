// Byte strings. Envoy carries header values, property paths and shared-data keys as raw bytes. Inside the
// emulator they are byte strings (one char per byte, 0-255); Buffer's "latin1" converts them exactly
// (TextDecoder's "latin1" label means windows-1252 in the Encoding Standard). ASCII strings are their own
// byte strings.

export const enc = new TextEncoder();
// A leading U+FEFF is content (Envoy passes it on), so it is kept; invalid UTF-8 becomes U+FFFD.
export const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
export const utf8Exact = new TextDecoder("utf-8", { ignoreBOM: true, fatal: true });
export const bytes = (s: string | Uint8Array) => (typeof s === "string" ? enc.encode(s) : s);

export function asciiScan(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}
/** Text -> the byte string of its UTF-8 encoding. */
export const textToBytes = (s: string) => (asciiScan(s) ? s : Buffer.from(s, "utf8").toString("latin1"));
/** Byte string -> text: UTF-8, a BOM kept, invalid sequences U+FFFD. */
export const bytesToText = (b: string) => (asciiScan(b) ? b : utf8.decode(Buffer.from(b, "latin1")));

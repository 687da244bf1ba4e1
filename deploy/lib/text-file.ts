// Reading the text files the tools are given (lanes specs, digest files): a file that is not UTF-8 text is
// refused with what it holds and where, and nothing read from a file reaches the terminal unescaped.
import { readFileSync } from "node:fs";

export class TextFileError extends Error {}

// C0 controls but tab, LF and CR; DEL; C1 controls. YAML and JSON allow none of them raw.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/** The byte offset of the first byte that is not well-formed UTF-8, or -1 when all of it is. */
export function invalidUtf8At(b: Uint8Array): number {
  for (let i = 0; i < b.length;) {
    const c = b[i];
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0 || i + n >= b.length) return i;
    for (let k = 1; k <= n; k++) if ((b[i + k] & 0xc0) !== 0x80) return i;
    // Overlong 3/4-byte forms, UTF-16 surrogates and code points past U+10FFFF.
    if ((c === 0xe0 && b[i + 1] < 0xa0) || (c === 0xed && b[i + 1] > 0x9f) || (c === 0xf0 && b[i + 1] < 0x90) || (c === 0xf4 && b[i + 1] > 0x8f)) return i;
    i += n + 1;
  }
  return -1;
}

/** Line and column (both from 1) of a character offset in `text`. */
export function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return `line ${line}, column ${offset - before.lastIndexOf("\n")}`;
}

/** A character as a reader can see it: U+0000 (NUL), U+001B, ... */
export function charName(ch: string): string {
  const code = ch.codePointAt(0)!;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  return code === 0 ? `${hex} (a NUL byte)` : hex;
}

/**
 * Why `bytes` is not a text file, or undefined when it is: a NUL byte (binary data), invalid UTF-8, or a
 * control character, with where it is.
 */
export function textProblem(bytes: Uint8Array): string | undefined {
  const nul = bytes.indexOf(0);
  const bad = invalidUtf8At(bytes);
  if (nul >= 0 && (bad < 0 || nul <= bad)) {
    const text = Buffer.from(bytes.subarray(0, nul)).toString("utf8");
    return `not a text file: a NUL byte at ${lineCol(text, text.length)} (byte offset ${nul}); is it a binary file?`;
  }
  if (bad >= 0) {
    const text = Buffer.from(bytes.subarray(0, bad)).toString("utf8");
    return `not UTF-8 text: byte 0x${bytes[bad].toString(16).padStart(2, "0")} at ${lineCol(text, text.length)} (byte offset ${bad}) is not valid UTF-8; is it a binary file?`;
  }
  const text = Buffer.from(bytes).toString("utf8");
  const m = CONTROL.exec(text);
  if (m) return `holds the control character ${charName(m[0])} at ${lineCol(text, m.index)} (write it as an escape in a double-quoted string)`;
  return undefined;
}

/** Reads a UTF-8 text file (a leading BOM dropped); throws TextFileError "<file>: <what is wrong>". */
export function readTextFile(file: string, what: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new TextFileError(`${file}: cannot read ${what}: ${printable((e as Error).message)}`);
  }
  const problem = textProblem(bytes);
  if (problem) throw new TextFileError(`${file}: ${problem}`);
  const text = bytes.toString("utf8");
  return text.startsWith("\ufeff") ? text.slice(1) : text;
}

// What a terminal could act on: controls, and the characters that reorder or hide text.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** `s` with every control or invisible character as \uXXXX: safe to print. */
export function printable(s: string): string {
  return s.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A value quoted for a message: JSON-quoted, with the invisible characters JSON leaves raw escaped too. */
export function quote(s: string): string {
  return printable(JSON.stringify(s));
}

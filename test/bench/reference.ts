// The bench's reference filter (reference.wat), assembled when asked with the binaryen that assemblyscript
// brings: the yardstick every clone has, so lane-tag's per-request cost can be given as a ratio anywhere.
import { readFileSync } from "node:fs";
import binaryen from "binaryen";

export const REFERENCE_WAT = new URL("./reference.wat", import.meta.url);

/** WebAssembly text as a validated binary module; throws naming `what` when it does not validate. */
export function assemble(text: string, what = "the module"): Uint8Array {
  const module = binaryen.parseText(text);
  try {
    if (!module.validate()) throw new Error(`${what} does not validate (binaryen's messages above)`);
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

/** reference.wat, assembled. */
export function referenceWasm(): Uint8Array {
  return assemble(readFileSync(REFERENCE_WAT, "utf8"), REFERENCE_WAT.pathname);
}

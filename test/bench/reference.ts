// The bench's reference filter (reference.wat), assembled when asked with the binaryen that assemblyscript
// brings: the yardstick every clone has, so lane-tag's per-request cost can be given as a ratio anywhere.
import { readFileSync } from "node:fs";
import binaryen from "binaryen";

export const REFERENCE_WAT = new URL("./reference.wat", import.meta.url);

/** reference.wat as a validated binary module; throws naming the problem when it does not assemble. */
export function referenceWasm(): Uint8Array {
  const text = readFileSync(REFERENCE_WAT, "utf8");
  const module = binaryen.parseText(text);
  try {
    if (!module.validate()) throw new Error(`${REFERENCE_WAT.pathname} does not validate (binaryen's messages above)`);
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

// Reads the YAML files of a folder (every document of each, in file-name order) into plain objects, the
// input of the route interpreters: what `kubectl apply -f <folder>` would apply.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";

/** Every non-empty document of `dir`'s *.yaml / *.yml files; a YAML error names the file and line. */
export function loadResources(dir: string): any[] {
  const out: any[] = [];
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  for (const f of files) {
    const path = join(dir, f);
    for (const doc of parseAllDocuments(readFileSync(path, "utf8"))) {
      if (doc.errors.length) {
        const e = doc.errors[0];
        throw new Error(`${path}: ${e.message.split("\n")[0]}${e.linePos ? ` (line ${e.linePos[0].line})` : ""}`);
      }
      const v = doc.toJS();
      if (v !== null && v !== undefined) out.push(v);
    }
  }
  return out;
}

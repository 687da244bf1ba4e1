// The built module for the commands that run it (push, demo, fuzz, bench, e2e:envoy): built only when it is
// missing or older than any source it is made from, so option errors and --help answer at once.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const WASM = join(ROOT, "build/lane-tag.wasm");

function newest(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
    const p = join(dir, e.name);
    return Math.max(m, e.isDirectory() ? (e.name === "__tests__" ? 0 : newest(p)) : statSync(p).mtimeMs);
  }, 0);
}

/** Whether build/lane-tag.wasm is missing or older than assembly/ or asconfig.json. */
export function isStale(): boolean {
  const sources = Math.max(newest(join(ROOT, "assembly")), statSync(join(ROOT, "asconfig.json")).mtimeMs);
  return !existsSync(WASM) || statSync(WASM).mtimeMs < sources;
}

/** Builds the module when stale; false (the compiler's output on stderr) when the build fails. */
export function ensureBuilt(): boolean {
  if (!isStale()) return true;
  console.error("building build/lane-tag.wasm ...");
  return spawnSync("npm", ["run", "--silent", "build"], { cwd: ROOT, stdio: ["ignore", 2, 2] }).status === 0;
}

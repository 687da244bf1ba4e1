// Shared by the manifest tests: the example spec and its output, the command, and the checks on outputs.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { loadSpec } from "../../deploy/lib/spec.ts";
import { generate } from "../../deploy/render/generate.ts";
import { Validator } from "../../deploy/lib/validate.ts";
import { Host } from "../../emulator/index.ts";
import { ROOT } from "../support/helpers.ts";

export const EXAMPLE = join(ROOT, "deploy/lanes.example.yaml");
export const spec = loadSpec(EXAMPLE);
export const outputs = generate(spec);
export const find = (path: string) => outputs.find((o) => o.path === path)!.resource;

export function manifests(args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "deploy/manifests.ts"), ...args], { cwd: ROOT, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

export function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of readdirSync(dir)) for (const f of readdirSync(join(dir, d))) out[`${d}/${f}`] = readFileSync(join(dir, d, f), "utf8");
  return out;
}

/** Every resource is valid for its CRD, and every filter configuration in it configures the built module. */
export async function assertValidAndAccepted(out: ReturnType<typeof generate>, host: Host) {
  const validator = new Validator();
  for (const o of out) {
    assert.deepEqual(validator.check(o.resource), [], o.path);
    const r = o.resource;
    const config = r.kind === "ASMFilterDeployment" ? r.spec.filter.parameters : r.kind === "WasmPlugin" ? JSON.stringify(r.spec.pluginConfig) : null;
    if (config !== null) assert.equal(host.configure({ configuration: config }).failed, false, `${o.path}: ${JSON.stringify(host.logs.at(-1))}`);
  }
}

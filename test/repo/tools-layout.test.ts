// The seam between deploy/lib (the spec, the plan, the names, the writer) and deploy/render (the targets):
// lib imports nothing from render; every generated name of ours is made in lib/names.ts; every generated
// file is written by lib/output-files.ts. Read from the source: static imports, re-exports, dynamic imports.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ROOT, SHARED } from "../support/helpers.ts";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? (f === "generated" ? [] : sources(p)) : p.endsWith(".ts") ? [p] : [];
  });
}

const DEPLOY = sources(join(ROOT, "deploy"));
const text = (f: string) => readFileSync(f, "utf8");
const name = (f: string) => relative(ROOT, f);
const under = (folder: string) => DEPLOY.filter((f) => name(f).startsWith(`${folder}/`));

/** The files `file` imports, re-exports from or imports dynamically (relative paths only), from ROOT. */
function importsOf(file: string): string[] {
  const re = /(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)/g;
  return [...text(file).matchAll(re)].map((m) => m[1] ?? m[2]).filter((p) => p.startsWith(".")).map((p) => name(resolve(dirname(file), p)));
}

describe("deploy/: the renderer seam", () => {
  it("deploy/lib imports nothing from deploy/render", () => {
    const up = under("deploy/lib").flatMap((f) => importsOf(f).filter((t) => t.startsWith("deploy/render/")).map((t) => `${name(f)} -> ${t}`));
    assert.deepEqual(up, []);
  });

  it("our resource names are made in deploy/lib/names.ts only (no lane-tag-${...} template elsewhere in lib/ or render/)", () => {
    const names = join(ROOT, "deploy/lib/names.ts");
    assert.match(text(names), /`lane-tag-\$\{/);
    const typed = [...under("deploy/lib"), ...under("deploy/render")].filter((f) => f !== names && /`lane-tag-\$\{/.test(text(f))).map(name);
    assert.deepEqual(typed, []);
  });

  it("one writer of generated files: lib/output-files.ts, used by npm run manifests and the demo", () => {
    const writer = "deploy/lib/output-files.ts";
    const callers = DEPLOY.filter((f) => name(f) !== writer && /\bfileText\(/.test(text(f))).map(name);
    assert.deepEqual(callers, [], "files that render outputs to text themselves");
    for (const f of ["deploy/manifests.ts", "demo/applied.ts"]) {
      assert.ok(importsOf(join(ROOT, f)).includes(writer), `${f} does not import ${writer}`);
      assert.match(text(join(ROOT, f)), /\bwriteOutputs\(/, `${f} does not call writeOutputs`);
      assert.doesNotMatch(text(join(ROOT, f)), /\bwriteFileSync\b/, `${f} writes files itself`);
    }
    assert.deepEqual([...under("deploy/render"), ...under("deploy/lib")].filter((f) => name(f) !== writer && /\bwriteFileSync\b/.test(text(f)) && /\bOutput\b/.test(text(f))).map(name), []);
  });

  const TOOL = `${SHARED}/tools/folder-layers.mjs`;
  const skip = existsSync(TOOL) ? false : `${TOOL} is missing (../shared is beside developer and CI checkouts only)`;
  it("folder-layers finds no back-up import between deploy/render and deploy/lib", { skip }, () => {
    const r = spawnSync(process.execPath, [TOOL, "."], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const back: string[] = JSON.parse(r.stdout).tooling.examples;
    assert.deepEqual(back.filter((e) => /^deploy\/(render|lib) -> deploy\/(render|lib) /.test(e)), []);
  });
});

// A user's clone: `git clone` of the committed HEAD into <tmp>/x/lane-tag, with no <tmp>/x/shared beside it
// (developer machines and CI have ../shared; a user's clone has nothing beside it). node_modules is linked
// from this checkout (no network). Then the commands a user runs, as npm scripts, as a user runs them: demo
// builds build/lane-tag.wasm first (the clone has none), fuzz and bench wait for that build; the rest run
// alongside.
// Uncommitted work is not in the clone: this tests what is committed.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../support/helpers.ts";

const gitVersion = spawnSync("git", ["--version"], { encoding: "utf8" });
const inRepo = !gitVersion.error && spawnSync("git", ["-C", ROOT, "rev-parse", "--verify", "HEAD"], { encoding: "utf8" }).status === 0;
const skip = gitVersion.error ? "git is not available: the bare-clone test needs it"
  : !inRepo ? "not a git checkout with a commit: nothing to clone"
  : !existsSync(join(ROOT, "node_modules")) ? "node_modules is missing: run npm install"
  : false;

// The child npm must find the clone's package.json, not the one of an npm run that started these tests.
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== "INIT_CWD"));
env.npm_config_update_notifier = "false";
env.npm_config_fund = "false";

describe("a bare clone (nothing beside it): what a user runs", { skip, concurrency: true }, () => {
  let tmp = "";
  let clone = "";
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "lane-tag-clone-"));
    mkdirSync(join(tmp, "x"));
    clone = join(tmp, "x", "lane-tag");
    const r = spawnSync("git", ["clone", "--quiet", ROOT, clone], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!existsSync(join(tmp, "x", "shared")), "no shared folder beside the clone");
    assert.ok(!existsSync(join(clone, "build")), "the clone has no build");
    symlinkSync(join(ROOT, "node_modules"), join(clone, "node_modules"), "dir");
  });
  after(() => {
    if (!tmp) return;
    if (clone && existsSync(join(clone, "node_modules"))) unlinkSync(join(clone, "node_modules")); // the link, not this checkout's
    rmSync(tmp, { recursive: true, force: true });
  });

  function npm(args: string[]): Promise<{ code: number; out: string; err: string }> {
    return new Promise((ok) => {
      execFile("npm", args, { cwd: clone, env, encoding: "utf8", maxBuffer: 16 << 20 }, (e, out, err) => {
        ok({ code: e ? (typeof e.code === "number" ? e.code : -1) : 0, out, err });
      });
    });
  }
  // demo builds the module; fuzz and bench run after it, so two builds never write build/lane-tag.wasm at once.
  let demo: ReturnType<typeof npm> | undefined;
  const runDemo = () => (demo ??= npm(["run", "demo", "--", "-n", "20", "-q"]));

  it("npm run demo -- -n 20 -q: builds the module, every chain stays in its lane", async () => {
    const r = await runDemo();
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /^every chain stayed in its lane/m);
    assert.ok(existsSync(join(clone, "build/lane-tag.wasm")));
  });
  it("npm run fuzz -- --iterations 200 --seed 1", async () => {
    await runDemo();
    const r = await npm(["run", "fuzz", "--", "--iterations", "200", "--seed", "1"]);
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /lane-tag fuzz: seed 1, 200 requests/);
    assert.match(r.out, /^ok: no trap/m);
  });
  it("npm run bench, tiny counts: no floor beside the clone, so ratios to the reference only, and configure time", async () => {
    await runDemo();
    const r = await npm(["run", "bench", "--", "--requests", "500", "--reps", "1", "--memory-requests", "500", "--configure-kib", "1"]);
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /^reference: test\/bench\/reference\.wat, assembled \d+ bytes/m);
    assert.match(r.out, /^floor absent \(\.\.\/shared\/bench\/floor\.wasm, looked for at .+\): ratios to the reference only$/m);
    assert.match(r.out, /^scenario +reference ns\/req +lane-tag ns\/req \(min \/ median \/ max\) +lane-tag \/ reference$/m);
    assert.match(r.out, /^outbound, 3-member baggage with lane +\d+ +\d+ \/ \d+ \/ \d+ +\d+\.\d\dx$/m);
    assert.match(r.out, /^1 +19 +\d+ +\d+ +\d+\.\d\dx +-?\d+ +-?\d+\.\d\d$/m, "cost vs baggage size, with its ratio");
    assert.match(r.out, /SDK dispatch \d+ ns\/req \(\d+\.\d\dx reference\); lane-tag \d+ ns\/req \(\d+\.\d\dx reference\)/);
    assert.match(r.out, /^linear memory: /m);
    assert.match(r.out, /^default_lane +1 +\d+ +\d+\.\d +\d+\.\d{3} +rejected \(field "default_lane"/m);
    assert.match(r.out, /^lanes, 64-byte members +1 +\d+ +\d+\.\d +\d+\.\d{3} +accepted$/m);
    assert.doesNotMatch(r.out, /NaN|floor ns|\/ floor/);
  });
  it("npm run manifests -- deploy/lanes.example.yaml: writes deploy/generated", async () => {
    const r = await npm(["run", "manifests", "--", "deploy/lanes.example.yaml"]);
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /wrote \d+ files to deploy\/generated: asm\/ \(\d+: ASMFilterDeployment\b.*istio\/ \(\d+: WasmPlugin\b/);
  });
  it("npm run manifests -- deploy/lanes.example.yaml --out DIR: writes there", async () => {
    const out = join(tmp, "generated");
    const r = await npm(["run", "manifests", "--", "deploy/lanes.example.yaml", "--out", out]);
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /ASMFilterDeployment/);
    assert.ok(readdirSync(join(out, "asm")).some((f) => f.endsWith(".yaml")), "asm/ manifests written");
    assert.ok(readdirSync(join(out, "istio")).some((f) => f.endsWith(".yaml")), "istio/ manifests written");
  });
  for (const tool of ["push", "bench"]) {
    it(`npm run ${tool} -- --help: usage, exit 0`, async () => {
      const r = await npm(["run", tool, "--", "--help"]);
      assert.equal(r.code, 0, r.err + r.out);
      assert.match(r.out, new RegExp(`^usage: npm run ${tool}\\b`, "m"));
    });
  }
});

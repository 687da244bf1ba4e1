// Every command-line tool parses its arguments with deploy/lib/cli.ts: --help, --opt=value, and usage errors
// (exit 2) answered before any build. The tools run as child processes, in parallel, on their fast paths.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCommand, HelpRequested, UsageError, integer, oneOf, someOf } from "../../deploy/lib/cli.ts";
import { ROOT } from "../support/helpers.ts";

function run(script: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((ok) => {
    execFile(process.execPath, ["--import", "tsx", script, ...args], { cwd: ROOT, encoding: "utf8" }, (e, out, err) => {
      ok({ code: e ? (typeof e.code === "number" ? e.code : -1) : 0, out, err });
    });
  });
}

// npm script -> the file it runs, for every script that is a tool of ours.
const scripts = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts as Record<string, string>;
const TOOLS = Object.entries(scripts).flatMap(([name, cmd]) => {
  const m = /^node --import tsx (\S+\.ts)$/.exec(cmd);
  return m ? [{ name, script: m[1] }] : [];
});

describe("every CLI: --help, unknown options", { concurrency: true }, () => {
  it("covers the eight tools", () => {
    assert.deepEqual(TOOLS.map((t) => t.name).sort(), ["bench", "demo", "e2e:envoy", "fuzz", "lanes", "local-configs", "manifests", "push"]);
  });
  for (const { name, script } of TOOLS) {
    it(`npm run ${name} -- --help: usage and description on stdout, exit 0`, async () => {
      const r = await run(script, ["--help"]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, new RegExp(`^usage: npm run ${name}\\b`));
      assert.ok(r.out.split("\n\n").length >= 2 && r.out.split("\n\n")[1].trim().length > 0, `no description:\n${r.out}`);
      assert.equal(r.err, "", "--help does not build or warn");
    });
    it(`npm run ${name} -- --no-such-option: named, usage on stderr, exit 2`, async () => {
      const r = await run(script, ["--no-such-option"]);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /^unknown option --no-such-option\nusage: npm run /);
      assert.match(r.err, new RegExp(`usage: npm run ${name}\\b`));
      assert.equal(r.out, "");
    });
  }
});

describe("every CLI: --opt=value", { concurrency: true }, () => {
  it("demo: a bad --requests=0 is named, with the usage, exit 2", async () => {
    const r = await run("demo/demo.ts", ["--requests=0"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /^--requests needs a positive integer, got "0"\nusage: npm run demo/);
  });
  it("demo: cross-option checks see --mode=websocket and -n", async () => {
    const r = await run("demo/demo.ts", ["--mode=websocket", "-n", "5"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /^--requests does not apply to --mode websocket/);
  });
  it("fuzz --iterations=200 --seed=1: a tiny run", async () => {
    const r = await run("test/fuzz/fuzz.ts", ["--iterations=200", "--seed=1"]);
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /lane-tag fuzz: seed 1, 200 requests/);
    assert.match(r.out, /^ok: no trap/m);
  });
  it("fuzz: a bad --seed is named, exit 2", async () => {
    const r = await run("test/fuzz/fuzz.ts", ["--seed=x"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /^--seed needs a non-negative integer, got "x"\nusage: npm run fuzz/);
  });
  it("bench: a bad --reps=0 is named, exit 2", async () => {
    const r = await run("test/bench/bench.ts", ["--reps=0"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /^--reps needs a positive integer, got "0"\nusage: npm run bench/);
  });
  it("manifests <spec> --out=DIR writes there", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lane-tag-cli-"));
    try {
      const r = await run("deploy/manifests.ts", ["deploy/lanes.example.yaml", `--out=${join(dir, "g")}`]);
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(readdirSync(join(dir, "g")).sort(), ["ambient", "asm", "istio"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("manifests: a missing or extra spec file is a usage error", async () => {
    for (const [args, why] of [[[], /^missing the lanes spec file/], [["a.yaml", "b.yaml"], /^unexpected argument "b.yaml"/]] as const) {
      const r = await run("deploy/manifests.ts", [...args]);
      assert.equal(r.code, 2);
      assert.match(r.err, why);
      assert.match(r.err, /usage: npm run manifests/);
    }
  });
  it("e2e:envoy --variant=ws is named, exit 2 (before Docker is looked for)", async () => {
    const r = await run("demo/e2e-envoy.ts", ["--variant=ws"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /^--variant needs one or more of http,websocket,grpc,stacked,ambient .*"ws"\nusage: npm run e2e:envoy/);
  });
  it("local-configs takes no arguments", async () => {
    const r = await run("demo/generate.ts", ["deploy"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /^unexpected argument "deploy"\nusage: npm run local-configs/);
  });
});

describe("deploy/lib/cli.ts", () => {
  const cmd = {
    usage: ["tool -- <file> [--count N] [--loud]", "tool -- --other"],
    description: "Does things.",
    options: { count: { type: "string", short: "c" }, loud: { type: "boolean", default: false } },
    positionals: ["the file"],
  } as const;
  const parse = (argv: string[]) => parseCommand(cmd, argv, (a) => a);
  const fails = (argv: string[], why: RegExp) => assert.throws(() => parse(argv), (e: unknown) => e instanceof UsageError && why.test(e.message) && e.message.endsWith("usage: tool -- <file> [--count N] [--loud]\n       tool -- --other"));

  it("--opt value, --opt=value and the short form are the same", () => {
    for (const argv of [["f", "--count", "3"], ["--count=3", "f"], ["f", "-c", "3"], ["f", "-c3"]]) {
      assert.deepEqual({ ...parse(argv).values }, { count: "3", loud: false }, argv.join(" "));
      assert.deepEqual(parse(argv).positionals, ["f"]);
    }
    assert.equal(parse(["f", "--loud"]).values.loud, true);
    assert.deepEqual(parse(["--", "-f"]).positionals, ["-f"], "after -- everything is positional");
  });
  it("--help and -h win over any mistake; the text is the usage, then the description", () => {
    for (const argv of [["--help"], ["-h"], ["--bogus", "-h"], ["a", "b", "--help"]]) {
      assert.throws(() => parse(argv), (e: unknown) => e instanceof HelpRequested && e.message === "usage: tool -- <file> [--count N] [--loud]\n       tool -- --other\n\nDoes things.\n", argv.join(" "));
    }
  });
  it("refuses, naming what is wrong", () => {
    fails(["f", "--bogus"], /^unknown option --bogus\n/);
    fails(["f", "-x"], /^unknown option -x\n/);
    fails(["f", "--count"], /^--count needs a value\n/);
    fails(["f", "--loud=yes"], /^--loud takes no value\n/);
    fails([], /^missing the file\n/);
    fails(["f", "g"], /^unexpected argument "g"\n/);
  });
  it("value checks name the option; the tool's check errors get the usage too", () => {
    assert.equal(integer("n", undefined), undefined);
    assert.equal(integer("n", "0"), 0);
    assert.throws(() => integer("n", "0", 1), { message: /^--n needs a positive integer, got "0"$/ });
    for (const bad of ["", " ", "1.5", "-1", "x"]) assert.throws(() => integer("n", bad), { message: /^--n needs a non-negative integer/ });
    assert.equal(oneOf("m", "b", ["a", "b"]), "b");
    assert.throws(() => oneOf("m", "c", ["a", "b"]), { message: /^--m needs one of a, b, got "c"$/ });
    assert.deepEqual(someOf("v", "b,a", ["a", "b"]), ["b", "a"]);
    for (const bad of ["", "a,", "c"]) assert.throws(() => someOf("v", bad, ["a", "b"]), { message: /^--v needs one or more of a,b/ });
    assert.throws(() => parseCommand(cmd, ["f", "--count=x"], ({ values }) => integer("count", values.count)), (e: unknown) => e instanceof UsageError && /^--count needs a non-negative integer, got "x"\nusage: tool/.test(e.message));
  });
});

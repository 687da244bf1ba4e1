// YAML features in a lanes spec get an answer, never a stack trace: anchors, aliases and merge keys are
// read (aliases within a bound), everything else is refused with its line; misspelt fields get the nearest
// known name and no follow-on errors; binary files are described, not echoed.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSpec, SpecError } from "../../deploy/lib/spec.ts";
import { parseCommand, integer } from "../../deploy/lib/cli.ts";
import { ROOT, filter } from "../support/helpers.ts";

const HEAD = "group: test\nnamespace: default\nbaseline: s1\nimage: registry.example.com/lane-tag:1\n";
const GATEWAY = "gateway:\n  name: gw\n  labels: {istio: gw}\n  entry: {service: a}\n  weights: {s1: 100}\n";

/** The problems parseSpec reports, one a line ([] when it takes the spec). */
function problems(text: string): string[] {
  try {
    parseSpec(text, "s.yaml");
    return [];
  } catch (e) {
    if (e instanceof SpecError) return e.problems;
    throw e;
  }
}

describe("anchors, aliases and merge keys", () => {
  it("an anchor used 150 times (yaml's own bound is 100): read, each lane its own copy", () => {
    const lanes = Array.from({ length: 150 }, (_, i) => `  ${i === 0 ? "s1" : `l${i}`}: {label: v${i}, services: *svcs}\n`).join("");
    const spec = parseSpec(`${HEAD}x-services: &svcs [a, b]\nlanes:\n${lanes}`, "s.yaml");
    assert.equal(spec.lanes.length, 150);
    assert.deepEqual(spec.lanes[149].services, ["a", "b"]);
    assert.notEqual(spec.lanes[1].services, spec.lanes[2].services);
  });
  it("a merge key: the lane takes the anchor's fields and overrides its own", () => {
    const spec = parseSpec(`${HEAD}lanes:\n  s1: &base {label: v1, services: [a]}\n  s2:\n    <<: *base\n    label: v2\n`, "s.yaml");
    assert.deepEqual(spec.lanes.map((l) => [l.name, l.label, l.services]), [["s1", "v1", ["a"]], ["s2", "v2", ["a"]]]);
  });
  it("a merge key over a list of anchors, and an error in a merged field names the anchor's line", () => {
    assert.deepEqual(problems(`${HEAD}lanes:\n  s1: {label: v1, services: [a]}\n  s2:\n    <<: [&l {label: v2}, &s {services: [A]}]\n`),
      [`s.yaml: lanes.s2.services[0]: "A" is not a Kubernetes service name (line 8)`]);
  });
  it("aliases that expand past the bound (a \"billion laughs\"): refused at the alias, with its line", () => {
    const laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + ["b", "c", "d", "e"].map((n, i) => `${n}: &${n} [${Array(10).fill(`*${"abcd"[i]}`).join(", ")}]\n`).join("");
    const p = problems(`${HEAD}${laughs.replace(/^(\w):/gm, "x-$1:")}lanes: {s1: {label: v1, services: [a]}}\n`);
    assert.equal(p.length, 1, p.join("\n"));
    assert.match(p[0], /^s\.yaml: aliases expand to more than 100000 values by alias \*d: .* \(line 9, column \d+\)$/);
  });
  for (const [what, yaml, expected] of [
    ["an alias without an anchor", `${HEAD}lanes: {s1: {label: v1, services: *nope}}\n`, /^s\.yaml: alias \*nope has no anchor &nope before it \(line 5, column 35\)$/],
    ["an alias inside its own anchor", `${HEAD}lanes: &l {s1: {label: v1, services: [a]}, s2: *l}\n`, /^s\.yaml: alias \*l is inside the node it names: it would never end \(line 5, column \d+\)$/],
    ["a merge key on a scalar", `${HEAD}lanes:\n  s1:\n    <<: 5\n`, /^s\.yaml: lanes\.s1: <<: a merge key takes a mapping, an alias of one \(\*name\) or a list of them \(line 7, column 5\)$/],
    ["an unknown tag", `${HEAD}lanes: {s1: {label: !custom v1, services: [a]}}\n`, /^s\.yaml: unknown tag !custom \(line 5, column 21\): the spec takes plain YAML/],
    ["a YAML 1.1 tag", `${HEAD}x-blob: !!binary aGk=\nlanes: {s1: {label: v1, services: [a]}}\n`, /^s\.yaml: tag !!binary is not supported: the spec takes plain YAML \(strings, numbers, booleans, lists, mappings\) \(line 5, column 18\)$/],
    ["a list as a key", `${HEAD}lanes:\n  ? [s1, s2]\n  : {label: v1, services: [a]}\n`, /^s\.yaml: lanes: a key must be a plain string, not a list, mapping or alias \(line 6, column 5\)$/],
    ["a %YAML 1.1 document", `%YAML 1.1\n---\n${HEAD}lanes: {s1: {label: v1, services: [a]}}\n`, /^s\.yaml: %YAML 1\.1: the spec is YAML 1\.2/],
  ] as const) {
    it(`${what}: refused, with its line`, () => {
      const p = problems(yaml);
      assert.equal(p.length, 1, p.join("\n"));
      assert.match(p[0], expected);
    });
  }
});

describe("misspelt fields: the nearest known one, and no follow-on errors", () => {
  it("lane: instead of lanes: one problem, with the suggestion", () => {
    const p = problems(`${HEAD}lane:\n  s1: {label: v1, services: [a]}\n${GATEWAY}`);
    assert.deepEqual(p, [`s.yaml: lane: unknown field: did you mean lanes? (known: group, namespace, routingHeader, baggageKey, labelKey, workloadLabel, baseline, image, istioImage, imagePullPolicy, lanes, gateway, correlation, localLane, workloads, digests, otel, observe, targets, ambient) (line 5)`]);
  });
  it("a misspelt field is still checked, under its own spelling", () => {
    const p = problems(`${HEAD}lane:\n  s1: {label: v1, services: [A]}\n`);
    assert.equal(p.length, 2, p.join("\n"));
    assert.match(p[0], /^s\.yaml: lane: unknown field: did you mean lanes\?/);
    assert.equal(p[1], `s.yaml: lane.s1.services[0]: "A" is not a Kubernetes service name (line 6)`);
  });
  for (const [where, yaml, expected] of [
    ["a lane", `${HEAD}lanes: {s1: {lable: v1, services: [a]}}\n`, /^s\.yaml: lanes\.s1\.lable: unknown field: did you mean label\? \(known: label, services, fallback\) \(line 5\)$/],
    ["the gateway", `${HEAD}lanes: {s1: {label: v1, services: [a]}}\n${GATEWAY.replace("weights", "wieghts")}`, /^s\.yaml: gateway\.wieghts: unknown field: did you mean weights\?/],
    ["gateway.entry", `${HEAD}lanes: {s1: {label: v1, services: [a]}}\n${GATEWAY.replace("{service: a}", "{servce: a}")}`, /^s\.yaml: gateway\.entry\.servce: unknown field: did you mean service\?/],
    ["correlation", `${HEAD}lanes: {s1: {label: v1, services: [a]}}\ncorrelation: {ttlms: 5}\n`, /^s\.yaml: correlation\.ttlms: unknown field: did you mean ttlMs\?/],
    ["observe", `${HEAD}lanes: {s1: {label: v1, services: [a]}}\nobserve: {laneMetric: true}\n`, /^s\.yaml: observe\.laneMetric: unknown field: did you mean laneMetrics\?/],
    ["otel", `${HEAD}lanes: {s1: {label: v1, services: [a]}}\notel: {propagator: [tracecontext, baggage]}\n`, /^s\.yaml: otel\.propagator: unknown field: did you mean propagators\?/],
    ["the top level, by case", `${HEAD}lanes: {s1: {label: v1, services: [a]}}\nroutingheader: x-lane\n`, /^s\.yaml: routingheader: unknown field: did you mean routingHeader\?/],
  ] as const) {
    it(`in ${where}: one problem, with the suggestion`, () => {
      const p = problems(yaml);
      assert.equal(p.length, 1, p.join("\n"));
      assert.match(p[0], expected);
    });
  }
  it("a field far from every known one: no suggestion", () => {
    assert.match(problems(`${HEAD}lanes: {s1: {label: v1, services: [a]}}\nzzz: 1\n`)[0], /^s\.yaml: zzz: unknown field \(known: /);
  });
});

describe("lengths and text", () => {
  it("a 300-character routingHeader: its length and the limit, not 'not a header name'", () => {
    assert.deepEqual(problems(`${HEAD}routingHeader: ${"x".repeat(300)}\nlanes: {s1: {label: v1, services: [a]}}\n`),
      [`s.yaml: routingHeader: "${"x".repeat(32)}"... (300 characters) is too long: an HTTP header name (an RFC 9110 token) has at most 256 characters, this one has 300 (line 5)`]);
  });
  it("a group name past 63 characters: its length and the limit", () => {
    assert.match(problems(HEAD.replace("group: test", `group: ${"g".repeat(64)}`) + "lanes: {s1: {label: v1, services: [a]}}\n")[0],
      /^s\.yaml: group: "g{64}" is too long: a DNS-1123 label .* has at most 63 characters, this one has 64 \(line 1\)$/);
  });
  it("escaped control characters in values and keys come out escaped", () => {
    const p = problems(`${HEAD}lanes: {s1: {label: v1, services: [a]}, "s\\e[2J": {label: "\\x9b", services: [a]}}\n`);
    assert.ok(p.length >= 2, p.join("\n"));
    for (const line of p) assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f]/, line);
    assert.match(p.join("\n"), /lanes\."s\\u001b\[2J"/);
  });
});

function run(script: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((ok) => {
    execFile(process.execPath, ["--import", "tsx", script, ...args], { cwd: ROOT, encoding: "utf8" }, (e, out, err) => {
      ok({ code: e ? (typeof e.code === "number" ? e.code : -1) : 0, out, err });
    });
  });
}

describe("the tools' messages", { concurrency: true }, () => {
  const dir = mkdtempSync(join(tmpdir(), "lane-tag-msg-"));
  const file = (name: string, data: string | Uint8Array) => { writeFileSync(join(dir, name), data); return join(dir, name); };
  const binary = Uint8Array.from([0, 1, 2, 0x1b, 0x5b, 0x32, 0x4a, 0xff, 0xfe, 0x9b]);
  it("manifests: a spec starting with a NUL byte is called a binary file, with where", async () => {
    const r = await run("deploy/manifests.ts", [file("nul.yaml", `\0${HEAD}`), "--out", join(dir, "o1")]);
    assert.equal(r.code, 1);
    assert.match(r.err, /nul\.yaml: not a text file: a NUL byte at line 1, column 1 \(byte offset 0\); is it a binary file\?\nnothing was written/);
  });
  it("manifests: a spec that is not UTF-8 names the byte and its offset", async () => {
    const r = await run("deploy/manifests.ts", [file("latin1.yaml", Buffer.concat([Buffer.from(`${HEAD}# caf`), Buffer.from([0xe9]), Buffer.from("\n")])), "--out", join(dir, "o2")]);
    assert.equal(r.code, 1);
    assert.match(r.err, /latin1\.yaml: not UTF-8 text: byte 0xe9 at line 5, column 6 \(byte offset \d+\)/);
  });
  it("manifests --digests <binary file>: described, never echoed", async () => {
    const r = await run("deploy/manifests.ts", ["deploy/lanes.example.yaml", "--out", join(dir, "o3"), "--digests", file("d.bin", binary)]);
    assert.equal(r.code, 1);
    assert.match(r.err, /d\.bin: not a text file: a NUL byte at line 1, column 1 \(byte offset 0\)/);
    assert.doesNotMatch(r.err + r.out, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufffd]/);
  });
  it("manifests --digests: control characters inside JSON strings and keys come out escaped", async () => {
    const r = await run("deploy/manifests.ts", ["deploy/lanes.example.yaml", "--out", join(dir, "o4"), "--digests", file("d.json", '{"x\\u001b[2J": 1, "asm": {"ref": "r\\u009b", "digest": "\\u0007"}}')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /"x\\u001b\[2J": unknown layout/);
    assert.doesNotMatch(r.err, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  });
  it("the built filter, given a configuration starting with a NUL byte: names it, never prints it raw", async () => {
    const { host, plugin } = await filter("\0{}");
    assert.equal(plugin.failed, true);
    assert.deepEqual(host.logs.map((l) => l.message), ["lane-tag: invalid configuration: configuration is not valid JSON: unexpected character U+0000 (a NUL byte: binary data, not JSON) at offset 0"]);
    const esc = await filter("\u001b[2J");
    assert.match(esc.host.logs[0].message, /unexpected character U\+001B at offset 0$/);
  });
  it("lanes foo: an unknown command, with the commands", async () => {
    const r = await run("deploy/lanes.ts", ["foo"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /^unknown command "foo" \(known: status\)\nusage: npm run lanes/);
  });
  it("lanes with nothing: the command is missing", async () => {
    const r = await run("deploy/lanes.ts", []);
    assert.equal(r.code, 2);
    assert.match(r.err, /^missing the command \(status\)\nusage: npm run lanes/);
  });
  it("fuzz --seed -1: the range, not node's 'ambiguous'", async () => {
    const r = await run("test/fuzz/fuzz.ts", ["--seed", "-1"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /^--seed needs a non-negative integer, got "-1"\nusage: npm run fuzz/);
  });
  it("lanes status --timeout -5: the range", async () => {
    const r = await run("deploy/lanes.ts", ["status", "127.0.0.1:1", "--timeout", "-5"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /^--timeout needs a positive integer, got "-5"\nusage: npm run lanes/);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
});

describe("negative numbers on the command line", () => {
  const cmd = { usage: "tool [--n N]", description: "d", options: { n: { type: "string" }, name: { type: "string", short: "x" } } } as const;
  it("are the value of the option before them, long or short, where the check allows them", () => {
    assert.equal(parseCommand(cmd, ["--n", "-3"], ({ values }) => integer("n", values.n, -Infinity)), -3);
    assert.equal(parseCommand(cmd, ["-x", "-3"], ({ values }) => values.name), "-3");
  });
  it("where the check does not, it says the range", () => {
    assert.throws(() => parseCommand(cmd, ["--n", "-3"], ({ values }) => integer("n", values.n, 1, 10)), { message: /^--n needs an integer from 1 to 10, got "-3"\nusage: tool/ });
  });
  it("an option followed by another option still needs its value", () => {
    assert.throws(() => parseCommand(cmd, ["--n", "--name", "a"], ({ values }) => values.n), /--n/);
  });
});

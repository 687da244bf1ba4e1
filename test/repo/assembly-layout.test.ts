// The shape of the filter's source (assembly/): no import cycles; the modules the as-pect specs test reach
// no host call; the request pipeline is a short function of named stages, none of them long, sharing state
// only through the Request; one decoder of Envoy's header pairs. (Its folders' order: layout.test.ts.)
// Read from the source, as the build would: static imports and re-exports with relative paths.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ROOT } from "../support/helpers.ts";

const SRC = join(ROOT, "assembly");
const TESTS = join(SRC, "__tests__");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

const FILES = sources(SRC);
const text = new Map(FILES.map((f) => [f, readFileSync(f, "utf8")]));
const name = (f: string) => relative(ROOT, f);

/** The assembly/ files `file` imports or re-exports from. */
function importsOf(file: string): string[] {
  const out: string[] = [];
  for (const m of text.get(file)!.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+"(\.{1,2}\/[^"]+)"/gms)) {
    const target = resolve(dirname(file), m[1]) + ".ts";
    assert.ok(text.has(target), `${name(file)} imports ${m[1]}, which is no file of assembly/`);
    out.push(target);
  }
  return out;
}

const graph = new Map(FILES.map((f) => [f, importsOf(f)]));

/** The strongly connected components of more than one file, or of a file importing itself (Tarjan). */
function cycles(): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of graph.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do { w = stack.pop()!; scc.push(name(w)); } while (w !== v);
    if (scc.length > 1 || graph.get(v)!.includes(v)) found.push(scc.sort());
  };
  for (const f of FILES) if (!index.has(f)) visit(f);
  return found;
}

/** Every file `file` reaches through its imports. */
function reach(file: string, seen = new Set<string>()): Set<string> {
  for (const w of graph.get(file)!) if (!seen.has(w)) { seen.add(w); reach(w, seen); }
  return seen;
}


/** The top-level functions of a file with their length in lines (this code base closes them at column 0). */
function functions(file: string): { fn: string; lines: number }[] {
  const lines = text.get(file)!.split("\n");
  const out: { fn: string; lines: number }[] = [];
  lines.forEach((l, i) => {
    const m = /^(?:@inline )?(?:export )?function (\w+)/.exec(l);
    if (!m) return;
    const end = lines.findIndex((x, j) => j > i && x === "}");
    out.push({ fn: m[1], lines: end - i + 1 });
  });
  return out;
}

describe("assembly/ layout", () => {
  it("has no import cycles", () => {
    assert.deepEqual(cycles(), []);
  });


  it("the modules the as-pect specs test make no host call (they reach neither abi/host.ts nor abi/sdk.ts)", () => {
    const host = [join(SRC, "abi/host.ts"), join(SRC, "abi/sdk.ts")];
    for (const h of host) assert.ok(text.has(h), `${name(h)} is missing`);
    const specs = FILES.filter((f) => f.startsWith(TESTS));
    assert.ok(specs.length >= 10, `only ${specs.length} spec files`);
    for (const s of specs) {
      const impure = [...reach(s)].filter((f) => host.includes(f)).map(name);
      assert.deepEqual(impure, [], `${name(s)} reaches the host through its imports`);
    }
  });

  it("onRequest is a short pipeline of named stages, in order, and no function of the request path is long", () => {
    const defining = FILES.filter((f) => /^export function onRequest\(/m.test(text.get(f)!));
    assert.equal(defining.length, 1, "one module defines onRequest");
    const file = defining[0];
    const body = text.get(file)!.split(/^export function onRequest\(/m)[1].split(/^}$/m)[0];
    const stages = ["readHeaders", "stripClientLanes", "findLane", "decide", "writeCarriers", "record", "observe"];
    const at = stages.map((s) => body.search(new RegExp(`\\b${s}\\(`)));
    assert.ok(at.every((p) => p >= 0), `onRequest does not call ${stages.filter((_, i) => at[i] < 0).join(", ")}`);
    assert.deepEqual([...at].sort((a, b) => a - b), at, "onRequest calls its stages in order");
    // The request path: the pipeline's folder and what onRequest's module reaches there.
    const path = [file, ...reach(file)].filter((f) => dirname(f) === dirname(file));
    const long = path.flatMap((f) => functions(f).filter((x) => x.lines > 60).map((x) => `${name(f)} ${x.fn}: ${x.lines} lines`));
    assert.deepEqual(long, []);
    const pipeline = functions(file).find((x) => x.fn === "onRequest")!;
    assert.ok(pipeline.lines <= 20, `onRequest is ${pipeline.lines} lines`);
    // The carriers' request side is the request path too.
    const carriers = FILES.filter((f) => dirname(f) === join(SRC, "carriers"));
    assert.ok(carriers.length >= 5, "carriers/ holds the carriers' modules");
    const longCarrier = carriers.flatMap((f) => functions(f).filter((x) => x.lines > 60).map((x) => `${name(f)} ${x.fn}: ${x.lines} lines`));
    assert.deepEqual(longCarrier, []);
  });

  it("the stages share state only through the Request: no exported mutable module state in pipeline/ or carriers/", () => {
    const stageFiles = FILES.filter((f) => [join(SRC, "pipeline"), join(SRC, "carriers")].includes(dirname(f)));
    const shared = stageFiles.flatMap((f) => [...text.get(f)!.matchAll(/^export (?:let|var) (\w+)|^export class (\w+)[^{]*\{[^}]*?\bstatic (?!readonly)\w+/gm)]
      .map((m) => `${name(f)}: ${m[1] ?? m[2]}`));
    assert.deepEqual(shared, []);
    assert.match(text.get(join(SRC, "lane/request.ts"))!, /^export class Request \{/m, "lane/request.ts names the request's state");
  });

  it("one decoder of Envoy's header-pair layout: the cursor in abi/pairs.ts, which every walk uses", () => {
    // The layout: u32 count, then (u32 name length, u32 value length) per pair, then the names and values.
    const layout = /load<u32>\(\s*\w+\s*\+\s*[48]\s*\+\s*\(<usize>\w+\s*<<\s*3\)|\w+\s*\+\s*4\s*\+\s*\(<usize>\w+\s*<<\s*3\)|<u64>\w+\s*\*\s*8\s*\+\s*4/;
    const decoders = FILES.filter((f) => !f.startsWith(TESTS) && layout.test(text.get(f)!)).map(name);
    assert.deepEqual(decoders, ["assembly/abi/pairs.ts"]);
    const walkers = FILES.filter((f) => !f.startsWith(TESTS) && /\bfirstName\(/.test(text.get(f)!)).map(name);
    assert.ok(walkers.length >= 5, `walks over the pairs through the cursor: ${walkers.join(", ")}`);
  });

});

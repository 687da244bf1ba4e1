// The house holds together, as docs/internals.md describes it: its layout table names every source folder
// and every file of the code, and only paths that exist; the folders import down the orders its "Layers"
// section gives (no import points back up); a new carrier takes the files its "Adding a carrier" lists.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ROOT } from "../support/helpers.ts";

const CODE = ["assembly", "deploy", "emulator", "demo"];
const SKIP = new Set(["node_modules", "build", "generated", "fixtures"]);
const SOURCE = /\.(ts|mts|cts|mjs|cjs)$/;
const DOC = readFileSync(join(ROOT, "docs/internals.md"), "utf8");
const section = (title: string) => DOC.split(new RegExp(`^## ${title}$`, "m"))[1]?.split(/^## /m)[0] ?? "";

/** Folders (relative to the root) holding source files directly, each with its source files' names. */
function sourceFolders(dir: string, out = new Map<string, string[]>()): Map<string, string[]> {
  const entries = readdirSync(join(ROOT, dir), { withFileTypes: true });
  const files = entries.filter((e) => e.isFile() && SOURCE.test(e.name) && !/\.d\.c?ts$/.test(e.name)).map((e) => e.name);
  if (files.length) out.set(dir, files);
  for (const e of entries) if (e.isDirectory() && !SKIP.has(e.name)) sourceFolders(`${dir}/${e.name}`, out);
  return out;
}

/** The layout table's rows: the paths of the first cell, and the whole row's text. */
const table = section("Layout").split("\n").filter((l) => /^\| `/.test(l)).map((l) => ({
  paths: [...l.split(" | ")[0].matchAll(/`([^`]+)`/g)].map((m) => m[1]),
  text: l,
}));
const rowOf = (folder: string) => table.filter((r) => r.paths.includes(`${folder}/`));

/** The folders' ranks by the "Layers" section: each list item an order of steps ("a/ > b/, c/ > d/"). */
function ranks(): Map<string, number> {
  const rank = new Map<string, number>();
  for (const item of section("Layers").split("\n").filter((l) => l.startsWith("- "))) {
    item.split(" > ").forEach((step, i) => {
      for (const m of step.matchAll(/`([^`]+)\/`/g)) {
        assert.ok(!rank.has(m[1]), `${m[1]}/ is in the Layers section twice`);
        rank.set(m[1], rank.size === 0 && i === 0 ? 0 : i + (item.includes("tooling") ? 100 : 0));
      }
    });
  }
  return rank;
}

/** The imports between folders of the code's sources (tests aside), as [from folder, to folder, file]. */
function folderImports(): [string, string, string][] {
  const out: [string, string, string][] = [];
  for (const [folder, files] of CODE.flatMap((d) => [...sourceFolders(d)])) {
    if (folder.endsWith("__tests__")) continue;
    for (const f of files) {
      const text = readFileSync(join(ROOT, folder, f), "utf8");
      for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\s*\(\s*['"](\.[^'"]+)['"]\s*\)|require\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
        const target = relative(ROOT, dirname(resolve(ROOT, folder, m[1] ?? m[2] ?? m[3])));
        if (target !== folder) out.push([folder, target, `${folder}/${f}`]);
      }
    }
  }
  return out;
}

describe("docs/internals.md's layout table", () => {
  it("has a row for every source folder, tests included", () => {
    const folders = [...CODE, "test"].flatMap((d) => [...sourceFolders(d).keys()]);
    assert.ok(folders.length > 20, `only ${folders.length} source folders found`);
    assert.deepEqual(folders.filter((f) => rowOf(f).length === 0), [], "folders without a row (first cell `folder/`)");
  });

  it("names every source file of the code in its folder's row", () => {
    const missing = CODE.flatMap((d) => [...sourceFolders(d)].filter(([folder]) => !folder.endsWith("__tests__")).flatMap(([folder, files]) => {
      const text = rowOf(folder).map((r) => r.text).join("\n");
      return files.filter((f) => !new RegExp("`" + f.replace(/\./g, "\\.") + "`").test(text)).map((f) => `${folder}/${f}`);
    }));
    assert.deepEqual(missing, [], "files the table does not name in their folder's row");
  });

  it("names only paths that exist", () => {
    const paths = table.flatMap((r) => r.paths.filter((p) => p.includes("/") || p.includes(".")));
    assert.ok(paths.length > 20);
    assert.deepEqual(paths.filter((p) => !existsSync(join(ROOT, p))), []);
  });
});

describe("the folders' layers (docs/internals.md, Layers)", () => {
  const rank = ranks();

  it("name every folder of the code once", () => {
    const folders = CODE.flatMap((d) => [...sourceFolders(d).keys()]).filter((f) => !f.endsWith("__tests__"));
    assert.deepEqual(folders.filter((f) => !rank.has(f)), [], "folders the Layers section leaves out");
    assert.deepEqual([...rank.keys()].filter((f) => !folders.includes(f)), [], "Layers names folders that hold no source");
  });

  it("every import between folders points down (0 back up)", () => {
    const imports = folderImports();
    assert.ok(imports.length > 100, `only ${imports.length} imports between folders`);
    const up = imports.filter(([a, b]) => rank.has(b) && !(rank.get(a)! < rank.get(b)!)).map(([a, b, f]) => `${f} -> ${b}/`);
    assert.deepEqual([...new Set(up)], []);
  });

  it("the filter and the tooling import nothing of each other", () => {
    const across = folderImports().filter(([a, b]) => (a.startsWith("assembly")) !== (b.startsWith("assembly")) && rank.has(b));
    assert.deepEqual(across, []);
  });

  it("docs/internals.md lists the files a new carrier takes, at most 5 (4 in assembly/), and they exist", () => {
    const doc = readFileSync(join(ROOT, "docs/internals.md"), "utf8");
    const section = doc.split(/^## Adding a carrier$/m)[1]?.split(/^## /m)[0];
    assert.ok(section, "docs/internals.md has a section \"Adding a carrier\"");
    const listed = [...section.matchAll(/^\d+\. `([^`]+)`/gm)].map((m) => m[1]);
    assert.ok(listed.length > 0 && listed.length <= 5, `a carrier takes ${listed.length} files: ${listed.join(", ")}`);
    assert.ok(listed.filter((f) => f.startsWith("assembly/")).length <= 4, "at most 4 files in assembly/");
    // The carriers that exist: each module of carriers/ but the interface and its helpers.
    const modules = readdirSync(join(ROOT, "assembly/carriers")).filter((f) => f.endsWith(".ts") && !["carrier.ts", "repeated.ts"].includes(f)).map((f) => f.slice(0, -3));
    assert.deepEqual(modules.sort(), ["baggage", "ottrace", "tracestate", "uberctx"]);
    for (const f of listed) {
      const paths = f.includes("<name>") ? modules.map((m) => f.replace("<name>", m)) : [f];
      for (const p of paths) assert.ok(statSync(join(ROOT, p), { throwIfNoEntry: false })?.isFile(), `${p} (docs/internals.md, "Adding a carrier") is missing`);
    }
  });
});

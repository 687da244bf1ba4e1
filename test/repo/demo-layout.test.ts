// The Docker-less demo's layout (demo): one mesh starter for every cell of the matrix (protocol ×
// feature × mesh), the routing plan computed in one place, and imports that only go down: the top
// (demo/*.ts) imports the subfolders, a subfolder never imports its parent, and core/ (the ground)
// imports nothing of the demo outside itself.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { ROOT } from "../support/helpers.ts";
import { loadSpec } from "../../deploy/lib/spec.ts";
import { meshSetup, meshAxes, MODES, PROTOCOLS, FEATURES, SPEC } from "../../demo/mesh.ts";
import { refusal, MESHES } from "../../demo/core/combinations.ts";
import { WS_SPEC } from "../../demo/websocket/client.ts";

const DEMO = join(ROOT, "demo");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return files(p);
    return /\.(ts|mts|cts|mjs|cjs)$/.test(name) && !name.endsWith(".d.ts") && !name.endsWith(".d.cts") ? [p] : [];
  });
}

const sources = files(DEMO).map((path) => ({ path, rel: relative(DEMO, path), text: readFileSync(path, "utf8") }));

/** The project files a source imports (relative specifiers that name a file). */
function imports(path: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\s*\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
    const target = resolve(dirname(path), m[1] ?? m[2]);
    if (existsSync(target)) out.push(target);
  }
  return out;
}

describe("the demo's layout (demo)", () => {
  it("has one mesh starter", () => {
    const starters = sources.flatMap((s) => [...s.text.matchAll(/export (?:async )?function (start\w*Mesh)\b/g)].map((m) => `${s.rel}: ${m[1]}`));
    assert.deepEqual(starters, ["mesh.ts: startMesh"]);
    const launchers = sources.filter((s) => /\.listeners\(\)/.test(s.text)).map((s) => s.rel);
    assert.deepEqual(launchers, ["mesh/start.ts"], "only the starter opens a transport's listeners");
  });

  it("computes the routing plan in one place", () => {
    const calls = sources.flatMap((s) => [...s.text.matchAll(/\broutingPlan\(/g)].map(() => s.rel));
    assert.deepEqual(calls, ["core/plan.ts"]);
  });

  it("imports only down: no subfolder imports its parent, and core/ imports nothing of the demo but the route interpreters (routes/) and the mock app (mock/)", () => {
    const up: string[] = [];
    for (const s of sources) {
      const from = dirname(s.path);
      if (from === DEMO) continue;
      for (const target of imports(s.path, s.text)) {
        const to = dirname(target);
        const inDemo = target.startsWith(DEMO + sep);
        const ancestor = from.startsWith(to + sep);
        const below = ["core", "routes", "mock"].some((d) => to.startsWith(join(DEMO, d)));
        const outOfCore = s.rel.startsWith(`core${sep}`) && inDemo && !below;
        if (inDemo && (ancestor || outOfCore)) up.push(`${s.rel} -> ${relative(DEMO, target)}`);
      }
    }
    assert.deepEqual(up, []);
  });
});

describe("the demo's matrix: protocol × lane feature × mesh", () => {
  it("every --mode is one cell: a protocol with baggage, or a feature on HTTP/1.1", () => {
    for (const mode of MODES) {
      const { protocol, feature } = meshAxes({ mode });
      assert.ok(protocol === "http" ? feature === mode : protocol === mode && feature === "baggage", mode);
    }
  });

  it("a cell either gets its setup (spec, plan, routes) or is refused in one line", () => {
    const example = loadSpec(SPEC);
    const ws = loadSpec(WS_SPEC);
    for (const protocol of PROTOCOLS) for (const feature of FEATURES) for (const mesh of MESHES) {
      const why = refusal(protocol, feature, mesh);
      const opts = { protocol, feature, mesh, withFilter: false };
      if (why) {
        assert.doesNotMatch(why, /\n/);
        assert.throws(() => meshSetup(example, opts), (e: Error) => e.message === why);
        continue;
      }
      const setup = meshSetup(protocol === "websocket" ? ws : example, opts);
      assert.ok(setup.resources.length > 0, `${protocol} × ${feature} × ${mesh}: no resources to route by`);
    }
  });
});

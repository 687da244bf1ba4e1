// The bench's configure-time section survives a configure that hangs or traps: a row says so, and the rest
// of the table (and the bench) goes on. Modules made here, in WebAssembly text, stand in for a bad build.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assemble } from "./reference.ts";
import { configureTimes, configureTable } from "./configure-time.ts";
import { SHAPES } from "./configure-shapes.ts";
import { WASM } from "../support/helpers.ts";

/** The least the emulator loads, with `body` as on_configure's. */
const module = (body: string) => assemble(`(module
  (memory (export "memory") 1)
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_abi_version_0_2_0"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) ${body}))`);

describe("the bench's configure-time section", { timeout: 60_000 }, () => {
  let dir = "";
  let hang = "", trap = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "lane-tag-configure-"));
    hang = join(dir, "hang.wasm");
    trap = join(dir, "trap.wasm");
    writeFileSync(hang, module("(loop $forever (br $forever)) (i32.const 1)"));
    writeFileSync(trap, module("(unreachable)"));
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it("a configure that never returns: a timeout row, the larger sizes skipped, every shape tried", async () => {
    const rows = await configureTimes({ wasm: hang, sizes: [1, 16], caseTimeoutMs: 500, budgetMs: 45_000 });
    assert.deepEqual(rows.map((r) => [r.shape, r.kib, r.outcome]), SHAPES.flatMap((s) => [
      [s.name, 1, "not done in 0.5 s (case timeout)"], [s.name, 16, "skipped (a smaller size timed out)"]]));
  });
  it("the time budget cuts a hanging case short and skips what is left", async () => {
    const rows = await configureTimes({ wasm: hang, sizes: [1, 16], caseTimeoutMs: 60_000, budgetMs: 3_000 });
    assert.equal(rows.length, SHAPES.length * 2);
    for (const r of rows) assert.match(r.outcome, /^(not done in \d+\.\d s \(time budget\)|budget spent before the child started|skipped \(the time budget is spent\))$/, JSON.stringify(r));
    assert.ok(rows.every((r) => r.ms === undefined));
  });
  it("a configure that traps: trapped, at every size (each case is a fresh VM)", async () => {
    const rows = await configureTimes({ wasm: trap, sizes: [1, 2], caseTimeoutMs: 20_000, budgetMs: 45_000 });
    assert.equal(rows.length, SHAPES.length * 2);
    for (const r of rows) {
      assert.match(r.outcome, /^trapped \(trap in proxy_on_configure: unreachable/, JSON.stringify(r));
      assert.ok(typeof r.ms === "number" && r.bytes! > r.kib * 1024 - 66 && r.bytes! <= r.kib * 1024, JSON.stringify(r));
    }
  });
  it("lane-tag at 1 KiB: each shape's outcome, the config size, a time; the table has them all", async () => {
    const rows = await configureTimes({ wasm: WASM, sizes: [1], caseTimeoutMs: 20_000, budgetMs: 45_000 });
    assert.equal(rows.length, 3);
    assert.match(rows[0].outcome, /^rejected \(field "default_lane": "aaa…"\.\.\.\(\d+ bytes\) is not a lane name/);
    assert.match(rows[1].outcome, /^rejected \(field "assign\.weights\.aaa…"\.\.\.\(\d+ bytes\): "aaa…"\.\.\.\(\d+ bytes\) is not a lane name/);
    assert.equal(rows[2].outcome, "accepted");
    for (const r of rows) assert.ok(typeof r.ms === "number" && r.ms >= 0 && r.bytes! > 960 && r.bytes! <= 1024, JSON.stringify(r));
    const table = configureTable(rows);
    assert.deepEqual(table[0], ["configuration", "KiB", "config bytes", "configure ms", "ms per KiB", "outcome"]);
    assert.deepEqual(table.slice(1).map((r) => r[0]), SHAPES.map((s) => s.name));
    for (const r of table.slice(1)) assert.match(r[4], /^\d+\.\d{3}$/);
  });
});

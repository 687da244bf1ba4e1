// deploy/, demo/ and emulator/ have no import cycles (type-only imports count: they tie files together for a reader too), as
// ../shared/tools/import-cycles.mjs finds them; skipped where ../shared is not beside the clone.
import { it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { ROOT, SHARED } from "../support/helpers.ts";

const TOOL = `${SHARED}/tools/import-cycles.mjs`;
const skip = existsSync(TOOL) ? false : `${TOOL} is missing (../shared is beside developer and CI checkouts only)`;

it("deploy/, demo/ and emulator/ have no import cycles", { skip }, () => {
  const r = spawnSync(process.execPath, [TOOL, "deploy", "demo", "emulator"], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

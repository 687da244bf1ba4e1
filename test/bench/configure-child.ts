// One shape of the configure-time table, in a process of its own so that the bench can stop a configure
// that hangs (a call into the module cannot be interrupted from its own thread). argv: module path, shape
// index, sizes in KiB. Messages to the parent: "ready", then one result per size, smallest first.
import { readFileSync } from "node:fs";
import { Host } from "../../emulator/index.ts";
import { SHAPES } from "./configure-shapes.ts";

export interface CaseResult { kib: number; bytes: number; ms: number; outcome: string }

const [path, shapeIndex, ...sizes] = process.argv.slice(2);
const code = readFileSync(path);
await WebAssembly.compile(code); // a module that does not compile fails here, before "ready"
const shape = SHAPES[Number(shapeIndex)];

/** One configure in a fresh VM, timed; what became of it. */
async function once(config: string): Promise<{ ms: number; outcome: string }> {
  const host = await Host.load(new Uint8Array(code));
  const t0 = performance.now();
  const plugin = host.configure({ configuration: config });
  const ms = performance.now() - t0;
  if (host.vmFailed) return { ms, outcome: `trapped (${host.vmFailed.slice(0, 80)})` };
  if (!plugin.failed) return { ms, outcome: "accepted" };
  const why = host.logs.find((l) => l.level === "critical")?.message ?? "no message";
  const short = why.replace(/^lane-tag: invalid configuration: /, "").replace(/a{20,}/g, "aaa…");
  return { ms, outcome: `rejected (${short.length > 90 ? `${short.slice(0, 89)}…` : short})` };
}

process.send!("ready");
// Warm-up (the emulator's and the module's code paths) inside the first case's timeout: a module that
// hangs on any configuration hangs here.
await once(JSON.stringify({ direction: "outbound" }));
for (const kib of sizes.map(Number)) {
  const config = shape.config(kib);
  // Fast cases are repeated (median of up to 5) so that one GC pause does not make the row.
  const runs = [await once(config)];
  while (runs.length < 5 && runs[0].ms < 50) runs.push(await once(config));
  runs.sort((a, b) => a.ms - b.ms);
  const mid = runs[Math.floor(runs.length / 2)];
  process.send!({ kib, bytes: config.length, ms: mid.ms, outcome: mid.outcome } satisfies CaseResult);
}
process.disconnect();

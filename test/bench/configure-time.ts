// The bench's configure-time table: how long on_configure takes as the configuration's strings grow. Each
// shape runs in a child process (configure-child.ts) that the bench kills when a case outlasts its timeout
// or the section its budget, so a hanging or trapping configure costs a row, never the bench.
import { fork, type ChildProcess } from "node:child_process";
import { SHAPES } from "./configure-shapes.ts";
import type { CaseResult } from "./configure-child.ts";

export const CONFIGURE_KIB = [1, 16, 64, 256, 1024];

export interface ConfigureRow { shape: string; kib: number; bytes?: number; ms?: number; outcome: string }
export interface ConfigureOptions { wasm: string; sizes: number[]; caseTimeoutMs: number; budgetMs: number }

const CHILD = new URL("./configure-child.ts", import.meta.url);

/** Every shape at every size, in order; a row per case whatever became of it. */
export async function configureTimes(o: ConfigureOptions): Promise<ConfigureRow[]> {
  const end = Date.now() + o.budgetMs;
  const rows: ConfigureRow[] = [];
  // Each shape gets an equal share of what is left, so one that hangs leaves the others their time.
  for (let i = 0; i < SHAPES.length; i++) {
    rows.push(...await oneShape(i, o, Date.now() + (end - Date.now()) / (SHAPES.length - i)));
  }
  return rows;
}

function oneShape(index: number, o: ConfigureOptions, deadline: number): Promise<ConfigureRow[]> {
  const shape = SHAPES[index].name;
  const rows: ConfigureRow[] = [];
  const rest = (outcome: string) => { for (const kib of o.sizes.slice(rows.length)) rows.push({ shape, kib, outcome }); };
  if (Date.now() >= deadline) { rest("skipped (the time budget is spent)"); return Promise.resolve(rows); }
  return new Promise((done) => {
    const child: ChildProcess = fork(CHILD, [o.wasm, String(index), ...o.sizes.map(String)],
      { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "pipe", "ipc"] });
    let stderr = "";
    child.stderr!.on("data", (d) => { stderr += d; });
    let timer: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = (why?: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (why !== undefined && rows.length < o.sizes.length) {
        rows.push({ shape, kib: o.sizes[rows.length], outcome: why });
        rest(why.endsWith("(case timeout)") ? "skipped (a smaller size timed out)" : why.endsWith("(time budget)") || why.startsWith("budget")
          ? "skipped (the time budget is spent)" : "skipped (a smaller size failed)");
      }
      child.kill("SIGKILL");
      done(rows);
    };
    // Each case gets its own timeout, cut short by the shape's share of the budget.
    const arm = () => {
      clearTimeout(timer);
      const left = deadline - Date.now();
      const ms = Math.max(0, Math.min(o.caseTimeoutMs, left));
      timer = setTimeout(() => finish(`not done in ${(ms / 1000).toFixed(1)} s (${ms < o.caseTimeoutMs ? "time budget" : "case timeout"})`), ms);
    };
    // Starting the child (tsx, the module's compile) counts against the shape's share, not against a case.
    timer = setTimeout(() => finish("budget spent before the child started"), Math.max(0, deadline - Date.now()));
    child.on("message", (m: "ready" | CaseResult) => {
      if (m !== "ready") rows.push({ shape, kib: m.kib, bytes: m.bytes, ms: m.ms, outcome: m.outcome });
      if (rows.length === o.sizes.length) finish();
      else arm();
    });
    child.on("exit", (code, signal) => finish(`crashed (${signal ?? `exit ${code}`}${stderr ? `: ${stderr.trim().split("\n").pop()}` : ""})`));
    child.on("error", (e) => finish(`crashed (${e.message})`));
  });
}

/** The table's rows as text columns. */
export function configureTable(rows: ConfigureRow[]): string[][] {
  const out = [["configuration", "KiB", "config bytes", "configure ms", "ms per KiB", "outcome"]];
  for (const r of rows) {
    out.push([r.shape, String(r.kib), r.bytes === undefined ? "-" : String(r.bytes), r.ms === undefined ? "-" : r.ms.toFixed(1),
      r.ms === undefined ? "-" : (r.ms / r.kib).toFixed(3), r.outcome]);
  }
  return out;
}

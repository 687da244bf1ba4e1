// npm run fuzz -- [--iterations N] [--seed S]: drives build/lane-tag.wasm through the host emulator with
// generated and mutated requests and configurations, and checks after every request:
//  - no trap, ever (a trap kills the VM for every request of the worker);
//  - every routing header the filter leaves is one valid lane (in the allowed set when configured);
//  - no CR, LF or NUL in any header the filter wrote;
//  - members other than the lane member are never dropped or altered when baggage is rewritten;
//  - the lane agrees with a reference model of the behaviour spec written independently in TypeScript
//    (for lane-less outbound requests with correlation/local_lane/assign: one of the lanes the model allows:
//    a lane recorded for one of the request's trace ids, else the next fallback's);
//  - every configuration (long strings in any field or key, escapes, many members) configures or is
//    refused as the model says, without a trap, and its refusal is one log line of bounded length;
//  - linear memory stops growing after warm-up.
// Seeded and reproducible; a failure prints the seed, the iteration and a minimized input.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Host, type Header, type Plugin } from "../../emulator/index.ts";
import { ensureBuilt } from "../../deploy/lib/build.ts";
import { readCommand, integer } from "../../deploy/lib/cli.ts";

const WASM = fileURLToPath(new URL("../../build/lane-tag.wasm", import.meta.url));

import { Rand, genConfig, genRequest, genResponse, largestConfigs } from "./generate.ts";
import { judge, judgeObserved, CorrelationModel, effectiveDirection, NODE_METADATA, DIRECTIONS, type Cfg } from "./model.ts";

// ---- runner ----------------------------------------------------------------------------------------------

export interface FuzzReport {
  seed: number; requests: number; configs: number; invalidConfigs: number; ms: number;
  /** Configurations of more than 1000 bytes (long strings, many members, padding). */
  longConfigs: number;
  memoryAfterWarmup: number; memoryAtEnd: number; failure?: string;
  /** How often each lane source and trace recording happened (the filter's counters, all directions). */
  sources: Record<string, number>;
}

async function reproduce(text: string, cfg: Cfg, headers: Header[], listener: number | undefined): Promise<string | null> {
  const host = await Host.load(readFileSync(WASM), { nodeMetadata: NODE_METADATA });
  const p = host.configure({ configuration: text });
  if (host.vmFailed) return `trap at configure: ${host.vmFailed}`;
  if (p.failed) return null;
  const r = p.request(headers, { listenerDirection: listener });
  if (host.vmFailed) return `trap: ${host.vmFailed}`;
  return judge(cfg, headers, r.headers, listener, new CorrelationModel());
}

/** Greedy minimization: drop headers, then shorten values, while the failure persists. */
async function minimize(text: string, cfg: Cfg, headers: Header[], listener: number | undefined): Promise<Header[]> {
  let cur = headers;
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 0; i < cur.length; i++) {
      const next = cur.filter((_, j) => j !== i);
      if (await reproduce(text, cfg, next, listener)) { cur = next; changed = true; break; }
    }
    for (let i = 0; i < cur.length && !changed; i++) {
      const v = cur[i][1];
      for (const cut of [Math.floor(v.length / 2), 1]) {
        for (let at = 0; cut > 0 && at + cut <= v.length; at += cut) {
          const next = cur.map((h, j) => (j === i ? [h[0], v.slice(0, at) + v.slice(at + cut)] as Header : h));
          if (await reproduce(text, cfg, next, listener)) { cur = next; changed = true; break; }
        }
        if (changed) break;
      }
    }
  }
  return cur;
}

/** A refusal quotes ~100 bytes of a value: its one line stays under this; other lines name bounded values. */
export const MAX_REFUSAL_LINE = 600;
const MAX_LINE = 1000;

/** What is wrong with the log lines of one configure, or null. */
export function configureLogProblem(lines: string[], refused: boolean): string | null {
  if (refused && lines.length !== 1) return `${lines.length} log lines for a refusal`;
  for (const line of lines) {
    const bytes = Buffer.byteLength(line);
    // The effective configuration is as long as the lists it holds (at most ~300 KiB), not bounded here.
    const limit = refused ? MAX_REFUSAL_LINE : line.includes(" configured: {") ? Infinity : MAX_LINE;
    if (bytes > limit) return `a log line of ${bytes} bytes: ${line.slice(0, 300)}...`;
  }
  return null;
}

export async function fuzz(iterations: number, seed: number, log: (s: string) => void = () => {}): Promise<FuzzReport> {
  const r = new Rand(seed);
  const host = await Host.load(readFileSync(WASM), { nodeMetadata: NODE_METADATA });
  const model = new CorrelationModel();
  host.now = () => BigInt(model.nowMs) * 1_000_000n;
  const t0 = Date.now();
  let plugin: Plugin | null = null;
  let current = { text: "", cfg: {} as Cfg, valid: true };
  let configs = 0, invalid = 0, requests = 0, longConfigs = 0, memoryAfterWarmup = 0;
  const report = (extra: Partial<FuzzReport>): FuzzReport => ({
    seed, requests, configs, invalidConfigs: invalid, longConfigs, ms: Date.now() - t0, memoryAfterWarmup, memoryAtEnd: host.memoryBytes(),
    sources: Object.fromEntries(["lane_from_baggage", "lane_from_header", "lane_from_client", "lane_from_trace", "lane_from_local", "lane_from_assign", "lane_from_default", "no_lane", "trace_recorded"]
      .map((m) => [m, ["inbound", "outbound", "both"].reduce((n, d) => n + host.counter(`lane_tag.${d}.${m}`), 0)])),
    ...extra,
  });
  // Warm-up: the largest inputs the generator makes, so later growth would be a leak.
  const warm = host.configure({ configuration: "" });
  for (const h of [[["baggage", "k=" + "v".repeat(65536)]], Array.from({ length: 200 }, () => ["baggage", "a=1,".repeat(1000)]), Array.from({ length: 300 }, () => ["x-asm-prefer-tag", "x".repeat(70)])] as Header[][]) {
    for (const l of DIRECTIONS) warm.request(h, { listenerDirection: l });
  }
  host.removePlugin(warm);
  for (const text of largestConfigs()) {
    host.removePlugin(host.configure({ configuration: text }));
    if (host.vmFailed) return report({ failure: `seed ${seed}, warm-up: trap at configure with ${JSON.stringify(text.slice(0, 200))}...(${text.length}): ${host.vmFailed}` });
  }
  memoryAfterWarmup = host.memoryBytes();

  for (let i = 0; i < iterations; i++) {
    if (i % 200 === 0) {
      if (plugin) host.removePlugin(plugin);
      current = genConfig(r);
      configs++;
      if (current.text.length > 1000) longConfigs++;
      const logged = host.logs.length;
      plugin = host.configure({ configuration: current.text });
      const shown = () => JSON.stringify(current.text.length > 2000 ? `${current.text.slice(0, 2000)}...(${current.text.length})` : current.text);
      if (host.vmFailed) return report({ failure: `seed ${seed}, iteration ${i}: trap at configure with ${shown()}: ${host.vmFailed}` });
      if (plugin.failed !== !current.valid) {
        return report({ failure: `seed ${seed}, iteration ${i}: configuration ${shown()} ${plugin.failed ? "refused" : "accepted"}: ${host.logs.at(-1)?.message.slice(0, 2000)}` });
      }
      const long = configureLogProblem(host.logs.slice(logged).map((l) => l.message), plugin.failed);
      if (long) return report({ failure: `seed ${seed}, iteration ${i}: configuration ${shown()}: ${long}` });
      if (plugin.failed) invalid++;
    }
    model.nowMs += r.int(3);
    const headers = genRequest(r, current.cfg);
    const listener = r.pick(DIRECTIONS);
    const stream = plugin!.open(headers, { listenerDirection: listener });
    const res = stream.request;
    // The response side too, as Envoy runs it: sometimes with a trace header from upstream.
    const response = genResponse(r);
    const resp = current.valid && res.outcome === "continue" ? stream.respond(response) : null;
    const fs = stream.filterState;
    stream.close();
    requests++;
    if (host.vmFailed || (current.valid && res.outcome !== "continue")) {
      const min = await minimize(current.text, current.cfg, headers, listener);
      return report({ failure: `seed ${seed}, iteration ${i}: ${host.vmFailed ?? res.outcome}\nconfig ${current.text}\nlistener_direction ${listener}\nminimal input ${JSON.stringify(min)}` });
    }
    if (!current.valid) continue;
    const bad = judge(current.cfg, headers, res.headers, listener, model) ?? judgeObserved(current.cfg, res.headers, fs, response, resp!.headers);
    model.record(current.cfg, headers, res.headers.find(([k]) => k === (current.cfg.routing_header ?? "x-asm-prefer-tag"))?.[1] ?? null, effectiveDirection(current.cfg, listener));
    if (bad) {
      const min = await minimize(current.text, current.cfg, headers, listener);
      const again = await reproduce(current.text, current.cfg, min, listener);
      return report({ failure: `seed ${seed}, iteration ${i}: ${bad}\nconfig ${current.text}\nlistener_direction ${listener}\nminimal input ${JSON.stringify(min)}\n(${again === null ? `alone, on a fresh VM, it passes: the failure depends on earlier requests (shared data, sticky choices); the request as sent: ${JSON.stringify(headers)}` : `minimal input gives: ${again}`})` });
    }
    if (i > 0 && i % 100000 === 0) log(`  ${i} requests, memory ${host.memoryBytes() / 1024} KiB`);
  }
  const end = report({});
  if (end.memoryAtEnd !== memoryAfterWarmup) end.failure = `seed ${seed}: linear memory grew from ${memoryAfterWarmup / 1024} KiB to ${end.memoryAtEnd / 1024} KiB`;
  return end;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { iterations, seed } = readCommand({
    usage: "npm run fuzz -- [--iterations N] [--seed S]",
    description: `Fuzzes build/lane-tag.wasm (built first when stale) in the host emulator: generated and mutated requests
and configurations, checked for traps, valid routing headers, no CR/LF/NUL, kept baggage members, lanes as a
reference model, and flat memory. Seeded: a failure prints the command that reruns it.
  --iterations N  requests to send (100000 by default)
  --seed S        the seed (from the clock by default)`,
    options: { iterations: { type: "string" }, seed: { type: "string" } },
  }, process.argv.slice(2), ({ values }) => ({
    iterations: integer("iterations", values.iterations) ?? 100_000,
    seed: integer("seed", values.seed) ?? Date.now() % 1_000_000,
  }));
  if (!ensureBuilt()) process.exit(1);
  console.log(`lane-tag fuzz: seed ${seed}, ${iterations} requests`);
  const rep = await fuzz(iterations, seed, console.log);
  console.log(`${rep.requests} requests, ${rep.configs} configurations (${rep.invalidConfigs} invalid, all refused without a trap; ${rep.longConfigs} long) in ${(rep.ms / 1000).toFixed(1)} s; linear memory ${rep.memoryAfterWarmup / 1024} KiB after warm-up, ${rep.memoryAtEnd / 1024} KiB at the end`);
  console.log(`lane sources: ${Object.entries(rep.sources).map(([k, v]) => `${k.replace("lane_from_", "")} ${v}`).join(", ")}`);
  if (rep.failure) {
    console.log(`FAILED (rerun: npm run fuzz -- --iterations ${iterations} --seed ${seed})\n${rep.failure}`);
    process.exit(1);
  }
  console.log("ok: no trap; routing headers valid; no CR/LF/NUL emitted; other members kept; lanes as the reference model; memory flat");
}

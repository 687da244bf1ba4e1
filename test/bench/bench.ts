// npm run bench: per-request cost of build/lane-tag.wasm as a ratio to yardsticks driven through the same
// host emulator in the same run: the reference filter (test/bench/reference.wat, the least a correct lane
// filter does, assembled here, so every clone has it) and, where ../shared is beside the clone, the C floor
// (../shared/bench/floor.wasm, the same job), so numbers stay comparable with runs that had only the floor.
// Then cost vs baggage size, cost per carrier set, the SDK's dispatch, memory after many requests, and
// configure time per KiB.
import { existsSync, statSync } from "node:fs";
import { ensureBuilt } from "../../deploy/lib/build.ts";
import { readCommand, integer, UsageError } from "../../deploy/lib/cli.ts";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import { Host, type Plugin } from "../../emulator/index.ts";
import { referenceWasm } from "./reference.ts";
import { CONFIGS, CORE, observed, scenarios, type ConfigName, type Scenario } from "./scenarios.ts";
import { SIZES, common, sizedBaggage } from "./inputs.ts";
import { CONFIGURE_KIB, configureTable, configureTimes } from "./configure-time.ts";
import { median, run, spread, useCpuClock, x, ns, type Yardsticks } from "./timing.ts";
import { carrierCosts, unconfiguredCost } from "./carriers.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const WASM = `${root}build/lane-tag.wasm`;
const FLOOR = resolve(root, "../shared/bench/floor.wasm");

function kibList(v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  if (v === "none") return [];
  const xs = v.split(",").map((s) => Number(s.trim()));
  if (xs.some((x) => !Number.isInteger(x) || x < 1 || x > 16384)) throw new UsageError(`--configure-kib ${v}: a comma-separated list of integers 1-16384, or none`);
  return xs;
}

function clockName(v: string | undefined): "wall" | "cpu" {
  if (v === undefined || v === "wall" || v === "cpu") return v ?? "wall";
  throw new UsageError(`--clock ${v}: wall or cpu`);
}

// Parsed at load, before main() builds anything, so --help and option errors answer at once.
const { REQUESTS, REPS, MEMORY_REQUESTS, CONFIGURE, CLOCK } = readCommand({
  usage: "npm run bench -- [--requests N] [--reps R] [--memory-requests M] [--configure-kib LIST] [--clock wall|cpu]",
  description: `Per-request cost of build/lane-tag.wasm (built first when stale) as a ratio to the reference filter
(test/bench/reference.wat), and to ../shared/bench/floor.wasm too where it is beside the clone, all in the same
host emulator in the same run; cost vs baggage size and per carrier set, module size, memory after many requests; configure time
as the configuration's strings grow (each case stopped after 20 s, the section after 60 s).
  --requests N          requests per scenario per repetition (200000 by default)
  --reps R              repetitions, the median reported (5 by default)
  --memory-requests M   requests for the memory check (1000000 by default)
  --configure-kib LIST  string sizes in KiB for the configure-time table (${CONFIGURE_KIB.join(",")} by default; none: no table)
  --clock wall|cpu      what ns/req measures: wall-clock time (the default) or the process's CPU time, which
                        leaves out time spent waiting for a core on a busy machine`,
  options: { requests: { type: "string" }, reps: { type: "string" }, "memory-requests": { type: "string" }, "configure-kib": { type: "string" }, clock: { type: "string" } },
}, process.argv.slice(2), ({ values }) => ({
  REQUESTS: integer("requests", values.requests, 1) ?? 200_000,
  REPS: integer("reps", values.reps, 1) ?? 5,
  MEMORY_REQUESTS: integer("memory-requests", values["memory-requests"], 1) ?? 1_000_000,
  CONFIGURE: kibList(values["configure-kib"]) ?? CONFIGURE_KIB,
  CLOCK: clockName(values.clock),
}));

type Plugins = Record<ConfigName, Plugin>;

/** Prints aligned columns; those about the floor only when it is there. */
function printer(floor: boolean) {
  return (rows: string[][]) => {
    const keep = rows[0].map((_, c) => c).filter((c) => floor || !/floor/.test(rows[0][c]));
    const w = keep.map((c) => Math.max(...rows.map((r) => r[c].length)));
    for (const r of rows) console.log(keep.map((c, i) => r[c].padEnd(w[i])).join("  ").trimEnd());
  };
}

/** The scenarios table: each through the yardsticks and lane-tag, interleaved per repetition. */
function perRequest(y: Yardsticks, plugins: Plugins, print: (rows: string[][]) => void) {
  const rows = [["scenario", "reference ns/req", "floor ns/req", "lane-tag ns/req (min / median / max)", "lane-tag / reference", "lane-tag / floor"]];
  const typical: number[] = [], floorToRef: number[] = [];
  for (const s of scenarios) {
    const filter = plugins[s.config];
    run(filter, s, 20_000); run(y.ref, s, 20_000); run(y.floor, s, 20_000); // warm-up: JIT tiers, arena, tables
    const r: number[] = [], f: number[] = [], l: number[] = [];
    for (let i = 0; i < REPS; i++) { r.push(run(y.ref, s, REQUESTS)); f.push(run(y.floor, s, REQUESTS)); l.push(run(filter, s, REQUESTS)); }
    typical.push(median(l));
    floorToRef.push(median(f) / median(r));
    rows.push([s.name, ns(median(r)), ns(median(f)), spread(l), x(median(l), median(r)), x(median(l), median(f))]);
  }
  print(rows);
  console.log(`\nworst case / typical (lane-tag against itself, core scenarios): ${x(Math.max(...typical.slice(0, CORE)), typical[0])}`);
  if (y.floor) console.log(`floor / reference, per scenario: ${Math.min(...floorToRef).toFixed(2)}x to ${Math.max(...floorToRef).toFixed(2)}x (median ${median(floorToRef).toFixed(2)}x)`);
}

/** Each observability feature against the same requests with it off, interleaved (this machine's noise
 *  moves both alike), and the yardsticks' time on the same requests. */
function observability(y: Yardsticks, plugins: Plugins, print: (rows: string[][]) => void) {
  console.log(`\nfeatures, each on vs off: observability, baggage_limits (same requests; median of ${REPS}, interleaved):`);
  const rows = [["scenario", "reference ns/req", "floor ns/req", "off ns/req", "on ns/req", "on / off", "on / reference", "on / floor"]];
  for (const [name, sc, on] of observed) {
    const off = plugins[sc.config], onP = plugins[on];
    run(off, sc, 20_000); run(onP, sc, 20_000); run(y.ref, sc, 20_000); run(y.floor, sc, 20_000);
    const r: number[] = [], f: number[] = [], a: number[] = [], b: number[] = [];
    for (let i = 0; i < REPS; i++) {
      a.push(run(off, sc, REQUESTS / 2)); b.push(run(onP, sc, REQUESTS / 2)); r.push(run(y.ref, sc, REQUESTS / 2)); f.push(run(y.floor, sc, REQUESTS / 2));
    }
    rows.push([name, ns(median(r)), ns(median(f)), ns(median(a)), ns(median(b)), x(median(b), median(a)), x(median(b), median(r)), x(median(b), median(f))]);
  }
  print(rows);
}

/** Cost against baggage size: members of ~40 bytes, the lane member last (the scan reads everything). */
function baggageSize(y: Yardsticks, plugins: Plugins, print: (rows: string[][]) => void) {
  console.log(`\ncost vs baggage size (outbound, lane member last; median of ${REPS}):`);
  const rows = [["members", "bytes", "reference ns/req", "floor ns/req", "lane-tag ns/req", "lane-tag / reference", "lane-tag / floor", "lane-tag − reference ns", "lane-tag ns per byte over no-baggage"]];
  const none = median(Array.from({ length: REPS }, () => run(plugins.outbound, scenarios[1], REQUESTS / 4)));
  for (const m of SIZES) {
    const value = sizedBaggage(m);
    const sc: Scenario = { name: `${m} members`, direction: 2, config: "outbound", headers: [...common, ["baggage", value]] };
    run(plugins.outbound, sc, 5_000); run(y.ref, sc, 5_000); run(y.floor, sc, 5_000);
    const r: number[] = [], f: number[] = [], l: number[] = [];
    for (let i = 0; i < REPS; i++) { r.push(run(y.ref, sc, REQUESTS / 4)); f.push(run(y.floor, sc, REQUESTS / 4)); l.push(run(plugins.outbound, sc, REQUESTS / 4)); }
    rows.push([String(m), String(value.length), ns(median(r)), ns(median(f)), ns(median(l)), x(median(l), median(r)), x(median(l), median(f)),
      ns(median(l) - median(r)), ((median(l) - none) / value.length).toFixed(2)]);
  }
  print(rows);
}

/** What the SDK's own dispatch would cost: a minimal lane filter on its Context classes (test/fixtures). */
async function sdkDispatch(y: Yardsticks, plugins: Plugins) {
  const sdkWasm = `${root}build/sdk-dispatch.wasm`;
  const built = spawnSync(`${root}node_modules/.bin/asc`, ["test/fixtures/sdk-dispatch/filter.ts", "--lib", "test/fixtures/sdk-dispatch/lib",
    "--runtime", "incremental", "--use", "abort=abort_proc_exit", "-O3", "--noAssert", "-o", sdkWasm], { cwd: root, encoding: "utf8" });
  if (built.status !== 0) { console.log(`\nSDK dispatch comparison skipped: the fixture did not build:\n${built.stderr}`); return; }
  const sdkHost = await Host.load(sdkWasm, { countCalls: true });
  const sdk = sdkHost.configure({});
  const sc = scenarios[0];
  run(sdk, sc, 20_000);
  const logsBefore = sdkHost.calls.get("proxy_log") ?? 0;
  const memBefore = sdkHost.memoryBytes();
  const r: number[] = [], f: number[] = [], l: number[] = [], d: number[] = [];
  for (let i = 0; i < REPS; i++) { r.push(run(y.ref, sc, REQUESTS)); f.push(run(y.floor, sc, REQUESTS)); l.push(run(sdk, sc, REQUESTS)); d.push(run(plugins.outbound, sc, REQUESTS)); }
  const perReq = ((sdkHost.calls.get("proxy_log") ?? 0) - logsBefore) / (REPS * REQUESTS);
  const vs = (v: number) => `${x(v, median(r))} reference${y.floor ? `, ${x(v, median(f))} floor` : ""}`;
  console.log(`\nthe SDK's own dispatch (test/fixtures/sdk-dispatch, ${statSync(sdkWasm).size} bytes), ${sc.name}:`);
  console.log(`  reference ${ns(median(r))} ns/req${y.floor ? `; floor ${ns(median(f))} ns/req` : ""}; SDK dispatch ${ns(median(l))} ns/req (${vs(median(l))}); lane-tag ${ns(median(d))} ns/req (${vs(median(d))})`);
  console.log(`  SDK dispatch: ${perReq.toFixed(1)} proxy_log calls per request (debug lines built in the VM even when Envoy drops them); linear memory ${memBefore / 1024} -> ${sdkHost.memoryBytes() / 1024} KiB over ${REPS * REQUESTS} requests`);
}

function memory(host: Host, plugins: Plugins) {
  const filter = plugins.outbound;
  const s = scenarios[0], bigS = scenarios[3];
  const before = host.memoryBytes();
  for (let i = 0; i < MEMORY_REQUESTS; i++) filter.request(s.headers, { listenerDirection: s.direction });
  for (let i = 0; i < MEMORY_REQUESTS / 10; i++) filter.request(bigS.headers, { listenerDirection: bigS.direction });
  console.log(`linear memory: ${before / 1024} KiB after warm-up, ${host.memoryBytes() / 1024} KiB after ${MEMORY_REQUESTS + MEMORY_REQUESTS / 10} more requests`);
}

async function configureTime(print: (rows: string[][]) => void) {
  if (CONFIGURE.length === 0) return;
  console.log(`\nconfigure time per KiB (a fresh VM per case, median of up to 5 when under 50 ms; each case stopped after 20 s, the section after 60 s):`);
  print(configureTable(await configureTimes({ wasm: WASM, sizes: CONFIGURE, caseTimeoutMs: 20_000, budgetMs: 60_000 })));
}

async function main() {
  if (!ensureBuilt()) throw new Error("the build failed");
  const filterHost = await Host.load(WASM, { nodeMetadata: { WORKLOAD_NAME: "mockb-v2", LABELS: { ASM_TRAFFIC_TAG: "v2" } } });
  const refWasm = referenceWasm();
  // The floor is optional (../shared sits beside developer and CI checkouts, not beside a user's clone).
  const y: Yardsticks = { ref: (await Host.load(refWasm)).configure({}), floor: existsSync(FLOOR) ? (await Host.load(FLOOR)).configure({}) : undefined };
  // One VM with a plugin per direction setting, as a sidecar with inbound and outbound listeners.
  const plugins = Object.fromEntries(Object.entries(CONFIGS).map(([k, c]) => [k, filterHost.configure({ configuration: JSON.stringify(c) })])) as Plugins;
  if (Object.values(plugins).some((p) => p.failed) || y.ref.failed || y.floor?.failed) throw new Error("configure failed");
  const print = printer(y.floor !== undefined);
  useCpuClock(CLOCK === "cpu");

  console.log(`lane-tag bench: ${REQUESTS} requests per scenario per repetition, ${REPS} repetitions, ${CLOCK === "cpu" ? "CPU time" : "wall clock"}, node ${process.version}`);
  console.log(`module: build/lane-tag.wasm ${statSync(WASM).size} bytes (${(statSync(WASM).size / 1024).toFixed(1)} KiB)`);
  console.log(`reference: test/bench/reference.wat, assembled ${refWasm.length} bytes (ratios "/ reference" are to it)`);
  if (y.floor) console.log(`floor: ../shared/bench/floor.wasm ${statSync(FLOOR).size} bytes (ratios "/ floor" are to it)\n`);
  else console.log(`floor absent (../shared/bench/floor.wasm, looked for at ${FLOOR}): ratios to the reference only\n`);
  perRequest(y, plugins, print);
  observability(y, plugins, print);
  baggageSize(y, plugins, print);
  carrierCosts(filterHost, y.ref, REPS, Math.max(1, Math.floor(REQUESTS / 4)), print);
  unconfiguredCost(filterHost, y.ref, REPS, Math.max(1, Math.floor(REQUESTS / 4)), print);
  await sdkDispatch(y, plugins);
  memory(filterHost, plugins);
  await configureTime(print);
}

main().catch((e) => { console.error(e); process.exit(1); });

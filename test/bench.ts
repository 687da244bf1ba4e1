// npm run bench: per-request cost of build/lane-tag.wasm against ../shared/bench/floor.wasm (the least a
// correct lane filter can do), both driven through the same host emulator in the same run. A clone with no
// ../shared beside it gets lane-tag's absolute ns/req only: no floor columns, no ratios.
import { existsSync, statSync } from "node:fs";
import { ensureBuilt } from "../deploy/lib/build.ts";
import { readCommand, integer } from "../deploy/lib/cli.ts";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import { Host, type Header, type Plugin } from "../deploy/emulator/index.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const WASM = `${root}build/lane-tag.wasm`;
const FLOOR = resolve(root, "../shared/bench/floor.wasm");

// Parsed at load, before main() builds anything, so --help and option errors answer at once.
const { REQUESTS, REPS, MEMORY_REQUESTS } = readCommand({
  usage: "npm run bench -- [--requests N] [--reps R] [--memory-requests M]",
  description: `Per-request cost of build/lane-tag.wasm (built first when stale) against ../shared/bench/floor.wasm, both
in the same host emulator in the same run; cost vs baggage size, module size, memory after many requests.
Without ../shared/bench/floor.wasm beside the clone: lane-tag's absolute ns/req only, no ratios.
  --requests N         requests per scenario per repetition (200000 by default)
  --reps R             repetitions, the median reported (5 by default)
  --memory-requests M  requests for the memory check (1000000 by default)`,
  options: { requests: { type: "string" }, reps: { type: "string" }, "memory-requests": { type: "string" } },
}, process.argv.slice(2), ({ values }) => ({
  REQUESTS: integer("requests", values.requests, 1) ?? 200_000,
  REPS: integer("reps", values.reps, 1) ?? 5,
  MEMORY_REQUESTS: integer("memory-requests", values["memory-requests"], 1) ?? 1_000_000,
}));

const common: Header[] = [
  [":authority", "mockb.default.svc.cluster.local:8000"], [":path", "/api/v1/items?id=42"], [":method", "GET"],
  [":scheme", "http"], ["user-agent", "python-requests/2.31.0"], ["accept", "*/*"],
  ["x-request-id", "5f1c6f0e-8a4b-4c3e-9f7d-2b1a0c9e8d7f"],
  ["traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
];
function bigBaggage(): string {
  const members: string[] = [];
  for (let i = 0; i < 179; i++) members.push(`k${i}=${"v".repeat(38 - String(i).length)}`);
  members.push("x-asm-prefer-tag=s2");
  const s = members.join(",");
  return s;
}
const big = bigBaggage();

// `config` is the plugin's direction setting: the manifests generate an explicit one per listener; "auto"
// reads Envoy's listener_direction property on every request (one more host call).
interface Scenario { name: string; headers: Header[]; direction: number; config: keyof typeof CONFIGS; pool?: Header[][]; respond?: Header[] }
const CONFIGS = {
  outbound: { direction: "outbound" },
  inbound: { direction: "inbound" },
  auto: {},
  // Fallback sources for lane-less outbound requests, and the sticky gateway.
  correlationOut: { direction: "outbound", correlation: { enabled: true } },
  correlationIn: { direction: "inbound", correlation: { enabled: true } },
  local: { direction: "outbound", local_lane: { label: "ASM_TRAFFIC_TAG", label_to_lane: { v1: "s1", v2: "s2" } } },
  gateway: { direction: "both", trust_client_lane: false, assign: { weights: { s1: 60, s2: 20, s3: 20 }, sticky_header: "x-user-id" } },
  // Observability, each compared with the same request with it off.
  outboundLanes: { direction: "outbound", lanes: ["s1", "s2", "s3"] },
  outboundMetrics: { direction: "outbound", lanes: ["s1", "s2", "s3"], lane_metrics: true },
  outboundState: { direction: "outbound", lanes: ["s1", "s2", "s3"], filter_state: true },
  outboundObserved: { direction: "outbound", lanes: ["s1", "s2", "s3"], lane_metrics: true, filter_state: true },
  inboundLanes: { direction: "inbound", lanes: ["s1", "s2", "s3"] },
  inboundObserved: { direction: "inbound", lanes: ["s1", "s2", "s3"], lane_metrics: true, filter_state: true },
  inboundHop: { direction: "inbound", lanes: ["s1", "s2", "s3"], hop_trace: { label: "ASM_TRAFFIC_TAG", label_to_lane: { v1: "s1", v2: "s2" } } },
};
const lane3: Header[] = [...common, ["baggage", "userId=alice,x-asm-prefer-tag=s2,sessionId=8f2a"]];
const scenarios: Scenario[] = [
  { name: "outbound, 3-member baggage with lane", direction: 2, config: "outbound", headers: lane3 },
  { name: "outbound, no baggage", direction: 2, config: "outbound", headers: [...common] },
  { name: "inbound, header -> baggage", direction: 1, config: "inbound",
    headers: [...common, ["x-asm-prefer-tag", "s2"], ["baggage", "userId=alice,sessionId=8f2a"]] },
  { name: `outbound, ${(big.length / 1024).toFixed(1)} KB / 180-member baggage`, direction: 2, config: "outbound",
    headers: [...common, ["baggage", big]] },
  { name: "outbound, 3-member baggage, direction auto", direction: 2, config: "auto", headers: lane3 },
  { name: "inbound, header -> baggage, correlation (entry fresh)", direction: 1, config: "correlationIn",
    headers: [...common, ["x-asm-prefer-tag", "s2"], ["baggage", "userId=alice,sessionId=8f2a"]] },
  { name: "outbound, no lane, restored by trace id", direction: 2, config: "correlationOut", headers: [...common] },
  { name: "outbound, no lane, local lane", direction: 2, config: "local", headers: [...common] },
  { name: "gateway, sticky weighted choice", direction: 2, config: "gateway", headers: [...common, ["x-user-id", "alice@example.com"]] },
  // Last: its 65536 distinct header sets and the shared-data writes load the JavaScript heap.
  // Each request a new trace (the usual case: one request per trace and service): a read and a write.
  { name: "inbound, header -> baggage, correlation (new trace)", direction: 1, config: "correlationIn",
    headers: [], pool: Array.from({ length: 65536 }, (_, i) => [...common.filter(([k]) => k !== "traceparent" && k !== "x-request-id"),
      ["traceparent", `00-${(i + 1).toString(16).padStart(32, "0")}-00f067aa0ba902b7-01`], ["x-request-id", `req-${i}`],
      ["x-asm-prefer-tag", "s2"], ["baggage", "userId=alice,sessionId=8f2a"]] as Header[]) },
];
/** The core scenarios (baggage, header, default lane): typical and worst case are judged on these. */
const CORE = 5;

function run(p: Plugin | undefined, s: Scenario, n: number): number {
  if (!p) return NaN; // the floor, when the yardstick is absent
  const pool = s.pool;
  const respond = s.respond;
  const t0 = process.hrtime.bigint();
  if (respond) {
    // The whole stream: request headers, response headers, end.
    for (let i = 0; i < n; i++) {
      const st = p.open(s.headers, { listenerDirection: s.direction });
      st.respond(respond);
      st.close();
    }
    return Number(process.hrtime.bigint() - t0) / n;
  }
  if (pool) for (let i = 0; i < n; i++) p.request(pool[i & (pool.length - 1)], { listenerDirection: s.direction });
  else for (let i = 0; i < n; i++) p.request(s.headers, { listenerDirection: s.direction });
  return Number(process.hrtime.bigint() - t0) / n;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  if (!ensureBuilt()) throw new Error("the build failed");
  const filterHost = await Host.load(WASM, { nodeMetadata: { WORKLOAD_NAME: "mockb-v2", LABELS: { ASM_TRAFFIC_TAG: "v2" } } });
  // The yardstick is optional (../shared sits beside developer and CI checkouts, not beside a user's clone).
  // Without it run() times the floor as NaN and print() leaves the floor and ratio columns out.
  const floorHost = existsSync(FLOOR) ? await Host.load(FLOOR) : undefined;
  // One VM with a plugin per direction setting, as a sidecar with inbound and outbound listeners.
  const plugins = Object.fromEntries(Object.entries(CONFIGS).map(([k, c]) => [k, filterHost.configure({ configuration: JSON.stringify(c) })])) as Record<keyof typeof CONFIGS, Plugin>;
  const floor = floorHost?.configure({});
  if (Object.values(plugins).some((p) => p.failed) || floor?.failed) throw new Error("configure failed");
  const print = (rows: string[][]) => {
    const keep = rows[0].map((_, c) => c).filter((c) => floor || !/floor|ratio/.test(rows[0][c]));
    const w = keep.map((c) => Math.max(...rows.map((r) => r[c].length)));
    for (const r of rows) console.log(keep.map((c, i) => r[c].padEnd(w[i])).join("  "));
  };

  console.log(`lane-tag bench: ${REQUESTS} requests per scenario per repetition, ${REPS} repetitions, node ${process.version}`);
  console.log(`module: build/lane-tag.wasm ${statSync(WASM).size} bytes (${(statSync(WASM).size / 1024).toFixed(1)} KiB)${floor ? `; floor.wasm ${statSync(FLOOR).size} bytes\n` : ""}`);
  if (!floor) console.log(`floor yardstick absent (../shared/bench/floor.wasm beside the clone; looked for at ${FLOOR}): lane-tag's absolute ns/req only, no ratios\n`);
  const rows: string[][] = [["scenario", "floor ns/req", "lane-tag ns/req (min / median / max)", "ratio (median)"]];
  const typical: number[] = [];
  for (const s of scenarios) {
    const filter = plugins[s.config];
    run(filter, s, 20_000); run(floor, s, 20_000); // warm-up: JIT tiers, arena, tables
    const f: number[] = [], l: number[] = [];
    for (let r = 0; r < REPS; r++) { f.push(run(floor, s, REQUESTS)); l.push(run(filter, s, REQUESTS)); }
    const ratio = median(l) / median(f);
    typical.push(median(l));
    rows.push([s.name, median(f).toFixed(0), `${Math.min(...l).toFixed(0)} / ${median(l).toFixed(0)} / ${Math.max(...l).toFixed(0)}`, `${ratio.toFixed(2)}x`]);
  }
  print(rows);
  console.log(`\nworst case / typical (lane-tag, core scenarios): ${(Math.max(...typical.slice(0, CORE)) / typical[0]).toFixed(2)}x`);

  // Observability: each feature against the same requests with it off, interleaved (this machine's noise
  // moves both alike); the floor's row is the same request through the yardstick.
  console.log(`\nobservability, each on vs off (same requests; median of ${REPS}, interleaved):`);
  const inHdr: Header[] = [...common, ["x-asm-prefer-tag", "s2"], ["baggage", "userId=alice,sessionId=8f2a"]];
  const traced: Header[] = [...common, ["x-asm-prefer-tag", "s2"], ["baggage", "userId=alice,sessionId=8f2a,lane-tag-trace=0123456789abcdef"]];
  const resp: Header[] = [[":status", "200"], ["content-type", "text/plain"], ["x-lane-tag-trace", "mockc-v2@s2"]];
  const obs: [string, Scenario, keyof typeof CONFIGS][] = [
    ["outbound, 3-member baggage: lane_metrics", { name: "", direction: 2, config: "outboundLanes", headers: lane3 }, "outboundMetrics"],
    ["outbound, 3-member baggage: filter_state", { name: "", direction: 2, config: "outboundLanes", headers: lane3 }, "outboundState"],
    ["outbound, 3-member baggage: both", { name: "", direction: 2, config: "outboundLanes", headers: lane3 }, "outboundObserved"],
    ["inbound, header -> baggage: both", { name: "", direction: 1, config: "inboundLanes", headers: inHdr }, "inboundObserved"],
    ["inbound request + response, hop_trace on, untraced", { name: "", direction: 1, config: "inboundLanes", headers: inHdr, respond: resp }, "inboundHop"],
    ["inbound request + response, traced (this hop's entry)", { name: "", direction: 1, config: "inboundLanes", headers: traced, respond: resp }, "inboundHop"],
  ];
  const obsRows: string[][] = [["scenario", "floor ns/req", "off ns/req", "on ns/req", "on / off", "on / floor"]];
  for (const [name, sc, on] of obs) {
    const off = plugins[sc.config], onP = plugins[on];
    run(off, sc, 20_000); run(onP, sc, 20_000); run(floor, sc, 20_000);
    const f: number[] = [], a: number[] = [], b: number[] = [];
    for (let r = 0; r < REPS; r++) { a.push(run(off, sc, REQUESTS / 2)); b.push(run(onP, sc, REQUESTS / 2)); f.push(run(floor, sc, REQUESTS / 2)); }
    obsRows.push([name, median(f).toFixed(0), median(a).toFixed(0), median(b).toFixed(0), `${(median(b) / median(a)).toFixed(2)}x`, `${(median(b) / median(f)).toFixed(2)}x`]);
  }
  print(obsRows);

  // Cost against baggage size: members of ~40 bytes, the lane member last (the scan reads everything).
  console.log(`\ncost vs baggage size (outbound, lane member last; median of ${REPS}):`);
  const sizeRows: string[][] = [["members", "bytes", "floor ns/req", "lane-tag ns/req", "ratio", "lane-tag − floor ns", "lane-tag ns per byte over no-baggage"]];
  const none = median(Array.from({ length: REPS }, () => run(plugins.outbound, scenarios[1], REQUESTS / 4)));
  for (const m of [1, 8, 64, 180]) {
    const members = Array.from({ length: m - 1 }, (_, i) => `k${i}=${"v".repeat(37 - String(i).length)}`);
    members.push("x-asm-prefer-tag=s2");
    const value = members.join(",");
    const sc: Scenario = { name: `${m} members`, direction: 2, config: "outbound", headers: [...common, ["baggage", value]] };
    run(plugins.outbound, sc, 5_000); run(floor, sc, 5_000);
    const f: number[] = [], l: number[] = [];
    for (let r = 0; r < REPS; r++) { f.push(run(floor, sc, REQUESTS / 4)); l.push(run(plugins.outbound, sc, REQUESTS / 4)); }
    sizeRows.push([String(m), String(value.length), median(f).toFixed(0), median(l).toFixed(0), `${(median(l) / median(f)).toFixed(2)}x`, (median(l) - median(f)).toFixed(0), ((median(l) - none) / value.length).toFixed(2)]);
  }
  print(sizeRows);

  // What the SDK's own dispatch would cost: a minimal lane filter on its Context classes (test/fixtures).
  const sdkWasm = `${root}build/sdk-dispatch.wasm`;
  const built = spawnSync(`${root}node_modules/.bin/asc`, ["test/fixtures/sdk-dispatch/filter.ts", "--lib", "test/fixtures/sdk-dispatch/lib",
    "--runtime", "incremental", "--use", "abort=abort_proc_exit", "-O3", "--noAssert", "-o", sdkWasm], { cwd: root, encoding: "utf8" });
  if (built.status !== 0) console.log(`\nSDK dispatch comparison skipped: the fixture did not build:\n${built.stderr}`);
  else {
    const sdkHost = await Host.load(sdkWasm, { countCalls: true });
    const sdk = sdkHost.configure({});
    const sc = scenarios[0];
    run(sdk, sc, 20_000);
    const logsBefore = sdkHost.calls.get("proxy_log") ?? 0;
    const memBefore = sdkHost.memoryBytes();
    const f: number[] = [], l: number[] = [], d: number[] = [];
    for (let r = 0; r < REPS; r++) { f.push(run(floor, sc, REQUESTS)); l.push(run(sdk, sc, REQUESTS)); d.push(run(plugins.outbound, sc, REQUESTS)); }
    const perReq = ((sdkHost.calls.get("proxy_log") ?? 0) - logsBefore) / (REPS * REQUESTS);
    console.log(`\nthe SDK's own dispatch (test/fixtures/sdk-dispatch, ${statSync(sdkWasm).size} bytes), ${sc.name}:`);
    if (floor) console.log(`  floor ${median(f).toFixed(0)} ns/req; SDK dispatch ${median(l).toFixed(0)} ns/req (${(median(l) / median(f)).toFixed(2)}x); lane-tag ${median(d).toFixed(0)} ns/req (${(median(d) / median(f)).toFixed(2)}x)`);
    else console.log(`  SDK dispatch ${median(l).toFixed(0)} ns/req; lane-tag ${median(d).toFixed(0)} ns/req`);
    console.log(`  SDK dispatch: ${perReq.toFixed(1)} proxy_log calls per request (debug lines built in the VM even when Envoy drops them); linear memory ${memBefore / 1024} -> ${sdkHost.memoryBytes() / 1024} KiB over ${REPS * REQUESTS} requests`);
  }

  const filter = plugins.outbound;
  const s = scenarios[0];
  const before = filterHost.memoryBytes();
  for (let i = 0; i < MEMORY_REQUESTS; i++) filter.request(s.headers, { listenerDirection: s.direction });
  const bigS = scenarios[3];
  for (let i = 0; i < MEMORY_REQUESTS / 10; i++) filter.request(bigS.headers, { listenerDirection: bigS.direction });
  console.log(`linear memory: ${before / 1024} KiB after warm-up, ${filterHost.memoryBytes() / 1024} KiB after ${MEMORY_REQUESTS + MEMORY_REQUESTS / 10} more requests`);
}

main().catch((e) => { console.error(e); process.exit(1); });

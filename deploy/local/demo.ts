// npm run demo: the seeds' three-lane demo in one Node process, no Docker. Every workload (3 services ×
// v1..v3) is the mock service behind an emulated sidecar that runs the real build/lane-tag.wasm in the
// project's host emulator, on an inbound and an outbound listener (one VM: one vm_id); a gateway assigns
// lanes by weight. Everything talks real HTTP on 127.0.0.1; routing and fallback are those of the Envoy
// configs (topology.ts); the filter configurations are those the manifests generate. Modes:
//   baggage      the apps forward W3C baggage (the seeds' setup);
//   correlation  the apps forward only traceparent; the gateway starts the trace; lane-tag correlates;
//   strict       the apps forward nothing; every lane holds every service; lane-tag takes each
//                workload's lane from its ASM_TRAFFIC_TAG label (node metadata);
//   sticky       as baggage, but the gateway's lane-tag assigns lanes by weight, sticky per x-user-id;
//   grpc         as baggage, but every hop is a gRPC call over h2c (grpc/: the apps, HTTP/2 sidecars);
//   websocket    the seed asm-websocket-loose-lanes: socket.io clients name their lane on the handshake
//                (websocket/: its own mesh, spec and clients);
//   stacked      as baggage, with deploy/lanes.stacked.yaml: feat-x falls back to release-2, release-2 to s1.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Host, type Header, type Plugin } from "../emulator/index.ts";
import { loadSpec, type LanesSpec } from "../lib/spec.ts";
import { ensureBuilt } from "../lib/build.ts";
import { readCommand, integer, oneOf, UsageError, type Args } from "../lib/cli.ts";
import { filterConfig, type FilterRole } from "../lib/generate.ts";
import { chain, workloads, upstreamOf, resolve, gatewayWeights, pickWeighted, weightedValue, fullLanes, SERVICE_PORT, RANDOM_HEADER, LANE_HEADER, type Workload } from "./topology.ts";
import { randomBytes } from "node:crypto";
import { sendRequests, summarize, formatSummary, check, prng, type Result } from "./client.ts";
import { startGrpcMesh } from "./grpc/mesh.ts";
import { sendGrpcRequests } from "./grpc/client.ts";
import { websocketMain, LANE_SOURCES, type LaneSource } from "./websocket/client.ts";
import { stackedSpec, formatChains, fallbackText } from "./stacked/spec.ts";
// @ts-ignore: plain JavaScript module shared with the container image
import { createMock } from "./mock/server.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const WASM = join(ROOT, "build/lane-tag.wasm");
export const SPEC = join(ROOT, "deploy/lanes.example.yaml");

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer", "host", "content-length"]);

/** Node request -> Envoy-style header pairs (lowercase, pseudo-headers first, repeated headers kept); `keep`:
 *  hop-by-hop headers Envoy passes on (an upgrade request's `connection` and `upgrade`). */
export function pairs(req: http.IncomingMessage, authority: string, path: string, keep: string[] = []): Header[] {
  const out: Header[] = [[":authority", authority], [":path", path], [":method", req.method ?? "GET"], [":scheme", "http"]];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const k = req.rawHeaders[i].toLowerCase();
    if (!HOP_BY_HOP.has(k) || keep.includes(k)) out.push([k, req.rawHeaders[i + 1]]);
  }
  return out;
}

export function outgoing(headers: Header[]): { authority: string; path: string; headers: Record<string, string[]> } {
  const h: Record<string, string[]> = {};
  let authority = "";
  let path = "/";
  for (const [k, v] of headers) {
    if (k === ":authority") authority = v;
    else if (k === ":path") path = v;
    else if (!k.startsWith(":")) (h[k] ??= []).push(v);
  }
  return { authority, path, headers: h };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

export function forward(res: http.ServerResponse, port: number, path: string, authority: string, headers: Record<string, string[]>, extra: Record<string, string> = {}) {
  const up = http.request({ host: "127.0.0.1", port, path, method: "GET", agent, headers: { ...headers, host: authority } }, (r) => {
    res.writeHead(r.statusCode ?? 502, { ...r.headers, ...extra });
    r.pipe(res);
  });
  up.on("error", (e) => { res.writeHead(503); res.end(`upstream connect error: ${e.message}`); });
  up.end();
}

export function listen(server: http.Server): Promise<number> {
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok((server.address() as AddressInfo).port)));
}

/** Runs the filter as Envoy would; returns the headers to forward, or null when the request is refused. */
export function filter(plugin: Plugin | null, headers: Header[], listenerDirection: number): Header[] | null {
  if (!plugin) return headers;
  const r = plugin.request(headers, { listenerDirection });
  if (r.outcome === "failed") return null; // fail closed: Envoy answers 503
  return r.outcome === "passed-failed" ? headers : r.headers;
}

export const MODES = ["baggage", "correlation", "strict", "sticky", "grpc", "websocket", "stacked"] as const;
export type Mode = (typeof MODES)[number];
/** The header the sticky demo's users send. */
export const USER_HEADER = "x-user-id";

/** The spec a mode runs: the example's, with the mode's features switched on; stacked runs its own spec. */
export function specForMode(spec: LanesSpec, mode: Mode): LanesSpec {
  if (mode === "stacked") return stackedSpec();
  if (mode === "correlation") return { ...spec, correlation: {} };
  if (mode === "strict") return { ...fullLanes(spec), localLane: true };
  if (mode === "sticky") return { ...spec, gateway: { ...spec.gateway!, stickyHeader: USER_HEADER } };
  return spec;
}

const PROPAGATE: Record<Mode, string> = { baggage: "baggage", correlation: "traceparent", strict: "none", sticky: "baggage", grpc: "baggage", websocket: "baggage", stacked: "baggage" };

export async function plugins(wasm: Uint8Array, spec: LanesSpec, roles: FilterRole[], labels?: Record<string, string>) {
  // Istio puts the pod's labels in node.metadata.LABELS; one VM serves both listeners (one vm_id).
  // Header values come from and go back to Node's http as byte strings: "bytes" passes them on exactly.
  const host = await Host.load(wasm, { vmId: "lane-tag", headerStrings: "bytes", nodeMetadata: labels ? { LABELS: labels } : undefined });
  const out: Partial<Record<FilterRole, Plugin>> = {};
  for (const role of roles) {
    const p = host.configure({ configuration: JSON.stringify(filterConfig(spec, role)), failOpen: true });
    if (p.failed) throw new Error(`the ${role} filter failed to configure: ${host.logs.map((l) => l.message).join("; ")}`);
    out[role] = p;
  }
  return { host, ...out };
}

export interface Mesh {
  gatewayUrl: string;
  close(): Promise<void>;
}

/** Starts the whole topology on 127.0.0.1; `withFilter: false` runs the same mesh without lane-tag. */
export async function startMesh(base: LanesSpec, { withFilter = true, weights, seed = 7, mode = "baggage" }: { withFilter?: boolean; weights?: number[]; seed?: number; mode?: Mode } = {}): Promise<Mesh> {
  const spec = specForMode(base, mode);
  if (!existsSync(WASM)) throw new Error(`${WASM} is missing: run npm run build`);
  const wasm = readFileSync(WASM);
  const servers: http.Server[] = [];
  const inboundPort = new Map<string, number>();
  const serve = async (s: http.Server) => { servers.push(s); return listen(s); };

  // Outbound listeners route by host and lane to the inbound listener of the chosen workload.
  const outboundHandler = (plugin: Plugin | null) => (req: http.IncomingMessage, res: http.ServerResponse) => {
    req.resume();
    const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
    const headers = filter(plugin, pairs(req, url.host, url.pathname + url.search), 2);
    if (!headers) { res.writeHead(503); return void res.end("lane-tag failed (fail closed)"); }
    const o = outgoing(headers);
    const service = o.authority.split(":")[0];
    if (!chain(spec).includes(service)) { res.writeHead(404); return void res.end(`no route to ${o.authority}`); }
    const lane = o.headers[spec.routingHeader]?.[0];
    forward(res, inboundPort.get(resolve(spec, service, lane).name)!, o.path, o.authority, o.headers);
  };

  const sidecars = workloads(spec);
  // Start inbound listeners first so every workload has a port before any traffic.
  for (const w of sidecars) {
    const vm = withFilter ? await plugins(wasm, spec, ["inbound", "outbound"], { app: w.service, [spec.labelKey]: w.version }) : null;
    const outPort = await serve(http.createServer(outboundHandler(vm?.outbound ?? null)));
    const up = upstreamOf(spec, w.service);
    const app = createMock({ app: w.service, version: w.version, ip: "127.0.0.1", upstreamUrl: up ? `http://${up}:${SERVICE_PORT}/` : undefined, proxy: `http://127.0.0.1:${outPort}`, propagate: PROPAGATE[mode] });
    const appPort = await serve(app);
    const inbound = http.createServer((req, res) => {
      req.resume();
      const headers = filter(vm?.inbound ?? null, pairs(req, req.headers.host ?? w.name, req.url ?? "/"), 1);
      if (!headers) { res.writeHead(503); return void res.end("lane-tag failed (fail closed)"); }
      const o = outgoing(headers);
      forward(res, appPort, o.path, o.authority, o.headers);
    });
    inboundPort.set(w.name, await serve(inbound));
  }

  // The gateway: lane-tag in gateway mode, then the weighted lane choice and the header it sets.
  const gw = withFilter ? await plugins(wasm, spec, ["gateway"]) : null;
  const choices = gatewayWeights(spec, weights).filter((w) => w.weight > 0);
  const rand = prng(seed);
  const entry = chain(spec)[0];
  const gateway = http.createServer((req, res) => {
    req.resume();
    const incoming = pairs(req, req.headers.host ?? "gateway", req.url ?? "/");
    // A gateway with a tracer starts the trace (correlation needs a trace id on the first hop).
    if (mode === "correlation" && !req.headers.traceparent) incoming.push(["traceparent", `00-${randomBytes(16).toString("hex")}-${randomBytes(8).toString("hex")}-01`]);
    const headers = filter(gw?.gateway ?? null, incoming, 2);
    if (!headers) { res.writeHead(503); return void res.end("lane-tag failed (fail closed)"); }
    const o = outgoing(headers);
    const raw = o.headers[RANDOM_HEADER]?.[0];
    delete o.headers[RANDOM_HEADER]; // a test hook, not passed on (as the Envoy route removes it)
    let lane: string;
    if (mode === "sticky") {
      // lane-tag assigned the lane; route on it (the generated gateway VirtualService does the same).
      lane = o.headers[spec.routingHeader]?.[0] ?? spec.baseline;
    } else {
      lane = pickWeighted(choices, weightedValue(raw, rand)).lane;
      o.headers[spec.routingHeader] = [lane];
    }
    forward(res, inboundPort.get(resolve(spec, entry, lane).name)!, o.path, `${entry}:${SERVICE_PORT}`, o.headers, { [LANE_HEADER]: lane });
  });
  const gwPort = await serve(gateway);

  return {
    gatewayUrl: `http://127.0.0.1:${gwPort}/mock`,
    close: async () => {
      agent.destroy();
      await Promise.all(servers.map((s) => new Promise((ok) => { s.closeAllConnections(); s.close(() => ok(null)); })));
    },
  };
}

export interface DemoOptions { requests: number; weights?: number[]; seed: number; withFilter: boolean; quiet: boolean; concurrency: number; mode?: Mode; users?: number; laneFrom?: LaneSource; messages?: number }

export async function runDemo(opts: DemoOptions, base = loadSpec(SPEC), print: (s: string) => void = console.log) {
  const mode = opts.mode ?? "baggage";
  const spec = specForMode(base, mode);
  const mesh = mode === "grpc" ? await startGrpcMesh(base, { withFilter: opts.withFilter, weights: opts.weights }) : await startMesh(base, { withFilter: opts.withFilter, weights: opts.weights, mode });
  try {
    const t0 = Date.now();
    const results: Result[] = await (mode === "grpc" ? sendGrpcRequests : sendRequests)(mesh.gatewayUrl, opts.requests, {
      seed: opts.seed, concurrency: opts.concurrency, onResult: opts.quiet ? undefined : (r) => print(r.body),
      ...(mode === "sticky" ? { userHeader: USER_HEADER, users: opts.users ?? 200 } : {}),
    });
    const ms = Date.now() - t0;
    const weights = gatewayWeights(spec, opts.weights);
    const failures = check(spec, results, { filter: opts.withFilter });
    if (mode === "sticky") failures.push(...checkSticky(results));
    return { results, failures, summary: summarize(spec, results), weights, ms, spec };
  } finally {
    await mesh.close();
  }
}

/** Every user stayed in one lane. */
export function checkSticky(results: Result[]): string[] {
  const laneOf = new Map<string, string>();
  const out: string[] = [];
  for (const r of results) {
    if (!r.user) continue;
    const seen = laneOf.get(r.user);
    if (seen === undefined) laneOf.set(r.user, r.lane);
    else if (seen !== r.lane) out.push(`user ${r.user} was in lane ${seen}, then in ${r.lane}`);
  }
  return out;
}

// Built on demand: websocket/client.ts (LANE_SOURCES) imports this module, so at load time it may not be ready.
const demoCommand = () => ({
  usage: [
    `npm run demo -- [--mode ${MODES.join("|")}] [--requests N] [--weights 60,20,20] [--users U] [--seed S] [--no-filter] [--quiet] [--concurrency C]`,
    `npm run demo -- --mode websocket [--lane-from ${LANE_SOURCES.join("|")}] [--messages N] [--no-filter] [--quiet]`,
  ],
  description: `The seeds' three-lane demo in one Node process, no Docker: nine workloads behind emulated sidecars running
build/lane-tag.wasm (built first when stale), a gateway assigning lanes by weight; every chain checked.
  --mode M           ${MODES.join(", ")} (baggage by default)
  --requests N, -n N requests through the gateway (100)
  --weights A,B,C    the gateway's lane weights (the spec's by default; not with sticky)
  --users U          sticky only: distinct x-user-id values (200)
  --seed S           the client's seed (1)
  --concurrency C    requests in flight (8)
  --no-filter        the same mesh without lane-tag: lanes are lost after the first hop
  --quiet, -q        no line per request
  --lane-from F      websocket only: how clients name their lane (${LANE_SOURCES.join(", ")}; header by default)
  --messages N       websocket only: messages per client (3)`,
  options: {
    mode: { type: "string" }, requests: { type: "string", short: "n" }, weights: { type: "string" }, users: { type: "string" },
    seed: { type: "string" }, concurrency: { type: "string" }, "no-filter": { type: "boolean", default: false },
    quiet: { type: "boolean", short: "q", default: false }, "lane-from": { type: "string" }, messages: { type: "string" },
  },
} as const);

/** The options' values, and the checks across options; a UsageError names what is wrong. */
function demoOptions({ values: v }: Args<ReturnType<typeof demoCommand>["options"]>): DemoOptions {
  const o: DemoOptions = {
    requests: integer("requests", v.requests, 1) ?? 100, seed: integer("seed", v.seed, 1) ?? 1,
    concurrency: integer("concurrency", v.concurrency, 1) ?? 8, users: integer("users", v.users, 1),
    messages: integer("messages", v.messages, 1), laneFrom: oneOf("lane-from", v["lane-from"], LANE_SOURCES),
    mode: oneOf("mode", v.mode, MODES), withFilter: !v["no-filter"], quiet: v.quiet,
  };
  if (v.weights !== undefined) {
    const w = v.weights.split(",").map(Number);
    if (w.some((x) => !Number.isInteger(x) || x < 0) || w.reduce((a, b) => a + b, 0) === 0) throw new UsageError(`--weights needs non-negative integers like 60,20,20`);
    o.weights = w;
  }
  if (o.mode === "sticky" && o.weights) throw new UsageError("--weights does not apply to --mode sticky (lane-tag assigns with the spec's weights)");
  if (o.mode === "sticky" && !o.withFilter) throw new UsageError("--mode sticky needs the filter: it is what assigns the lanes");
  if (o.users !== undefined && o.mode !== "sticky") throw new UsageError("--users applies only to --mode sticky");
  if ((o.laneFrom || o.messages) && o.mode !== "websocket") throw new UsageError("--lane-from and --messages apply only to --mode websocket");
  const unused = (["requests", "weights", "seed", "concurrency"] as const).find((k) => v[k] !== undefined);
  if (o.mode === "websocket" && unused) throw new UsageError(`--${unused} does not apply to --mode websocket (its clients name their lanes; --messages N sets how many messages each sends)`);
  try {
    // One weight per lane of the spec: checked here, not after the build, so the answer is immediate.
    if (o.weights) gatewayWeights(specForMode(loadSpec(SPEC), o.mode ?? "baggage"), o.weights);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return o;
}

async function main() {
  const opts = readCommand(demoCommand(), process.argv.slice(2), demoOptions);
  if (!ensureBuilt()) process.exit(1);
  if (opts.mode === "websocket") process.exit(await websocketMain({ withFilter: opts.withFilter, laneFrom: opts.laneFrom, messages: opts.messages, quiet: opts.quiet }, MODE_TEXT.websocket));
  const spec = loadSpec(SPEC);
  const mode = opts.mode ?? "baggage";
  const { results, failures, summary, weights, ms, spec: ran } = await runDemo(opts, spec);
  const w = weights.map((x) => `${x.lane}=${x.weight}`).join(" ");
  console.log(`\n${results.length} requests through the gateway in ${ms} ms (mode ${mode}: ${MODE_TEXT[mode]}; weights ${w}; lane-tag ${opts.withFilter ? "on" : "OFF"}):\n`);
  console.log(formatSummary(ran, summary));
  if (mode === "stacked") console.log(`\nfallback chains (lane (version)):\n${formatChains(ran).map((l) => `  ${l}`).join("\n")}`);
  if (mode === "sticky") {
    const users = new Map<string, string>();
    for (const r of results) if (r.user) users.set(r.user, r.lane);
    const perLane = ran.lanes.map((l) => `${l.name} ${[...users.values()].filter((x) => x === l.name).length}`).join(", ");
    console.log(`\n${users.size} users, each always in one lane; users per lane: ${perLane}`);
  }
  if (failures.length) {
    console.log(`\n${failures.length} request(s) not as expected${opts.withFilter ? "" : " without the filter"}:`);
    for (const f of failures.slice(0, 10)) console.log(`  ${f}`);
    process.exit(1);
  }
  console.log(opts.withFilter
    ? `\nevery chain stayed in its lane (${fallbackText(ran)})`
    : `\nwithout lane-tag every lane falls back to ${ran.baseline} after the first hop: the applications ${mode === "strict" ? "forward nothing" : mode === "correlation" ? "forward only traceparent" : "forward only baggage"}`);
}

const MODE_TEXT: Record<Mode, string> = {
  baggage: "apps forward baggage",
  correlation: "apps forward only traceparent; lanes restored by trace id",
  strict: "apps forward nothing; every lane holds every service; lane from each workload's label",
  sticky: "lane-tag assigns lanes at the gateway by weight, sticky per x-user-id",
  grpc: "every hop a gRPC call over h2c; apps forward the baggage metadata",
  websocket: "the seed's socket.io app; clients name their lane on the handshake, wsk forwards its baggage",
  stacked: "stacked lanes from deploy/lanes.stacked.yaml: feat-x falls back to release-2, release-2 to s1; apps forward baggage",
};

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => { console.error(e); process.exit(1); });
}

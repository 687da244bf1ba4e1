// npm run demo: the seeds' three-lane demo in one Node process, no Docker. Every workload (3 services ×
// v1..v3) is the mock service behind an emulated sidecar that runs the real build/lane-tag.wasm in the
// project's host emulator, on an inbound and an outbound listener; a gateway assigns lanes by weight.
// Everything talks real HTTP on 127.0.0.1; routing and fallback are those of the Envoy configs
// (topology.ts); the filter configurations are those the manifests generate.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Host, type Header, type Plugin } from "../../test/host/emulator.ts";
import { loadSpec, type LanesSpec } from "../lib/spec.ts";
import { filterConfig, type FilterRole } from "../lib/generate.ts";
import { chain, workloads, upstreamOf, resolve, gatewayWeights, pickWeighted, SERVICE_PORT, RANDOM_HEADER, LANE_HEADER, type Workload } from "./topology.ts";
import { sendRequests, summarize, formatSummary, check, prng, type Result } from "./client.ts";
// @ts-ignore: plain JavaScript module shared with the container image
import { createMock } from "./mock/server.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const WASM = join(ROOT, "build/lane-tag.wasm");
export const SPEC = join(ROOT, "deploy/lanes.example.yaml");

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer", "host", "content-length"]);

/** Node request -> Envoy-style header pairs (lowercase, pseudo-headers first, repeated headers kept). */
function pairs(req: http.IncomingMessage, authority: string, path: string): Header[] {
  const out: Header[] = [[":authority", authority], [":path", path], [":method", req.method ?? "GET"], [":scheme", "http"]];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const k = req.rawHeaders[i].toLowerCase();
    if (!HOP_BY_HOP.has(k)) out.push([k, req.rawHeaders[i + 1]]);
  }
  return out;
}

function outgoing(headers: Header[]): { authority: string; path: string; headers: Record<string, string[]> } {
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

function forward(res: http.ServerResponse, port: number, path: string, authority: string, headers: Record<string, string[]>, extra: Record<string, string> = {}) {
  const up = http.request({ host: "127.0.0.1", port, path, method: "GET", agent, headers: { ...headers, host: authority } }, (r) => {
    res.writeHead(r.statusCode ?? 502, { ...r.headers, ...extra });
    r.pipe(res);
  });
  up.on("error", (e) => { res.writeHead(503); res.end(`upstream connect error: ${e.message}`); });
  up.end();
}

function listen(server: http.Server): Promise<number> {
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok((server.address() as AddressInfo).port)));
}

/** Runs the filter as Envoy would; returns the headers to forward, or null when the request is refused. */
function filter(plugin: Plugin | null, headers: Header[], listenerDirection: number): Header[] | null {
  if (!plugin) return headers;
  const r = plugin.request(headers, { listenerDirection });
  if (r.outcome === "failed") return null; // fail closed: Envoy answers 503
  return r.outcome === "passed-failed" ? headers : r.headers;
}

async function plugins(wasm: Uint8Array, spec: LanesSpec, roles: FilterRole[]) {
  const host = await Host.load(wasm);
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
export async function startMesh(spec: LanesSpec, { withFilter = true, weights, seed = 7 }: { withFilter?: boolean; weights?: number[]; seed?: number } = {}): Promise<Mesh> {
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
    const vm = withFilter ? await plugins(wasm, spec, ["inbound", "outbound"]) : null;
    const outPort = await serve(http.createServer(outboundHandler(vm?.outbound ?? null)));
    const up = upstreamOf(spec, w.service);
    const app = createMock({ app: w.service, version: w.version, ip: "127.0.0.1", upstreamUrl: up ? `http://${up}:${SERVICE_PORT}/` : undefined, proxy: `http://127.0.0.1:${outPort}` });
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
    const headers = filter(gw?.gateway ?? null, pairs(req, req.headers.host ?? "gateway", req.url ?? "/"), 2);
    if (!headers) { res.writeHead(503); return void res.end("lane-tag failed (fail closed)"); }
    const o = outgoing(headers);
    const raw = o.headers[RANDOM_HEADER]?.[0];
    const value = raw && /^\d{1,20}$/.test(raw) && BigInt(raw) < 2n ** 64n ? BigInt(raw) : BigInt(Math.floor(rand() * 2 ** 32));
    delete o.headers[RANDOM_HEADER]; // a test hook, not passed on (as the Envoy route removes it)
    const { lane } = pickWeighted(choices, value);
    o.headers[spec.routingHeader] = [lane];
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

export interface DemoOptions { requests: number; weights?: number[]; seed: number; withFilter: boolean; quiet: boolean; concurrency: number }

export async function runDemo(opts: DemoOptions, spec = loadSpec(SPEC), print: (s: string) => void = console.log) {
  const mesh = await startMesh(spec, { withFilter: opts.withFilter, weights: opts.weights });
  try {
    const t0 = Date.now();
    const results: Result[] = await sendRequests(mesh.gatewayUrl, opts.requests, {
      seed: opts.seed, concurrency: opts.concurrency, onResult: opts.quiet ? undefined : (r) => print(r.body),
    });
    const ms = Date.now() - t0;
    const weights = gatewayWeights(spec, opts.weights);
    const failures = check(spec, results, { filter: opts.withFilter });
    return { results, failures, summary: summarize(spec, results), weights, ms };
  } finally {
    await mesh.close();
  }
}

function parseArgs(argv: string[]): DemoOptions {
  const o: DemoOptions = { requests: 100, seed: 1, withFilter: true, quiet: false, concurrency: 8 };
  const num = (name: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs a positive integer, got ${JSON.stringify(v)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--requests" || a === "-n") o.requests = num(a, argv[++i]);
    else if (a === "--seed") o.seed = num(a, argv[++i]);
    else if (a === "--concurrency") o.concurrency = num(a, argv[++i]);
    else if (a === "--weights") {
      const w = (argv[++i] ?? "").split(",").map(Number);
      if (w.some((x) => !Number.isInteger(x) || x < 0) || w.reduce((a, b) => a + b, 0) === 0) throw new Error(`--weights needs non-negative integers like 60,20,20`);
      o.weights = w;
    } else if (a === "--no-filter") o.withFilter = false;
    else if (a === "--quiet" || a === "-q") o.quiet = true;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

async function main() {
  let opts: DemoOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`${(e as Error).message}\nusage: npm run demo -- [--requests N] [--weights 60,20,20] [--seed S] [--no-filter] [--quiet] [--concurrency C]`);
    process.exit(2);
  }
  const spec = loadSpec(SPEC);
  try {
    gatewayWeights(spec, opts.weights);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  const { results, failures, summary, weights, ms } = await runDemo(opts, spec);
  const w = weights.map((x) => `${x.lane}=${x.weight}`).join(" ");
  console.log(`\n${results.length} requests through the gateway in ${ms} ms (weights ${w}; lane-tag ${opts.withFilter ? "on" : "OFF"}):\n`);
  console.log(formatSummary(spec, summary));
  if (failures.length) {
    console.log(`\n${failures.length} request(s) not as expected${opts.withFilter ? "" : " without the filter"}:`);
    for (const f of failures.slice(0, 10)) console.log(`  ${f}`);
    process.exit(1);
  }
  console.log(opts.withFilter
    ? `\nevery chain stayed in its lane (falling back to ${spec.baseline} where a lane has no version of a service)`
    : `\nwithout lane-tag every lane falls back to ${spec.baseline} after the first hop: the applications forward only baggage`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => { console.error(e); process.exit(1); });
}

// The Docker-less mesh of `npm run demo`: every workload is the mock app behind an emulated sidecar that
// runs the real build/lane-tag.wasm in the project's host emulator, on an inbound and an outbound listener
// (one VM: one vm_id), each request and its response through the filter as Envoy runs them; a gateway
// assigns lanes by weight. Everything talks real HTTP on 127.0.0.1; every hop, the gateway's included, is
// routed by the generated VirtualServices and DestinationRules (router.ts, applied.ts); the filter
// configurations are the routing plan's (lib/plan.ts), as in the manifests.
// Each proxy can serve admin-like endpoints (/stats/prometheus, /server_info) for `lanes status`.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Host, prometheusText, type Header, type Plugin } from "../emulator/index.ts";
import type { LanesSpec, ObserveSpec } from "../lib/spec.ts";
import { routingPlan, type FilterRole } from "../lib/plan.ts";
import { LANE_STATS_TAGS } from "../lib/observe.ts";
import { chain, workloads, upstreamOf, gatewayWeights, weightedValue, fullLanes, deployments, SERVICE_PORT, RANDOM_HEADER, LANE_HEADER, type Workload } from "./core/topology.ts";
import { istioRouter, type RouteSet, type Routed } from "./core/router.ts";
import { gatewayHost, sidecarResources, withWeights } from "./applied.ts";
import { prng } from "./core/client.ts";
import { stackedSpec } from "./stacked/spec.ts";
import { traceStarter, type GatewayTrace } from "./core/gateway-trace.ts";
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

export function forward(res: http.ServerResponse, port: number, path: string, authority: string, headers: Record<string, string[]>, extra: Record<string, string> = {}, onResponse?: (h: Header[]) => Header[]) {
  const up = http.request({ host: "127.0.0.1", port, path, method: "GET", agent, headers: { ...headers, host: authority } }, (r) => {
    if (onResponse) {
      // The response headers through a filter, as Envoy runs on_response_headers.
      const h = onResponse(responsePairs(r));
      const out: Record<string, string[]> = {};
      let status = r.statusCode ?? 502;
      for (const [k, v] of h) {
        if (k === ":status") status = Number(v);
        else if (!k.startsWith(":")) (out[k] ??= []).push(v);
      }
      res.writeHead(status, { ...out, ...extra });
    } else {
      res.writeHead(r.statusCode ?? 502, { ...r.headers, ...extra });
    }
    r.pipe(res);
  });
  up.on("error", (e) => { res.writeHead(503); res.end(`upstream connect error: ${e.message}`); });
  up.end();
}

/** Node response -> Envoy-style response header pairs (:status first). */
function responsePairs(r: http.IncomingMessage): Header[] {
  const out: Header[] = [[":status", String(r.statusCode ?? 502)]];
  for (let i = 0; i < r.rawHeaders.length; i += 2) {
    const k = r.rawHeaders[i].toLowerCase();
    if (!HOP_BY_HOP.has(k)) out.push([k, r.rawHeaders[i + 1]]);
  }
  return out;
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

/** A request through a filter that also sees its response; null headers: refused (fail closed, 503). */
export interface Filtered { headers: Header[] | null; respond(h: Header[]): Header[]; close(): void }

const PASS: Omit<Filtered, "headers"> = { respond: (h) => h, close: () => {} };

/** Runs the filter on a request as Envoy would, and keeps the stream for its response. */
export function filterStream(plugin: Plugin | null, headers: Header[], listenerDirection: number): Filtered {
  if (!plugin) return { headers, ...PASS };
  const s = plugin.open(headers, { listenerDirection });
  const r = s.request;
  if (r.outcome === "failed") { s.close(); return { headers: null, ...PASS }; }
  if (r.outcome === "passed-failed") { s.close(); return { headers, ...PASS }; }
  return { headers: r.headers, respond: (h) => s.respond(h).headers, close: () => s.close() };
}

export const MODES = ["baggage", "correlation", "strict", "sticky", "grpc", "websocket", "stacked"] as const;
export type Mode = (typeof MODES)[number];
/** The header the sticky demo's users send. */
export const USER_HEADER = "x-user-id";

/** The spec a mode runs: the example's, with the mode's features switched on; stacked runs its own spec. */
export function specForMode(spec: LanesSpec, mode: Mode): LanesSpec {
  if (mode === "stacked") return stackedSpec();
  if (mode === "correlation") return { ...spec, correlation: spec.correlation ?? {} };
  if (mode === "strict") return { ...fullLanes(spec), localLane: true };
  if (mode === "sticky") return { ...spec, gateway: { ...spec.gateway!, stickyHeader: USER_HEADER } };
  return spec;
}

export const PROPAGATE: Record<Mode, string> = { baggage: "baggage", correlation: "traceparent", strict: "none", sticky: "baggage", grpc: "baggage", websocket: "baggage", stacked: "baggage" };

export async function plugins(wasm: Uint8Array, spec: LanesSpec, roles: FilterRole[], labels?: Record<string, string>, workload?: string) {
  // Istio puts the pod's labels in node.metadata.LABELS and its workload in WORKLOAD_NAME; one VM serves
  // both listeners (one vm_id). Header values come from and go back to Node's http as byte strings:
  // "bytes" passes them on exactly.
  const nodeMetadata = { ...(labels ? { LABELS: labels } : {}), ...(workload ? { WORKLOAD_NAME: workload } : {}) };
  const host = await Host.load(wasm, { vmId: "lane-tag", headerStrings: "bytes", nodeMetadata });
  const out: Partial<Record<FilterRole, Plugin>> = {};
  const { filters } = routingPlan(spec);
  for (const role of roles) {
    // Fail closed where the filter does not trust client lanes (the gateway), as the generated WasmPlugin does.
    const p = host.configure({ configuration: JSON.stringify(filters[role]), failOpen: (filters[role] as { trust_client_lane?: boolean }).trust_client_lane !== false });
    if (p.failed) throw new Error(`the ${role} filter failed to configure: ${host.logs.map((l) => l.message).join("; ")}`);
    out[role] = p;
  }
  return { host, ...out };
}

export interface Mesh {
  gatewayUrl: string;
  /** Admin-like endpoints per proxy (with `admin: true`): /stats/prometheus and /server_info. */
  admins?: { workload: string; url: string }[];
  /** Per workload (with the filter), the live trace records its sidecar's full trace table gave up (trace_evicted). */
  traceEvicted?(): Map<string, number>;
  close(): Promise<void>;
}

/** One workload's app: its upstream (when it has one), the outbound listener it calls through, and what the
 *  mock app forwards (the mock kind only: other kinds forward what their own tracing forwards). */
export interface AppSpec {
  workload: string; service: string; version: string; upstreamUrl?: string; proxy: string; propagate: string;
  /** Whether any lane routes to it: a workload of a lane that does not list its service never gets a request. */
  routed: boolean;
}
/** Starts the apps (a kind may skip those not routed); resolves once each listens, with its port per workload. */
export type AppRunner = (apps: AppSpec[]) => Promise<{ ports: Map<string, number>; close(): Promise<void> }>;

/** The default app kind: the mock service (mock/server.mjs), each one a server in this process. */
export function mockApps(serve: (s: http.Server) => Promise<number>): AppRunner {
  return async (apps) => {
    const ports = new Map<string, number>();
    for (const a of apps) ports.set(a.workload, await serve(createMock({ app: a.service, version: a.version, ip: "127.0.0.1", upstreamUrl: a.upstreamUrl, proxy: a.proxy, propagate: a.propagate })));
    return { ports, close: async () => {} };
  };
}

export interface MeshOptions {
  withFilter?: boolean; weights?: number[]; seed?: number; mode?: Mode;
  /** The apps behind the sidecars (the mock apps, in this process, by default). */
  apps?: AppRunner;
  /** Observability switched on in every filter (as the spec's `observe`). */
  observe?: Partial<ObserveSpec>;
  /** A service whose app forwards only traceparent (it drops baggage); correlation keeps the lane. */
  drop?: string;
  /** The apps' OTEL_PROPAGATORS: the filters read and write the carriers these forward (as the spec's otel). */
  propagators?: string[];
  /** Serve admin-like endpoints for each proxy. */
  admin?: boolean;
  /** The seed of the trace ids the gateway starts (random ones without it), so a run's traces repeat. */
  traceSeed?: number;
  /** The trace the gateway starts on a request without one: w3c (traceparent), as a gateway with an
   *  OpenTelemetry tracer does, or b3 (x-b3-*), as Envoy's Zipkin tracer does. Correlation mode and --drop
   *  need a trace id: they start a w3c one unless this says b3. */
  gatewayTrace?: GatewayTrace;
  /** The generated routes the proxies route by: istio/ (default) or asm/ (ASM's fallback). */
  routes?: RouteSet;
  /** A folder as `npm run manifests` writes it, routed by instead of the spec's manifests generated now. */
  manifests?: string;
}

/** The spec the mesh runs: the mode's, with the options' observability and correlation (for --drop). */
export function meshSpec(base: LanesSpec, mode: Mode, { observe, drop, propagators }: MeshOptions = {}): LanesSpec {
  let spec = specForMode(base, mode);
  if (propagators) spec = { ...spec, otel: { ...(spec.otel ?? { name: "lane-tag" }), propagators } };
  if (observe) spec = { ...spec, observe: { ...spec.observe, ...observe } };
  if (drop) spec = { ...spec, correlation: spec.correlation ?? {} };
  return spec;
}

/** An Envoy-like admin endpoint for one proxy's VM: its stats as Prometheus text, with the lane tags. */
function adminServer(host: Host, workload: string, labels: Record<string, string>): http.Server {
  return http.createServer((req, res) => {
    req.resume();
    if (req.url === "/stats/prometheus") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      res.end(prometheusText(host.envoyStats(), LANE_STATS_TAGS));
    } else if (req.url === "/server_info") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ state: "LIVE", node: { id: `sidecar~127.0.0.1~${workload}.demo~demo.svc.cluster.local`, metadata: { WORKLOAD_NAME: workload, LABELS: labels } } }));
    } else {
      res.writeHead(404);
      res.end("not found");
    }
  });
}

/** The trace the gateway starts: the one asked for, else w3c where correlation (its mode, or --drop) needs the trace id. */
export function startsTrace(opts: MeshOptions): GatewayTrace | undefined {
  return opts.gatewayTrace ?? (opts.mode === "correlation" || opts.drop !== undefined ? "w3c" : undefined);
}

/** What the gateway's tracer adds to each request (nothing without a tracer), seeded by `traceSeed`. */
export function gatewayTracer(opts: MeshOptions): (request: http.IncomingMessage) => Header[] {
  const format = startsTrace(opts);
  if (!format) return () => [];
  const start = traceStarter(format, opts.traceSeed);
  return (req) => start(req.headers);
}

export { traceparents } from "./core/gateway-trace.ts";

/** Answers the request with the router's refusal (no route, no endpoints); false when it has a workload. */
export function refused(res: http.ServerResponse, r: Routed): r is Extract<Routed, { status: number }> {
  if (!("status" in r)) return false;
  res.writeHead(r.status);
  res.end(r.reason);
  return true;
}

/** Starts the whole topology on 127.0.0.1; `withFilter: false` runs the same mesh without lane-tag. */
export async function startMesh(base: LanesSpec, opts: MeshOptions = {}): Promise<Mesh> {
  const { withFilter = true, weights, seed = 7, mode = "baggage", drop, admin = false } = opts;
  const spec = meshSpec(base, mode, opts);
  // Every hop routed by the VirtualServices and DestinationRules a user applies for this spec.
  const choices = gatewayWeights(spec, weights).filter((w) => w.weight > 0);
  const route = istioRouter(sidecarResources(withWeights(spec, choices), opts.routes ?? "istio", opts.manifests), spec, workloads(spec));
  if (drop && !chain(spec).includes(drop)) throw new Error(`--drop ${drop}: not a service of the chain (${chain(spec).join(", ")})`);
  const admins: { workload: string; url: string }[] = [];
  const hosts: { workload: string; host: Host }[] = [];
  const serveAdmin = async (host: Host, workload: string, labels: Record<string, string>) => {
    if (admin) admins.push({ workload, url: `http://127.0.0.1:${await serve(adminServer(host, workload, labels))}` });
  };
  if (!existsSync(WASM)) throw new Error(`${WASM} is missing: run npm run build`);
  const wasm = readFileSync(WASM);
  const servers: http.Server[] = [];
  const inboundPort = new Map<string, number>();
  const serve = async (s: http.Server) => { servers.push(s); return listen(s); };

  // Outbound listeners route by host and lane to the inbound listener of the chosen workload.
  const outboundHandler = (plugin: Plugin | null) => (req: http.IncomingMessage, res: http.ServerResponse) => {
    req.resume();
    const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
    const f = filterStream(plugin, pairs(req, url.host, url.pathname + url.search), 2);
    res.on("close", f.close);
    if (!f.headers) { res.writeHead(503); return void res.end("lane-tag failed (fail closed)"); }
    const o = outgoing(f.headers);
    const service = o.authority.split(":")[0];
    if (!chain(spec).includes(service)) { res.writeHead(404); return void res.end(`no route to ${o.authority}`); }
    const [host, port] = o.authority.split(":");
    const r = route({ host, port: Number(port ?? SERVICE_PORT), path: o.path, method: req.method }, o.headers);
    if (refused(res, r)) return;
    forward(res, inboundPort.get(r.workload.name)!, o.path, o.authority, r.headers, {}, f.respond);
  };

  // Every workload's VM and outbound listener first, then all apps at once, then the inbound listeners:
  // every workload has its ports before any traffic.
  const sidecars: { w: Workload; vm: Awaited<ReturnType<typeof plugins>> | null }[] = [];
  const appSpecs: AppSpec[] = [];
  const routed = new Set(deployments(spec).map((w) => w.name));
  for (const w of workloads(spec)) {
    const labels = { app: w.service, [spec.labelKey]: w.version };
    const vm = withFilter ? await plugins(wasm, spec, ["inbound", "outbound"], labels, w.name) : null;
    if (vm) {
      hosts.push({ workload: w.name, host: vm.host });
      await serveAdmin(vm.host, w.name, labels);
    }
    const outPort = await serve(http.createServer(outboundHandler(vm?.outbound ?? null)));
    const up = upstreamOf(spec, w.service);
    sidecars.push({ w, vm });
    appSpecs.push({ workload: w.name, service: w.service, version: w.version, upstreamUrl: up ? `http://${up}:${SERVICE_PORT}/` : undefined, proxy: `http://127.0.0.1:${outPort}`, propagate: drop === w.service ? "traceparent" : drop ? "baggage,traceparent" : PROPAGATE[mode], routed: routed.has(w.name) });
  }
  const closeServers = () => Promise.all(servers.map((s) => new Promise((ok) => { s.closeAllConnections(); s.close(() => ok(null)); })));
  // Apps that fail to start leave no listener behind.
  const apps = await (opts.apps ?? mockApps(serve))(appSpecs).catch(async (e) => { await closeServers(); throw e; });
  for (const { w, vm } of sidecars) {
    const appPort = apps.ports.get(w.name);
    const inbound = http.createServer((req, res) => {
      req.resume();
      if (appPort === undefined) { res.writeHead(503); return void res.end(`no app runs for ${w.name}: no lane routes to it`); }
      const f = filterStream(vm?.inbound ?? null, pairs(req, req.headers.host ?? w.name, req.url ?? "/"), 1);
      res.on("close", f.close);
      if (!f.headers) { res.writeHead(503); return void res.end("lane-tag failed (fail closed)"); }
      const o = outgoing(f.headers);
      forward(res, appPort, o.path, o.authority, o.headers, {}, f.respond);
    });
    inboundPort.set(w.name, await serve(inbound));
  }

  // The gateway: lane-tag in gateway mode, then the weighted lane choice and the header it sets.
  const gw = withFilter ? await plugins(wasm, spec, ["gateway"], undefined, "ingressgateway") : null;
  if (gw) await serveAdmin(gw.host, "ingressgateway", {});
  const rand = prng(seed);
  const startTrace = gatewayTracer(opts);
  const gateway = http.createServer((req, res) => {
    req.resume();
    const incoming = pairs(req, req.headers.host ?? "gateway", req.url ?? "/");
    // A gateway with a tracer starts the trace (correlation needs a trace id on the first hop).
    incoming.push(...startTrace(req));
    const f = filterStream(gw?.gateway ?? null, incoming, 2);
    res.on("close", f.close);
    if (!f.headers) { res.writeHead(503); return void res.end("lane-tag failed (fail closed)"); }
    const o = outgoing(f.headers);
    const raw = o.headers[RANDOM_HEADER]?.[0];
    delete o.headers[RANDOM_HEADER]; // a test hook, not passed on (as the Envoy route removes it)
    // Sticky: lane-tag assigned the lane and the gateway's route matches it; else the route splits by weight
    // (the draw: Envoy's header_name value) and sets the routing header.
    const draw = mode === "sticky" ? undefined : weightedValue(raw, rand);
    const r = route({ host: gatewayHost(spec), port: 80, path: o.path, method: req.method, atGateway: true, draw }, o.headers);
    if (refused(res, r)) return;
    const lane = r.headers[spec.routingHeader]?.[0] ?? spec.baseline;
    forward(res, inboundPort.get(r.workload.name)!, o.path, `${r.workload.service}:${SERVICE_PORT}`, r.headers, { [LANE_HEADER]: lane }, f.respond);
  });
  const gwPort = await serve(gateway);

  return {
    gatewayUrl: `http://127.0.0.1:${gwPort}/mock`,
    ...(admin ? { admins } : {}),
    traceEvicted: () => new Map(hosts.map(({ workload, host }) => [workload, host.counter("lane_tag.inbound.trace_evicted") + host.counter("lane_tag.both.trace_evicted")])),
    close: async () => {
      agent.destroy();
      await Promise.all([apps.close(), closeServers()]);
    },
  };
}


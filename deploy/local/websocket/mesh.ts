// npm run demo -- --mode websocket: the mesh of the seed asm-websocket-loose-lanes on 127.0.0.1. Workloads
// are the lanes spec's (deploy/lanes.websocket.yaml): wsk (service wsk-svc) in the baseline v1 only,
// helloworld v1 and v2. Each app sits behind an emulated sidecar (an inbound and an outbound listener,
// lane-tag on both, one VM) and an ingress gateway runs lane-tag in the gateway role. The listeners proxy
// HTTP/1.1 as demo.ts's do and, as Envoy does with `upgrade_configs: websocket`, WebSocket upgrades too: the
// filter runs on the upgrade request's headers like on any request's, the request goes upstream with the
// filtered headers, the 101 comes back, and from then on the bytes are piped both ways.
import http from "node:http";
import type { Duplex } from "node:stream";
import { existsSync, readFileSync } from "node:fs";
import type { Header, Plugin } from "../../emulator/index.ts";
import type { LanesSpec } from "../../lib/spec.ts";
import { upstreamOf, deployments } from "../core/topology.ts";
import { istioRouter, headerMap, type RouteSet } from "../core/router.ts";
import { gatewayHost, sidecarResources } from "../applied.ts";
import { routingPlan, servicePlan } from "../../lib/plan.ts";
import { plugins, filter, pairs, outgoing, forward, listen, WASM, type Mesh } from "../mesh.ts";
import { createHelloworld, createWsk, WS_PORT, type Wsk } from "./apps.ts";

// Re-exported for the tests; they live in topology.ts and apps.ts, which the compose generator and the
// containers load without this module's emulator.
export { deployments, WS_PORT };
/** Hop-by-hop headers Envoy keeps on an upgrade request, so the upstream sees the upgrade. */
const UPGRADE_HEADERS = ["connection", "upgrade"];

/** Where a listener sends a request (as which authority, with which headers: the filtered ones by default), or the local reply it gives. */
export type Route = { port: number; authority?: string; headers?: Header[] } | { status: number; message: string };
/** Called with what a listener's filter was handed and what it let through (null: refused). */
export type FilterTap = (listener: string, input: Header[], output: Header[] | null, upgrade: boolean) => void;

export interface Listener { port: number; close(): Promise<void> }

/** The request's authority and path: from an absolute-form target (a proxy request) or the Host header. */
function target(req: http.IncomingMessage): { authority: string; path: string } {
  const raw = req.url ?? "/";
  if (raw.startsWith("/")) return { authority: req.headers.host ?? "", path: raw };
  const url = new URL(raw);
  return { authority: url.host, path: url.pathname + url.search };
}

function reply(socket: Duplex, status: number, message: string) {
  const body = Buffer.from(message);
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ""}\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${message}`);
}

function head(res: http.IncomingMessage, skip: string[] = []): string {
  let out = `HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ""}\r\n`;
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    if (!skip.includes(res.rawHeaders[i].toLowerCase())) out += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`;
  }
  return out;
}

/**
 * Proxies an upgrade request to 127.0.0.1:`port`: relays the 101 and then pipes the two connections; an upstream
 * that declines the upgrade gets its answer relayed, and the connection closed.
 */
function tunnel(socket: Duplex, early: Buffer, port: number, headers: Header[], authority: string | undefined, track: (s: Duplex) => void) {
  const o = outgoing(headers);
  // A connection of its own: after the 101 it is a byte stream, no longer an HTTP connection to reuse.
  const up = http.request({ host: "127.0.0.1", port, path: o.path, method: "GET", agent: false, headers: { ...o.headers, host: authority ?? o.authority } });
  up.on("upgrade", (res, upstream, upEarly) => {
    track(upstream);
    socket.write(head(res) + "\r\n");
    if (upEarly.length) socket.write(upEarly);
    if (early.length) upstream.write(early);
    // Either side closing or failing ends both, as Envoy ends a tunnel.
    const end = () => { socket.destroy(); upstream.destroy(); };
    for (const s of [socket, upstream]) { s.on("error", end); s.on("close", end); }
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  up.on("response", (res) => {
    // Declined: the answer as it is, its body delimited by the connection's close.
    socket.write(head(res, ["connection", "transfer-encoding", "content-length"]) + "connection: close\r\n\r\n");
    res.pipe(socket);
  });
  up.on("error", (e) => reply(socket, 503, `upstream connect error: ${e.message}`));
  // The client gone before the upstream answered: so is the upstream request.
  for (const e of ["error", "close"]) socket.on(e, () => up.destroy());
  up.end();
}

/**
 * An emulated Envoy listener on 127.0.0.1: lane-tag (when `plugin` is given) on every request's headers, then
 * `route`; plain requests are forwarded, upgrade requests tunnelled.
 */
export async function startListener(name: string, plugin: Plugin | null, listenerDirection: number, route: (headers: Header[]) => Route, tap?: FilterTap): Promise<Listener> {
  const sockets = new Set<Duplex>();
  const track = (s: Duplex) => { sockets.add(s); s.on("close", () => sockets.delete(s)); };
  const decide = (req: http.IncomingMessage, upgrade: boolean): { headers: Header[]; route: Route } => {
    const { authority, path } = target(req);
    const input = pairs(req, authority, path, upgrade ? UPGRADE_HEADERS : []);
    const headers = filter(plugin, input, listenerDirection);
    tap?.(name, input, headers, upgrade);
    return headers ? { headers, route: route(headers) } : { headers: input, route: { status: 503, message: "lane-tag failed (fail closed)" } };
  };
  const server = http.createServer((req, res) => {
    req.resume();
    const { headers, route: r } = decide(req, false);
    if ("status" in r) { res.writeHead(r.status); return void res.end(r.message); }
    const o = outgoing(r.headers ?? headers);
    forward(res, r.port, o.path, r.authority ?? o.authority, o.headers);
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, early: Buffer) => {
    track(socket);
    const { headers, route: r } = decide(req, true);
    if ("status" in r) return reply(socket, r.status, r.message);
    tunnel(socket, early, r.port, r.headers ?? headers, r.authority, track);
  });
  const port = await listen(server);
  return {
    port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      return new Promise((ok) => server.close(() => ok()));
    },
  };
}

export interface WebSocketMesh extends Mesh {
  /** The `hello` messages wsk's clients acknowledged so far. */
  acks(): number;
}

/** Starts the seed's mesh; `withFilter: false` runs it without lane-tag anywhere. */
export async function startWebSocketMesh(spec: LanesSpec, { withFilter = true, broadcastMs = 300, tap, routes = "istio", manifests }: { withFilter?: boolean; broadcastMs?: number; tap?: FilterTap; routes?: RouteSet; manifests?: string } = {}): Promise<WebSocketMesh> {
  if (withFilter && !existsSync(WASM)) throw new Error(`${WASM} is missing: run npm run build`);
  const wasm = withFilter ? readFileSync(WASM) : null;
  const plan = routingPlan(spec);
  // Every hop routed by the generated VirtualServices and DestinationRules, as in the HTTP demo.
  const router = istioRouter(sidecarResources(spec, routes, manifests), spec, deployments(spec), (s) => servicePlan(plan, s).workload);
  const route = (hop: Parameters<typeof router>[0], headers: Header[], authority?: (service: string) => string): Route => {
    const r = router({ ...hop, path: header(headers, ":path") ?? "/", method: header(headers, ":method") }, headerMap(headers));
    return "status" in r ? { status: r.status, message: r.reason } : { port: inboundPort.get(r.workload.name)!, ...(authority ? { authority: authority(r.workload.service) } : {}) };
  };
  const listeners: Listener[] = [];
  const apps: { server: http.Server; wsk?: Wsk }[] = [];
  const inboundPort = new Map<string, number>();
  const header = (headers: Header[], name: string) => headers.find(([k]) => k === name)?.[1];
  const close = async () => {
    await Promise.all(listeners.map((l) => l.close()));
    await Promise.all(apps.map((a) => a.wsk ? a.wsk.close() : new Promise((ok) => { a.server.closeAllConnections(); a.server.close(ok); })));
  };

  try {
    for (const w of deployments(spec)) {
      const vm = wasm ? await plugins(wasm, spec, ["inbound", "outbound"], { app: servicePlan(plan, w.service).workload, [spec.labelKey]: w.version }) : null;
      // Outbound (the app's HTTP proxy): by host and lane to the chosen workload's inbound listener.
      const out = await startListener(`${w.name} outbound`, vm?.outbound ?? null, 2, (headers) => {
        const authority = header(headers, ":authority") ?? "";
        const [service, port] = authority.split(":");
        if (!spec.services.includes(service)) return { status: 404, message: `no route to ${authority}` };
        return route({ host: service, port: Number(port ?? WS_PORT), path: "/" }, headers);
      });
      listeners.push(out);
      const callee = upstreamOf(spec, w.service);
      const wsk = callee ? createWsk({ helloworldUrl: `http://${callee}:${WS_PORT}/hello`, proxy: `http://127.0.0.1:${out.port}`, broadcastMs }) : undefined;
      const app = { server: wsk?.server ?? createHelloworld(w.version), wsk };
      apps.push(app);
      const appPort = await listen(app.server);
      const inbound = await startListener(`${w.name} inbound`, vm?.inbound ?? null, 1, () => ({ port: appPort }));
      listeners.push(inbound);
      inboundPort.set(w.name, inbound.port);
    }

    // The gateway: lane-tag takes the client's lane (lane_from) and removes any other the client sent; the
    // route goes to the entry service's version in that lane (wsk has only the baseline's).
    const gw = wasm ? await plugins(wasm, spec, ["gateway"]) : null;
    const gateway = await startListener("gateway", gw?.gateway ?? null, 2, (headers) =>
      route({ host: gatewayHost(spec), port: 80, path: "/", atGateway: true }, headers, (service) => `${service}:${WS_PORT}`));
    listeners.push(gateway);
    const wsk = apps.find((a) => a.wsk)!.wsk!;
    return { gatewayUrl: `http://127.0.0.1:${gateway.port}`, acks: () => wsk.acks(), close };
  } catch (e) {
    await close();
    throw e;
  }
}

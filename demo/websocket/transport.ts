// npm run demo -- --mode websocket: the transport of the seed asm-websocket-loose-lanes. Pods are the lanes
// spec's (deploy/lanes.websocket.yaml): wsk (service wsk-svc) in the baseline v1 only, helloworld v1 and v2.
// The listeners proxy HTTP/1.1 as the HTTP transport's do and, as Envoy does with `upgrade_configs:
// websocket`, WebSocket upgrades too: the filter runs on the upgrade request's headers like on any request's,
// the request goes upstream with the filtered headers, the 101 comes back, and from then on the bytes are
// piped both ways.
import http from "node:http";
import type { Duplex } from "node:stream";
import type { Header, Plugin } from "../../emulator/index.ts";
import { deployments } from "../core/topology.ts";
import { filter, pairs, outgoing, forward, listen, target, closeAll } from "../core/http.ts";
import type { FilterTap, Route, Transport } from "../core/transport.ts";
import { createHelloworld, createWsk, WS_PORT, type Wsk } from "./apps.ts";

// Re-exported for the tests; they live in topology.ts and apps.ts, which the compose generator and the
// containers load without this module's emulator.
export { deployments, WS_PORT };
/** Hop-by-hop headers Envoy keeps on an upgrade request, so the upstream sees the upgrade. */
const UPGRADE_HEADERS = ["connection", "upgrade"];

export type { FilterTap };

export interface Listener { port: number; close(): Promise<void> }

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

/** The WebSocket transport: wsk and helloworld as the seed runs them; `tap` sees each listener's filter. */
export function websocketTransport({ broadcastMs = 300, tap }: { broadcastMs?: number; tap?: FilterTap } = {}): Transport {
  return {
    protocol: "websocket", servicePort: WS_PORT, pods: deployments,
    listeners() {
      const listeners: Listener[] = [];
      return {
        listen: async ({ name, plugin, direction, route }) => {
          const l = await startListener(name, plugin, direction, route, tap);
          listeners.push(l);
          return l.port;
        },
        close: async () => { await Promise.all(listeners.map((l) => l.close())); },
      };
    },
    async startApps(specs) {
      // wsk calls helloworld through its proxy; the helloworlds call no one.
      const ports = new Map<string, number>();
      const servers: http.Server[] = [];
      let wsk: Wsk | undefined;
      for (const a of specs) {
        const w = a.upstreamUrl ? createWsk({ helloworldUrl: `${a.upstreamUrl}hello`, proxy: a.proxy, broadcastMs }) : undefined;
        wsk ??= w;
        const server = w?.server ?? createHelloworld(a.version);
        if (!w) servers.push(server);
        ports.set(a.workload, await listen(server));
      }
      return { ports, acks: () => wsk?.acks() ?? 0, close: async () => { await Promise.all([wsk?.close(), closeAll(servers)]); } };
    },
    gatewayUrl: (port) => `http://127.0.0.1:${port}`,
  };
}

// npm run demo -- --mode grpc: the transport of a mesh whose every hop is a gRPC call over h2c. The apps are
// the gRPC service of app.ts; the proxies' listeners speak HTTP/2 with node:http2. Each listener hands lane-tag
// the request headers as Envoy's HTTP/2 codec has them (`:method`, `:path`, `:authority`, `:scheme` as
// received, then the metadata headers: content-type, te, grpc-timeout, baggage, ...; no `host`), routes as the
// proxy shape says, and proxies the stream: request body, response headers, body and trailers, where gRPC
// keeps its status.
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { Header } from "../../emulator/index.ts";
import { workloads, SERVICE_PORT } from "../core/topology.ts";
import { filter } from "../core/http.ts";
import type { FilterTap, ListenerSpec, Route, Transport } from "../core/transport.ts";
import { startGrpcMock, type GrpcMock } from "./app.ts";

const { NGHTTP2_FLAG_END_STREAM, NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR } = http2.constants;


export const first = (headers: Header[], name: string) => headers.find(([k]) => k === name)?.[1];

function h2Headers(headers: Header[]): http2.OutgoingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of headers) {
    const had = out[k];
    out[k] = had === undefined ? v : [...(Array.isArray(had) ? had : [had]), v];
  }
  return out;
}

// Envoy's Grpc::Utility::httpToGrpcStatus, for the statuses these listeners answer themselves.
const GRPC_STATUS: Record<number, number> = { 404: 12 /* UNIMPLEMENTED */, 503: 14 /* UNAVAILABLE */ };

/** gRPC's grpc-message encoding: percent-encodes only '%' and bytes outside printable ASCII. */
export const grpcMessage = (m: string) => m.replace(/[^\x20-\x24\x26-\x7e]+/g, encodeURIComponent);

/** Envoy's local reply: for a gRPC request a trailers-only response (HTTP 200, the gRPC status in headers). */
function localReply(stream: http2.ServerHttp2Stream, grpcRequest: boolean, status: number, message: string) {
  if (stream.headersSent || stream.closed) return void stream.close(NGHTTP2_INTERNAL_ERROR);
  if (!grpcRequest) {
    stream.respond({ ":status": status, "content-type": "text/plain" });
    return void stream.end(message);
  }
  stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": String(GRPC_STATUS[status] ?? 2), "grpc-message": grpcMessage(message) }, { endStream: true });
}

/** Proxies one stream to `session`: request body up; response headers, body and trailers down. */
function proxy(stream: http2.ServerHttp2Stream, session: http2.ClientHttp2Session, headers: Header[], grpcRequest: boolean, extra: Record<string, string> = {}) {
  let up: http2.ClientHttp2Stream;
  try {
    up = session.request(h2Headers(headers));
  } catch (e) {
    return localReply(stream, grpcRequest, 503, `upstream connect error: ${(e as Error).message}`);
  }
  stream.pipe(up);
  // The caller went away (or the stream failed): so does the upstream call, as Envoy resets it.
  stream.on("close", () => { if (!up.closed && !up.readableEnded) up.close(NGHTTP2_CANCEL); });
  stream.on("error", () => {});
  up.on("error", (e) => localReply(stream, grpcRequest, 503, `upstream connect error: ${e.message}`));
  up.on("response", (h, flags) => {
    if (stream.closed) return;
    const out = { ...h, ...extra };
    if (flags & NGHTTP2_FLAG_END_STREAM) {
      // Trailers-only (e.g. an error before any message): the status is in these headers.
      stream.respond(out, { endStream: true });
      return void up.resume();
    }
    let trailers: http2.IncomingHttpHeaders = {};
    up.on("trailers", (t) => (trailers = t));
    stream.respond(out, { waitForTrailers: true });
    stream.on("wantTrailers", () => (Object.keys(trailers).length ? stream.sendTrailers(trailers) : stream.close()));
    up.pipe(stream);
  });
}

/**
 * A factory of HTTP/2 listeners on 127.0.0.1, each: lane-tag (when `plugin` is given) on the request headers,
 * then `route`, then the proxied stream. Every server and session goes into `servers` and `sessions`, for close.
 */
export function h2Listener(servers: http2.Http2Server[], sessions: Set<http2.Http2Session>, tap?: FilterTap) {
  return async ({ name, plugin, direction, route }: ListenerSpec) => {
    const pool = new Map<number, http2.ClientHttp2Session>(); // one HTTP/2 connection per upstream, per listener
    const connect = (port: number) => {
      let s = pool.get(port);
      if (!s || s.closed || s.destroyed) {
        s = http2.connect(`http://127.0.0.1:${port}`);
        s.on("error", () => {}); // surfaces on the streams that were using it
        pool.set(port, s);
        sessions.add(s);
      }
      return s;
    };
    const server = http2.createServer();
    server.on("session", (s) => { sessions.add(s); s.on("close", () => sessions.delete(s)); });
    server.on("stream", (stream, _h, _flags, raw?: string[]) => {
      const input: Header[] = [];
      for (let i = 0; i < raw!.length; i += 2) input.push([raw![i], raw![i + 1]]);
      const grpcRequest = first(input, "content-type")?.startsWith("application/grpc") ?? false;
      const headers = filter(plugin, input, direction);
      tap?.(name, input, headers, false);
      if (!headers) return localReply(stream, grpcRequest, 503, "lane-tag failed (fail closed)");
      const r: Route = route(headers);
      if ("status" in r) return localReply(stream, grpcRequest, r.status, r.message);
      proxy(stream, connect(r.port), r.headers ?? headers, grpcRequest, r.responseHeaders);
    });
    servers.push(server);
    return new Promise<number>((ok) => server.listen(0, "127.0.0.1", () => ok((server.address() as AddressInfo).port)));
  };
}

/** The gRPC transport; `tap` sees what each listener's filter was handed and let through. */
export function grpcTransport(tap?: FilterTap): Transport {
  return {
    protocol: "grpc", servicePort: SERVICE_PORT, pods: workloads,
    listeners() {
      const servers: http2.Http2Server[] = [];
      const sessions = new Set<http2.Http2Session>();
      return {
        listen: h2Listener(servers, sessions, tap),
        close: async () => {
          for (const s of sessions) s.destroy();
          await Promise.all(servers.map((s) => new Promise((ok) => s.close(() => ok(null)))));
        },
      };
    },
    async startApps(specs) {
      // Each app dials its upstream by name (its calls carry that :authority) on a channel to its proxy.
      const apps: GrpcMock[] = [];
      const ports = new Map<string, number>();
      for (const a of specs) {
        const app = await startGrpcMock({ app: a.service, version: a.version, upstream: a.upstreamUrl && new URL(a.upstreamUrl).host, via: new URL(a.proxy).host });
        apps.push(app);
        ports.set(a.workload, app.port);
      }
      return { ports, close: async () => { for (const a of apps) a.close(); } };
    },
    gatewayUrl: (port) => `127.0.0.1:${port}`,
  };
}

// npm run demo -- --mode grpc: the demo's mesh with every hop a gRPC call over h2c. The workloads are the
// gRPC service of app.ts; their sidecars (an inbound and an outbound listener each, one lane-tag VM) and the
// gateway speak HTTP/2 with node:http2. Each listener hands lane-tag the request headers as Envoy's HTTP/2
// codec has them (`:method`, `:path`, `:authority`, `:scheme` as received, then the metadata headers:
// content-type, te, grpc-timeout, baggage, ...; no `host`), routes as the HTTP demo does (topology.ts), and
// proxies the stream: request body, response headers, body and trailers, where gRPC keeps its status.
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { existsSync, readFileSync } from "node:fs";
import type { Header, Plugin } from "../../emulator/index.ts";
import type { LanesSpec } from "../../lib/spec.ts";
import { chain, workloads, upstreamOf, gatewayWeights, weightedValue, SERVICE_PORT, RANDOM_HEADER, LANE_HEADER } from "../core/topology.ts";
import { istioRouter, headerMap, headerPairs, type RouteSet } from "../core/router.ts";
import { gatewayHost, sidecarResources, withWeights } from "../applied.ts";
import { prng } from "../core/client.ts";
import { plugins, filter, WASM, type Mesh } from "../mesh.ts";
import { startGrpcMock, type GrpcMock } from "./app.ts";

const { NGHTTP2_FLAG_END_STREAM, NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR } = http2.constants;

/** Called with what each listener's filter was handed and what it let through (null: refused). */
export type FilterTap = (listener: string, input: Header[], output: Header[] | null) => void;

/** Where a listener sends a request (with which headers, adding which response headers), or its local reply. */
export type Route = { port: number; headers: Header[]; responseHeaders?: Record<string, string> } | { status: number; message: string };

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
  return async (name: string, plugin: Plugin | null, listenerDirection: number, route: (headers: Header[]) => Route) => {
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
      const headers = filter(plugin, input, listenerDirection);
      tap?.(name, input, headers);
      if (!headers) return localReply(stream, grpcRequest, 503, "lane-tag failed (fail closed)");
      const r = route(headers);
      if ("status" in r) return localReply(stream, grpcRequest, r.status, r.message);
      proxy(stream, connect(r.port), r.headers, grpcRequest, r.responseHeaders);
    });
    servers.push(server);
    return new Promise<number>((ok) => server.listen(0, "127.0.0.1", () => ok((server.address() as AddressInfo).port)));
  };
}

/** Starts the gRPC mesh on 127.0.0.1; `gatewayUrl` is the gateway's gRPC target (host:port). */
export async function startGrpcMesh(spec: LanesSpec, { withFilter = true, weights, seed = 7, tap, routes = "istio", manifests }: { withFilter?: boolean; weights?: number[]; seed?: number; tap?: FilterTap; routes?: RouteSet; manifests?: string } = {}): Promise<Mesh> {
  if (withFilter && !existsSync(WASM)) throw new Error(`${WASM} is missing: run npm run build`);
  const wasm = withFilter ? readFileSync(WASM) : null;
  // Every hop routed by the generated VirtualServices and DestinationRules, as in the HTTP demo.
  const choices = gatewayWeights(spec, weights).filter((w) => w.weight > 0);
  const router = istioRouter(sidecarResources(withWeights(spec, choices), routes, manifests), spec, workloads(spec));
  const servers: http2.Http2Server[] = [];
  const sessions = new Set<http2.Http2Session>();
  const apps: GrpcMock[] = [];
  const inboundPort = new Map<string, number>();

  const listen = h2Listener(servers, sessions, tap);

  try {
    for (const w of workloads(spec)) {
      const vm = wasm ? await plugins(wasm, spec, ["inbound", "outbound"], { app: w.service, [spec.labelKey]: w.version }) : null;
      // Outbound: by `:authority` and lane to the inbound listener of the chosen workload.
      const outPort = await listen(`${w.name} outbound`, vm?.outbound ?? null, 2, (headers) => {
        const authority = first(headers, ":authority") ?? "";
        const [service, port] = authority.split(":");
        if (!chain(spec).includes(service)) return { status: 404, message: `no route to ${authority}` };
        const r = router({ host: service, port: Number(port ?? SERVICE_PORT), path: first(headers, ":path") ?? "/", method: first(headers, ":method") }, headerMap(headers));
        if ("status" in r) return { status: r.status, message: r.reason };
        return { port: inboundPort.get(r.workload.name)!, headers: headerPairs(headers, r.headers) };
      });
      const up = upstreamOf(spec, w.service);
      const app = await startGrpcMock({ app: w.service, version: w.version, upstream: up && `${up}:${SERVICE_PORT}`, via: `127.0.0.1:${outPort}` });
      apps.push(app);
      inboundPort.set(w.name, await listen(`${w.name} inbound`, vm?.inbound ?? null, 1, (headers) => ({ port: app.port, headers })));
    }

    // The gateway: lane-tag in gateway mode, then the weighted lane choice (as the HTTP demo's gateway).
    const gw = wasm ? await plugins(wasm, spec, ["gateway"]) : null;
    const rand = prng(seed);
    const gwPort = await listen("gateway", gw?.gateway ?? null, 2, (headers) => {
      // The gateway's route splits by weight (the draw: Envoy's header_name value) and sets the lane header;
      // the test hook is not passed on, the entry service is the authority.
      const draw = weightedValue(first(headers, RANDOM_HEADER), rand);
      const r = router({ host: gatewayHost(spec), port: 80, path: first(headers, ":path") ?? "/", method: first(headers, ":method"), atGateway: true, draw }, headerMap(headers.filter(([k]) => k !== RANDOM_HEADER)));
      if ("status" in r) return { status: r.status, message: r.reason };
      const lane = r.headers[spec.routingHeader]?.[0] ?? spec.baseline;
      return { port: inboundPort.get(r.workload.name)!, headers: headerPairs(headers, r.headers, `${r.workload.service}:${SERVICE_PORT}`), responseHeaders: { [LANE_HEADER]: lane } };
    });
    return { gatewayUrl: `127.0.0.1:${gwPort}`, close };
  } catch (e) {
    await close();
    throw e;
  }

  async function close() {
    for (const a of apps) a.close();
    for (const s of sessions) s.destroy();
    await Promise.all(servers.map((s) => new Promise((ok) => s.close(() => ok(null)))));
  }
}

// npm run demo -- --mesh ambient --mode grpc: the gRPC chain (app.ts, h2c) in Istio's ambient mode, with no
// sidecars. An app's call goes to a ztunnel (L4: the HTTP/2 stream unchanged) and on to the waypoint of the
// Service called; the waypoint runs the built filter with the generated WasmPlugin's configuration on the
// request's HTTP/2 headers, routes by the generated HTTPRoutes (Gateway API HTTPRoute matches gRPC requests
// too: their :path, :method and metadata headers) and delivers to the pod. The ingress runs its generated
// filter and HTTPRoute, then goes to the per-version Service's waypoint. Everything is read from ambient/
// (ambient-topology.ts); the streams are proxied as in the sidecar gRPC mesh (mesh.ts).
import type http2 from "node:http2";
import type { Header } from "../../emulator/index.ts";
import type { LanesSpec } from "../../lib/spec.ts";
import { workloads, upstreamOf, weightedValue, SERVICE_PORT, RANDOM_HEADER, LANE_HEADER } from "../core/topology.ts";
import { headerMap, headerPairs } from "../core/router.ts";
import { gatewayHost } from "../applied.ts";
import { prng } from "../core/client.ts";
import { specForMode, type Mesh } from "../mesh.ts";
import { ambientTopology, ztunnelRoutes } from "../ambient-topology.ts";
import { h2Listener, first, type FilterTap } from "./mesh.ts";
import { startGrpcMock, type GrpcMock } from "./app.ts";

export interface AmbientGrpcOptions { withFilter?: boolean; weights?: number[]; seed?: number; tap?: FilterTap; manifests?: string }

/** Starts the ambient gRPC mesh on 127.0.0.1; `gatewayUrl` is the ingress's gRPC target (host:port). */
export async function startAmbientGrpcMesh(base: LanesSpec, { withFilter = true, weights, seed = 7, tap, manifests }: AmbientGrpcOptions = {}): Promise<Mesh> {
  const spec = specForMode(base, "grpc");
  const topo = await ambientTopology(spec, workloads(spec), { withFilter, weights, manifests });
  const servers: http2.Http2Server[] = [];
  const sessions = new Set<http2.Http2Session>();
  const apps: GrpcMock[] = [];
  const listen = h2Listener(servers, sessions, tap);
  const { appPort, waypointPort, vip, toPod, toService } = ztunnelRoutes<Header[]>(topo);
  try {
    // ztunnel: the apps' calls by the Service's name (:authority), unchanged, to its waypoint.
    const ztunnel = await listen("ztunnel", null, 2, (headers) => {
      const host = (first(headers, ":authority") ?? "").split(":")[0];
      const s = topo.services.get(`${spec.namespace}/${host}`);
      return s ? toService(s, headers) : { status: 503, message: `no Service ${host} in ${spec.namespace}` };
    });
    for (const w of workloads(spec)) {
      const up = upstreamOf(spec, w.service);
      const app = await startGrpcMock({ app: w.service, version: w.version, upstream: up && `${up}:${SERVICE_PORT}`, via: `127.0.0.1:${ztunnel}` });
      apps.push(app);
      appPort.set(w.name, app.port);
    }
    // The waypoints: one VM each, one listener per Service; the role's direction is explicit ("both").
    for (const wp of topo.waypoints) {
      for (const s of wp.services) {
        waypointPort.set(vip(wp.name, s), await listen(`${wp.name} ${s.name}`, wp.plugin, 1, (headers) => {
          const r = topo.resolve({ host: s.name, port: SERVICE_PORT, path: first(headers, ":path") ?? "/", method: first(headers, ":method") }, headerMap(headers));
          return "service" in r ? toPod(r.service, headerPairs(headers, r.headers)) : { status: r.status, message: r.reason };
        }));
      }
    }
    // The ingress: its filter, its HTTPRoute's weighted pick (the draw: Envoy's header_name value), then the
    // per-version Service, through its waypoint where the Service asks for it (istio.io/ingress-use-waypoint).
    const rand = prng(seed);
    const gwPort = await listen("gateway", topo.ingress, 2, (headers) => {
      const draw = weightedValue(first(headers, RANDOM_HEADER), rand);
      const rest = headers.filter(([k]) => k !== RANDOM_HEADER); // a test hook, not passed on
      const r = topo.resolve({ host: gatewayHost(spec), port: 80, path: first(headers, ":path") ?? "/", method: first(headers, ":method"), atGateway: true, draw }, headerMap(rest));
      if (!("service" in r)) return { status: r.status, message: r.reason };
      const to = toService(r.service, headerPairs(rest, r.headers), topo.ingressViaWaypoint(r.service));
      return "status" in to ? to : { ...to, responseHeaders: { [LANE_HEADER]: r.headers[spec.routingHeader]?.[0] ?? spec.baseline } };
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

// npm run demo -- --mesh ambient --mode websocket: the seed's socket.io app (apps.ts, deploy/lanes.websocket.yaml)
// in Istio's ambient mode, with no sidecars. The ingress runs its generated filter (lane_from: the client names
// its lane on the handshake) and HTTPRoute, then goes to the per-version Service's waypoint; wsk's calls to
// helloworld go to a ztunnel (L4, unchanged) and on to helloworld's waypoint. Each waypoint runs the built
// filter with the generated WasmPlugin's configuration, routes by the generated HTTPRoutes and delivers to
// the pod; every listener proxies the WebSocket upgrade as the sidecar mesh's do (mesh.ts's startListener).
import http from "node:http";
import type { Header } from "../../emulator/index.ts";
import type { LanesSpec } from "../../lib/spec.ts";
import { deployments, upstreamOf } from "../core/topology.ts";
import { headerMap, headerPairs } from "../core/router.ts";
import { gatewayHost } from "../applied.ts";
import { listen } from "../mesh.ts";
import { ambientTopology, ztunnelRoutes } from "../ambient-topology.ts";
import { startListener, type Listener, type FilterTap, type WebSocketMesh } from "./mesh.ts";
import { createHelloworld, createWsk, WS_PORT, type Wsk } from "./apps.ts";

const header = (headers: Header[], name: string) => headers.find(([k]) => k === name)?.[1];

/** Starts the seed's mesh in ambient mode; `withFilter: false` runs it without lane-tag anywhere. */
export async function startAmbientWebSocketMesh(spec: LanesSpec, { withFilter = true, broadcastMs = 300, tap, manifests }: { withFilter?: boolean; broadcastMs?: number; tap?: FilterTap; manifests?: string } = {}): Promise<WebSocketMesh> {
  const topo = await ambientTopology(spec, deployments(spec), { withFilter, manifests });
  const listeners: Listener[] = [];
  const apps: { server: http.Server; wsk?: Wsk }[] = [];
  const { appPort, waypointPort, vip, toPod, toService } = ztunnelRoutes<Header[]>(topo);
  const close = async () => {
    await Promise.all(listeners.map((l) => l.close()));
    await Promise.all(apps.map((a) => a.wsk ? a.wsk.close() : new Promise((ok) => { a.server.closeAllConnections(); a.server.close(ok); })));
  };
  const start = async (...args: Parameters<typeof startListener>) => {
    const l = await startListener(...args);
    listeners.push(l);
    return l.port;
  };
  try {
    // ztunnel (wsk's HTTP proxy, the stand-in for traffic capture): by the Service's name, unchanged.
    const ztunnel = await start("ztunnel", null, 2, (headers) => {
      const host = (header(headers, ":authority") ?? "").split(":")[0];
      const s = topo.services.get(`${spec.namespace}/${host}`);
      return s ? toService(s, headers) : { status: 503, message: `no Service ${host} in ${spec.namespace}` };
    }, tap);
    for (const w of deployments(spec)) {
      const callee = upstreamOf(spec, w.service);
      const wsk = callee ? createWsk({ helloworldUrl: `http://${callee}:${WS_PORT}/hello`, proxy: `http://127.0.0.1:${ztunnel}`, broadcastMs }) : undefined;
      const app = { server: wsk?.server ?? createHelloworld(w.version), wsk };
      apps.push(app);
      appPort.set(w.name, await listen(app.server));
    }
    // The waypoints: one VM each, one listener per Service; the role's direction is explicit ("both").
    for (const wp of topo.waypoints) {
      for (const s of wp.services) {
        waypointPort.set(vip(wp.name, s), await start(`${wp.name} ${s.name}`, wp.plugin, 1, (headers) => {
          const r = topo.resolve({ host: s.name, port: WS_PORT, path: header(headers, ":path") ?? "/", method: header(headers, ":method") }, headerMap(headers));
          return "service" in r ? toPod(r.service, headerPairs(headers, r.headers)) : { status: r.status, message: r.reason };
        }, tap));
      }
    }
    // The ingress: lane-tag takes the client's lane (lane_from); its HTTPRoute picks the entry's Service.
    const gateway = await start("gateway", topo.ingress, 2, (headers) => {
      const r = topo.resolve({ host: gatewayHost(spec), port: 80, path: header(headers, ":path") ?? "/", method: header(headers, ":method"), atGateway: true }, headerMap(headers));
      return "service" in r ? toService(r.service, headerPairs(headers, r.headers), topo.ingressViaWaypoint(r.service)) : { status: r.status, message: r.reason };
    }, tap);
    const wsk = apps.find((a) => a.wsk)!.wsk!;
    return { gatewayUrl: `http://127.0.0.1:${gateway}`, acks: () => wsk.acks(), close };
  } catch (e) {
    await close();
    throw e;
  }
}

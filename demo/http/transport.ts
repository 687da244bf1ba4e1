// HTTP/1.1, as the seeds' demo speaks it: each listener hands lane-tag the request's headers and then its
// response's (on_response_headers, where the hop trace rides back), and forwards the request to 127.0.0.1.
// The apps are the mock service in this process unless another kind (the SDK-instrumented processes) is given.
import http from "node:http";
import { workloads, SERVICE_PORT } from "../core/topology.ts";
import { pairs, outgoing, forward, listen, filterStream, target, closeAll, closeAgent } from "../core/http.ts";
import type { AppRunner, ListenerSpec, Transport } from "../core/transport.ts";
// @ts-ignore: plain JavaScript module shared with the container image
import { createMock } from "../mock/server.mjs";

/** The default app kind: the mock service (mock/server.mjs), each one a server in this process. */
export function mockApps(serve: (s: http.Server) => Promise<number>): AppRunner {
  return async (apps) => {
    const ports = new Map<string, number>();
    for (const a of apps) ports.set(a.workload, await serve(createMock({ app: a.service, version: a.version, ip: "127.0.0.1", upstreamUrl: a.upstreamUrl, proxy: a.proxy, propagate: a.propagate })));
    return { ports, close: async () => {} };
  };
}

function handler(l: ListenerSpec): http.RequestListener {
  return (req, res) => {
    req.resume();
    const { authority, path } = target(req);
    const incoming = pairs(req, authority, path);
    // A gateway with a tracer starts the trace (correlation needs a trace id on the first hop).
    if (l.trace) incoming.push(...l.trace(req.headers));
    const f = filterStream(l.plugin, incoming, l.direction);
    res.on("close", f.close);
    if (!f.headers) { res.writeHead(503); return void res.end("lane-tag failed (fail closed)"); }
    const r = l.route(f.headers);
    if ("status" in r) { res.writeHead(r.status); return void res.end(r.message); }
    const o = outgoing(r.headers ?? f.headers);
    forward(res, r.port, o.path, r.authority ?? o.authority, o.headers, r.responseHeaders, f.respond);
  };
}

/** The HTTP/1.1 transport; `apps` runs the apps (the mock apps by default). */
export function httpTransport(apps?: AppRunner): Transport {
  const appServers: http.Server[] = [];
  const serveApp = (s: http.Server) => { appServers.push(s); return listen(s); };
  return {
    protocol: "http", servicePort: SERVICE_PORT, pods: workloads,
    listeners() {
      const servers: http.Server[] = [];
      return {
        listen: (l) => { const s = http.createServer(handler(l)); servers.push(s); return listen(s); },
        close: async () => { closeAgent(); await closeAll(servers); },
      };
    },
    async startApps(specs) {
      const running = await (apps ?? mockApps(serveApp))(specs);
      return { ports: running.ports, close: async () => { await Promise.all([running.close(), closeAll(appServers)]); } };
    },
    gatewayUrl: (port) => `http://127.0.0.1:${port}/mock`,
  };
}

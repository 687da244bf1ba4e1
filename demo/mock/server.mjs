// A mock service like the seeds' asm-mock: answers with its chain line and, when it has an upstream, calls it
// first and appends the upstream's answer:
//   -> mocka(version: v1, ip: 172.18.0.5)-> mockb(version: v3, ip: 172.18.0.9)-> mockc(version: v1, ip: ...)
// On the upstream call it forwards what `propagate` says, and nothing else (in particular never
// `x-asm-prefer-tag`, so a lane survives a hop only through what the app propagates):
//   baggage      the W3C `baggage` header, as OpenTelemetry auto-instrumentation does (default);
//   traceparent  only W3C trace context: the same trace id with a new span id (a tracer without baggage);
//   baggage,traceparent  both, as an OpenTelemetry SDK with both propagators;
//   none         nothing (strict mode: the lane comes from the workload's own label).
// Env: app, version, upstream_url (e.g. http://mockb:8000/), PORT (default 8080), HOST (default 0.0.0.0),
// PROPAGATE (as above), HTTP_PROXY (the sidecar's outbound listener: the stand-in for traffic capture).
// Plain JavaScript with no dependencies, so the same file runs in a node:alpine container and in the demo.
import http from "node:http";
import os from "node:os";
import { randomBytes } from "node:crypto";

/** The first non-internal IPv4 address: the container's, in the docker-compose variants. */
export function localIp() {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return "127.0.0.1";
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** GETs `url` (through `proxy` when given, in absolute form as an HTTP proxy expects), sending `headers`. */
export function get(url, proxy, headers) {
  const target = new URL(url);
  const via = proxy ? new URL(proxy) : target;
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: via.hostname, port: via.port || 80, method: "GET", agent,
      path: proxy ? target.href : target.pathname + target.search,
      headers: { ...headers, host: target.host },
    }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("error", reject);
    req.setTimeout(10000, () => req.destroy(new Error("upstream timeout")));
    req.end();
  });
}

/** Creates (does not start) the mock's HTTP server. */
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}/;

/** The upstream call's traceparent: this trace with a new span, or a new trace when none came in. */
function childTraceparent(incoming) {
  const m = TRACEPARENT.exec(incoming ?? "");
  const traceId = m && !/^0+$/.test(m[1]) ? m[1] : randomBytes(16).toString("hex");
  return `00-${traceId}-${randomBytes(8).toString("hex")}-01`;
}

export function createMock({ app, version, upstreamUrl, proxy, ip = localIp(), propagate = "baggage" }) {
  // What the app's tracing library forwards: baggage, traceparent, both ("baggage,traceparent") or none.
  const forwards = new Set(propagate === "none" ? [] : propagate.split(","));
  if (forwards.size === 0 && propagate !== "none" || [...forwards].some((p) => p !== "baggage" && p !== "traceparent")) {
    throw new Error(`propagate must be baggage, traceparent, baggage,traceparent or none, not ${propagate}`);
  }
  const line = `-> ${app}(version: ${version}, ip: ${ip})`;
  return http.createServer(async (req, res) => {
    req.resume();
    let status = 200;
    let body = line;
    if (upstreamUrl) {
      const headers = {};
      if (forwards.has("baggage")) {
        const baggage = req.headersDistinct.baggage;
        if (baggage) headers.baggage = baggage.join(",");
      }
      if (forwards.has("traceparent")) headers.traceparent = childTraceparent(req.headers.traceparent);
      try {
        const up = await get(upstreamUrl, proxy, headers);
        status = up.status === 200 ? 200 : 502;
        body += up.body;
      } catch (e) {
        status = 502;
        body += `-> ${upstreamUrl} failed: ${e.message}`;
      }
    }
    res.writeHead(status, { "content-type": "text/plain" });
    res.end(body);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const env = process.env;
  if (!env.app || !env.version) {
    console.error("set the env vars app and version (and upstream_url to call one)");
    process.exit(2);
  }
  const server = createMock({ app: env.app, version: env.version, upstreamUrl: env.upstream_url, proxy: env.HTTP_PROXY ?? env.http_proxy, propagate: env.PROPAGATE ?? "baggage" });
  const port = Number(env.PORT ?? 8080);
  server.listen(port, env.HOST ?? "0.0.0.0", () => console.log(`${env.app} ${env.version} listening on ${port}${env.upstream_url ? `, calling ${env.upstream_url}` : ""}`));
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}

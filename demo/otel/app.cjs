// One of the seeds' services (mocka -> mockb -> mockc) as an application with no trace or lane code at all:
// it answers its chain line and, when it has an upstream, calls it with plain http.request and appends the
// answer. It copies no request header onto that call; whatever reaches the next hop is what the
// OpenTelemetry SDK (preload.cjs) adds.
// Env: app, version, upstream_url (e.g. http://mockb:8000/), HTTP_PROXY (the sidecar's outbound listener,
// the stand-in for traffic capture), PORT (0: any; the port is printed as "listening <port>"),
// HOST (127.0.0.1: only its sidecar reaches it; 0.0.0.0 where a waypoint dials it over the network),
// EXIT_WITH_STDIN=1 (exit when stdin closes).
"use strict";
const http = require("node:http");

const { app, version, upstream_url: upstreamUrl } = process.env;
const proxy = process.env.HTTP_PROXY ? new URL(process.env.HTTP_PROXY) : undefined;
const line = `-> ${app}(version: ${version}, ip: 127.0.0.1)`;

/** GETs the upstream through the proxy (absolute-form target, as an HTTP proxy expects). */
function callUpstream(done) {
  const target = new URL(upstreamUrl);
  const via = proxy ?? target;
  const req = http.request({ host: via.hostname, port: via.port || 80, path: proxy ? target.href : target.pathname, headers: { host: target.host } }, (res) => {
    let body = "";
    res.setEncoding("utf8");
    res.on("data", (d) => (body += d));
    res.on("end", () => done(res.statusCode === 200 ? 200 : 502, body));
  });
  req.on("error", (e) => done(502, `-> ${upstreamUrl} failed: ${e.message}`));
  req.setTimeout(10000, () => req.destroy(new Error("upstream timeout")));
  req.end();
}

const server = http.createServer((req, res) => {
  req.resume();
  const answer = (status, body) => { res.writeHead(status, { "content-type": "text/plain" }); res.end(body); };
  if (!upstreamUrl) return answer(200, line);
  callUpstream((status, body) => answer(status, line + body));
});
server.listen(Number(process.env.PORT ?? 0), process.env.HOST || "127.0.0.1", () => console.log(`listening ${server.address().port}`));
// The demo's children (EXIT_WITH_STDIN=1, stdin a pipe from the parent) leave when the parent does, however it ended.
if (process.env.EXIT_WITH_STDIN === "1") process.stdin.on("end", () => process.exit(0)).resume();

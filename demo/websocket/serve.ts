// One of the seed's apps, configured by environment variables, for the docker-compose variant's containers
// (`node --import tsx demo/websocket/serve.ts`):
//   upstream_url  set: wsk, calling helloworld there (e.g. http://helloworld:5000/hello) through HTTP_PROXY;
//                 unset: helloworld, answering as `version`
//   version       the version label (helloworld's answer names it)
//   HTTP_PROXY    the sidecar's outbound listener (the stand-in for traffic capture)
//   PORT, HOST    where the app listens (8080, 0.0.0.0); BROADCAST_MS wsk's broadcast period (300)
import type http from "node:http";
import type { AddressInfo } from "node:net";
import { createHelloworld, createWsk } from "./apps.ts";

const env = process.env;
const proxy = env.HTTP_PROXY ?? env.http_proxy;
if (!env.version || (env.upstream_url && !proxy)) {
  console.error("set version, and for wsk upstream_url and HTTP_PROXY");
  process.exit(2);
}
const wsk = env.upstream_url ? createWsk({ helloworldUrl: env.upstream_url, proxy: proxy!, broadcastMs: Number(env.BROADCAST_MS ?? 300) }) : undefined;
const server: http.Server = wsk?.server ?? createHelloworld(env.version);
server.listen(Number(env.PORT ?? 8080), env.HOST ?? "0.0.0.0", () =>
  console.log(`${wsk ? `wsk, calling ${env.upstream_url}` : `helloworld ${env.version}`}: listening on ${(server.address() as AddressInfo).port}`));
// As PID 1 in its container Node would ignore the SIGTERM of `docker compose down`; nothing needs flushing.
process.on("SIGTERM", () => process.exit(0));

// The gRPC app of app.ts, configured by environment variables, for the docker-compose variant's containers
// (`node --import tsx demo/grpc/serve.ts`). As in the Docker-less demo it dials its upstream by name,
// so its calls carry `:authority: <upstream>`, on a channel to `via`, its sidecar's outbound listener, which
// routes on that authority. Not HTTP_PROXY: grpc-js would tunnel through it with CONNECT, hiding the calls'
// headers from the sidecar's filter and routes.
//   app, version   the service and version its chain line names
//   upstream       the service it calls (e.g. mockb:8000); unset for the last one
//   via            where those calls go (127.0.0.1:15001)
//   PORT, HOST     where the app listens (8080, 0.0.0.0)
import { startGrpcMock } from "./app.ts";
// @ts-ignore: plain JavaScript module
import { localIp } from "../mock/server.mjs";

const env = process.env;
if (!env.app || !env.version || (env.upstream && !env.via)) {
  console.error("set app and version, and to call one upstream and via");
  process.exit(2);
}
const app = await startGrpcMock({ app: env.app, version: env.version, ip: localIp(), upstream: env.upstream, via: env.via, host: env.HOST ?? "0.0.0.0", port: Number(env.PORT ?? 8080) });
console.log(`${env.app} ${env.version} (gRPC) listening on ${app.port}${env.upstream ? `, calling ${env.upstream} via ${env.via}` : ""}`);
// As PID 1 in its container Node would ignore the SIGTERM of `docker compose down`.
process.on("SIGTERM", () => { app.close(); process.exit(0); });

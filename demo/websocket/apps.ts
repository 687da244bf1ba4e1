// The seed's two applications (asm-websocket-loose-lanes), as small Node servers:
//   wsk         a socket.io 4 server (service wsk-svc). On connection it keeps the handshake's `baggage`
//               header for that socket, the one change the seed makes to the app; a client's `test000`
//               makes it call helloworld with that baggage and nothing else, and emit the answer as `hello`
//               (acknowledged by the client); on a timer it calls helloworld with no client context at all
//               and broadcasts the answer as `okok`.
//   helloworld  answers `Hello version: vN, instance: helloworld-vN`, as the seed's images do.
// serve.ts starts either from environment variables, as the docker-compose variant's containers do.
import http from "node:http";
import { Server } from "socket.io";
// @ts-ignore: plain JavaScript module shared with the container image
import { get } from "../mock/server.mjs";

/** The seed's service port (wsk-svc and helloworld). */
export const WS_PORT = 5000;

/** The answer of helloworld `version`. */
export const helloText = (version: string) => `Hello version: ${version}, instance: helloworld-${version}`;

/** Creates (does not start) helloworld `version`: GET /hello answers helloText. */
export function createHelloworld(version: string): http.Server {
  return http.createServer((req, res) => {
    req.resume();
    if ((req.url ?? "").split("?")[0] !== "/hello") {
      res.writeHead(404, { "content-type": "text/plain" });
      return void res.end("not found");
    }
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(helloText(version));
  });
}

export interface Wsk {
  /** The HTTP server socket.io is attached to (not started). */
  server: http.Server;
  /** How many `hello` messages the clients acknowledged with the seed's "got it". */
  acks(): number;
  close(): Promise<void>;
}

/**
 * Creates wsk. `helloworldUrl` is the name it calls (e.g. http://helloworld:5000/hello), `proxy` its sidecar's
 * outbound listener (the stand-in for traffic capture), `broadcastMs` the period of the `okok` broadcast.
 */
export function createWsk({ helloworldUrl, proxy, broadcastMs }: { helloworldUrl: string; proxy: string; broadcastMs: number }): Wsk {
  let acks = 0;
  // socket.io answers its own path; GET /acks tells the count to npm run e2e:envoy, which cannot reach into
  // wsk's container.
  const server = http.createServer((req, res) => {
    req.resume();
    const found = (req.url ?? "").split("?")[0] === "/acks";
    res.writeHead(found ? 200 : 404, { "content-type": "text/plain" });
    res.end(found ? String(acks) : "not found");
  });
  const io = new Server(server, { transports: ["websocket"] });
  const hello = async (headers: Record<string, string | string[]>): Promise<string> => {
    try {
      const r: { status: number; body: string } = await get(helloworldUrl, proxy, headers);
      return r.status === 200 ? r.body : `error: helloworld answered ${r.status}: ${r.body}`;
    } catch (e) {
      return `error: ${(e as Error).message}`;
    }
  };

  io.on("connection", (socket) => {
    // The seed's wsk: the lane rides in the handshake's baggage; keep it for the calls this client causes.
    const baggage = socket.handshake.headers.baggage;
    socket.on("test000", async () => {
      const answer = await hello(baggage ? { baggage } : {});
      socket.emit("hello", answer, (ack: unknown) => { if (ack === "got it") acks++; });
    });
  });
  // Not caused by any client: no baggage, so the mesh sends it to the baseline.
  const timer = setInterval(async () => io.emit("okok", await hello({})), broadcastMs);

  return {
    server,
    acks: () => acks,
    close: () => {
      clearInterval(timer);
      return new Promise((ok) => io.close(() => ok()));
    },
  };
}

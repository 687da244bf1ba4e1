// npm run demo -- --mode websocket (the seed asm-websocket-loose-lanes) as an end-to-end test, and the
// emulated sidecar's WebSocket proxying on its own: lane-tag runs on the upgrade request's headers, the
// upstream sees the filtered handshake, and the bytes flow both ways after the 101.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { readFileSync } from "node:fs";
import { Server } from "socket.io";
import { io } from "socket.io-client";
import { loadSpec } from "../../deploy/lib/spec.ts";
import { plugins, listen, WASM, runWebSocketDemo } from "../../demo/demo.ts";
import { startListener, deployments, type FilterTap } from "../../demo/websocket/transport.ts";
import { startMesh } from "../../demo/mesh.ts";
import { runClient, laneOptions, summarizeRuns, checkRuns, WS_SPEC, LANE_SOURCES, type ClientRun } from "../../demo/websocket/client.ts";
import { helloText } from "../../demo/websocket/apps.ts";

const spec = loadSpec(WS_SPEC);
const texts = (run: ClientRun, kind: "response" | "broadcast") => new Set(run.seen.filter((s) => s.kind === kind).map((s) => s.text));
const client = (runs: ClientRun[], name: string) => runs.find((r) => r.client === name)!;
// A broken tunnel shows as a wait: fail it in bounded time.
const T = { timeout: 15_000 };

describe("npm run demo -- --mode websocket: the seed's socket.io app through the gateway", () => {
  it("runs the seed's deployments: wsk v1 only, helloworld v1 and v2", () => {
    assert.deepEqual(deployments(spec).map((w) => w.name), ["wsk-svc-v1", "helloworld-v1", "helloworld-v2"]);
  });

  for (const from of LANE_SOURCES) {
    it(`--lane-from ${from}: the v2 client's responses from helloworld v2; broadcasts and the other client from v1`, T, async () => {
      const { runs, failures, acks } = await runWebSocketDemo({ withFilter: true, laneFrom: from, messages: 3, quiet: true }, spec, () => {});
      assert.deepEqual(failures, []);
      assert.deepEqual(texts(client(runs, "v2"), "response"), new Set([helloText("v2")]));
      assert.deepEqual(texts(client(runs, "v2"), "broadcast"), new Set([helloText("v1")]));
      assert.deepEqual(texts(client(runs, "none"), "response"), new Set([helloText("v1")]));
      assert.deepEqual(texts(client(runs, "none"), "broadcast"), new Set([helloText("v1")]));
      assert.equal(client(runs, "v2").seen.filter((s) => s.kind === "response").length, 3);
      assert.equal(acks, 6, "wsk got the seed's 'got it' for every hello");
    });
  }

  it("--no-filter: the lane is lost, the v2 client's responses come from v1 (and the lane-tag expectations fail on it)", T, async () => {
    const { runs, failures } = await runWebSocketDemo({ withFilter: false, laneFrom: "header", messages: 2, quiet: true }, spec, () => {});
    assert.deepEqual(failures, [], "the expected lost-lane outcome");
    assert.deepEqual(texts(client(runs, "v2"), "response"), new Set([helloText("v1")]));
    const withFilter = checkRuns(runs, summarizeRuns(spec, runs, "header", true), 2, 4);
    assert.deepEqual(withFilter, ["client v2: 2 response(s) from v1, expected v2"]);
  });

  it("the gateway removes a lane the client puts in baggage itself (trust_client_lane: false)", T, async () => {
    const mesh = await startMesh(spec, { mode: "websocket", broadcastMs: 100 });
    try {
      const run = await runClient(mesh.gatewayUrl, "forged", { extraHeaders: { baggage: "version=v2" } }, { messages: 2 });
      assert.equal(run.error, undefined);
      assert.deepEqual(texts(run, "response"), new Set([helloText("v1")]));
    } finally {
      await mesh.close();
    }
  });
});

describe("the emulated sidecar proxies WebSocket upgrades through lane-tag", () => {
  /** A socket.io server that records each handshake's headers and acks `echo` with what it was sent. */
  async function app() {
    const server = http.createServer();
    const io = new Server(server, { transports: ["websocket"] });
    const handshakes: http.IncomingHttpHeaders[] = [];
    io.on("connection", (s) => {
      handshakes.push(s.handshake.headers);
      s.on("echo", (x: string, cb: (y: string) => void) => cb(`pong ${x}`));
    });
    const port = await listen(server);
    return { port, handshakes, close: () => new Promise<void>((ok) => io.close(() => ok())) };
  }

  /** Connects through `port`, asking for lane v2 by `headers`; the app's ack of one message. */
  async function roundTrip(port: number, headers: Record<string, string>) {
    const socket = io(`http://127.0.0.1:${port}`, { transports: ["websocket"], reconnection: false, forceNew: true, extraHeaders: headers });
    try {
      return await new Promise<string>((ok, fail) => {
        socket.on("connect_error", fail);
        socket.on("connect", () => socket.emit("echo", "hi", ok));
      });
    } finally {
      socket.disconnect();
    }
  }

  const labels = { app: "wsk", version: "v1" };

  it("inbound: the server behind it sees `baggage: version=v2` added to the handshake; without lane-tag, none", T, async () => {
    const a = await app();
    const taps: Parameters<FilterTap>[] = [];
    const vm = await plugins(readFileSync(WASM), spec, ["inbound"], labels);
    const withFilter = await startListener("inbound", vm.inbound!, 1, () => ({ port: a.port }), (...t) => taps.push(t));
    const without = await startListener("inbound (no filter)", null, 1, () => ({ port: a.port }));
    try {
      assert.equal(await roundTrip(withFilter.port, { version: "v2" }), "pong hi", "the tunnel carries frames both ways");
      assert.equal(a.handshakes[0].baggage, "version=v2");
      assert.equal(a.handshakes[0].version, "v2");
      assert.equal(a.handshakes[0].upgrade, "websocket");
      // The filter saw the upgrade request as Envoy has it: `connection` and `upgrade` kept.
      const [name, input, output, upgrade] = taps[0];
      assert.equal(name, "inbound");
      assert.equal(upgrade, true);
      assert.ok(input.some(([k, v]) => k === "upgrade" && v === "websocket"));
      assert.ok(input.some(([k]) => k === "connection"));
      assert.ok(output!.some(([k, v]) => k === "baggage" && v === "version=v2"));
      assert.equal(await roundTrip(without.port, { version: "v2" }), "pong hi");
      assert.equal(a.handshakes[1].baggage, undefined);
    } finally {
      await withFilter.close();
      await without.close();
      await a.close();
    }
  });

  it("outbound: the handshake's baggage sets the routing header `version`", T, async () => {
    const a = await app();
    const vm = await plugins(readFileSync(WASM), spec, ["outbound"], labels);
    const out = await startListener("outbound", vm.outbound!, 2, () => ({ port: a.port }));
    try {
      assert.equal(await roundTrip(out.port, { baggage: "version=v2" }), "pong hi");
      assert.equal(a.handshakes[0].version, "v2");
    } finally {
      await out.close();
      await a.close();
    }
  });

  it("an upstream that declines the upgrade: its answer is relayed as it is", T, async () => {
    // A request that reached it without the upgrade gets an answer the test can tell apart.
    const server = http.createServer((_req, res) => res.end("not an upgrade"));
    server.on("upgrade", (_req, socket) => socket.end("HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nno"));
    const port = await listen(server);
    const l = await startListener("inbound", null, 1, () => ({ port }));
    try {
      const answer = await new Promise<{ status: number; body: string }>((ok, fail) => {
        const req = http.request({ host: "127.0.0.1", port: l.port, path: "/socket.io/?EIO=4&transport=websocket", headers: { connection: "Upgrade", upgrade: "websocket" } });
        req.on("response", (res) => { let body = ""; res.on("data", (d) => (body += d)); res.on("end", () => ok({ status: res.statusCode!, body })); });
        req.on("upgrade", () => fail(new Error("upgraded")));
        req.on("error", fail);
        req.end();
      });
      assert.deepEqual(answer, { status: 403, body: "no" });
    } finally {
      await l.close();
      server.close();
    }
  });

  it("laneOptions names the lane as the spec's gateway.laneFrom says", () => {
    assert.deepEqual(laneOptions(spec, "v2", "header"), { extraHeaders: { version: "v2" } });
    assert.deepEqual(laneOptions(spec, "v2", "cookie"), { extraHeaders: { cookie: "lane=v2" } });
    assert.deepEqual(laneOptions(spec, "v2", "query"), { query: { lane: "v2" } });
    assert.deepEqual(laneOptions(spec, undefined, "query"), {});
  });
});

// What the docker-compose variants run that can run here: the apps' container entry points (websocket/serve.ts,
// grpc/serve.ts) as child processes configured the way the compose files configure them, and npm run
// e2e:envoy's variants (readiness, clients, checks) pointed at the Docker-less meshes that stand for the
// compose projects.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadSpec } from "../../deploy/lib/spec.ts";
import { parseChain } from "../../demo/core/client.ts";
import { callChain } from "../../demo/grpc/app.ts";
import { runClient, waitForWebSocket, WS_SPEC } from "../../demo/websocket/client.ts";
import { helloText } from "../../demo/websocket/apps.ts";
import { parseVariants, variants } from "../../demo/e2e-envoy.ts";
import { startMesh } from "../../demo/demo.ts";
import { LOCAL_OBSERVE } from "../../demo/core/builders.ts";
import { ROOT } from "../support/helpers.ts";

const example = loadSpec(join(ROOT, "deploy/lanes.example.yaml"));
const ws = loadSpec(WS_SPEC);
const T = { timeout: 30_000 };
// The containers have no proxy settings; this machine's must not leak into the children (grpc-js honours them).
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(https?|all|no|grpc)_proxy$/i.test(k)));

/** Starts `entry` as its container does (node --import tsx, cwd the repository) on 127.0.0.1, any port. */
function serve(entry: string, env: Record<string, string>): Promise<{ port: number; stop(): void }> {
  const child = spawn(process.execPath, ["--import", "tsx", entry], { cwd: ROOT, env: { ...cleanEnv, HOST: "127.0.0.1", PORT: "0", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((ok, fail) => {
    child.stdout.on("data", (d) => {
      out += d;
      const m = /listening on (\d+)/.exec(out);
      if (m) ok({ port: Number(m[1]), stop: () => child.kill() });
    });
    child.stderr.on("data", (d) => (out += d));
    child.on("exit", (code) => fail(new Error(`${entry} exited ${code}: ${out}`)));
  });
}

const run = (entry: string, env: Record<string, string>) => spawnSync(process.execPath, ["--import", "tsx", entry], { cwd: ROOT, env: { ...cleanEnv, ...env }, encoding: "utf8" });

describe("the compose variants' app entry points", () => {
  it("grpc/serve.ts: an app calls its upstream by name on the channel to `via`, and answers the chain", T, async () => {
    const last = await serve("demo/grpc/serve.ts", { app: "mockc", version: "v2" });
    // `via` is the sidecar's outbound listener in the container; here the next app itself.
    const first = await serve("demo/grpc/serve.ts", { app: "mockb", version: "v1", upstream: "mockc:8000", via: `127.0.0.1:${last.port}` });
    const client = new grpc.Client(`127.0.0.1:${first.port}`, grpc.credentials.createInsecure());
    try {
      const text = await callChain(client, new grpc.Metadata(), 10_000);
      assert.deepEqual(parseChain(text).map((h) => `${h.app} ${h.version}`), ["mockb v1", "mockc v2"], text);
    } finally {
      client.close();
      first.stop();
      last.stop();
    }
  });

  it("websocket/serve.ts: helloworld answers its version; wsk calls helloworld through HTTP_PROXY with the handshake's baggage and counts acks", T, async () => {
    const hello = await serve("demo/websocket/serve.ts", { version: "v2" });
    // The sidecar's outbound listener: records what wsk sends, answers as helloworld v1 would.
    const seen: { url: string; baggage?: string }[] = [];
    const proxy = http.createServer((req, res) => { seen.push({ url: req.url!, baggage: req.headers.baggage as string | undefined }); res.end(helloText("v1")); });
    await new Promise<void>((ok) => proxy.listen(0, "127.0.0.1", ok));
    const wsk = await serve("demo/websocket/serve.ts", { version: "v1", upstream_url: "http://helloworld:5000/hello", HTTP_PROXY: `http://127.0.0.1:${(proxy.address() as { port: number }).port}`, BROADCAST_MS: "100" });
    try {
      assert.equal(await (await fetch(`http://127.0.0.1:${hello.port}/hello`)).text(), helloText("v2"));
      const r = await runClient(`http://127.0.0.1:${wsk.port}`, "v2", { extraHeaders: { baggage: "version=v2" } }, { messages: 2, broadcasts: 1 });
      assert.equal(r.error, undefined);
      assert.deepEqual(r.seen.map((s) => s.text), r.seen.map(() => helloText("v1")));
      assert.ok(seen.length >= 3 && seen.every((s) => s.url === "http://helloworld:5000/hello"), JSON.stringify(seen));
      assert.equal(seen.filter((s) => s.baggage === "version=v2").length, 2, "the client's two calls carry its baggage");
      assert.ok(seen.some((s) => s.baggage === undefined), "the broadcasts' calls carry none");
      let acks = "";
      for (const until = Date.now() + 2000; acks !== "2" && Date.now() < until;) acks = await (await fetch(`http://127.0.0.1:${wsk.port}/acks`)).text();
      assert.equal(acks, "2");
      assert.equal((await fetch(`http://127.0.0.1:${wsk.port}/other`)).status, 404);
    } finally {
      wsk.stop();
      hello.stop();
      proxy.close();
    }
  });

  it("both refuse to start without their settings (exit 2)", T, () => {
    for (const [entry, env] of [["demo/grpc/serve.ts", { version: "v1" }], ["demo/grpc/serve.ts", { app: "a", version: "v1", upstream: "b:8000" }], ["demo/websocket/serve.ts", {}], ["demo/websocket/serve.ts", { version: "v1", upstream_url: "http://h:5000/hello" }]] as const) {
      const r = run(entry, env);
      assert.equal(r.status, 2, `${entry} ${JSON.stringify(env)}: ${r.stderr}`);
    }
  });
});

describe("npm run e2e:envoy's readiness checks and variants, on the Docker-less meshes", () => {
  it("websocket: ready when the v2 client gets what the lanes say; waits while it does not", T, async () => {
    const on = await startMesh(ws, { mode: "websocket", broadcastMs: 100 });
    try {
      await waitForWebSocket(on.gatewayUrl, ws, true, 5000);
    } finally {
      await on.close();
    }
    const off = await startMesh(ws, { mode: "websocket", withFilter: false, broadcastMs: 100 });
    try {
      await waitForWebSocket(off.gatewayUrl, ws, false, 5000);
      await assert.rejects(waitForWebSocket(off.gatewayUrl, ws, true, 1500), /did not serve the v2 client as expected .*response from v1/);
    } finally {
      await off.close();
    }
  });

  it("each variant's checks pass on the Docker-less mesh it stands for, with and without lane-tag, and not on the other one", { timeout: 120_000 }, async () => {
    for (const withFilter of [true, false]) {
      const meshes = {
        // As the local Envoy configs: lane metrics, filter state and the hop trace on.
        http: await startMesh(example, { withFilter, observe: LOCAL_OBSERVE }), websocket: await startMesh(ws, { mode: "websocket", withFilter, broadcastMs: 100 }), grpc: await startMesh(example, { mode: "grpc", withFilter }),
        stacked: await startMesh(example, { withFilter, mode: "stacked", observe: LOCAL_OBSERVE }),
      };
      const gateways = { http: meshes.http.gatewayUrl, websocket: meshes.websocket.gatewayUrl, grpc: meshes.grpc.gatewayUrl, stacked: meshes.stacked.gatewayUrl };
      const [config, other] = withFilter ? ["envoy", "envoy-nofilter"] as const : ["envoy-nofilter", "envoy"] as const;
      try {
        const v = variants(gateways, { requests: 200, readyMs: 5000, settleMs: 0, print: () => {} });
        for (const [name, variant] of Object.entries(v)) assert.deepEqual(await variant.check(config), [], `${name}, ${config}`);
        // Expecting the other outcome: the readiness check waits in vain, or the checks fail.
        const wrong = variants(gateways, { requests: 50, readyMs: 1000, settleMs: 0, print: () => {} });
        for (const [name, variant] of Object.entries(wrong)) {
          const failed = await variant.check(other).then((f) => f.length > 0, () => true);
          assert.ok(failed, `${name}: the ${other} checks passed on a mesh ${withFilter ? "with" : "without"} lane-tag`);
        }
      } finally {
        await Promise.all(Object.values(meshes).map((m) => m.close()));
      }
    }
  });

  it("--variant picks among http, websocket, grpc, stacked, ambient (all by default); anything else is a usage error, exit 2", () => {
    assert.deepEqual(parseVariants([]), ["http", "websocket", "grpc", "stacked", "ambient"]);
    assert.deepEqual(parseVariants(["--variant", "stacked"]), ["stacked"]);
    assert.deepEqual(parseVariants(["--variant", "grpc,websocket"]), ["grpc", "websocket"]);
    for (const bad of [["--variant", "ws"], ["--variant"], ["grpc"], ["--variant", ""]]) assert.throws(() => parseVariants(bad), /usage: npm run e2e:envoy/);
    // Usage is checked before Docker is looked for, so this is the same with or without an engine.
    const bad = spawnSync(process.execPath, ["--import", "tsx", "demo/e2e-envoy.ts", "--variant", "ws"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--variant http,websocket,grpc,stacked,ambient/);
  });
});

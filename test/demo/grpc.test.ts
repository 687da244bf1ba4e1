// npm run demo -- --mode grpc as an end-to-end test (a gRPC chain over h2c keeps its lane), what the HTTP/2
// sidecars hand the filter, the built module on a gRPC request's HTTP/2 header set, and the gRPC app.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadSpec } from "../../deploy/lib/spec.ts";
import { runDemo, plugins } from "../../demo/demo.ts";
import { check, type Result } from "../../demo/core/client.ts";
import { gatewayWeights, LANE_HEADER } from "../../demo/core/topology.ts";
import { grpcMessage } from "../../demo/grpc/transport.ts";
import { startMesh } from "../../demo/mesh.ts";
import { startGrpcMock, callChain, encodeChain, decodeChain, CHAIN_METHOD, MockService, type Chain } from "../../demo/grpc/app.ts";
import type { Header } from "../../emulator/index.ts";
import { ROOT, wasmBytes, values } from "../support/helpers.ts";

const spec = loadSpec(join(ROOT, "deploy/lanes.example.yaml"));
const chains = (results: Result[], lane: string) => [...new Set(results.filter((r) => r.lane === lane).map((r) => r.hops.map((h) => h.version).join("→")))];

describe("npm run demo -- --mode grpc: every hop a gRPC call over h2c", () => {
  it("with lane-tag: 300 calls, shares within ±5 points of 60/20/20, every chain in its lane", async () => {
    const { results, failures } = await runDemo({ requests: 300, seed: 1, withFilter: true, quiet: true, concurrency: 16, mode: "grpc" }, spec, () => {});
    assert.equal(results.length, 300);
    assert.deepEqual(failures, []);
    assert.deepEqual(check(spec, results, { filter: true, weights: gatewayWeights(spec), tolerance: 5 }), []);
    assert.deepEqual(chains(results, "s1"), ["v1→v1→v1"]);
    assert.deepEqual(chains(results, "s2"), ["v2→v1→v2"]);
    assert.deepEqual(chains(results, "s3"), ["v1→v3→v1"]);
  });

  it("without lane-tag: s2 collapses to v2→v1→v1 and s3 to v1→v1→v1", async () => {
    const { results } = await runDemo({ requests: 200, seed: 1, withFilter: false, quiet: true, concurrency: 16, mode: "grpc" }, spec, () => {});
    assert.deepEqual(chains(results, "s2"), ["v2→v1→v1"]);
    assert.deepEqual(chains(results, "s3"), ["v1→v1→v1"]);
    assert.deepEqual(check(spec, results, { filter: false }), []);
    assert.notDeepEqual(check(spec, results, { filter: true }), []);
  });

  it("each listener hands lane-tag the HTTP/2 request headers as Envoy does, and the apps forward only baggage", async () => {
    const seen: { listener: string; input: Header[]; output: Header[] | null }[] = [];
    const mesh = await startMesh(spec, { mode: "grpc", tap: (listener, input, output) => seen.push({ listener, input, output }) });
    try {
      const client = new grpc.Client(mesh.gatewayUrl, grpc.credentials.createInsecure());
      const metadata = new grpc.Metadata();
      metadata.set("x-lane-random", "65"); // 65 % 100 falls in s2's range (60..79)
      const text = await callChain(client, metadata, 5000);
      client.close();
      assert.equal(text, "-> mocka(version: v2, ip: 127.0.0.1)-> mockb(version: v1, ip: 127.0.0.1)-> mockc(version: v2, ip: 127.0.0.1)");
    } finally {
      await mesh.close();
    }
    assert.deepEqual(seen.map((s) => s.listener), ["gateway", "mocka-v2 inbound", "mocka-v2 outbound", "mockb-v1 inbound", "mockb-v1 outbound", "mockc-v2 inbound"]);
    for (const { listener, input, output } of seen) {
      const names = input.map(([k]) => k);
      assert.deepEqual(names.slice(0, 4).sort(), [":authority", ":method", ":path", ":scheme"], `${listener}: pseudo-headers first`);
      assert.deepEqual([values(input, ":method"), values(input, ":path"), values(input, ":scheme")], [["POST"], [CHAIN_METHOD], ["http"]], listener);
      assert.deepEqual([values(input, "content-type"), values(input, "te")], [["application/grpc"], ["trailers"]], listener);
      assert.equal(values(input, "grpc-timeout").length, 1, `${listener}: the caller's deadline`);
      assert.ok(!names.includes("host"), `${listener}: no host header in HTTP/2`);
      assert.ok(output, `${listener}: passed`);
    }
    const at = (listener: string) => seen.find((s) => s.listener === listener)!;
    // The app's call carries the lane only in baggage; the outbound filter turns it into the routing header.
    assert.deepEqual(values(at("mocka-v2 outbound").input, ":authority"), ["mockb:8000"]);
    assert.deepEqual(values(at("mocka-v2 outbound").input, "x-asm-prefer-tag"), []);
    assert.deepEqual(values(at("mocka-v2 outbound").input, "baggage"), ["x-asm-prefer-tag=s2"]);
    assert.deepEqual(values(at("mocka-v2 outbound").output!, "x-asm-prefer-tag"), ["s2"]);
    // The inbound filter put the lane the gateway routed by into baggage.
    assert.deepEqual(values(at("mocka-v2 inbound").input, "baggage"), []);
    assert.deepEqual(values(at("mocka-v2 inbound").output!, "baggage"), ["x-asm-prefer-tag=s2"]);
    assert.deepEqual(values(at("mockb-v1 outbound").output!, "x-asm-prefer-tag"), ["s2"]);
  });

  it("the sidecars pass a gRPC error (trailers-only) back with the gateway's lane", async () => {
    const mesh = await startMesh(spec, { mode: "grpc" });
    const client = new grpc.Client(mesh.gatewayUrl, grpc.credentials.createInsecure());
    try {
      const metadata = new grpc.Metadata();
      metadata.set("x-lane-random", "85"); // s3
      const err = await new Promise<grpc.ServiceError>((ok, fail) => client.makeUnaryRequest("/lanetag.demo.Mock/Nope", encodeChain, decodeChain, { text: "" }, metadata, { deadline: Date.now() + 5000 },
        (e) => (e ? ok(e) : fail(new Error("the unknown method answered")))));
      assert.equal(err.code, grpc.status.UNIMPLEMENTED, err.message);
      assert.deepEqual(err.metadata.get(LANE_HEADER), ["s3"]);
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it("a sidecar's own replies carry grpc-message encoded as gRPC says: only '%' and non-printable bytes", () => {
    assert.equal(grpcMessage("upstream connect error: 50% lost\nnext"), "upstream connect error: 50%25 lost%0Anext");
    assert.equal(decodeURIComponent(grpcMessage("→ é")), "→ é");
  });

  it("npm run demo -- --mode grpc prints a chain line per call, the summary and the verdict", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "demo/demo.ts"), "--mode", "grpc", "-n", "20", "--seed", "5"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split("\n");
    assert.equal(lines.filter((l) => /^-> mocka\(version: v\d, ip: 127\.0\.0\.1\)-> mockb\(version: v\d, ip: 127\.0\.0\.1\)-> mockc\(version: v\d, ip: 127\.0\.0\.1\)$/.test(l)).length, 20);
    assert.match(r.stdout, /20 requests through the gateway in \d+ ms \(mode grpc: /);
    assert.ok(lines.some((l) => /^s3\s+\d+\s+[\d.]+%\s+v1\s+v3\s+v1$/.test(l)), r.stdout);
    assert.match(r.stdout, /every chain stayed in its lane/);
  });
});

describe("lane-tag on a gRPC request's HTTP/2 headers (built module, emulator)", () => {
  // As Envoy's HTTP/2 codec hands them over for a grpc-js call: pseudo-headers, then the metadata.
  const grpcHeaders: Header[] = [
    [":method", "POST"], [":scheme", "http"], [":path", CHAIN_METHOD], [":authority", "mockb:8000"],
    ["grpc-accept-encoding", "identity,deflate,gzip"], ["accept-encoding", "identity"], ["grpc-timeout", "9998m"],
    ["user-agent", "grpc-node-js/1.14.7"], ["content-type", "application/grpc"], ["te", "trailers"],
    ["grpc-trace-bin", "AABL+S81d7NNpqPOkp4ODkc2AQBn6qC6kBKjAgA="],
  ];
  const without = (h: Header[], ...names: string[]) => h.filter(([k]) => !names.includes(k));

  it("outbound sets x-asm-prefer-tag from baggage and leaves every other header as it was", async () => {
    const vm = await plugins(wasmBytes(), spec, ["outbound"]);
    const input: Header[] = [...grpcHeaders, ["baggage", "userId=alice,x-asm-prefer-tag=s3;p=1"]];
    const r = vm.outbound!.request(input, { listenerDirection: 2 });
    assert.equal(r.outcome, "continue");
    assert.deepEqual(values(r.headers, "x-asm-prefer-tag"), ["s3"]);
    assert.deepEqual(without(r.headers, "x-asm-prefer-tag"), input);
  });

  it("inbound adds the lane to baggage and leaves every other header as it was", async () => {
    const vm = await plugins(wasmBytes(), spec, ["inbound"]);
    const input: Header[] = [...grpcHeaders, ["x-asm-prefer-tag", "s2"], ["baggage", "userId=alice"]];
    const r = vm.inbound!.request(input, { listenerDirection: 1 });
    assert.equal(r.outcome, "continue");
    assert.deepEqual(values(r.headers, "baggage"), ["x-asm-prefer-tag=s2,userId=alice"]);
    assert.deepEqual(without(r.headers, "baggage"), without(input, "baggage"));
  });

  it("the gateway removes a client's lane from a gRPC call's baggage, pseudo-headers untouched", async () => {
    const vm = await plugins(wasmBytes(), spec, ["gateway"]);
    const input: Header[] = [...grpcHeaders, ["x-asm-prefer-tag", "s3"], ["baggage", "x-asm-prefer-tag=s3,userId=alice"]];
    const r = vm.gateway!.request(input, { listenerDirection: 2 });
    assert.deepEqual(values(r.headers, "x-asm-prefer-tag"), []);
    assert.deepEqual(values(r.headers, "baggage"), ["userId=alice"]);
    assert.deepEqual(without(r.headers, "baggage"), without(input, "baggage", "x-asm-prefer-tag"));
  });
});

describe("the gRPC app", () => {
  it("encodes Chain as protobuf (field 1, length-delimited) and decodes it back", () => {
    assert.deepEqual([...encodeChain({ text: "hi" })], [0x0a, 0x02, 0x68, 0x69]);
    assert.equal(encodeChain({ text: "" }).length, 0);
    const long = "→".repeat(6000); // 18000 bytes: a three-byte length
    assert.deepEqual([...encodeChain({ text: long }).subarray(0, 4)], [0x0a, 0xd0, 0x8c, 0x01]);
    assert.equal(decodeChain(encodeChain({ text: long })).text, long);
    assert.throws(() => decodeChain(Buffer.from([0x12, 0x00])), /unexpected field tag 18/);
    assert.throws(() => decodeChain(Buffer.from([0x0a, 0x05, 0x68])), /truncated text/);
  });

  it("forwards only the baggage metadata to its upstream, and appends the upstream's chain", async () => {
    let seen: grpc.Metadata | undefined;
    const upstream = new grpc.Server();
    upstream.addService(MockService, {
      Chain: (call: grpc.ServerUnaryCall<Chain, Chain>, cb: grpc.sendUnaryData<Chain>) => { seen = call.metadata; cb(null, { text: "-> up(version: v9, ip: x)" }); },
    });
    const port = await new Promise<number>((ok, fail) => upstream.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? fail(e) : ok(p))));
    const app = await startGrpcMock({ app: "mocka", version: "v2", ip: "10.0.0.1", upstream: "mockb:8000", via: `127.0.0.1:${port}` });
    const client = new grpc.Client(`127.0.0.1:${app.port}`, grpc.credentials.createInsecure());
    try {
      const metadata = new grpc.Metadata();
      metadata.add("baggage", "x-asm-prefer-tag=s2");
      metadata.add("baggage", "userId=alice");
      metadata.set("x-asm-prefer-tag", "s2");
      metadata.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
      assert.equal(await callChain(client, metadata, 5000), "-> mocka(version: v2, ip: 10.0.0.1)-> up(version: v9, ip: x)");
      // Node's HTTP/2 server joins the two baggage entries with ", " before grpc-js sees them: one entry on.
      assert.deepEqual(seen!.get("baggage"), ["x-asm-prefer-tag=s2, userId=alice"]);
      assert.deepEqual(seen!.get("x-asm-prefer-tag"), []);
      assert.deepEqual(seen!.get("traceparent"), []);
    } finally {
      client.close();
      app.close();
      upstream.forceShutdown();
    }
  });
});

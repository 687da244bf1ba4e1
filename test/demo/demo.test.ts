// The three-lane demo without Docker (npm run demo), as an end-to-end test, and the checks on the
// docker-compose variant that can run here: its Envoy configs are current and valid for Envoy.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { loadSpec, parseSpec } from "../../deploy/lib/spec.ts";
import { ROOT_ID } from "../../deploy/render/generate.ts";
import { runDemo, startMesh, checkSticky } from "../../demo/demo.ts";
import { check, waitForLanes, type Result } from "../../demo/core/client.ts";
import { gatewayWeights, expectedChain, chainWithoutFilter, chain } from "../../demo/core/topology.ts";
import { localFiles, HERE } from "../../demo/generate.ts";
// @ts-ignore: plain JavaScript module
import { createMock } from "../../demo/mock/server.mjs";
import { ROOT, SHARED } from "../support/helpers.ts";

const spec = loadSpec(join(ROOT, "deploy/lanes.example.yaml"));

describe("npm run demo (no Docker): 1000 requests through the gateway", () => {
  it("with lane-tag: shares within ±4 points of 60/20/20 and every chain in its lane", async () => {
    const { results, failures } = await runDemo({ requests: 1000, seed: 1, withFilter: true, quiet: true, concurrency: 16 }, spec, () => {});
    assert.equal(results.length, 1000);
    assert.deepEqual(check(spec, results, { filter: true, weights: gatewayWeights(spec), tolerance: 4 }), []);
    assert.deepEqual(failures, []);
    // The chains the seed shows: s1 v1→v1→v1, s2 v2→v1→v2 (mockb falls back), s3 v1→v3→v1.
    const chains = (lane: string) => new Set(results.filter((r) => r.lane === lane).map((r) => r.hops.map((h) => h.version).join("→")));
    assert.deepEqual([...chains("s1")], ["v1→v1→v1"]);
    assert.deepEqual([...chains("s2")], ["v2→v1→v2"]);
    assert.deepEqual([...chains("s3")], ["v1→v3→v1"]);
  });

  it("without lane-tag: s2 and s3 collapse to v1 after the first hop (the filter is what carries the lane)", async () => {
    const { results } = await runDemo({ requests: 300, seed: 1, withFilter: false, quiet: true, concurrency: 16 }, spec, () => {});
    const chains = (lane: string) => new Set(results.filter((r) => r.lane === lane).map((r) => r.hops.map((h) => h.version).join("→")));
    assert.deepEqual([...chains("s2")], ["v2→v1→v1"]);
    assert.deepEqual([...chains("s3")], ["v1→v1→v1"]);
    assert.deepEqual(check(spec, results, { filter: false }), []);
    // ... and the with-filter expectation fails on them, so the check can tell the two apart.
    assert.notDeepEqual(check(spec, results, { filter: true }), []);
  });

  it("honours --weights", async () => {
    const { results } = await runDemo({ requests: 200, seed: 3, weights: [0, 50, 50], withFilter: true, quiet: true, concurrency: 8 }, spec, () => {});
    assert.equal(results.filter((r) => r.lane === "s1").length, 0);
    assert.deepEqual(check(spec, results, { filter: true, weights: gatewayWeights(spec, [0, 50, 50]), tolerance: 10 }), []);
  });

  it("the Envoy e2e's readiness check accepts a mesh whose every lane answers, and waits on one that does not", async () => {
    const good = await startMesh(spec);
    try {
      await waitForLanes(good.gatewayUrl, spec, 5000);
    } finally {
      await good.close();
    }
    const bad = await startMesh(spec, { withFilter: false });
    try {
      await assert.rejects(waitForLanes(bad.gatewayUrl, spec, 1500), /lanes s2, s3 did not answer their expected chain/);
    } finally {
      await bad.close();
    }
  });

  it("the call chain is the baseline lane's order, whatever order the lanes are listed in", () => {
    const text = readFileSync(join(ROOT, "deploy/lanes.example.yaml"), "utf8");
    const moved = text.replace(/lanes:\n([\s\S]*?)(  s3:\n    label: v3\n    services: \[mockb\]\n)/, "lanes:\n$2$1");
    assert.equal(parseSpec(moved, "moved.yaml").lanes[0].name, "s3", "s3 is listed first");
    assert.deepEqual(chain(parseSpec(moved, "moved.yaml")), ["mocka", "mockb", "mockc"]);
    const wrongEntry = text.replace("service: mocka", "service: mockb");
    assert.throws(() => chain(parseSpec(wrongEntry, "w.yaml")), /gateway.entry.service must be the first, not mockb/);
  });

  it("the expectations come from the spec: s2 has no mockb, s3 only mockb", () => {
    assert.deepEqual(expectedChain(spec, "s2"), ["v2", "v1", "v2"]);
    assert.deepEqual(expectedChain(spec, "s3"), ["v1", "v3", "v1"]);
    assert.deepEqual(chainWithoutFilter(spec, "s2"), ["v2", "v1", "v1"]);
  });

  it("check() reports a wrong chain, a failed request and a skewed split", () => {
    const r = (lane: string, versions: string[], status = 200): Result => ({ lane, status, body: "", hops: spec.services.map((app, i) => ({ app, version: versions[i], ip: "" })) });
    const results = [r("s2", ["v2", "v1", "v1"]), r("s1", ["v1", "v1", "v1"], 503), ...Array.from({ length: 8 }, () => r("s1", ["v1", "v1", "v1"]))];
    const f = check(spec, results, { filter: true, weights: gatewayWeights(spec) });
    assert.ok(f.some((x) => /request 0 in lane s2: .* expected v2 → v1 → v2/.test(x)), f.join("\n"));
    assert.ok(f.some((x) => /request 1: status 503/.test(x)));
    assert.ok(f.some((x) => /lane s3: 0\.0% of requests, expected 20% ± 4/.test(x)));
  });
});

describe("npm run demo -- --mode correlation|strict|sticky: lanes where baggage is not propagated", () => {
  const chains = (results: Result[], lane: string) => [...new Set(results.filter((r) => r.lane === lane).map((r) => r.hops.map((h) => h.version).join("→")))];

  it("correlation: the apps forward only traceparent; lane-tag restores each lane by trace id", async () => {
    const on = await runDemo({ requests: 400, seed: 2, withFilter: true, quiet: true, concurrency: 16, mode: "correlation" }, spec, () => {});
    assert.deepEqual(on.failures, []);
    assert.deepEqual(chains(on.results, "s2"), ["v2→v1→v2"]);
    assert.deepEqual(chains(on.results, "s3"), ["v1→v3→v1"]);
    const off = await runDemo({ requests: 200, seed: 2, withFilter: false, quiet: true, concurrency: 16, mode: "correlation" }, spec, () => {});
    assert.deepEqual(chains(off.results, "s2"), ["v2→v1→v1"], "without the filter traceparent alone carries no lane");
  });

  it("strict: the apps forward nothing; full lanes; each sidecar takes its workload's label lane", async () => {
    const on = await runDemo({ requests: 300, seed: 3, withFilter: true, quiet: true, concurrency: 16, mode: "strict" }, spec, () => {});
    assert.deepEqual(on.failures, []);
    assert.deepEqual(chains(on.results, "s2"), ["v2→v2→v2"]);
    assert.deepEqual(chains(on.results, "s3"), ["v3→v3→v3"]);
    const off = await runDemo({ requests: 200, seed: 3, withFilter: false, quiet: true, concurrency: 16, mode: "strict" }, spec, () => {});
    assert.deepEqual(chains(off.results, "s3"), ["v3→v1→v1"]);
  });

  it("sticky: the gateway's lane-tag assigns by weight, each user always in one lane", async () => {
    const { results, failures } = await runDemo({ requests: 1000, seed: 4, withFilter: true, quiet: true, concurrency: 16, mode: "sticky", users: 300 }, spec, () => {});
    assert.deepEqual(failures, []);
    const users = new Map<string, Set<string>>();
    for (const r of results) users.set(r.user!, (users.get(r.user!) ?? new Set()).add(r.lane));
    assert.ok(users.size > 250, `${users.size} users`);
    assert.ok([...users.values()].every((l) => l.size === 1));
    const share = (lane: string) => [...users.values()].filter((l) => l.has(lane)).length / users.size;
    // Over users (300 of them: ±2.3 points standard deviation for a 20% lane).
    assert.ok(Math.abs(share("s1") - 0.6) < 0.08 && Math.abs(share("s2") - 0.2) < 0.08 && Math.abs(share("s3") - 0.2) < 0.08, `${share("s1")} ${share("s2")} ${share("s3")}`);
    assert.deepEqual(chains(results, "s2"), ["v2→v1→v2"]);
    // The client's own lane claim is ignored at the gateway.
    const mesh = await startMesh(spec, { mode: "sticky" });
    try {
      const lanes = new Set<string>();
      for (let i = 0; i < 5; i++) {
        const r = await fetch(mesh.gatewayUrl, { headers: { "x-user-id": "bob", "x-asm-prefer-tag": `s${1 + (i % 3)}`, baggage: "x-asm-prefer-tag=s3" } });
        await r.text();
        lanes.add(r.headers.get("x-lane")!);
      }
      assert.equal(lanes.size, 1);
    } finally {
      await mesh.close();
    }
  });

  it("checkSticky reports a user seen in two lanes", () => {
    const r = (lane: string, user: string): Result => ({ lane, status: 200, body: "", hops: [], user });
    assert.deepEqual(checkSticky([r("s1", "a"), r("s1", "a"), r("s2", "b")]), []);
    assert.deepEqual(checkSticky([r("s1", "a"), r("s2", "a")]), ["user a was in lane s1, then in s2"]);
  });
});

describe("npm run demo, the command", () => {
  const demo = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "demo/demo.ts"), ...args], { cwd: ROOT, encoding: "utf8" });
  it("prints a chain line per request, the summary table and the verdict; exits 0", () => {
    const r = demo("--requests", "30", "--seed", "5");
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split("\n");
    assert.equal(lines.filter((l) => /^-> mocka\(version: v\d, ip: 127\.0\.0\.1\)-> mockb\(version: v\d, ip: 127\.0\.0\.1\)-> mockc\(version: v\d, ip: 127\.0\.0\.1\)$/.test(l)).length, 30);
    assert.ok(lines.some((l) => /^lane\s+requests\s+share\s+mocka\s+mockb\s+mockc$/.test(l)));
    assert.ok(lines.some((l) => /^s2\s+\d+\s+[\d.]+%\s+v2\s+v1\s+v2$/.test(l)), r.stdout);
    assert.match(r.stdout, /every chain stayed in its lane/);
  });
  it("rejects bad options with usage, exit 2", () => {
    for (const args of [["--weights", "1,2"], ["--requests", "0"], ["--frobnicate"], ["--mode", "loose"], ["--mode", "sticky", "--no-filter"], ["--users", "5"]]) {
      const r = demo(...args);
      assert.equal(r.status, 2, args.join(" "));
      assert.match(r.stderr, /weights needs 3 numbers|positive integer|unknown option|--mode needs one of baggage, correlation, strict, sticky|needs the filter|applies only to --mode sticky/);
    }
  });
});

describe("the mock service", () => {
  it("propagates only traceparent (same trace, new span), both, or nothing, when told", async () => {
    const seen: http.IncomingHttpHeaders[] = [];
    const upstream = http.createServer((req, res) => { seen.push(req.headers); res.end("-> up(version: v9, ip: x)"); });
    await new Promise<void>((ok) => upstream.listen(0, "127.0.0.1", () => ok()));
    const up = `http://127.0.0.1:${(upstream.address() as { port: number }).port}/`;
    const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const mocks = [createMock({ app: "a", version: "v1", upstreamUrl: up, propagate: "traceparent" }), createMock({ app: "a", version: "v1", upstreamUrl: up, propagate: "none" }),
      createMock({ app: "a", version: "v1", upstreamUrl: up, propagate: "baggage,traceparent" })];
    try {
      for (const m of mocks) {
        await new Promise<void>((ok) => m.listen(0, "127.0.0.1", () => ok()));
        await (await fetch(`http://127.0.0.1:${(m.address() as { port: number }).port}/`, { headers: { traceparent: tp, baggage: "x-asm-prefer-tag=s2" } })).text();
      }
      assert.match(String(seen[0].traceparent), /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
      assert.notEqual(seen[0].traceparent, tp);
      assert.equal(seen[0].baggage, undefined);
      assert.equal(seen[1].traceparent, undefined);
      assert.equal(seen[1].baggage, undefined);
      assert.match(String(seen[2].traceparent), /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
      assert.equal(seen[2].baggage, "x-asm-prefer-tag=s2");
      for (const bad of ["b3", "", "baggage,b3"]) {
        assert.throws(() => createMock({ app: "a", version: "v1", propagate: bad }), /propagate must be baggage, traceparent, baggage,traceparent or none/);
      }
    } finally {
      for (const m of mocks) m.close();
      upstream.close();
    }
  });

  it("forwards baggage to its upstream and never the routing header", async () => {
    let seen: http.IncomingHttpHeaders = {};
    const upstream = http.createServer((req, res) => { seen = req.headers; res.end("-> up(version: v9, ip: x)"); });
    await new Promise<void>((ok) => upstream.listen(0, "127.0.0.1", () => ok()));
    const port = (upstream.address() as { port: number }).port;
    const mock = createMock({ app: "mocka", version: "v2", ip: "10.0.0.1", upstreamUrl: `http://127.0.0.1:${port}/` });
    await new Promise<void>((ok) => mock.listen(0, "127.0.0.1", () => ok()));
    try {
      const r = await fetch(`http://127.0.0.1:${(mock.address() as { port: number }).port}/`, {
        headers: { "x-asm-prefer-tag": "s2", baggage: "x-asm-prefer-tag=s2,userId=alice" },
      });
      assert.equal(await r.text(), "-> mocka(version: v2, ip: 10.0.0.1)-> up(version: v9, ip: x)");
      assert.equal(seen.baggage, "x-asm-prefer-tag=s2,userId=alice");
      assert.equal(seen["x-asm-prefer-tag"], undefined);
    } finally {
      mock.close(); upstream.close();
    }
  });
});

describe("docker-compose variant", () => {
  it("the committed compose file and Envoy configs are what npm run local-configs generates", () => {
    const files = localFiles(spec);
    for (const [name, text] of Object.entries(files)) assert.equal(readFileSync(join(HERE, name), "utf8"), text, `${name}: run npm run local-configs`);
    for (const dir of ["envoy", "envoy-nofilter"]) {
      for (const f of readdirSync(join(HERE, dir))) assert.ok(`${dir}/${f}` in files, `stale file demo/${dir}/${f}`);
    }
  });

  it("every Envoy config validates against Envoy's API (envoy-validate --strict)", { skip: !existsSync(join(SHARED, "tools/envoy-validate/validate.mjs")) && "../shared/tools/envoy-validate is absent" }, () => {
    const configs = ["envoy", "envoy-nofilter"].flatMap((d) => readdirSync(join(HERE, d)).map((f) => join(HERE, d, f)));
    assert.equal(configs.length, 20);
    const r = spawnSync(process.execPath, [join(SHARED, "tools/envoy-validate/validate.mjs"), "--strict", ...configs], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split("\n").filter((l) => l.startsWith("ok ")).length, 20);
  });

  it("the validator rejects a broken config (so the check above can fail)", { skip: !existsSync(join(SHARED, "tools/envoy-validate/validate.mjs")) && "../shared/tools/envoy-validate is absent" }, async () => {
    const { validateText } = await import(join(SHARED, "tools/envoy-validate/validate.mjs"));
    const text = readFileSync(join(HERE, "envoy/mocka-v1.yaml"), "utf8").replace("root_id: lane-tag", "root_idd: lane-tag");
    const { errors } = await validateText(text);
    assert.ok(errors.length > 0);
  });

  it("uses the module's root id; fails open in every sidecar, closed at the gateway (it trusts no client lane)", () => {
    for (const d of ["envoy"]) for (const f of readdirSync(join(HERE, d))) {
      const text = readFileSync(join(HERE, d, f), "utf8");
      const roots = [...text.matchAll(/root_id: (\S+)/g)].map((m) => m[1]);
      assert.ok(roots.length >= 1, f);
      assert.ok(roots.every((r) => r === ROOT_ID), `${f}: ${roots}`);
      const closed = f.startsWith("gateway") ? roots.length : 0;
      assert.equal((text.match(/failure_policy: FAIL_CLOSED/g) ?? []).length, closed, f);
      assert.equal((text.match(/failure_policy: FAIL_OPEN/g) ?? []).length, roots.length - closed, f);
    }
  });

  it("runs nine workloads with sidecars and a gateway on a pinned Envoy image", () => {
    const compose = parse(readFileSync(join(HERE, "docker-compose.yml"), "utf8"));
    const names = Object.keys(compose.services);
    assert.equal(names.filter((n) => /^mock[abc]-v[123]$/.test(n)).length, 9);
    assert.equal(names.filter((n) => /^mock[abc]-v[123]-app$/.test(n)).length, 9);
    for (const [name, s] of Object.entries<any>(compose.services)) {
      if (name.endsWith("-app")) {
        assert.equal(s.network_mode, `service:${name.slice(0, -4)}`);
        assert.equal(s.environment["x-asm-prefer-tag"], undefined);
      } else assert.match(s.image, /^envoyproxy\/envoy:v\d+\.\d+\.\d+$/);
    }
  });

  const engine = spawnSync("docker", ["info"], { stdio: "ignore" }).status === 0;
  it("npm run e2e:envoy skips cleanly when no Docker engine is reachable", { skip: engine && "a Docker engine is reachable here: run npm run e2e:envoy" }, () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "demo/e2e-envoy.ts")], { encoding: "utf8", cwd: ROOT });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /e2e:envoy skipped: no Docker engine is reachable/);
  });
});

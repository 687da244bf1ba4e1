// `npm run demo -- --mesh ambient --apps otel`: the waypoints and ztunnel of the ambient demo in front of apps
// with no propagation code (otel/app.cjs), each a process under the OpenTelemetry SDK as the Operator injects
// it, calling its upstream through ztunnel (HTTP_PROXY). The lane holds with the carriers the SDK forwards
// and lane-tag reads; without the filter it is lost after the first hop. Also: app.cjs's HOST, which the
// ambient compose apps need (a waypoint dials them across the network).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSpec } from "../../deploy/lib/spec.ts";
import { runDemo, type DemoOptions } from "../../demo/demo.ts";
import { startMesh } from "../../demo/mesh.ts";
import { sendRequests, check } from "../../demo/core/client.ts";
import { deployments } from "../../demo/core/topology.ts";
import { otelApps, liveApps, spawnApp, stopApp, DEFAULT_PROPAGATORS } from "../../demo/otel/apps.ts";
import { ROOT } from "../support/helpers.ts";

const spec = loadSpec(join(ROOT, "deploy/lanes.example.yaml"));
const APP = fileURLToPath(new URL("../../demo/otel/app.cjs", import.meta.url));
const run = (o: Partial<DemoOptions>) =>
  runDemo({ requests: 30, seed: 1, withFilter: true, quiet: true, concurrency: 8, mesh: "ambient", apps: "otel", ...o }, spec, () => {});
const chains = (results: { lane: string; hops: { version: string }[] }[], lane: string) =>
  [...new Set(results.filter((r) => r.lane === lane).map((r) => r.hops.map((h) => h.version).join("→")))];
const demo = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "demo/demo.ts"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 30_000 });

/** The status of a GET to host:port, or the connection error's code. */
const get = (host: string, port: number) => new Promise<number | string>((ok) => {
  http.get({ host, port, path: "/" }, (res) => { res.resume(); ok(res.statusCode!); }).on("error", (e: any) => ok(e.code));
});

describe("--mesh ambient --apps otel: waypoints in front of apps instrumented by the OpenTelemetry SDK", { timeout: 120_000 }, () => {
  it("the mesh runs the apps it is given (one process per routed workload, through ztunnel), and stops them", { timeout: 30_000 }, async () => {
    const mesh = await startMesh(spec, { mesh: "ambient", apps: otelApps(DEFAULT_PROPAGATORS), propagators: DEFAULT_PROPAGATORS });
    try {
      assert.equal(liveApps(), deployments(spec).length);
      const results = await sendRequests(mesh.gatewayUrl, 30, { seed: 1, concurrency: 8 });
      assert.deepEqual(check(spec, results, { filter: true }), []);
    } finally {
      await mesh.close();
    }
    assert.equal(liveApps(), 0, "every app process stopped with the mesh");
  });

  it("tracecontext,baggage (the Operator's default): every lane holds every hop", { timeout: 30_000 }, async () => {
    const { results, failures } = await run({});
    assert.equal(results.length, 30);
    assert.deepEqual(failures, []);
    assert.deepEqual(chains(results, "s2"), ["v2→v1→v2"]);
    assert.deepEqual(chains(results, "s3"), ["v1→v3→v1"]);
  });

  it("jaeger (uberctx-*): every lane holds every hop", { timeout: 30_000 }, async () => {
    const { results, failures } = await run({ propagators: ["jaeger"] });
    assert.deepEqual(failures, []);
    assert.deepEqual(chains(results, "s2"), ["v2→v1→v2"]);
    assert.deepEqual(chains(results, "s3"), ["v1→v3→v1"]);
  });

  it("correlation with tracecontext: the waypoint restores the lane by the trace id the SDK continues", { timeout: 30_000 }, async () => {
    const { results, failures } = await run({ mode: "correlation", propagators: ["tracecontext"] });
    assert.deepEqual(failures, []);
    assert.deepEqual(chains(results, "s3"), ["v1→v3→v1"]);
  });

  it("without lane-tag the same apps lose every lane after the first hop", { timeout: 30_000 }, async () => {
    for (const propagators of [DEFAULT_PROPAGATORS, ["jaeger"]]) {
      const { results, failures } = await run({ withFilter: false, propagators });
      assert.deepEqual(failures, [], propagators.join(","));
      assert.deepEqual(chains(results, "s2"), ["v2→v1→v1"]);
      assert.deepEqual(chains(results, "s3"), ["v1→v1→v1"]);
      assert.notDeepEqual(check(spec, results, { filter: true }), []);
    }
  });

  it("the command runs it (exit 0) and still refuses the modes otel apps do not run", { timeout: 60_000 }, () => {
    const ok = demo("--mesh", "ambient", "--apps", "otel", "--propagators", "jaeger", "-q", "-n", "20");
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /OTEL_PROPAGATORS=jaeger; Istio ambient: waypoints, no sidecars/);
    assert.match(ok.stdout, /every chain stayed in its lane/);
    const stacked = demo("--mesh", "ambient", "--apps", "otel", "--mode", "stacked");
    assert.equal(stacked.status, 2);
    assert.match(stacked.stderr, /^--apps otel applies to --mode baggage and correlation \(the HTTP chain\), not stacked/);
  });
});

describe("app.cjs's HOST", () => {
  it("127.0.0.1 by default (only its sidecar reaches it); HOST=0.0.0.0 listens on every address", { timeout: 20_000 }, async () => {
    const env = { PATH: process.env.PATH ?? "", app: "mockc", version: "v1", PORT: "0", EXIT_WITH_STDIN: "1" };
    for (const [host, other] of [[undefined, "ECONNREFUSED"], ["0.0.0.0", 200]] as const) {
      const { child, port } = await spawnApp("app.cjs", [APP], host ? { ...env, HOST: host } : env, 10_000);
      try {
        assert.equal(await get("127.0.0.1", port), 200);
        // Another loopback address stands for the network: only a wildcard listener answers there.
        assert.equal(await get("127.0.0.2", port), other, `HOST=${host ?? "(unset)"}`);
      } finally {
        await stopApp(child);
      }
    }
  });
});

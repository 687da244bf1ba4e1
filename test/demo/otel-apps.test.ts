// npm run demo -- --apps otel: apps with no propagation code, each a process instrumented by the real
// OpenTelemetry Node.js SDK as the Operator injects it, behind the emulated sidecars running the built module.
// With the Operator's default propagators (tracecontext,baggage) lane-tag keeps every lane; without it the
// lanes collapse, so the apps forward nothing of their own. The other propagator sets: otel-apps-sets.test.ts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { loadSpec } from "../../deploy/lib/spec.ts";
import { runDemo, startMesh } from "../../demo/demo.ts";
import { check } from "../../demo/core/client.ts";
import { otelApps, operatorEnv, liveApps, DEFAULT_PROPAGATORS } from "../../demo/otel/apps.ts";
import { ROOT } from "../support/helpers.ts";

const spec = loadSpec(join(ROOT, "deploy/lanes.example.yaml"));
const run = (withFilter: boolean, propagators?: string[]) =>
  runDemo({ requests: 30, seed: 1, withFilter, quiet: true, concurrency: 8, apps: "otel", propagators }, spec, () => {});
const chains = (results: { lane: string; hops: { version: string }[] }[], lane: string) =>
  [...new Set(results.filter((r) => r.lane === lane).map((r) => r.hops.map((h) => h.version).join("→")))];

/** What in an app's source would forward context by hand: a propagation header, or reading request headers. */
const HAND_PROPAGATION = /baggage|traceparent|tracestate|uber-?trace|uberctx|ot-tracer|ot-baggage|x-b3|\bb3\b|x-amzn|x-asm|prefer-tag|@opentelemetry|propagat|inject|extract|req\.headers|rawHeaders|headersDistinct|getHeader/gi;
const handPropagation = (source: string) => [...new Set(source.match(HAND_PROPAGATION) ?? [])];

describe("--apps otel: the seeds' services instrumented by the OpenTelemetry SDK (no propagation code)", () => {
  it("the apps' source forwards nothing by hand (the check flags the mock app, which copies baggage)", () => {
    const app = readFileSync(join(ROOT, "demo/otel/app.cjs"), "utf8");
    assert.deepEqual(handPropagation(app), []);
    // The only header it sets on its upstream call is the target's host.
    assert.deepEqual([...app.matchAll(/headers:\s*(\{[^}]*\})/g)].map((m) => m[1]), ["{ host: target.host }"]);
    assert.ok(handPropagation(readFileSync(join(ROOT, "demo/mock/server.mjs"), "utf8")).includes("baggage"));
  });

  it("each app runs as the Operator's injection runs it: NODE_OPTIONS=--require the preload, OTEL_* from the chosen set", () => {
    const env = operatorEnv({ workload: "mockb-v3", service: "mockb", version: "v3", proxy: "http://127.0.0.1:1", propagate: "", routed: true }, ["jaeger"]);
    assert.match(env.NODE_OPTIONS, /^--require ".*\/demo\/otel\/preload\.cjs"$/);
    assert.equal(env.OTEL_PROPAGATORS, "jaeger");
    assert.equal(env.OTEL_SERVICE_NAME, "mockb");
    assert.equal(env.OTEL_TRACES_SAMPLER, "parentbased_always_on");
    assert.ok(env.OTEL_EXPORTER_OTLP_ENDPOINT);
    assert.deepEqual(DEFAULT_PROPAGATORS, ["tracecontext", "baggage"]);
  });

  it("with lane-tag and tracecontext,baggage (the Operator's default): every lane holds every hop", async () => {
    const { results, failures } = await run(true);
    assert.equal(results.length, 30);
    assert.deepEqual(failures, []);
    assert.deepEqual(check(spec, results, { filter: true }), []);
    assert.deepEqual(chains(results, "s2"), ["v2→v1→v2"]);
    assert.deepEqual(chains(results, "s3"), ["v1→v3→v1"]);
    assert.equal(liveApps(), 0, "every app process stopped with the mesh");
  });

  it("without lane-tag the same apps lose every lane after the first hop: they do not forward the routing header", async () => {
    const { results, failures } = await run(false);
    assert.deepEqual(failures, []);
    assert.deepEqual(chains(results, "s2"), ["v2→v1→v1"]);
    assert.deepEqual(chains(results, "s3"), ["v1→v1→v1"]);
    assert.notDeepEqual(check(spec, results, { filter: true }), []);
  });

  it("startup is bounded: apps that do not listen in time fail the mesh, and none is left running", async () => {
    await assert.rejects(startMesh(spec, { apps: otelApps(DEFAULT_PROPAGATORS, 1) }), /the otel app mock[abc]-v\d did not listen within 1 ms/);
    assert.equal(liveApps(), 0);
    assert.throws(() => otelApps(["tracecontext", "w3c"]), /unknown propagator "w3c": one of tracecontext, baggage, b3, b3multi, jaeger, xray, ottrace, none/);
  });

  it("the command refuses what --apps otel cannot run, naming it (exit 2, nothing started)", () => {
    const demo = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "demo/demo.ts"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 20_000 });
    const cases: [string[], RegExp][] = [
      [["--propagators", "jaeger"], /^--propagators applies only to --apps otel/],
      [["--apps", "otel", "--propagators", "tracecontext,w3c"], /^--propagators "tracecontext,w3c": unknown "w3c"; a comma-separated list of tracecontext, baggage, b3, b3multi, jaeger, xray, ottrace, none/],
      [["--apps", "otel", "--mode", "grpc"], /^--apps otel applies to --mode baggage and correlation \(the HTTP chain\), not grpc/],
      [["--gateway-trace", "w3c", "--mode", "websocket"], /^--gateway-trace applies to the HTTP chain, not --mode websocket/],
      // The trace's format is required: a flag alone is refused, naming the option.
      [["--apps", "otel", "--gateway-trace"], /^--gateway-trace needs a value/],
      [["--gateway-trace", "zipkin"], /^--gateway-trace needs one of w3c, b3, xray, got "zipkin"/],
      [["--mode", "correlation", "--gateway-trace", "b3"], /^--gateway-trace b3 with --mode correlation needs --apps otel: the mock apps forward only W3C traceparent/],
      [["--drop", "mockb", "--gateway-trace", "xray"], /^--gateway-trace xray with --drop needs --apps otel: the mock apps forward only W3C traceparent, so an X-Ray trace would not reach the next hop/],
    ];
    for (const [args, message] of cases) {
      const r = demo(...args);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });
});

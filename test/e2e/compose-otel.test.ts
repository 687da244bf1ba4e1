// The HTTP docker-compose variant's apps, run here without Docker (compose-run.ts): each app service's command
// and environment read from the generated demo/docker-compose.yml (app.cjs under the OpenTelemetry SDK,
// injected as the Operator does), started as child processes behind the Docker-less mesh.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { loadSpec } from "../../deploy/lib/spec.ts";
import { HERE, localFiles } from "../../demo/generate.ts";
import { OUTBOUND_PORT } from "../../demo/core/builders.ts";
import type { Mesh } from "../../demo/demo.ts";
import type { AppRunner } from "../../demo/mesh.ts";
import { sendRequests } from "../../demo/core/client.ts";
import { workloads, upstreamOf, SERVICE_PORT } from "../../demo/core/topology.ts";
import { liveApps, DEFAULT_PROPAGATORS } from "../../demo/otel/apps.ts";
import { laneOutcome, checkOutcome, type Outcome } from "../../demo/otel/expectations.ts";
import { variants, otelComposeProblems } from "../../demo/e2e-envoy.ts";
import { ROOT } from "../support/helpers.ts";
import { composeVariant, chains, withComposeMesh } from "./compose-run.ts";

const spec = loadSpec(join(ROOT, "deploy/lanes.example.yaml"));
const { compose, appServices, composeApps, composePropagators, assertInstrumented } = composeVariant(HERE);
const T = { timeout: 120_000 };

/** The mesh with the filters as the compose file's Envoy configs configure them, `apps` as its apps. */
const withMesh = <R>(withFilter: boolean, apps: AppRunner, body: (m: Mesh) => Promise<R>) => withComposeMesh(spec, { withFilter, apps }, body);

describe("the HTTP compose variant's apps: app.cjs under the OpenTelemetry SDK, as the Operator injects it", () => {
  it("each of the nine runs app.cjs with NODE_OPTIONS=--require the preload, the spec's propagators, otel/ and node_modules mounted read-only", () => {
    const apps = appServices();
    assert.equal(apps.length, 9);
    assert.deepEqual(composePropagators(), spec.otel?.propagators ?? DEFAULT_PROPAGATORS);
    for (const [name, s] of apps) {
      const w = workloads(spec).find((x) => `${x.name}-app` === name)!;
      assert.ok(w, name);
      assert.equal(s.image, "node:24-alpine");
      assertInstrumented(name, s);
      assert.equal(s.environment.OTEL_SERVICE_NAME, w.service);
      assert.deepEqual([s.environment.app, s.environment.version], [w.service, w.version]);
      assert.equal(s.environment.EXIT_WITH_STDIN, undefined, "a container's stdin is closed: the app would exit at once");
      const up = upstreamOf(spec, w.service);
      assert.equal(s.environment.upstream_url, up && `http://${up}:${SERVICE_PORT}/`);
      // With an upstream, through the sidecar; no app forwards the routing header or copies baggage itself.
      assert.equal(s.environment.HTTP_PROXY, up && `http://127.0.0.1:${OUTBOUND_PORT}`);
    }
    assert.equal(laneOutcome(composePropagators()), "kept", "the compose apps' propagators carry the lane without trace correlation");
  });

  it("another propagator set is the spec's otel.propagators: the apps' OTEL_PROPAGATORS and the filters' carriers follow it together", () => {
    const files = localFiles({ ...spec, otel: { name: "lane-tag-test", propagators: ["tracecontext", "jaeger"] } });
    const apps = Object.entries<any>(parse(files["docker-compose.yml"]).services).filter(([n]) => n.endsWith("-app"));
    assert.deepEqual([...new Set(apps.map(([, s]) => s.environment.OTEL_PROPAGATORS))], ["tracecontext,jaeger"]);
    const sidecar = parse(files["envoy/mockb-v1.yaml"]);
    for (const l of sidecar.static_resources.listeners) {
      const wasm = l.filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config;
      assert.deepEqual(JSON.parse(wasm.configuration.value).carriers, ["jaeger"], l.name);
    }
    // The committed files: no otel section, so the Operator's default and the filter's default carrier (baggage).
    assert.equal(spec.otel, undefined);
  });

  it("behind the Docker-less mesh with lane-tag: every lane holds end to end (s2 → mocka v2, mockb v1 fallback, mockc v2), and e2e:envoy's http check passes", T, async () => {
    const outcome: Outcome = laneOutcome(composePropagators());
    await withMesh(true, composeApps(), async (mesh) => {
      const results = await sendRequests(mesh.gatewayUrl, 60, { seed: 1, concurrency: 8 });
      assert.deepEqual(checkOutcome(spec, results, outcome), []);
      assert.deepEqual(chains(results, "s2"), ["mocka v2 → mockb v1 → mockc v2"]);
      assert.deepEqual(chains(results, "s3"), ["mocka v1 → mockb v3 → mockc v1"]);
      assert.deepEqual(chains(results, "s1"), ["mocka v1 → mockb v1 → mockc v1"]);
      // The e2e:envoy http variant's own checks (lane shares, chains, the hop trace through the apps' baggage).
      const http = variants({ http: mesh.gatewayUrl, websocket: "", grpc: "", stacked: "" }, { requests: 200, readyMs: 20_000, settleMs: 0, print: () => {} }).http;
      assert.deepEqual(await http.check("envoy"), []);
    });
    assert.equal(liveApps(), 0, "every app process stopped with the mesh");
  });

  it("without lane-tag (envoy-nofilter) the same apps lose every lane after the first hop, as e2e:envoy expects", T, async () => {
    await withMesh(false, composeApps(), async (mesh) => {
      const results = await sendRequests(mesh.gatewayUrl, 40, { seed: 1, concurrency: 8 });
      assert.deepEqual(checkOutcome(spec, results, "lost"), []);
      const http = variants({ http: mesh.gatewayUrl, websocket: "", grpc: "", stacked: "" }, { requests: 60, readyMs: 20_000, settleMs: 0, print: () => {} }).http;
      assert.deepEqual(await http.check("envoy-nofilter"), []);
    });
  });

  it("the lanes hold only through the SDK: the compose apps without NODE_OPTIONS forward nothing, and the checks fail", T, async () => {
    await withMesh(true, composeApps((env) => { delete env.NODE_OPTIONS; }), async (mesh) => {
      const results = await sendRequests(mesh.gatewayUrl, 40, { seed: 1, concurrency: 8 });
      assert.notDeepEqual(checkOutcome(spec, results, "kept"), []);
      assert.deepEqual(checkOutcome(spec, results, "lost"), []);
      assert.deepEqual(chains(results, "s2"), ["mocka v2 → mockb v1 → mockc v1"]);
    });
  });

  it("e2e:envoy's http variant refuses, before Docker, a compose file whose apps cannot run as its checks expect", () => {
    assert.deepEqual(otelComposeProblems(), []);
    const dir = mkdtempSync(join(tmpdir(), "lane-tag-compose-"));
    try {
      // Elsewhere, ../node_modules holds no SDK; and b3 alone carries no lane.
      const copy = structuredClone(compose);
      copy.services["mockb-v3-app"].environment.OTEL_PROPAGATORS = "b3";
      writeFileSync(join(dir, "docker-compose.yml"), stringify(copy));
      const problems = otelComposeProblems(join(dir, "docker-compose.yml"));
      assert.equal(problems.filter((p) => /no @opentelemetry\/sdk-node in the node_modules it mounts \(\.\.\/node_modules:\/node_modules:ro\): run npm install/.test(p)).length, 9, problems.join("\n"));
      assert.deepEqual(problems.filter((p) => /OTEL_PROPAGATORS/.test(p)), ["mockb-v3-app: OTEL_PROPAGATORS=b3 leaves the lanes lost even with lane-tag; the checks expect them kept"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

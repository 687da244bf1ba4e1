// The stacked docker-compose variant's apps (demo/stacked/docker-compose.yml), run here without Docker
// (compose-run.ts): app.cjs under the OpenTelemetry SDK, injected as the Operator does, behind the Docker-less
// stacked mesh (feat-x -> release-2 -> s1). The lanes fall back up their chains only while the SDK carries
// the lane's baggage from each app's request to its call.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadSpec } from "../../deploy/lib/spec.ts";
import { OUTBOUND_PORT, APP_PORT } from "../../demo/core/builders.ts";
import type { AppRunner, Mesh } from "../../demo/mesh.ts";
import { sendRequests } from "../../demo/core/client.ts";
import { deployments, upstreamOf, SERVICE_PORT } from "../../demo/core/topology.ts";
import { STACKED_DIR, STACKED_SPEC } from "../../demo/stacked/spec.ts";
import { liveApps, DEFAULT_PROPAGATORS } from "../../demo/otel/apps.ts";
import { laneOutcome, checkOutcome } from "../../demo/otel/expectations.ts";
import { variants, otelComposeProblems } from "../../demo/e2e-envoy.ts";
import { ROOT } from "../support/helpers.ts";
import { composeVariant, chains, withComposeMesh } from "./compose-run.ts";

const stacked = loadSpec(STACKED_SPEC);
const example = loadSpec(join(ROOT, "deploy/lanes.example.yaml"));
const { appServices, composeApps, composePropagators, assertInstrumented } = composeVariant(STACKED_DIR);
const T = { timeout: 120_000 };

/** The Docker-less stacked mesh (the mode loads deploy/lanes.stacked.yaml) with the compose apps. */
const withMesh = <R>(withFilter: boolean, apps: AppRunner, body: (m: Mesh) => Promise<R>) => withComposeMesh(example, { withFilter, apps, mode: "stacked" }, body);

/** e2e:envoy's stacked variant's own checks (lane shares, chains, the hop trace with the filter) against the mesh. */
const e2eStacked = (mesh: Mesh, requests: number, readyMs = 20_000) =>
  variants({ http: "", websocket: "", grpc: "", stacked: mesh.gatewayUrl }, { requests, readyMs, settleMs: 0, print: () => {} }).stacked;

describe("the stacked compose variant's apps: app.cjs under the OpenTelemetry SDK, as the Operator injects it", () => {
  it("each of the six versions the lanes list runs app.cjs with NODE_OPTIONS=--require the preload, otel/ and node_modules mounted read-only", () => {
    const apps = appServices();
    assert.deepEqual(apps.map(([name]) => name), deployments(stacked).map((w) => `${w.name}-app`));
    assert.deepEqual(composePropagators(), stacked.otel?.propagators ?? DEFAULT_PROPAGATORS);
    for (const [name, s] of apps) {
      const w = deployments(stacked).find((x) => `${x.name}-app` === name)!;
      assert.equal(s.network_mode, `service:${w.name}`);
      assertInstrumented(name, s);
      assert.deepEqual([s.environment.OTEL_SERVICE_NAME, s.environment.app, s.environment.version], [w.service, w.service, w.version]);
      assert.match(s.environment.OTEL_RESOURCE_ATTRIBUTES, new RegExp(`service\\.version=${w.version}`));
      assert.equal(s.environment.PORT, String(APP_PORT));
      const up = upstreamOf(stacked, w.service);
      assert.equal(s.environment.upstream_url, up && `http://${up}:${SERVICE_PORT}/`);
      assert.equal(s.environment.HTTP_PROXY, up && `http://127.0.0.1:${OUTBOUND_PORT}`);
    }
    assert.equal(laneOutcome(composePropagators()), "kept");
    // What e2e:envoy's http variant checks before Docker holds for this file too.
    assert.deepEqual(otelComposeProblems(join(STACKED_DIR, "docker-compose.yml")), []);
    assert.deepEqual(variants().stacked.precheck?.(), [], "e2e:envoy checks the stacked apps' SDK before Docker runs them");
  });

  it("behind the Docker-less stacked mesh with lane-tag: feat-x reaches mocka v1, mockb v2 (release-2), mockc v3; e2e:envoy's stacked check passes", T, async () => {
    await withMesh(true, composeApps(), async (mesh) => {
      const results = await sendRequests(mesh.gatewayUrl, 60, { seed: 1, concurrency: 8 });
      assert.deepEqual(checkOutcome(stacked, results, "kept"), []);
      assert.deepEqual(chains(results, "feat-x"), ["mocka v1 → mockb v2 → mockc v3"]);
      assert.deepEqual(chains(results, "release-2"), ["mocka v1 → mockb v2 → mockc v2"]);
      assert.deepEqual(chains(results, "s1"), ["mocka v1 → mockb v1 → mockc v1"]);
      assert.deepEqual(await e2eStacked(mesh, 200).check("envoy"), []);
    });
    assert.equal(liveApps(), 0, "every app process stopped with the mesh");
  });

  it("without lane-tag (envoy-nofilter) the same apps reach only the baseline after mocka, as e2e:envoy expects", T, async () => {
    await withMesh(false, composeApps(), async (mesh) => {
      const results = await sendRequests(mesh.gatewayUrl, 40, { seed: 1, concurrency: 8 });
      assert.deepEqual(checkOutcome(stacked, results, "lost"), []);
      assert.deepEqual(await e2eStacked(mesh, 60).check("envoy-nofilter"), []);
    });
  });

  it("the stacked lanes hold only through the SDK: the compose apps without NODE_OPTIONS forward nothing, and the checks fail", T, async () => {
    await withMesh(true, composeApps((env) => { delete env.NODE_OPTIONS; }), async (mesh) => {
      const results = await sendRequests(mesh.gatewayUrl, 40, { seed: 1, concurrency: 8 });
      assert.notDeepEqual(checkOutcome(stacked, results, "kept"), []);
      assert.deepEqual(checkOutcome(stacked, results, "lost"), []);
      assert.deepEqual(chains(results, "feat-x"), ["mocka v1 → mockb v1 → mockc v1"]);
      // e2e:envoy's readiness check never sees feat-x's and release-2's chains.
      await assert.rejects(e2eStacked(mesh, 60, 2000).check("envoy"), /lanes release-2, feat-x did not answer their expected chain/);
    });
  });
});

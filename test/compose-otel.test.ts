// The HTTP docker-compose variant's apps, run here without Docker: each app service's command and environment
// read from the generated deploy/local/docker-compose.yml (app.cjs under the OpenTelemetry SDK, injected as the
// Operator does), started as child processes on 127.0.0.1 behind the Docker-less mesh (the emulator running
// the built module). Only what exists in a container alone is mapped: the mounted paths to the folders they
// mount, the app's port (any), and the sidecar's outbound listener (HTTP_PROXY) to the emulated sidecar's.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve as resolvePath } from "node:path";
import { parse, stringify } from "yaml";
import { loadSpec } from "../deploy/lib/spec.ts";
import { HERE, OTEL_APP_DIR, OTEL_NODE_MODULES, localFiles } from "../deploy/local/generate.ts";
import { LOCAL_OBSERVE, OUTBOUND_PORT, APP_PORT } from "../deploy/local/builders.ts";
import { startMesh, type Mesh } from "../deploy/local/demo.ts";
import type { AppRunner } from "../deploy/local/mesh.ts";
import { sendRequests, type Result } from "../deploy/local/client.ts";
import { workloads, upstreamOf, SERVICE_PORT } from "../deploy/local/topology.ts";
import { spawnApp, settled, liveApps, DEFAULT_PROPAGATORS } from "../deploy/local/otel/apps.ts";
import { laneOutcome, checkOutcome, type Outcome } from "../deploy/local/otel/expectations.ts";
import { parseNames } from "../deploy/local/otel/propagators.cjs";
import { variants, otelComposeProblems } from "../deploy/local/e2e-envoy.ts";
import { ROOT } from "./helpers.ts";

const spec = loadSpec(join(ROOT, "deploy/lanes.example.yaml"));
const compose = parse(readFileSync(join(HERE, "docker-compose.yml"), "utf8"));
const appServices = () => Object.entries<any>(compose.services).filter(([name]) => name.endsWith("-app"));
const T = { timeout: 120_000 };

/** "HOST:CONTAINER[:ro]" -> [host path (absolute), container path]. */
function mount(volume: string): [string, string] {
  const [host, container] = volume.split(":");
  return [resolvePath(HERE, host), container];
}

/** A compose app's command and environment with its container paths replaced by the host folders they mount. */
function onHost(service: any): { args: string[]; env: Record<string, string> } {
  const mounts = (service.volumes as string[]).map(mount);
  const local = (s: string) => mounts.reduce((t, [host, container]) => t.replaceAll(`${container}/`, `${host}/`), s);
  assert.equal(service.command[0], "node");
  return { args: service.command.slice(1).map(local), env: Object.fromEntries(Object.entries<string>(service.environment).map(([k, v]) => [k, local(String(v))])) };
}

/**
 * An AppRunner that starts every workload's compose app (as compose starts all of them) with the compose
 * environment, `change` applied (to break it on purpose); any port, HTTP_PROXY the emulated sidecar's.
 */
function composeApps(change: (env: Record<string, string>) => void = () => {}): AppRunner {
  return async (all) => {
    const started = await Promise.allSettled(all.map((a) => {
      const { args, env } = onHost(compose.services[`${a.workload}-app`]);
      // The container's app listens on APP_PORT and calls out through 127.0.0.1:OUTBOUND_PORT in its sidecar's namespace.
      assert.equal(env.PORT, String(APP_PORT));
      if (env.HTTP_PROXY !== undefined) {
        assert.equal(env.HTTP_PROXY, `http://127.0.0.1:${OUTBOUND_PORT}`);
        assert.equal(env.upstream_url, a.upstreamUrl, `${a.workload}: the mesh's apps call the same upstream`);
        env.HTTP_PROXY = a.proxy;
      }
      change(env);
      // EXIT_WITH_STDIN: a child leaves with this process, however it ends (a container has no parent to leave with).
      return spawnApp(`the compose app ${a.workload}`, args, { ...env, PORT: "0", EXIT_WITH_STDIN: "1" }, 30_000);
    }));
    return settled(all, started);
  };
}

/** The compose apps' OTEL_PROPAGATORS, which must be one value for all. */
function composePropagators(): string[] {
  const values = new Set(appServices().map(([, s]) => s.environment.OTEL_PROPAGATORS));
  assert.equal(values.size, 1, [...values].join(" | "));
  return parseNames([...values][0]);
}

async function withMesh<T>(withFilter: boolean, apps: AppRunner, body: (m: Mesh) => Promise<T>): Promise<T> {
  // The filters as the compose file's Envoy configs configure them: the spec's, with the local observe switches.
  const mesh = await startMesh(spec, { withFilter, observe: LOCAL_OBSERVE, apps });
  try {
    return await body(mesh);
  } finally {
    await mesh.close();
  }
}

const chains = (results: Result[], lane: string) => [...new Set(results.filter((r) => r.lane === lane).map((r) => r.hops.map((h) => `${h.app} ${h.version}`).join(" → ")))];

describe("the HTTP compose variant's apps: app.cjs under the OpenTelemetry SDK, as the Operator injects it", () => {
  it("each of the nine runs app.cjs with NODE_OPTIONS=--require the preload, the spec's propagators, otel/ and node_modules mounted read-only", () => {
    const apps = appServices();
    assert.equal(apps.length, 9);
    assert.deepEqual(composePropagators(), spec.otel?.propagators ?? DEFAULT_PROPAGATORS);
    for (const [name, s] of apps) {
      const w = workloads(spec).find((x) => `${x.name}-app` === name)!;
      assert.ok(w, name);
      assert.equal(s.image, "node:24-alpine");
      assert.deepEqual(s.volumes.map(mount), [[join(ROOT, "deploy/local/otel"), OTEL_APP_DIR], [join(ROOT, "node_modules"), OTEL_NODE_MODULES]], name);
      assert.ok(s.volumes.every((v: string) => v.endsWith(":ro")), name);
      assert.deepEqual(s.command, ["node", `${OTEL_APP_DIR}/app.cjs`]);
      assert.equal(s.environment.NODE_OPTIONS, `--require "${OTEL_APP_DIR}/preload.cjs"`);
      const { args, env } = onHost(s);
      for (const f of [args[0], JSON.parse(env.NODE_OPTIONS.slice("--require ".length))]) assert.ok(existsSync(f), f);
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
      // Elsewhere, ../../node_modules holds no SDK; and b3 alone carries no lane.
      const copy = structuredClone(compose);
      copy.services["mockb-v3-app"].environment.OTEL_PROPAGATORS = "b3";
      writeFileSync(join(dir, "docker-compose.yml"), stringify(copy));
      const problems = otelComposeProblems(join(dir, "docker-compose.yml"));
      assert.equal(problems.filter((p) => /no @opentelemetry\/sdk-node in the node_modules it mounts \(\.\.\/\.\.\/node_modules:\/node_modules:ro\): run npm install/.test(p)).length, 9, problems.join("\n"));
      assert.deepEqual(problems.filter((p) => /OTEL_PROPAGATORS/.test(p)), ["mockb-v3-app: OTEL_PROPAGATORS=b3 leaves the lanes lost even with lane-tag; the checks expect them kept"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Runs a compose variant's apps without Docker: each app service's command and environment read from its
// generated docker-compose.yml, started as child processes on 127.0.0.1 behind a Docker-less mesh (the
// emulator running the built module). Only what exists in a container alone is mapped: the mounted paths to
// the folders they mount, the app's port (any), its HOST (the container's own network: 127.0.0.1 here), and
// where it calls out (HTTP_PROXY: the sidecar's outbound listener, or the waypoint) to the emulated mesh's.
// Shared by the HTTP, the stacked and the ambient variants' tests.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve as resolvePath } from "node:path";
import { parse } from "yaml";
import type { LanesSpec } from "../../deploy/lib/spec.ts";
import { OUTBOUND_PORT, APP_PORT, LOCAL_OBSERVE } from "../../demo/core/builders.ts";
import { startMesh, type AppRunner, type Mesh, type MeshOptions } from "../../demo/mesh.ts";
import type { Result } from "../../demo/core/client.ts";
import { spawnApp, settled } from "../../demo/otel/apps.ts";
import { parseNames } from "../../demo/otel/propagators.cjs";
import { OTEL_APP_DIR, OTEL_NODE_MODULES } from "../../demo/generate.ts";
import { ROOT as ROOT_DIR } from "../support/helpers.ts";

export type EnvChange = (env: Record<string, string>) => void;

/** How a variant runs its apps: the compose service of a workload's app, and what its app is given there. */
export interface AppLayout {
  /** The compose service that runs workload `w`'s app. */
  service(w: string): string;
  /** Whether compose service `name` is an app. */
  isApp(name: string): boolean;
  /** The HTTP_PROXY the compose file gives an app with an upstream, its PORT, and its HOST (none: app.cjs's default). */
  proxy: string; port: number; host?: string;
}

/** The sidecar variants': `<workload>-app` in its sidecar's network namespace, calling out through 127.0.0.1:15001. */
export const SIDECAR_APPS: AppLayout = { service: (w) => `${w}-app`, isApp: (n) => n.endsWith("-app"), proxy: `http://127.0.0.1:${OUTBOUND_PORT}`, port: APP_PORT };

/** A compose variant's app services, read from `dir`/docker-compose.yml. */
export function composeVariant(dir: string, layout: AppLayout = SIDECAR_APPS) {
  const compose = parse(readFileSync(join(dir, "docker-compose.yml"), "utf8"));
  const appServices = (): [string, any][] => Object.entries<any>(compose.services).filter(([name]) => layout.isApp(name));

  /** "HOST:CONTAINER[:ro]" -> [host path (absolute), container path]. */
  const mount = (volume: string): [string, string] => {
    const [host, container] = volume.split(":");
    return [resolvePath(dir, host), container];
  };

  /** A compose app's command and environment with its container paths replaced by the host folders they mount. */
  const onHost = (service: any): { args: string[]; env: Record<string, string> } => {
    const mounts = (service.volumes as string[]).map(mount);
    const local = (s: string) => mounts.reduce((t, [host, container]) => t.replaceAll(`${container}/`, `${host}/`), s);
    assert.equal(service.command[0], "node");
    return { args: service.command.slice(1).map(local), env: Object.fromEntries(Object.entries<string>(service.environment).map(([k, v]) => [k, local(String(v))])) };
  };

  /**
   * An AppRunner that starts every compose app the mesh routes to (as compose starts all of them) with the
   * compose environment, `change` applied (to break it on purpose); any port, HTTP_PROXY the emulated mesh's
   * (sidecar or ztunnel). A workload the compose file does not run must be one no lane reaches.
   */
  const composeApps = (change: EnvChange = () => {}): AppRunner => async (all) => {
    const apps = all.filter((a) => {
      const runs = layout.service(a.workload) in compose.services;
      assert.ok(runs || !a.routed, `${a.workload}: the mesh routes to it, the compose file runs no app for it`);
      return runs;
    });
    const started = await Promise.allSettled(apps.map((a) => {
      const { args, env } = onHost(compose.services[layout.service(a.workload)]);
      // The container's app listens on the layout's port and host and calls out through its proxy.
      assert.equal(env.PORT, String(layout.port));
      assert.equal(env.HOST, layout.host, `${a.workload}: HOST`);
      // A container's network is its own; here 0.0.0.0 would listen on the machine's.
      if (env.HOST !== undefined) env.HOST = "127.0.0.1";
      if (env.HTTP_PROXY !== undefined) {
        assert.equal(env.HTTP_PROXY, layout.proxy);
        assert.equal(env.upstream_url, a.upstreamUrl, `${a.workload}: the mesh's apps call the same upstream`);
        env.HTTP_PROXY = a.proxy;
      }
      change(env);
      // EXIT_WITH_STDIN: a child leaves with this process, however it ends (a container has no parent to leave with).
      return spawnApp(`the compose app ${a.workload}`, args, { ...env, PORT: "0", EXIT_WITH_STDIN: "1" }, 30_000);
    }));
    return settled(apps, started);
  };

  /** The compose apps' OTEL_PROPAGATORS, which must be one value for all. */
  const composePropagators = (): string[] => {
    const values = new Set(appServices().map(([, s]) => s.environment.OTEL_PROPAGATORS));
    assert.equal(values.size, 1, [...values].join(" | "));
    return parseNames([...values][0]);
  };

  /**
   * Compose app service `s` (`name`) runs app.cjs as the Operator's injection runs it: otel/ and the clone's
   * node_modules mounted read-only, NODE_OPTIONS requiring the preload, both files there on the host.
   */
  const assertInstrumented = (name: string, s: any) => {
    assert.deepEqual(s.volumes.map(mount), [[join(ROOT_DIR, "demo/otel"), OTEL_APP_DIR], [join(ROOT_DIR, "node_modules"), OTEL_NODE_MODULES]], name);
    assert.ok(s.volumes.every((v: string) => v.endsWith(":ro")), name);
    assert.deepEqual(s.command, ["node", `${OTEL_APP_DIR}/app.cjs`], name);
    assert.equal(s.environment.NODE_OPTIONS, `--require "${OTEL_APP_DIR}/preload.cjs"`, name);
    const { args, env } = onHost(s);
    for (const f of [args[0], JSON.parse(env.NODE_OPTIONS.slice("--require ".length))]) assert.ok(existsSync(f), f);
  };

  return { compose, appServices, mount, onHost, composeApps, composePropagators, assertInstrumented };
}

/** The distinct chains (app and version per hop) of the requests in `lane`. */
export const chains = (results: Result[], lane: string) => [...new Set(results.filter((r) => r.lane === lane).map((r) => r.hops.map((h) => `${h.app} ${h.version}`).join(" → ")))];

/**
 * Runs `body` against the Docker-less mesh (its `mode`: the HTTP chain, or "stacked"; `start`: the sidecar
 * mesh, or the ambient one) with the filters as the compose files' Envoy configs configure them: the spec's,
 * with the local observe switches; closed after.
 */
export async function withComposeMesh<R>(spec: LanesSpec, opts: Pick<MeshOptions, "withFilter" | "apps" | "mode">, body: (m: Mesh) => Promise<R>, start: (s: LanesSpec, o: MeshOptions) => Promise<Mesh> = startMesh): Promise<R> {
  const mesh = await start(spec, { ...opts, observe: LOCAL_OBSERVE });
  try {
    return await body(mesh);
  } finally {
    await mesh.close();
  }
}

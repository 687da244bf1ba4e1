// npm run e2e:envoy [-- --variant http,websocket,grpc,stacked,ambient]: the docker-compose variants with real
// Envoy. For each (all five by default) it brings the project up, waits until the gateway answers as the lanes say, runs
// the Docker-less demo's client and checks against it, then does the same with the filter removed
// (envoy-nofilter); dumps the containers' logs on failure; always tears down. Without a reachable Docker
// engine it says so and exits 0 (skipped).
//   http       1000 requests (demo/docker-compose.yml: apps with no propagation code, instrumented by
//              the OpenTelemetry SDK from the clone's node_modules, as the Operator injects it)
//   websocket  the seed's socket.io clients, naming their lane by header, cookie and query (websocket/)
//   grpc       1000 gRPC calls over h2c (grpc/)
//   stacked    1000 requests through stacked lanes: feat-x -> release-2 -> s1 (stacked/)
//   ambient    1000 requests through one waypoint and no sidecars, routed by the generated HTTPRoutes (ambient/)
import { ensureBuilt } from "../deploy/lib/build.ts";
import { parseCommand, readCommand, someOf, type Args } from "../deploy/lib/cli.ts";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import * as grpc from "@grpc/grpc-js";
import { loadSpec } from "../deploy/lib/spec.ts";
import { gatewayWeights } from "./core/topology.ts";
import { GATEWAY_PORT } from "./core/builders.ts";
import { httpCall, runRequests, summarize, formatSummary, check, checkTraces, waitForLanes, waitForAnyChain, type Call } from "./core/client.ts";
import { DEBUG_HEADER } from "../deploy/lib/observe.ts";
import { grpcCall } from "./grpc/client.ts";
import { runClients, report, waitForWebSocket, WS_SPEC, LANE_SOURCES } from "./websocket/client.ts";
import { HERE, SPEC, OTEL_NODE_MODULES } from "./generate.ts";
import { WS_DIR, WS_GATEWAY_PORT } from "./websocket/generate.ts";
import { GRPC_DIR, GRPC_GATEWAY_PORT } from "./grpc/generate.ts";
import { STACKED_DIR, STACKED_SPEC, STACKED_GATEWAY_PORT } from "./stacked/spec.ts";
import { AMBIENT_DIR, AMBIENT_GATEWAY_PORT } from "./ambient/generate.ts";
import { laneOutcome } from "./otel/expectations.ts";
import { parseNames } from "./otel/propagators.cjs";

const REQUESTS = Number(process.env.E2E_REQUESTS ?? 1000);
type Config = "envoy" | "envoy-nofilter";

export interface Variant {
  compose: string;
  /** What keeps the project from running as its checks expect, found before it is brought up. */
  precheck?(): string[];
  /** Waits until the project brought up with `config` is ready, runs the client; the checks that failed. */
  check(config: Config): Promise<string[]>;
}

/** Where each variant's gateway is: the compose projects' published ports. */
/** `ambient`, when absent, is `http`'s: the same spec and the same checks, so a mesh of the HTTP chain stands for it. */
export interface Gateways { http: string; websocket: string; grpc: string; stacked: string; ambient?: string }
const COMPOSE_GATEWAYS: Gateways = {
  http: `http://127.0.0.1:${GATEWAY_PORT}/mock`, websocket: `http://127.0.0.1:${WS_GATEWAY_PORT}`, grpc: `127.0.0.1:${GRPC_GATEWAY_PORT}`,
  stacked: `http://127.0.0.1:${STACKED_GATEWAY_PORT}/mock`, ambient: `http://127.0.0.1:${AMBIENT_GATEWAY_PORT}/mock`,
};
interface Tuning { requests?: number; readyMs?: number; settleMs?: number; print?: (s: string) => void }

/** The three-lane chain of `specFile` through `connect()`'s calls: lane shares and chains as the Docker-less demo checks them. */
function chainVariant(compose: string, connect: () => { call: Call; close(): void }, { requests = REQUESTS, readyMs = 120_000, settleMs = 6000, print = console.log }: Tuning, specFile = SPEC, traced = false): Variant {
  return {
    compose,
    async check(config) {
      const spec = loadSpec(specFile);
      const withFilter = config === "envoy";
      const { call, close } = connect();
      try {
        await (withFilter ? waitForLanes(call, spec, readyMs) : waitForAnyChain(call, spec, readyMs, settleMs));
        const results = await runRequests(call, requests, { seed: 1, concurrency: 16 });
        print(formatSummary(spec, summarize(spec, results)));
        const failures = check(spec, results, { filter: withFilter, weights: withFilter ? gatewayWeights(spec) : undefined });
        if (withFilter && traced) {
          // The hop trace through real Envoy: every workload's entry, in call order, fallbacks named.
          const tracedResults = await runRequests(call, 30, { seed: 2, concurrency: 4, headers: { [DEBUG_HEADER]: "1" } });
          failures.push(...checkTraces(spec, tracedResults));
        }
        return failures;
      } finally {
        close();
      }
    },
  };
}

/** The seed's socket.io clients, naming their lane by header, cookie and query (the first only without the filter). */
function websocketVariant(compose: string, url: string, { readyMs = 120_000, print = console.log }: Tuning): Variant {
  return {
    compose,
    async check(config) {
      const spec = loadSpec(WS_SPEC);
      const withFilter = config === "envoy";
      // wsk counts acks since it started (the readiness probe's too): each run counts its own.
      const acks = async () => Number(await (await fetch(`${url}/acks`)).text());
      await waitForWebSocket(url, spec, withFilter, readyMs);
      const failures: string[] = [];
      for (const laneFrom of withFilter ? LANE_SOURCES : (["header"] as const)) {
        const before = await acks();
        const run = await runClients(url, spec, { withFilter, laneFrom, quiet: true }, async () => (await acks()) - before, print);
        report(run, "Envoy in docker-compose", print);
        failures.push(...run.failures.map((f) => `lane named by ${laneFrom}: ${f}`));
      }
      return failures;
    },
  };
}

/**
 * The HTTP compose file's SDK-instrumented apps: they need the OpenTelemetry packages in the node_modules they
 * mount, and propagators that carry the lane without trace correlation (the checks expect every lane kept).
 */
export function otelComposeProblems(file = join(HERE, "docker-compose.yml")): string[] {
  // The instrumented apps: the services the Operator's injection is set on (the proxies have no NODE_OPTIONS).
  const apps = Object.entries<any>(parse(readFileSync(file, "utf8")).services).filter(([, s]) => s.environment?.NODE_OPTIONS);
  const out: string[] = [];
  for (const [name, s] of apps) {
    const modules = (s.volumes as string[]).find((v) => v.split(":")[1] === OTEL_NODE_MODULES);
    if (!modules || !existsSync(join(dirname(file), modules.split(":")[0], "@opentelemetry/sdk-node"))) out.push(`${name}: no @opentelemetry/sdk-node in the node_modules it mounts (${modules ?? "none"}): run npm install`);
    const outcome = laneOutcome(parseNames(s.environment.OTEL_PROPAGATORS));
    if (outcome !== "kept") out.push(`${name}: OTEL_PROPAGATORS=${s.environment.OTEL_PROPAGATORS} leaves the lanes ${outcome} even with lane-tag; the checks expect them kept`);
  }
  return out;
}

/** The variants, checking the gateways at `g` (the compose projects' by default; the tests pass the Docker-less meshes'). */
export function variants(g: Gateways = COMPOSE_GATEWAYS, tuning: Tuning = {}): Record<string, Variant> {
  return {
    http: { ...chainVariant(join(HERE, "docker-compose.yml"), () => ({ call: httpCall(g.http), close: () => {} }), tuning, SPEC, true), precheck: () => otelComposeProblems() },
    websocket: websocketVariant(join(WS_DIR, "docker-compose.yml"), g.websocket, tuning),
    grpc: chainVariant(join(GRPC_DIR, "docker-compose.yml"), () => {
      // Reconnect quickly while the gateway comes up (grpc-js backs off up to 2 minutes by default).
      const client = new grpc.Client(g.grpc, grpc.credentials.createInsecure(), { "grpc.max_reconnect_backoff_ms": 2000 });
      return { call: grpcCall(client), close: () => client.close() };
    }, tuning),
    stacked: { ...chainVariant(join(STACKED_DIR, "docker-compose.yml"), () => ({ call: httpCall(g.stacked), close: () => {} }), tuning, STACKED_SPEC, true),
      precheck: () => otelComposeProblems(join(STACKED_DIR, "docker-compose.yml")) },
    // No hop trace: it names each hop by its sidecar's lane label, and a waypoint has none.
    ambient: { ...chainVariant(join(AMBIENT_DIR, "docker-compose.yml"), () => ({ call: httpCall(g.ambient ?? g.http), close: () => {} }), tuning),
      precheck: () => otelComposeProblems(join(AMBIENT_DIR, "docker-compose.yml")) },
  };
}
const VARIANTS = variants();

function docker(args: string[], env: Record<string, string> = {}, inherit = false) {
  const r = spawnSync("docker", args, { encoding: "utf8", env: { ...process.env, ...env }, stdio: inherit ? "inherit" : "pipe" });
  return { code: r.error ? -1 : r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}`, error: r.error };
}

/** Runs a variant with and without the filter; its failures. */
async function runVariant(name: string, v: Variant): Promise<string[]> {
  const compose = (args: string[], env: Record<string, string> = {}) => docker(["compose", "-f", v.compose, ...args], env, true);
  const failures: string[] = [];
  let config: Config = "envoy";
  const problems = v.precheck?.() ?? [];
  if (problems.length) return problems.map((p) => `${name}: ${p}`);
  try {
    for (config of ["envoy", "envoy-nofilter"] as const) {
      console.log(`\n== ${name}, ${config}: docker compose up`);
      const up = compose(["up", "-d", "--force-recreate", "--remove-orphans"], { ENVOY_CONFIG: config });
      const f = up.code === 0 ? await v.check(config) : [`docker compose up failed (exit ${up.code})`];
      failures.push(...f.map((x) => `${name}, ${config}: ${x}`));
      if (f.length) break;
    }
  } catch (e) {
    failures.push(`${name}, ${config}: ${(e as Error).message}`);
  } finally {
    if (failures.length) compose(["logs", "--no-color", "--tail", "200"]);
    compose(["down", "-v", "--remove-orphans"]);
  }
  return failures;
}

const E2E = {
  usage: `npm run e2e:envoy [-- --variant ${Object.keys(VARIANTS).join(",")}]`,
  description: `Runs the docker-compose variants with real Envoy, each with and without the filter, checked with the
Docker-less demo's client; skipped (exit 0) without a reachable Docker engine.
  --variant  one or more of ${Object.keys(VARIANTS).join(", ")}, comma-separated (all by default)`,
  options: { variant: { type: "string" } },
} as const;

const pickVariants = ({ values }: Args<typeof E2E.options>) => someOf("variant", values.variant, Object.keys(VARIANTS)) ?? Object.keys(VARIANTS);

/** The variants `--variant a,b` names (all by default); throws UsageError (with the usage) on anything else. */
export function parseVariants(argv: string[]): string[] {
  return parseCommand(E2E, argv, pickVariants);
}

async function main(): Promise<number> {
  const names = readCommand(E2E, process.argv.slice(2), pickVariants);
  const info = docker(["info", "--format", "{{.ServerVersion}}"]);
  if (info.code !== 0) {
    const why = info.error ? `docker: ${info.error.message}` : info.out.trim().split("\n").pop();
    console.log(`e2e:envoy skipped: no Docker engine is reachable (${why})`);
    return 0;
  }
  if (!ensureBuilt()) return 1;
  const failures: string[] = [];
  for (const name of names) failures.push(...await runVariant(name, VARIANTS[name]));
  if (failures.length) {
    console.log(`\ne2e:envoy FAILED:\n${failures.slice(0, 20).map((f) => `  ${f}`).join("\n")}`);
    return 1;
  }
  console.log(`\ne2e:envoy passed (${names.join(", ")}): every lane kept with lane-tag, and lost without it`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then((c) => process.exit(c), (e) => { console.error(e); process.exit(1); });
}

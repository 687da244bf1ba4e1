// npm run e2e:envoy: the three-lane demo with real Envoy in docker-compose. Brings it up, waits until the
// gateway answers full chains, sends 1000 requests and checks them (the same checks as the Docker-less
// demo), then does the same with the filter removed; dumps the Envoy logs on failure; always tears down.
// Without a reachable Docker engine it says so and exits 0 (skipped).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadSpec } from "../lib/spec.ts";
import { gatewayWeights, chain } from "./topology.ts";
import { sendRequests, summarize, formatSummary, check, parseChain, waitForLanes } from "./client.ts";
import { HERE, SPEC } from "./generate.ts";

const COMPOSE = join(HERE, "docker-compose.yml");
const GATEWAY = "http://127.0.0.1:8080/mock";
const REQUESTS = Number(process.env.E2E_REQUESTS ?? 1000);

function docker(args: string[], env: Record<string, string> = {}, inherit = false) {
  const r = spawnSync("docker", args, { encoding: "utf8", env: { ...process.env, ...env }, stdio: inherit ? "inherit" : "pipe" });
  return { code: r.error ? -1 : r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}`, error: r.error };
}

const compose = (args: string[], env: Record<string, string> = {}, inherit = false) => docker(["compose", "-f", COMPOSE, ...args], env, inherit);

/** Without the filter the lanes collapse by design: wait for every gateway lane to answer any full chain. */
async function waitForAnyChain(timeoutMs = 120_000): Promise<void> {
  const spec = loadSpec(SPEC);
  const until = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < until) {
    try {
      const r = await fetch(GATEWAY);
      last = `${r.status} ${await r.text()}`;
      if (r.status === 200 && parseChain(last).length === chain(spec).length) {
        // Let the STRICT_DNS clusters of every sidecar resolve, as they did for the first variant.
        await new Promise((ok) => setTimeout(ok, 6000));
        return;
      }
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`the gateway did not answer a full chain within ${timeoutMs / 1000}s (last: ${last})`);
}

async function run(variant: "envoy" | "envoy-nofilter"): Promise<string[]> {
  const env = { ENVOY_CONFIG: variant };
  const spec = loadSpec(SPEC);
  console.log(`\n== ${variant}: docker compose up`);
  const up = compose(["up", "-d", "--force-recreate", "--remove-orphans"], env, true);
  if (up.code !== 0) return [`docker compose up failed (exit ${up.code})`];
  if (variant === "envoy") await waitForLanes(GATEWAY, spec);
  else await waitForAnyChain();
  const results = await sendRequests(GATEWAY, REQUESTS, { seed: 1, concurrency: 16 });
  console.log(formatSummary(spec, summarize(spec, results)));
  const withFilter = variant === "envoy";
  return check(spec, results, { filter: withFilter, weights: withFilter ? gatewayWeights(spec) : undefined });
}

async function main(): Promise<number> {
  const info = docker(["info", "--format", "{{.ServerVersion}}"]);
  if (info.code !== 0) {
    const why = info.error ? `docker: ${info.error.message}` : info.out.trim().split("\n").pop();
    console.log(`e2e:envoy skipped: no Docker engine is reachable (${why})`);
    return 0;
  }
  if (!existsSync(join(HERE, "../../build/lane-tag.wasm"))) {
    const b = spawnSync("npm", ["run", "--silent", "build"], { stdio: "inherit" });
    if (b.status !== 0) return 1;
  }
  let failures: string[] = [];
  try {
    for (const variant of ["envoy", "envoy-nofilter"] as const) {
      const f = await run(variant);
      failures.push(...f.map((x) => `${variant}: ${x}`));
      if (f.length) break;
    }
  } catch (e) {
    failures.push((e as Error).message);
  } finally {
    if (failures.length) compose(["logs", "--no-color", "--tail", "200"], {}, true);
    compose(["down", "-v", "--remove-orphans"], {}, true);
  }
  if (failures.length) {
    console.log(`\ne2e:envoy FAILED:\n${failures.slice(0, 20).map((f) => `  ${f}`).join("\n")}`);
    return 1;
  }
  console.log("\ne2e:envoy passed: every lane kept with lane-tag; lanes lost after the first hop without it");
  return 0;
}

main().then((c) => process.exit(c), (e) => { console.error(e); process.exit(1); });

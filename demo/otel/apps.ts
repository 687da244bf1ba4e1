// The otel app kind of the Docker-less demo: each workload's app (app.cjs) is a child process of its own,
// instrumented as the OpenTelemetry Operator instruments a Node.js pod (NODE_OPTIONS=--require of the
// preload, the OTEL_* env it sets). Child processes, not servers in this process: the sidecars run here, and
// instrumentation loaded here would propagate context in the sidecars themselves.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { AppSpec, AppRunner } from "../core/transport.ts";
import { propagatorFor } from "./propagators.cjs";
import { DEFAULT_PROPAGATORS, instrumentationEnv } from "./env.ts";

const APP = fileURLToPath(new URL("./app.cjs", import.meta.url));
const PRELOAD = fileURLToPath(new URL("./preload.cjs", import.meta.url));
export { DEFAULT_PROPAGATORS };

/** The environment the Operator's Node.js injection gives a container, for one workload. */
export function operatorEnv(app: AppSpec, propagators: string[]): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    ...instrumentationEnv({ service: app.service, version: app.version, propagators, preload: PRELOAD }),
    PORT: "0", EXIT_WITH_STDIN: "1",
    ...(app.upstreamUrl ? { upstream_url: app.upstreamUrl } : {}), HTTP_PROXY: app.proxy,
  };
}

const live = new Set<ChildProcess>();
/** How many app processes are running (none once every mesh is closed). */
export const liveApps = () => live.size;
// A parent that exits (tests, Ctrl-C, an error) takes its apps with it; they also exit when stdin closes.
process.on("exit", () => { for (const c of live) c.kill("SIGKILL"); });

/**
 * Starts `node args` with exactly `env` (an app that prints "listening <port>"); resolves with its port once it
 * listens, rejects (the child killed) when it exits or stays silent. `name` names it in errors.
 */
export function spawnApp(name: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, args, { env, stdio: ["pipe", "pipe", "pipe"] });
  live.add(child);
  child.on("exit", () => live.delete(child));
  let out = "";
  let err = "";
  return new Promise((ok, fail) => {
    let settled = false;
    // Refused only once the process is gone, so a failed start leaves nothing running.
    const give = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const error = () => new Error(`${name} ${why}${err.trim() ? `: ${err.trim().slice(0, 600)}` : ""}`);
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return fail(error());
      child.once("exit", () => fail(error()));
      child.kill("SIGKILL");
    };
    const timer = setTimeout(() => give(`did not listen within ${timeoutMs} ms`), timeoutMs);
    child.stderr!.on("data", (d) => { if (err.length < 4000) err += d; });
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /^listening (\d+)$/m.exec(out);
      if (m && !settled) { settled = true; clearTimeout(timer); ok({ child, port: Number(m[1]) }); }
    });
    child.on("error", (e) => give(`could not start (${e.message})`));
    child.on("exit", (code, signal) => give(`exited before listening (${signal ?? `code ${code}`})`));
  });
}

const startApp = (app: AppSpec, propagators: string[], timeoutMs: number) =>
  spawnApp(`the otel app ${app.workload}`, [APP], operatorEnv(app, propagators), timeoutMs);

/** Stops an app: SIGTERM (the preload shuts the SDK down), SIGKILL after 2 s. */
export async function stopApp(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((ok) => child.once("exit", ok));
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), 2000);
  await gone;
  clearTimeout(t);
}

/**
 * An AppRunner for the mesh: every app a child process with the SDK and `propagators` (the Operator's names).
 * All start at once; the mesh waits until each listens (bounded by `timeoutMs`); any failure stops them all.
 */
export function otelApps(propagators: string[] = DEFAULT_PROPAGATORS, timeoutMs = 20_000): AppRunner {
  propagatorFor(propagators); // an unknown name is refused here, before any process starts
  return async (all) => {
    const apps = all.filter((a) => a.routed); // a process per workload costs: none for one nothing reaches
    return settled(apps, await Promise.allSettled(apps.map((a) => startApp(a, propagators, timeoutMs))));
  };
}

type Started = { child: ChildProcess; port: number };

/** The apps started for `apps` (in order), each port by workload; when one failed, every other is stopped first. */
export async function settled(apps: { workload: string }[], started: PromiseSettledResult<Started>[]) {
  const children = started.flatMap((s) => (s.status === "fulfilled" ? [s.value.child] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) {
    await Promise.all(children.map(stopApp));
    throw failed.reason;
  }
  const ports = new Map(apps.map((a, i) => [a.workload, (started[i] as PromiseFulfilledResult<Started>).value.port]));
  return { ports, close: async () => { await Promise.all(children.map(stopApp)); } };
}

// npm run demo: the seeds' three-lane demo in one Node process, no Docker. Every workload (3 services ×
// v1..v3) is the mock service behind an emulated sidecar that runs the real build/lane-tag.wasm in the
// project's host emulator, on an inbound and an outbound listener (one VM: one vm_id); a gateway assigns
// lanes by weight. Everything talks real HTTP on 127.0.0.1; routing and fallback are those of the Envoy
// configs (topology.ts); the filter configurations are those the manifests generate. Modes:
//   baggage      the apps forward W3C baggage (the seeds' setup);
//   correlation  the apps forward only traceparent; the gateway starts the trace; lane-tag correlates;
//   strict       the apps forward nothing; every lane holds every service; lane-tag takes each
//                workload's lane from its ASM_TRAFFIC_TAG label (node metadata);
//   sticky       as baggage, but the gateway's lane-tag assigns lanes by weight, sticky per x-user-id;
//   grpc         as baggage, but every hop is a gRPC call over h2c (grpc/: the apps, HTTP/2 sidecars);
//   websocket    the seed asm-websocket-loose-lanes: socket.io clients name their lane on the handshake
//                (websocket/: its own mesh, spec and clients);
//   stacked      as baggage, with deploy/lanes.stacked.yaml: feat-x falls back to release-2, release-2 to s1.
// --apps otel: each app a child process with no propagation code, instrumented by the OpenTelemetry Node.js
// SDK as the Operator injects it (otel/), with --propagators as OTEL_PROPAGATORS.
import { loadSpec } from "../deploy/lib/spec.ts";
import { ensureBuilt } from "../deploy/lib/build.ts";
import { readCommand, integer, oneOf, UsageError, type Args } from "../deploy/lib/cli.ts";
import { LANE_HEADERS } from "../deploy/lib/carriers.ts";
import { gatewayWeights } from "./core/topology.ts";
import { sendRequests, summarize, formatSummary, checkRun, checkTraces, type Result } from "./core/client.ts";
import { startMesh, meshSpec, specForMode, MODES, USER_HEADER, SPEC, type Mode } from "./mesh.ts";
import { splitMode } from "./core/features.ts";
import { DEBUG_HEADER } from "../deploy/lib/observe.ts";
import { laneStatus, fetchStatus, formatStatus } from "../deploy/lib/status.ts";
import { sendGrpcRequests } from "./grpc/client.ts";
import { runClients, report, WS_SPEC, LANE_SOURCES, type LaneSource, type WebSocketOptions, type Run } from "./websocket/client.ts";
import { formatChains, fallbackText } from "./stacked/spec.ts";
import { otelApps, DEFAULT_PROPAGATORS } from "./otel/apps.ts";
import { laneOutcome, checkOutcome, KEEPS_TRACESTATE, type Outcome } from "./otel/expectations.ts";
import { parseNames, unknownNames, PROPAGATOR_NAMES } from "./otel/propagators.cjs";
import { ROUTE_SETS, type RouteSet } from "./core/router.ts";
import { checkAmbientOptions, MESHES, type MeshKind } from "./core/combinations.ts";
import { GATEWAY_TRACES, type GatewayTrace } from "./core/gateway-trace.ts";

// The mesh's API, for the other demos and the tests.
export { pairs, outgoing, forward, listen, filter, plugins, startMesh, specForMode, MODES, USER_HEADER, WASM, SPEC, type Mesh, type Mode } from "./mesh.ts";

export interface DemoOptions {
  requests: number; weights?: number[]; seed: number; withFilter: boolean; quiet: boolean; concurrency: number; mode?: Mode; users?: number;
  laneFrom?: LaneSource; messages?: number;
  /** Ask every request for its hop trace and print it under its chain line. */
  trace?: boolean;
  /** Print the lanes status table of every proxy after the run. */
  status?: boolean;
  /** The service whose app drops baggage (forwards only traceparent); trace correlation keeps the lane. */
  drop?: string;
  /** The apps: the mock apps (default), or apps instrumented by the OpenTelemetry SDK with `propagators`. */
  apps?: AppKind;
  propagators?: string[];
  /** The generated routes the sidecars and the gateway route by: istio/ (default) or asm/. */
  routes?: RouteSet;
  /** A folder `npm run manifests` wrote for the mode's spec, routed by instead of generating one. */
  manifests?: string;
  /** Sidecars (the default) or Istio's ambient mode: waypoints routing by the generated HTTPRoutes. */
  mesh?: MeshKind;
  /** The trace the gateway starts: w3c (traceparent), as one with an OpenTelemetry tracer does, or b3 (x-b3-*),
   *  as Envoy's Zipkin tracer does; correlation mode starts a w3c one without it. */
  gatewayTrace?: GatewayTrace;
}

export const APP_KINDS = ["mock", "otel"] as const;
export type AppKind = (typeof APP_KINDS)[number];

/** What the run should show: with otel apps, what their propagators forward decides (otel/expectations.ts). */
export function expectedOutcome(opts: DemoOptions, mode: Mode): Outcome {
  if (!opts.withFilter) return "lost";
  const correlation = splitMode(mode).feature === "correlation";
  return opts.apps !== "otel" ? "kept" : laneOutcome(opts.propagators ?? DEFAULT_PROPAGATORS, { correlation, trace: opts.gatewayTrace ?? (correlation ? "w3c" : "none") });
}

export async function runDemo(opts: DemoOptions, base = loadSpec(SPEC), print: (s: string) => void = console.log) {
  const mode = opts.mode ?? "baggage";
  const { protocol, feature } = splitMode(mode);
  // --trace: the hop trace on, every request asks for it; --status: per-lane counters and admin endpoints.
  const observe = { ...(opts.trace ? { hopTrace: true } : {}), ...(opts.status ? { laneMetrics: true } : {}) };
  const apps = opts.apps === "otel" ? otelApps(opts.propagators ?? DEFAULT_PROPAGATORS) : undefined;
  const propagators = opts.apps === "otel" ? opts.propagators ?? DEFAULT_PROPAGATORS : undefined;
  const meshOpts = { withFilter: opts.withFilter, weights: opts.weights, mode, observe, drop: opts.drop, admin: opts.status, traceSeed: opts.seed, gatewayTrace: opts.gatewayTrace, apps, propagators, routes: opts.routes, manifests: opts.manifests };
  const spec = meshSpec(base, mode, meshOpts);
  const mesh = await startMesh(base, { ...meshOpts, mesh: opts.mesh });
  try {
    const t0 = Date.now();
    const results: Result[] = await (protocol === "grpc" ? sendGrpcRequests : sendRequests)(mesh.gatewayUrl, opts.requests, {
      seed: opts.seed, concurrency: opts.concurrency,
      onResult: opts.trace ? (r) => print(`${r.body}\ntrace: ${r.trace ?? "(none)"}`) : opts.quiet ? undefined : (r) => print(r.body),
      ...(feature === "sticky" ? { userHeader: USER_HEADER, users: opts.users ?? 200 } : {}),
      ...(opts.trace ? { headers: { [DEBUG_HEADER]: "1" } } : {}),
    });
    const ms = Date.now() - t0;
    const weights = gatewayWeights(spec, opts.weights);
    // A lane lost because a full trace table gave up its record is told apart, counted from trace_evicted.
    const outcome = expectedOutcome(opts, mode);
    const { failures, evicted } = outcome === "drifts" ? { failures: checkOutcome(spec, results, outcome), evicted: [] } : checkRun(spec, results, { filter: outcome === "kept", evicted: mesh.traceEvicted?.() });
    if (feature === "sticky") failures.push(...checkSticky(results));
    if (opts.trace) failures.push(...checkTraces(spec, results));
    // The same code as `npm run lanes -- status`, on the emulated proxies' admin endpoints.
    const status = opts.status ? laneStatus(await fetchStatus((mesh.admins ?? []).map((a) => `${a.workload}=${a.url}`))) : undefined;
    return { results, failures, evicted, summary: summarize(spec, results), weights, ms, spec, status };
  } finally {
    await mesh.close();
  }
}

/** Runs the seed's WebSocket scenario on the Docker-less mesh (sidecars, or ambient with `opts.mesh`). */
export async function runWebSocketDemo(opts: WebSocketOptions, spec = loadSpec(WS_SPEC), print: (s: string) => void = console.log): Promise<Run> {
  const mesh = await startMesh(spec, { mode: "websocket", mesh: opts.mesh, withFilter: opts.withFilter, broadcastMs: opts.broadcastMs ?? 300 });
  try {
    return await runClients(mesh.gatewayUrl, spec, opts, () => mesh.acks!(), print);
  } finally {
    await mesh.close();
  }
}

/** Every user stayed in one lane. */
export function checkSticky(results: Result[]): string[] {
  const laneOf = new Map<string, string>();
  const out: string[] = [];
  for (const r of results) {
    if (!r.user) continue;
    const seen = laneOf.get(r.user);
    if (seen === undefined) laneOf.set(r.user, r.lane);
    else if (seen !== r.lane) out.push(`user ${r.user} was in lane ${seen}, then in ${r.lane}`);
  }
  return out;
}

// The command: its usage, description and options.
const demoCommand = () => ({
  usage: [
    `npm run demo -- [--mode ${MODES.join("|")}] [--requests N] [--weights 60,20,20] [--users U] [--seed S] [--no-filter] [--quiet] [--concurrency C]`,
    `npm run demo -- [--mode baggage|stacked] [--trace] [--status] [--drop SERVICE] [--requests N] ...`,
    `npm run demo -- --mode websocket [--lane-from ${LANE_SOURCES.join("|")}] [--messages N] [--no-filter] [--quiet]`,
    `npm run demo -- [--routes ${ROUTE_SETS.join("|")}] [--manifests DIR] [--mode M] ...`,
    `npm run demo -- --mesh ambient [--mode baggage|stacked|correlation|sticky|grpc|websocket] [--apps otel [--propagators P] [--gateway-trace F]] [--manifests DIR] [--no-filter] [--requests N] ...`,
    `npm run demo -- --apps otel [--propagators tracecontext,baggage] [--gateway-trace w3c|b3|xray] [--mode baggage|correlation] [--requests N] [--no-filter] ...`,
  ],
  description: `The seeds' three-lane demo in one Node process, no Docker: nine workloads behind emulated sidecars running
build/lane-tag.wasm (built first when stale), a gateway assigning lanes by weight; every chain checked.
  --mode M           ${MODES.join(", ")} (baggage by default)
  --requests N, -n N requests through the gateway (100)
  --weights A,B,C    the gateway's lane weights (the spec's by default; not with sticky)
  --users U          sticky only: distinct x-user-id values (200)
  --seed S           the seed of the lane split and of the gateway's trace ids (1; printed on failure)
  --concurrency C    requests in flight (8)
  --no-filter        the same mesh without lane-tag: lanes are lost after the first hop
  --quiet, -q        no line per request
  --lane-from F      websocket only: how clients name their lane (${LANE_SOURCES.join(", ")}; header by default)
  --messages N       websocket only: messages per client (3)
  --trace            every request asks for its hop trace (x-lane-tag-debug: 1); prints it under its chain line
  --status           per-lane counters on; after the run, the table of npm run lanes -- status for every proxy
  --drop SERVICE     that service's app forwards only traceparent (it drops baggage); trace correlation is on
  --gateway-trace F  the gateway starts a trace on each request without one, in format F: w3c (traceparent), as a
                     gateway with an OpenTelemetry tracer does, b3 (x-b3-traceid, x-b3-spanid, x-b3-sampled), as
                     Envoy's Zipkin tracer does, or xray (X-Amzn-Trace-Id: Root=1-<epoch>-<id>;Parent=..;Sampled=1),
                     as its X-Ray tracer does; --mode correlation and --drop, which need the trace id, start a w3c
                     one unless it says b3 or xray (which need --apps otel there: the mock apps forward only traceparent)
  --apps otel        apps with no propagation code, each a process instrumented by the OpenTelemetry Node.js SDK as
                     the Operator injects it (--require preload, OTEL_* env); mock (the default): apps forward by hand
  --routes R         the generated routes every hop is routed by: istio (istio/: VirtualServices naming each lane's
                     version; the default) or asm (asm/: ASM's fallback when a lane's subset has no workload)
  --manifests DIR    route by DIR/<routes>/, as npm run manifests -- <spec> --out DIR wrote it for the mode's spec,
                     instead of the manifests the demo generates for it (a wrong route shows as a wrong chain)
  --mesh M           sidecar (the default) or ambient: Istio's ambient mode, no sidecars; a waypoint per namespace
                     (per service with ambient.scope: service) runs lane-tag and routes by the generated ambient/
                     HTTPRoutes; the ingress by its Gateway, HTTPRoute and filter (--manifests DIR: DIR/ambient/)
  --propagators P    otel apps only: their OTEL_PROPAGATORS, of ${PROPAGATOR_NAMES.join(", ")} (${DEFAULT_PROPAGATORS.join(",")})`,
  options: {
    mode: { type: "string" }, requests: { type: "string", short: "n" }, weights: { type: "string" }, users: { type: "string" },
    seed: { type: "string" }, concurrency: { type: "string" }, "no-filter": { type: "boolean", default: false },
    quiet: { type: "boolean", short: "q", default: false }, "lane-from": { type: "string" }, messages: { type: "string" },
    trace: { type: "boolean", default: false }, status: { type: "boolean", default: false }, drop: { type: "string" },
    apps: { type: "string" }, propagators: { type: "string" }, routes: { type: "string" }, manifests: { type: "string" },
    mesh: { type: "string" }, "gateway-trace": { type: "string" },
  },
} as const);

/** The options' values, and the checks across options; a UsageError names what is wrong. */
function demoOptions({ values: v }: Args<ReturnType<typeof demoCommand>["options"]>): DemoOptions {
  const o: DemoOptions = {
    requests: integer("requests", v.requests, 1) ?? 100, seed: integer("seed", v.seed, 1) ?? 1,
    concurrency: integer("concurrency", v.concurrency, 1) ?? 8, users: integer("users", v.users, 1),
    messages: integer("messages", v.messages, 1), laneFrom: oneOf("lane-from", v["lane-from"], LANE_SOURCES),
    mode: oneOf("mode", v.mode, MODES), withFilter: !v["no-filter"], quiet: v.quiet,
    trace: v.trace, status: v.status, drop: v.drop, apps: oneOf("apps", v.apps, APP_KINDS),
    routes: oneOf("routes", v.routes, ROUTE_SETS), manifests: v.manifests, mesh: oneOf("mesh", v.mesh, MESHES),
    gatewayTrace: oneOf("gateway-trace", v["gateway-trace"], GATEWAY_TRACES),
  };
  const { protocol, feature } = splitMode(o.mode);
  if (o.gatewayTrace && protocol !== "http") throw new UsageError(`--gateway-trace applies to the HTTP chain, not --mode ${o.mode}`);
  if (o.gatewayTrace && o.gatewayTrace !== "w3c" && o.apps !== "otel" && (feature === "correlation" || o.drop !== undefined)) {
    throw new UsageError(`--gateway-trace ${o.gatewayTrace} with ${o.drop !== undefined ? "--drop" : "--mode correlation"} needs --apps otel: the mock apps forward only W3C traceparent, so ${o.gatewayTrace === "b3" ? "a B3" : "an X-Ray"} trace would not reach the next hop`);
  }
  checkAmbientOptions(o, protocol, feature);
  if (o.manifests === "") throw new UsageError("--manifests needs a folder");
  checkOtelOptions(o, v.propagators);
  const observing = (["trace", "status", "drop"] as const).filter((k) => v[k]);
  if (observing.length) {
    const opt = `--${observing[0]}`;
    if (protocol !== "http" || !["baggage", "stacked"].includes(feature)) throw new UsageError(`${opt} applies to --mode baggage and stacked (the HTTP chain whose apps forward baggage)`);
    if (!o.withFilter) throw new UsageError(`${opt} needs the filter: lane-tag is what observes the lanes`);
  }
  if (o.trace && o.quiet) throw new UsageError("--trace prints a trace line under each chain line: it cannot be --quiet");
  if (o.drop !== undefined) {
    const services = specForMode(loadSpec(SPEC), o.mode ?? "baggage").lanes.flatMap((l) => l.services);
    if (!services.includes(o.drop)) throw new UsageError(`--drop ${JSON.stringify(o.drop)} is not a service of the demo (${[...new Set(services)].join(", ")})`);
  }
  if (v.weights !== undefined) {
    const w = v.weights.split(",").map(Number);
    if (w.some((x) => !Number.isInteger(x) || x < 0) || w.reduce((a, b) => a + b, 0) === 0) throw new UsageError(`--weights needs non-negative integers like 60,20,20`);
    o.weights = w;
  }
  if (feature === "sticky" && o.weights) throw new UsageError("--weights does not apply to --mode sticky (lane-tag assigns with the spec's weights)");
  if (feature === "sticky" && !o.withFilter) throw new UsageError("--mode sticky needs the filter: it is what assigns the lanes");
  if (o.users !== undefined && feature !== "sticky") throw new UsageError("--users applies only to --mode sticky");
  if ((o.laneFrom || o.messages) && protocol !== "websocket") throw new UsageError("--lane-from and --messages apply only to --mode websocket");
  const unused = (["requests", "weights", "seed", "concurrency"] as const).find((k) => v[k] !== undefined);
  if (protocol === "websocket" && unused) throw new UsageError(`--${unused} does not apply to --mode websocket (its clients name their lanes; --messages N sets how many messages each sends)`);
  try {
    // One weight per lane of the spec: checked here, not after the build, so the answer is immediate.
    if (o.weights) gatewayWeights(specForMode(loadSpec(SPEC), o.mode ?? "baggage"), o.weights);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return o;
}

/** --apps otel runs the HTTP chain (baggage or correlation mode) with the SDK's propagation only. */
function checkOtelOptions(o: DemoOptions, propagators: string | undefined) {
  if (propagators !== undefined) {
    if (o.apps !== "otel") throw new UsageError("--propagators applies only to --apps otel (the apps instrumented by the OpenTelemetry SDK)");
    const names = parseNames(propagators);
    const bad = unknownNames(names);
    if (!names.length || bad.length) throw new UsageError(`--propagators ${JSON.stringify(propagators)}: ${bad.length ? `unknown ${bad.map((b) => JSON.stringify(b)).join(", ")}; ` : ""}a comma-separated list of ${PROPAGATOR_NAMES.join(", ")}`);
    o.propagators = names;
  }
  if (o.apps !== "otel") return;
  const { protocol, feature } = splitMode(o.mode);
  if (protocol !== "http" || !["baggage", "correlation"].includes(feature)) throw new UsageError(`--apps otel applies to --mode baggage and correlation (the HTTP chain), not ${o.mode}`);
  if (o.drop !== undefined || o.trace) throw new UsageError(`--${o.drop !== undefined ? "drop" : "trace"} does not apply to --apps otel (what each app forwards is its propagators')`);
}

async function main() {
  const opts = readCommand(demoCommand(), process.argv.slice(2), demoOptions);
  if (!ensureBuilt()) process.exit(1);
  const { protocol, feature } = splitMode(opts.mode);
  if (protocol === "websocket") {
    const run = await runWebSocketDemo({ withFilter: opts.withFilter, laneFrom: opts.laneFrom, messages: opts.messages, quiet: opts.quiet, mesh: opts.mesh });
    process.exit(report(run, MODE_TEXT.websocket + (opts.mesh === "ambient" ? "; Istio ambient: waypoints, no sidecars" : "")));
  }
  const spec = loadSpec(SPEC);
  const mode = opts.mode ?? "baggage";
  const { results, failures, evicted, summary, weights, ms, spec: ran, status } = await runDemo(opts, spec);
  const w = weights.map((x) => `${x.lane}=${x.weight}`).join(" ");
  const otel = opts.apps === "otel" ? (opts.propagators ?? DEFAULT_PROPAGATORS).join(",") : undefined;
  const started = opts.gatewayTrace ? `; the gateway starts ${TRACE_NAMES[opts.gatewayTrace]} traces` : "";
  const how = `${otel ? `apps instrumented by the OpenTelemetry SDK, OTEL_PROPAGATORS=${otel}${mode === "correlation" ? "; lanes restored by trace id" : ""}` : MODE_TEXT[mode]}${started}`;
  const on = opts.mesh === "ambient" ? "; Istio ambient: waypoints, no sidecars" : "";
  console.log(`\n${results.length} requests through the gateway in ${ms} ms (mode ${mode}: ${how}${on}; weights ${w}; lane-tag ${opts.withFilter ? "on" : "OFF"}):\n`);
  console.log(formatSummary(ran, summary));
  if (feature === "stacked") console.log(`\nfallback chains (lane (version)):\n${formatChains(ran).map((l) => `  ${l}`).join("\n")}`);
  if (feature === "sticky") {
    const users = new Map<string, string>();
    for (const r of results) if (r.user) users.set(r.user, r.lane);
    const perLane = ran.lanes.map((l) => `${l.name} ${[...users.values()].filter((x) => x === l.name).length}`).join(", ");
    console.log(`\n${users.size} users, each always in one lane; users per lane: ${perLane}`);
  }
  if (opts.drop) console.log(`\n${opts.drop}'s app forwards only traceparent (it drops baggage); trace correlation is on in every sidecar`);
  if (status) console.log(`\nlanes status (npm run lanes -- status, on each proxy's admin endpoint):\n\n${formatStatus(status)}`);
  if (evicted.length) {
    console.log(`\n${evicted.length} request(s) lost their lane because a full trace table gave up their record (trace_evicted; correlation.capacity is too small for the traces that arrive within correlation.ttlMs):`);
    for (const f of evicted.slice(0, 10)) console.log(`  ${f}`);
  }
  if (failures.length) {
    console.log(`\n${failures.length} request(s) not as expected${opts.withFilter ? "" : " without the filter"}:`);
    for (const f of failures.slice(0, 10)) console.log(`  ${f}`);
    console.log(`\nseed ${opts.seed}: the same --seed gives the same lane split and trace ids`);
    process.exit(1);
  }
  const outcome = expectedOutcome(opts, mode);
  if (otel && opts.withFilter && outcome === "lost") {
    return console.log(`\nwith OTEL_PROPAGATORS=${otel} every lane falls back to ${ran.baseline} after the first hop: ${lostText(otel.split(","), mode, opts.gatewayTrace)}`);
  }
  if (otel && outcome === "drifts") return console.log(`\nwith OTEL_PROPAGATORS=${otel} every lane falls back to ${ran.baseline} after the second hop: ${driftText(otel.split(","))}`);
  console.log(opts.withFilter
    ? `\nevery ${evicted.length ? "other " : ""}chain stayed in its lane (${fallbackText(ran)})`
    : `\nwithout lane-tag every lane falls back to ${ran.baseline} after the first hop: the applications ${otel ? `forward only what OTEL_PROPAGATORS=${otel} injects` : mode === "strict" ? "forward nothing" : mode === "correlation" ? "forward only traceparent" : "forward only baggage"}`);
}

const TRACE_NAMES: Record<GatewayTrace, string> = { w3c: "W3C", b3: "B3", xray: "X-Ray" };

/** Why the otel apps lost the lane, and what would keep it. */
function lostText(propagators: string[], mode: Mode, gatewayTrace: GatewayTrace | undefined): string {
  const started = gatewayTrace ?? (mode === "correlation" ? "w3c" : undefined);
  const why = `the SDK forwards no carrier lane-tag reads (${LANE_HEADERS}${mode === "correlation" ? ", or a trace id it continues for correlation" : ""})`;
  if (propagators.includes("tracecontext") && started !== "w3c") return `${why}; the first app got no traceparent to keep the tracestate entry in: --gateway-trace w3c has the gateway start the trace, as one with an OpenTelemetry tracer does`;
  if (propagators.includes("ottrace")) return `${why}; ot-baggage-* needs an ot trace context (ot-tracer-*) on the request the first app receives, and the clients here send none: list baggage or tracecontext too`;
  if (mode !== "correlation") return `${why}; --mode correlation has the gateway start a trace and restores the lane by its id (tracecontext; b3 and b3multi with --gateway-trace b3; xray with --gateway-trace xray)`;
  // The formats these apps extract, where the gateway started another: each app starts a trace of its own.
  const extracted = [...(propagators.some((p) => p === "b3" || p === "b3multi") ? ["b3" as const] : []), ...(propagators.includes("xray") ? ["xray" as const] : [])];
  if (extracted.length && !extracted.some((f) => f === started)) {
    const fix = extracted.map((f) => f === "b3" ? "--gateway-trace b3 starts a B3 trace, as Envoy's Zipkin tracer does" : "--gateway-trace xray starts an X-Ray trace, as Envoy's X-Ray tracer does");
    return `${why}; the gateway started ${started === "xray" ? "an" : "a"} ${TRACE_NAMES[started!]} trace, which ${propagators.join(",")} does not extract, so each app starts a trace of its own: ${fix.join("; ")}`;
  }
  return why;
}

/** Why the lane held through the first app but not the second (the one way expectations.ts drifts): the
 *  tracestate entry is gone there. */
function driftText(propagators: string[]): string {
  const later = propagators.slice(propagators.indexOf("tracecontext") + 1).filter((p) => p !== "baggage" && !KEEPS_TRACESTATE.has(p));
  return `the second app's ${later.join(",")} extract, after tracecontext's, replaces the W3C context and the tracestate entry the lane rides in (the first app had only the gateway's traceparent)`;
}

const MODE_TEXT: Record<Mode, string> = {
  baggage: "apps forward baggage",
  correlation: "apps forward only traceparent; lanes restored by trace id",
  strict: "apps forward nothing; every lane holds every service; lane from each workload's label",
  sticky: "lane-tag assigns lanes at the gateway by weight, sticky per x-user-id",
  grpc: "every hop a gRPC call over h2c; apps forward the baggage metadata",
  websocket: "the seed's socket.io app; clients name their lane on the handshake, wsk forwards its baggage",
  stacked: "stacked lanes from deploy/lanes.stacked.yaml: feat-x falls back to release-2, release-2 to s1; apps forward baggage",
};

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => { console.error(e); process.exit(1); });
}

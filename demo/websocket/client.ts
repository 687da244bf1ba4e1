// npm run demo -- --mode websocket: the seed's clients (client_socket.js) with socket.io-client, the run, its
// summary and its checks. One client asks for the lane v2 (by header, cookie or query, as --lane-from says),
// one names no lane; each emits `test000` a few times and logs what comes back, prefixed with the lane it
// asked for, as the seed's client does:
//   [v2] Server response: Hello version: v2, instance: helloworld-v2
//   [v2] Broadcast: Hello version: v1, instance: helloworld-v1
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { io, type ManagerOptions, type SocketOptions } from "socket.io-client";
import type { LanesSpec } from "../../deploy/lib/spec.ts";
import { chain, upstreamOf, resolve } from "../core/topology.ts";

export const WS_SPEC = fileURLToPath(new URL("../../deploy/lanes.websocket.yaml", import.meta.url));
export const LANE_SOURCES = ["header", "cookie", "query"] as const;
export type LaneSource = (typeof LANE_SOURCES)[number];
export type Kind = "response" | "broadcast";

export interface Seen { kind: Kind; text: string; version: string }
export interface ClientRun { client: string; lane?: string; seen: Seen[]; error?: string }

export interface WebSocketOptions {
  withFilter: boolean;
  laneFrom?: LaneSource;
  /** `test000` messages per client (3). */
  messages?: number;
  quiet?: boolean;
  /** wsk's broadcast period (300 ms) and the clients' message period (200 ms). */
  broadcastMs?: number;
  intervalMs?: number;
  timeoutMs?: number;
  /** Sidecars (the default) or Istio's ambient mode: waypoints routing by the generated HTTPRoutes. */
  mesh?: "sidecar" | "ambient";
}

const versionOf = (text: string) => /^Hello version: (\S+), instance: /.exec(text)?.[1] ?? "error";

/** socket.io-client options naming `lane` where `from` says, with the names the spec's gateway.laneFrom gives. */
export function laneOptions(spec: LanesSpec, lane: string | undefined, from: LaneSource): Partial<ManagerOptions & SocketOptions> {
  const lf = spec.gateway?.laneFrom;
  if (lane === undefined) return {};
  const name = lf?.[from];
  if (!name) throw new Error(`the lanes spec's gateway.laneFrom has no ${from}`);
  // A browser's cookie arrives as a Cookie header; Node's client sends it the same way.
  if (from === "header") return { extraHeaders: { [name]: lane } };
  if (from === "cookie") return { extraHeaders: { cookie: `${name}=${lane}` } };
  return { query: { [name]: lane } };
}

/** How a client names its lane, for the summary. */
function asked(spec: LanesSpec, lane: string | undefined, from: LaneSource): string {
  if (lane === undefined) return "(nothing)";
  const name = spec.gateway!.laneFrom![from];
  return from === "header" ? `${name}: ${lane}` : from === "cookie" ? `cookie ${name}=${lane}` : `?${name}=${lane}`;
}

/** One client: connects over WebSocket only, emits `test000` `messages` times, until it has every answer and `broadcasts` broadcasts. */
export function runClient(url: string, client: string, options: Partial<ManagerOptions & SocketOptions>, { messages, broadcasts = 2, intervalMs = 200, timeoutMs = 10_000, log = () => {} }: { messages: number; broadcasts?: number; intervalMs?: number; timeoutMs?: number; log?: (s: string) => void }): Promise<Omit<ClientRun, "lane">> {
  return new Promise((done) => {
    const id = randomUUID();
    const seen: Seen[] = [];
    // forceNew: a client of its own (socket.io shares one connection per URL otherwise, handshake headers included).
    const socket = io(url, { transports: ["websocket"], reconnection: false, forceNew: true, ...options });
    let sent = 0;
    let sender: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = (error?: string) => {
      if (finished) return;
      finished = true;
      clearInterval(sender);
      clearTimeout(deadline);
      socket.disconnect();
      done({ client, seen, ...(error ? { error } : {}) });
    };
    const count = (kind: Kind) => seen.filter((s) => s.kind === kind).length;
    const record = (kind: Kind, text: unknown) => {
      seen.push({ kind, text: String(text), version: versionOf(String(text)) });
      if (count("response") >= messages && count("broadcast") >= broadcasts) finish();
    };
    const deadline = setTimeout(() => finish(`timed out after ${timeoutMs} ms with ${count("response")} of ${messages} responses, ${count("broadcast")} broadcasts`), timeoutMs);
    socket.on("connect", () => {
      log(`[${client}] Connected! ${id}`);
      const send = () => { if (sent < messages) { sent++; socket.emit("test000", id); } };
      send();
      sender = setInterval(send, intervalMs);
    });
    socket.on("connect_error", (e) => finish(`connect error: ${e.message}`));
    socket.on("hello", (msg: unknown, cb: (ack: string) => void) => {
      log(`[${client}] Server response: ${msg}`);
      cb("got it");
      record("response", msg);
    });
    socket.on("okok", (msg: unknown) => {
      log(`[${client}] Broadcast: ${msg}`);
      record("broadcast", msg);
    });
  });
}

export interface Row { client: string; asked: string; kind: Kind; count: number; versions: Map<string, number>; expected: string }

/** The version a message should come from: a response in the client's lane (when lane-tag carries it), else the baseline. */
export function expectedVersion(spec: LanesSpec, lane: string | undefined, kind: Kind, withFilter: boolean): string {
  const callee = upstreamOf(spec, chain(spec)[0])!;
  return resolve(spec, callee, kind === "response" && withFilter ? lane : undefined).version;
}

export function summarizeRuns(spec: LanesSpec, runs: ClientRun[], from: LaneSource, withFilter: boolean): Row[] {
  return runs.flatMap((r) => (["response", "broadcast"] as Kind[]).map((kind) => {
    const versions = new Map<string, number>();
    for (const s of r.seen) if (s.kind === kind) versions.set(s.version, (versions.get(s.version) ?? 0) + 1);
    return { client: r.client, asked: asked(spec, r.lane, from), kind, count: [...versions.values()].reduce((a, b) => a + b, 0), versions, expected: expectedVersion(spec, r.lane, kind, withFilter) };
  }));
}

export function formatRows(rows: Row[]): string {
  const table = [["client", "asked for", "message", "count", "versions", "expected"]];
  rows.forEach((r, i) => {
    const first = i === 0 || rows[i - 1].client !== r.client;
    table.push([first ? r.client : "", first ? r.asked : "", r.kind, String(r.count), [...r.versions].map(([v, c]) => `${v}×${c}`).join(" ") || "-", r.expected]);
  });
  const w = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
  return table.map((r) => r.map((x, c) => x.padEnd(w[c])).join("  ").trimEnd()).join("\n");
}

/** What must hold: every client got all its answers and some broadcasts, each from the expected version, and acked them. */
export function checkRuns(runs: ClientRun[], rows: Row[], messages: number, acks: number): string[] {
  const failures: string[] = [];
  for (const r of runs) if (r.error) failures.push(`client ${r.client}: ${r.error}`);
  for (const row of rows) {
    if (row.kind === "response" && row.count !== messages) failures.push(`client ${row.client}: ${row.count} of ${messages} responses`);
    if (row.kind === "broadcast" && row.count === 0) failures.push(`client ${row.client}: no broadcast`);
    for (const [v, c] of row.versions) if (v !== row.expected) failures.push(`client ${row.client}: ${c} ${row.kind}(s) from ${v}, expected ${row.expected}`);
  }
  const responses = rows.filter((r) => r.kind === "response").reduce((a, r) => a + r.count, 0);
  if (acks !== responses) failures.push(`wsk got ${acks} "got it" acks for ${responses} responses`);
  return failures;
}

export type Run = Awaited<ReturnType<typeof runClients>>;

/**
 * The seed's clients against the gateway at `url`: one asking for the first non-baseline lane, one naming
 * none; their rows and the checks. `acks` tells how many of this run's `hello`s wsk got acknowledged.
 */
export async function runClients(url: string, spec: LanesSpec, opts: WebSocketOptions, acks: () => number | Promise<number>, print: (s: string) => void = console.log) {
  const from = opts.laneFrom ?? "header";
  const messages = opts.messages ?? 3;
  const lane = spec.lanes.find((l) => l.name !== spec.baseline)!.name;
  const t0 = Date.now();
  const log = opts.quiet ? undefined : print;
  const runs: ClientRun[] = await Promise.all([lane, undefined].map(async (l) =>
    ({ lane: l, ...await runClient(url, l ?? "none", laneOptions(spec, l, from), { messages, intervalMs: opts.intervalMs, timeoutMs: opts.timeoutMs, log }) })));
  const ms = Date.now() - t0;
  const rows = summarizeRuns(spec, runs, from, opts.withFilter);
  // The last acks may still be on their way to wsk through the gateway and its sidecar.
  const responses = rows.filter((r) => r.kind === "response").reduce((a, r) => a + r.count, 0);
  let got = await acks();
  for (const until = Date.now() + 2000; got < responses && Date.now() < until; got = await acks()) await new Promise((r) => setTimeout(r, 20));
  return { runs, rows, failures: checkRuns(runs, rows, messages, got), acks: got, ms, spec, lane, from, messages, withFilter: opts.withFilter };
}

/** Prints a run's table and verdict; returns the exit code. */
export function report({ runs, rows, failures, acks, ms, spec, lane, from, messages, withFilter }: Run, modeText: string, print: (s: string) => void = console.log): number {
  print(`\n${runs.length} socket.io clients through the gateway, ${messages} messages each, in ${ms} ms (mode websocket: ${modeText}; lane named by ${from} "${spec.gateway!.laneFrom![from]}"; lane-tag ${withFilter ? "on" : "OFF"}):\n`);
  print(formatRows(rows));
  print(`\nwsk got ${acks} "got it" acks`);
  if (failures.length) {
    print(`\n${failures.length} check(s) failed${withFilter ? "" : " without the filter"}:`);
    for (const f of failures.slice(0, 10)) print(`  ${f}`);
    return 1;
  }
  const callee = upstreamOf(spec, chain(spec)[0]);
  print(withFilter
    ? `\nevery message went where the lanes say: the ${lane} client's responses from ${callee} ${expectedVersion(spec, lane, "response", true)} (its lane rides the handshake's baggage, which wsk forwards); broadcasts (no client context) and the other client's from the baseline ${spec.baseline}`
    : `\nwithout lane-tag the ${lane} client's lane is lost: nothing puts it into the handshake's baggage, so wsk forwards none and its responses come from ${callee} ${spec.baseline} too`);
  return 0;
}

/**
 * Ready when a client asking for the first non-baseline lane gets its response and a broadcast from the
 * versions expected (`withFilter`: with lane-tag or without): until then a cluster may be unresolved, or an
 * app not yet up.
 */
export async function waitForWebSocket(url: string, spec: LanesSpec, withFilter: boolean, timeoutMs = 120_000): Promise<void> {
  const lane = spec.lanes.find((l) => l.name !== spec.baseline)!.name;
  const want = (kind: Kind) => expectedVersion(spec, lane, kind, withFilter);
  const until = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < until) {
    const r = await runClient(url, lane, laneOptions(spec, lane, "header"), { messages: 1, broadcasts: 1, timeoutMs: Math.min(5000, Math.max(until - Date.now(), 1)) });
    const got = (kind: Kind) => r.seen.find((s) => s.kind === kind)?.version;
    last = r.error ?? `response from ${got("response")}, broadcast from ${got("broadcast")}`;
    if (!r.error && got("response") === want("response") && got("broadcast") === want("broadcast")) return;
    await new Promise((ok) => setTimeout(ok, 1000));
  }
  throw new Error(`the gateway did not serve the ${lane} client as expected within ${timeoutMs / 1000}s (last: ${last})`);
}

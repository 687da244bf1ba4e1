// npm run lanes -- status: where do lanes go, per workload, read from the sidecars' Envoy admin
// /stats/prometheus. The lane_metrics counter (lanetag_requests_total{lane,lane_direction,lane_source})
// gives the table; it and the filter's older per-direction counters (lane_tag_<direction>_<name>) give the
// signals an operator acts on: a workload whose app drops the lane, lanes kept only by trace correlation,
// invalid lanes, and proxies where lane_metrics is off or its stats_tags are missing.
import { LANE_REQUESTS_METRIC } from "./observe.ts";

/** One Prometheus sample line. */
export interface Sample { name: string; labels: Record<string, string>; value: number }

/** What one workload's proxy (or proxies: same name, summed) showed. */
export interface StatusSource { workload: string; samples: Sample[] }

/** fetchStatus' answer per target: its samples, or why it could not be read. */
export interface FetchedSource extends StatusSource { target: string; error?: string }

export interface StatusRow {
  workload: string;
  direction: string;
  lane: string;
  requests: number;
  /** Requests per lane source, most first. */
  bySource: [source: string, requests: number][];
}

export type SignalKind = "drops-lane" | "restored-by-trace" | "invalid-lanes" | "untagged-lane-metrics" | "no-lane-metrics" | "no-counters" | "idle" | "no-waypoint";
export interface Signal { workload: string; kind: SignalKind; text: string }

export interface StatusReport { rows: StatusRow[]; signals: Signal[] }

const OLD_PREFIX = "lane_tag_";
// The lane counter under a proxy without (all) the stats_tags: Envoy sanitizes what is left of the name, e.g.
// lane___s2___lane_direction___outbound___lane_source___baggage___lanetag_requests_total.
const UNTAGGED_SUFFIX = `___${LANE_REQUESTS_METRIC}`;
const DIRECTIONS = ["inbound", "outbound", "both"];
const SOURCES = ["baggage", "header", "client", "assign", "local", "trace", "default", "none"];
const METRICS_DOC = 'docs/observability.md, section "Lane metrics"';

/** The metrics this tool reads; Envoy serves thousands of others. */
function wanted(name: string): boolean {
  return name === LANE_REQUESTS_METRIC || name.startsWith(OLD_PREFIX) || name.endsWith(UNTAGGED_SUFFIX);
}

export class PrometheusParseError extends Error {}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"/;

/** The label block from `s[0] == "{"`; returns the labels and the rest after "}". */
function parseLabels(s: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    const close = /^\s*}/.exec(s.slice(i));
    if (close) return { labels, rest: s.slice(i + close[0].length) };
    const m = LABEL.exec(s.slice(i));
    if (!m) throw new PrometheusParseError(`line ${line}: a label name and ="…" expected at ${JSON.stringify(s.slice(i, i + 20))}`);
    i += m[0].length;
    let value = "";
    for (;;) {
      const c = s[i++];
      if (c === undefined) throw new PrometheusParseError(`line ${line}: the value of label ${m[1]} is not closed`);
      if (c === '"') break;
      if (c !== "\\") { value += c; continue; }
      const e = s[i++];
      // The text format escapes only these three; anything else after a backslash stays as written.
      value += e === "n" ? "\n" : e === "\\" || e === '"' ? e : `\\${e ?? ""}`;
    }
    labels[m[1]] = value;
    const sep = /^\s*,?/.exec(s.slice(i))!;
    i += sep[0].length;
  }
}

function parseValue(v: string, line: number): number {
  if (/^[+]?Inf$/i.test(v)) return Infinity;
  if (/^-Inf$/i.test(v)) return -Infinity;
  const n = Number(v);
  if (v === "" || (Number.isNaN(n) && !/^NaN$/i.test(v))) throw new PrometheusParseError(`line ${line}: ${JSON.stringify(v)} is not a sample value`);
  return n;
}

/**
 * The lane-tag samples of a Prometheus text exposition (Envoy's /stats/prometheus): lanetag_requests_total,
 * lane_tag_* and the lane counter's untagged form; other metrics, comments (`# `) and blank lines are skipped.
 * Throws PrometheusParseError, naming the line, for a malformed lane-tag sample.
 */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (line === "" || line.startsWith("#")) continue;
    const name = NAME.exec(line)?.[0];
    if (!name || !wanted(name)) continue;
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.trimStart().startsWith("{")) ({ labels, rest } = parseLabels(rest.trimStart(), n + 1));
    // value [timestamp]
    const fields = rest.trim().split(/\s+/);
    if (fields.length < 1 || fields.length > 2 || fields[0] === "") throw new PrometheusParseError(`line ${n + 1}: ${name} has no value`);
    samples.push({ name, labels, value: parseValue(fields[0], n + 1) });
  }
  return samples;
}

const order = (list: readonly string[], x: string) => (list.includes(x) ? list.indexOf(x) : list.length);
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Named lanes first, then _other, then _none (lane names never start with "_"). */
function compareLanes(a: string, b: string): number {
  const rank = (l: string) => (l === "_none" ? 2 : l === "_other" ? 1 : 0);
  return rank(a) - rank(b) || byText(a, b);
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The table and the signals for what the sources showed; sources of one workload are summed. */
export function laneStatus(sources: StatusSource[]): StatusReport {
  const byWorkload = new Map<string, Sample[]>();
  for (const s of sources) byWorkload.set(s.workload, [...(byWorkload.get(s.workload) ?? []), ...s.samples]);

  const rows: StatusRow[] = [];
  const signals: Signal[] = [];
  for (const [workload, samples] of byWorkload) {
    const tally = tallySamples(samples);
    rows.push(...workloadRows(workload, tally.counts));
    const say = (kind: SignalKind, text: string) => signals.push({ workload, kind, text: `${workload}: ${text}` });
    coverageSignals(tally, say);
    laneSignals(tally, say);
  }

  rows.sort((a, b) => byText(a.workload, b.workload) || order(DIRECTIONS, a.direction) - order(DIRECTIONS, b.direction) ||
    byText(a.direction, b.direction) || compareLanes(a.lane, b.lane));
  // A stable sort: within a workload the signals keep the order they were said in.
  signals.sort((a, b) => byText(a.workload, b.workload));
  return { rows, signals };
}

/** One workload's samples, summed: the lane counter by direction, lane and source, and the older counters. */
interface Tally {
  /** direction -> lane -> source -> requests (samples above 0 only). */
  counts: Map<string, Map<string, Map<string, number>>>;
  /** lane_tag_<direction>_<name> -> total. */
  old: Map<string, number>;
  /** Lane counter samples, zeros included: any at all means lane_metrics is on and tagged. */
  laneSamples: number;
  /** Samples of the lane counter's untagged form. */
  untagged: number;
}

function tallySamples(samples: Sample[]): Tally {
  const t: Tally = { counts: new Map(), old: new Map(), laneSamples: 0, untagged: 0 };
  for (const s of samples) {
    if (s.name === LANE_REQUESTS_METRIC) {
      t.laneSamples++;
      if (!(s.value > 0)) continue;
      const { lane = "", lane_direction: dir = "", lane_source: src = "" } = s.labels;
      let d = t.counts.get(dir);
      if (!d) t.counts.set(dir, d = new Map());
      let l = d.get(lane);
      if (!l) d.set(lane, l = new Map());
      l.set(src, (l.get(src) ?? 0) + s.value);
    } else if (s.name.startsWith(OLD_PREFIX)) {
      t.old.set(s.name, (t.old.get(s.name) ?? 0) + s.value);
    } else {
      t.untagged++;
    }
  }
  return t;
}

/** A table row per direction and lane, its sources most requests first. */
function workloadRows(workload: string, counts: Tally["counts"]): StatusRow[] {
  const rows: StatusRow[] = [];
  for (const [dir, lanes] of counts) {
    for (const [lane, bySrc] of lanes) {
      const bySource = [...bySrc].sort(([a, x], [b, y]) => y - x || order(SOURCES, a) - order(SOURCES, b) || byText(a, b));
      rows.push({ workload, direction: dir, lane, requests: bySource.reduce((t, [, n]) => t + n, 0), bySource });
    }
  }
  return rows;
}

type Say = (kind: SignalKind, text: string) => void;

/** Whether the proxy counts lanes at all: no table without lane_metrics and its stats_tags. */
function coverageSignals({ counts, old, laneSamples, untagged }: Tally, say: Say): void {
  if (laneSamples === 0) {
    if (untagged > 0) say("untagged-lane-metrics", `lane metrics have no labels: the proxy's bootstrap lacks the stats_tags lane, lane_direction and lane_source (all three are needed; ${METRICS_DOC})`);
    else if (old.size > 0) say("no-lane-metrics", `no lane metrics: lane_metrics is off in this workload's filter configuration, so there is no per-lane table; set "lane_metrics": true (${METRICS_DOC})`);
    else say("no-counters", "no lane-tag counters at all: the filter is not running on this proxy, or a stats_matcher leaves wasmcustom stats out");
  } else if (counts.size === 0) {
    say("idle", "no requests counted yet");
  }
}

/** What the counts say about the workload's lanes: dropped by its app, restored by trace id, invalid. */
function laneSignals({ counts, old }: Tally, say: Say): void {
  const sum = (dir: string, keep: (lane: string, source: string) => boolean) => {
    let t = 0;
    for (const [lane, bySrc] of counts.get(dir) ?? []) for (const [s, n] of bySrc) if (keep(lane, s)) t += n;
    return t;
  };
  const inboundWithLane = sum("inbound", (lane) => lane !== "_none");
  const outDefault = sum("outbound", (lane, s) => lane !== "_none" && s === "default");
  const outNone = sum("outbound", (lane) => lane === "_none");
  if (inboundWithLane > 0 && outDefault + outNone > 0) {
    const parts = [outDefault > 0 ? `default ${outDefault}` : "", outNone > 0 ? `none ${outNone}` : ""].filter(Boolean).join(", ");
    say("drops-lane", `drops the lane: ${plural(outDefault + outNone, "outbound request")} had no lane of ${outDefault + outNone === 1 ? "its" : "their"} own (${parts}) while ${plural(inboundWithLane, "inbound request")} carried one`);
  }
  const outTrace = sum("outbound", (lane, s) => lane !== "_none" && s === "trace");
  if (outTrace > 0) {
    say("restored-by-trace", `its app drops baggage; correlation restored ${plural(outTrace, "lane")} by trace id (${outTrace} of ${plural(sum("outbound", () => true), "outbound request")})`);
  }
  for (const dir of DIRECTIONS) {
    const invalid = old.get(`${OLD_PREFIX}${dir}_invalid_lane`) ?? 0;
    if (invalid > 0) {
      say("invalid-lanes", `${plural(invalid, "invalid lane")} seen (${dir}): the routing header or baggage named a lane that is malformed or not among the configured lanes, and it was not used`);
    }
  }
}

/** The report as operators read it: the table (columns aligned), then the signals. */
export function formatStatus(report: StatusReport): string {
  const lines: string[] = [];
  if (report.rows.length === 0) {
    lines.push("no lane requests counted");
  } else {
    const table = [["workload", "direction", "lane", "requests", "by source"]];
    for (const r of report.rows) table.push([r.workload, r.direction, r.lane, String(r.requests), r.bySource.map(([s, n]) => `${s} ${n}`).join(", ")]);
    const w = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
    for (const r of table) lines.push(r.map((x, c) => x.padEnd(w[c])).join("  ").trimEnd());
  }
  lines.push("");
  if (report.signals.length === 0) lines.push("signals: none");
  else lines.push("signals:", ...report.signals.map((s) => `  ${s.text}`));
  return `${lines.join("\n")}\n`;
}

/** A target `[name=]<admin-url>`; a URL without a scheme is taken as http://. */
export interface Target { name?: string; url: URL; text: string }

export class TargetError extends Error {}

export function parseTarget(text: string): Target {
  // A name holds no ":" or "/", so a URL with "=" in its query is not mistaken for name=url.
  const named = /^([^=:/]*)=(.*)$/.exec(text);
  const name = named?.[1].trim();
  const address = (named ? named[2] : text).trim();
  if (named && !name) throw new TargetError(`${JSON.stringify(text)}: the name before "=" is empty`);
  if (address === "") throw new TargetError(`${JSON.stringify(text)}: no admin URL`);
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `http://${address}`);
  } catch {
    throw new TargetError(`${JSON.stringify(text)}: ${JSON.stringify(address)} is not a URL (the proxy's admin address, e.g. http://127.0.0.1:15000)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new TargetError(`${JSON.stringify(text)}: the admin URL must be http:// or https://, got ${url.protocol}//`);
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return { name, url, text };
}

/** Why a fetch failed, in words (Node's fetch says only "fetch failed" and puts the reason in `cause`). */
function reason(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === "TimeoutError" || err.name === "AbortError") return `no answer within ${timeoutMs / 1000} s`;
  const code = err.cause?.code;
  const known: Record<string, string> = {
    ECONNREFUSED: "connection refused (nothing listens there: is it the proxy's admin port, e.g. 15000?)",
    ENOTFOUND: "host not found", EAI_AGAIN: "host name lookup failed", ECONNRESET: "connection reset",
    EHOSTUNREACH: "host unreachable", ENETUNREACH: "network unreachable", ETIMEDOUT: "connection timed out",
  };
  if (code && known[code]) return known[code];
  if (err.cause?.message === "bad port") return "Node's fetch refuses this port (one of the ports browsers block)";
  return err.cause?.message ?? err.message ?? String(e);
}

async function get(url: URL, timeoutMs: number): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
  if (!res.ok) throw new Error(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`);
  return await res.text();
}

/** The workload's name from /server_info: Istio's node.metadata.WORKLOAD_NAME, else node.id; undefined if neither. */
async function serverInfoName(base: URL, timeoutMs: number): Promise<string | undefined> {
  try {
    const info = JSON.parse(await get(new URL("server_info", base), timeoutMs)) as { node?: { id?: unknown; metadata?: { WORKLOAD_NAME?: unknown } } };
    for (const v of [info.node?.metadata?.WORKLOAD_NAME, info.node?.id]) if (typeof v === "string" && v !== "") return v;
  } catch {
    // The name is a convenience: the address names the workload instead.
  }
  return undefined;
}

/**
 * Reads each target's /stats/prometheus (and, for a target without a name, /server_info for one), all at once.
 * A target that cannot be read comes back with `error` (what failed and why) and no samples.
 * Throws TargetError for a target that is not `[name=]<admin-url>`.
 */
export async function fetchStatus(targets: string[], timeoutMs = 5000): Promise<FetchedSource[]> {
  const parsed = targets.map(parseTarget);
  return Promise.all(parsed.map(async (t): Promise<FetchedSource> => {
    const stats = new URL("stats/prometheus", t.url);
    const [text, name] = await Promise.all([
      get(stats, timeoutMs).then((body) => ({ body }), (e: unknown) => ({ error: reason(e, timeoutMs) })),
      t.name ? Promise.resolve(t.name) : serverInfoName(t.url, timeoutMs),
    ]);
    const workload = name ?? t.url.host;
    if ("error" in text) return { workload, target: t.text, samples: [], error: `cannot read ${stats.href}: ${text.error}` };
    try {
      return { workload, target: t.text, samples: parsePrometheus(text.body) };
    } catch (e) {
      if (!(e instanceof PrometheusParseError)) throw e;
      return { workload, target: t.text, samples: [], error: `${stats.href} is not Prometheus text as Envoy serves it: ${e.message}` };
    }
  }));
}

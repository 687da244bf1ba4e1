// The client side of both demos (Docker-less and Envoy): sends requests to the gateway, reads the chain
// lines, and checks them against what the lanes spec says each lane should see.
import http from "node:http";
import type { LanesSpec } from "../../deploy/lib/spec.ts";
import { chain, expectedChain, chainWithoutFilter, gatewayWeights, resolve, RANDOM_HEADER, LANE_HEADER } from "./topology.ts";
import { TRACE_HEADER } from "../../deploy/lib/observe.ts";
import { prng } from "./random.ts";

export interface Hop { app: string; version: string; ip: string }
export interface Result { lane: string; status: number; body: string; hops: Hop[]; user?: string; trace?: string }


export function parseChain(body: string): Hop[] {
  return [...body.matchAll(/-> ([a-z0-9-]+)\(version: ([^,]+), ip: ([^)]*)\)/g)].map((m) => ({ app: m[1], version: m[2], ip: m[3] }));
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

function get(url: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.setTimeout(15000, () => req.destroy(new Error("timeout")));
  });
}

/** What one call to the gateway gave back: the HTTP status (200 for a gRPC call that ended OK), the lane the
 *  gateway answered, the chain text. */
export interface Answer { status: number; lane: string; body: string; trace?: string }
/** One call to the gateway, carrying `headers` (HTTP headers or gRPC metadata). */
export type Call = (headers: Record<string, string>) => Promise<Answer>;

export interface SendOptions {
  seed?: number; concurrency?: number; onResult?: (r: Result, i: number) => void;
  /** Also send `userHeader: user-<k>`, k drawn from `users` users (the sticky demo). */
  userHeader?: string; users?: number;
  /** Sent with every request (e.g. x-lane-tag-debug: 1 for a hop trace). */
  headers?: Record<string, string>;
}

/** A GET request to the gateway at `url`, as a Call. */
export function httpCall(url: string): Call {
  return async (headers) => {
    const r = await get(url, headers);
    const trace = r.headers[TRACE_HEADER];
    return { status: r.status, lane: String(r.headers[LANE_HEADER] ?? ""), body: r.body, ...(trace !== undefined ? { trace: String(trace) } : {}) };
  };
}

/** Sends `n` GET requests to the gateway at `url`: see runRequests. */
export function sendRequests(url: string, n: number, opts: SendOptions = {}): Promise<Result[]> {
  return runRequests(httpCall(url), n, opts);
}

/**
 * Makes `n` calls to the gateway, whatever the transport. Each carries a random value for the gateway's
 * weighted choice (Envoy's WeightedCluster.header_name), drawn from a seeded PRNG: the same seed gives the
 * same split everywhere.
 */
export async function runRequests(call: Call, n: number, { seed = 1, concurrency = 16, onResult, userHeader, users = 0, headers = {} }: SendOptions = {}): Promise<Result[]> {
  const rand = prng(seed);
  const values = Array.from({ length: n }, () => String(Math.floor(rand() * 2 ** 32)));
  const userOf = Array.from({ length: n }, () => (userHeader && users > 0 ? `user-${seed}-${Math.floor(rand() * users)}` : undefined));
  const results: Result[] = new Array(n);
  let next = 0;
  let printed = 0;
  const done: boolean[] = new Array(n).fill(false);
  async function worker() {
    while (next < n) {
      const i = next++;
      const user = userOf[i];
      const r = await call({ ...headers, [RANDOM_HEADER]: values[i], ...(user ? { [userHeader!]: user } : {}) });
      results[i] = { lane: r.lane, status: r.status, body: r.body, hops: parseChain(r.body), ...(user ? { user } : {}), ...(r.trace !== undefined ? { trace: r.trace } : {}) };
      done[i] = true;
      // Report in request order.
      for (; printed < n && done[printed]; printed++) onResult?.(results[printed], printed);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return results;
}

export interface LaneSummary { lane: string; requests: number; share: number; versions: Map<string, Map<string, number>> }

/** Requests per lane and, per lane, which version served each service (with counts). */
export function summarize(spec: LanesSpec, results: Result[]): LaneSummary[] {
  return spec.lanes.map((l) => {
    const mine = results.filter((r) => r.lane === l.name);
    const versions = new Map<string, Map<string, number>>(chain(spec).map((s) => [s, new Map()]));
    for (const r of mine) for (const h of r.hops) {
      const m = versions.get(h.app);
      if (m) m.set(h.version, (m.get(h.version) ?? 0) + 1);
    }
    return { lane: l.name, requests: mine.length, share: results.length ? (100 * mine.length) / results.length : 0, versions };
  });
}

export function formatSummary(spec: LanesSpec, summary: LaneSummary[]): string {
  const services = chain(spec);
  const rows = [["lane", "requests", "share", ...services]];
  for (const s of summary) {
    rows.push([s.lane, String(s.requests), `${s.share.toFixed(1)}%`, ...services.map((svc) => {
      const m = s.versions.get(svc)!;
      if (m.size === 0) return "-";
      if (m.size === 1) return [...m.keys()][0];
      return [...m].map(([v, c]) => `${v}×${c}`).join(" ");
    })]);
  }
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((x, c) => x.padEnd(w[c])).join("  ").trimEnd()).join("\n");
}

/**
 * The hop trace a request in `lane` should bring back: per service, the workload that serves it, its own
 * lane, and the lane asked for where the two differ.
 */
export function expectedTrace(spec: LanesSpec, lane: string): string {
  return chain(spec).map((svc) => {
    const w = resolve(spec, svc, lane);
    const own = spec.lanes.find((l) => l.label === w.version)?.name ?? "?";
    return `${w.name}@${own}${own !== lane ? ` (fallback from ${lane})` : ""}`;
  }).join(", ");
}

/** Each traced request brought back the hop trace its lane should have. */
export function checkTraces(spec: LanesSpec, results: Result[]): string[] {
  const out: string[] = [];
  results.forEach((r, i) => {
    const want = expectedTrace(spec, r.lane);
    if (r.trace !== want) out.push(`request ${i} in lane ${r.lane}: trace ${JSON.stringify(r.trace ?? null)}, expected ${JSON.stringify(want)}`);
  });
  return out;
}

export interface CheckOptions {
  filter: boolean; weights?: { lane: string; weight: number }[]; tolerance?: number;
  /** Per workload, the trace records its sidecar's full trace table gave up (trace_evicted). */
  evicted?: Map<string, number>;
}

/**
 * What must hold for a run: every request answered with a full chain; with the filter, every chain of a lane
 * is the lane's expected chain; without it, the lane reaches only the first service; lane shares within
 * `tolerance` points of the weights (checked only when `weights` is given).
 */
export function check(spec: LanesSpec, results: Result[], opts: CheckOptions): string[] {
  return checkRun(spec, results, opts).failures;
}

/** The workload whose outbound call lost the request's lane: the one before the first hop off its lane's chain. */
export function lostAt(spec: LanesSpec, r: Result): string | undefined {
  const want = expectedChain(spec, r.lane);
  const k = r.hops.findIndex((h, j) => h.version !== want[j]);
  return k > 0 ? `${r.hops[k - 1].app}-${r.hops[k - 1].version}` : undefined;
}

/**
 * As check, and with `evicted`: a request that left its lane's chain after a workload whose trace table gave
 * up records is put apart (`evicted`, one request per record given up), not among the failures. A lane
 * lost any other way, or more lanes than records given up, still fails.
 */
export function checkRun(spec: LanesSpec, results: Result[], opts: CheckOptions): { failures: string[]; evicted: string[] } {
  const failures: string[] = [];
  const evicted: string[] = [];
  const left = new Map(opts.evicted ?? []);
  const total = opts.weights?.reduce((a, b) => a + b.weight, 0) ?? 0;
  const services = chain(spec);
  results.forEach((r, i) => {
    if (r.status !== 200 || r.hops.length !== services.length) {
      failures.push(`request ${i}: status ${r.status}, body ${JSON.stringify(r.body.slice(0, 200))}`);
      return;
    }
    if (!spec.lanes.some((l) => l.name === r.lane)) {
      failures.push(`request ${i}: the gateway assigned no known lane (${JSON.stringify(r.lane)})`);
      return;
    }
    const want = opts.filter ? expectedChain(spec, r.lane) : chainWithoutFilter(spec, r.lane);
    const got = r.hops.map((h) => h.version);
    if (got.join("→") !== want.join("→") || r.hops.some((h, k) => h.app !== services[k])) {
      const text = `request ${i} in lane ${r.lane}: ${r.hops.map((h) => `${h.app} ${h.version}`).join(" → ")}, expected ${want.join(" → ")}`;
      const at = opts.filter && r.hops.every((h, k) => h.app === services[k]) ? lostAt(spec, r) : undefined;
      const n = at === undefined ? 0 : left.get(at) ?? 0;
      if (n > 0) {
        left.set(at!, n - 1);
        evicted.push(`${text} (${at}'s trace table gave up records)`);
      } else failures.push(text);
    }
  });
  if (opts.weights && results.length) {
    const tol = opts.tolerance ?? 4;
    for (const w of opts.weights) {
      const share = (100 * results.filter((r) => r.lane === w.lane).length) / results.length;
      const want = (100 * w.weight) / total;
      if (Math.abs(share - want) > tol) failures.push(`lane ${w.lane}: ${share.toFixed(1)}% of requests, expected ${want.toFixed(0)}% ± ${tol}`);
    }
  }
  return { failures, evicted };
}

/**
 * Ready when every lane answers its expected chain: a lane whose DNS-resolved cluster is still empty would
 * quietly fall back to the baseline, so one good answer is not enough. `gateway`: its URL, or a Call to it.
 */
export async function waitForLanes(gateway: string | Call, spec: LanesSpec, timeoutMs = 120_000): Promise<void> {
  const call = typeof gateway === "string" ? httpCall(gateway) : gateway;
  const until = Date.now() + timeoutMs;
  const lanes = gatewayWeights(spec).filter((w) => w.weight > 0);
  let pending = lanes.map((l) => l.lane);
  let last = "";
  while (Date.now() < until) {
    const still: string[] = [];
    let start = 0;
    for (const l of lanes) {
      // The gateway's header_name value that selects this lane: the start of its weight range.
      const value = start;
      start += l.weight;
      if (!pending.includes(l.lane)) continue;
      try {
        const r = await call({ [RANDOM_HEADER]: String(value) });
        const got = parseChain(r.body).map((h) => h.version).join("→");
        last = `${l.lane}: ${r.status} ${r.body}`;
        if (r.status !== 200 || r.lane !== l.lane || got !== expectedChain(spec, l.lane).join("→")) still.push(l.lane);
      } catch (e) {
        last = `${l.lane}: ${(e as Error).message}`;
        still.push(l.lane);
      }
    }
    pending = still;
    if (!pending.length) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`lanes ${pending.join(", ")} did not answer their expected chain within ${timeoutMs / 1000}s (last: ${last})`);
}

/**
 * Without the filter the lanes collapse by design: ready when the gateway answers any full chain, and then a
 * few seconds more for the sidecars' DNS clusters to resolve, as they did for the filtered run.
 */
export async function waitForAnyChain(gateway: string | Call, spec: LanesSpec, timeoutMs = 120_000, settleMs = 6000): Promise<void> {
  const call = typeof gateway === "string" ? httpCall(gateway) : gateway;
  const until = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < until) {
    try {
      const r = await call({});
      last = `${r.status} ${r.body}`;
      if (r.status === 200 && parseChain(r.body).length === chain(spec).length) {
        await new Promise((ok) => setTimeout(ok, settleMs));
        return;
      }
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`the gateway did not answer a full chain within ${timeoutMs / 1000}s (last: ${last})`);
}

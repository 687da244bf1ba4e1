// npm run lanes -- status, live: the whole path on the built module in emulated sidecars, and the CLI against
// a local admin stand-in (status.test.ts: parsing, the table, the rendering).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Host, prometheusText, type Header } from "../../emulator/index.ts";
import { LANE_STATS_TAGS } from "../../deploy/lib/observe.ts";
import { fetchStatus, formatStatus, laneStatus, parsePrometheus, parseTarget, TargetError } from "../../deploy/lib/status.ts";
import { ROOT, wasmBytes, base, IN, OUT, traceparent } from "../support/helpers.ts";
import { text, INVALID, MOCKB, MOCKA } from "./status-fixtures.ts";

const LANES = ["s1", "s2", "s3"];
/** One sidecar VM with an inbound and an outbound plugin, lane_metrics on; `extra` goes to both. */
async function sidecar(extra: object = {}) {
  const host = await Host.load(wasmBytes());
  const common = { lanes: LANES, lane_metrics: true, ...extra };
  const inbound = host.configure({ configuration: JSON.stringify({ ...common, direction: "inbound" }) });
  const outbound = host.configure({ configuration: JSON.stringify({ ...common, direction: "outbound", default_lane: "s1" }) });
  assert.ok(!inbound.failed && !outbound.failed, host.logs.map((l) => l.message).join("\n"));
  return { host, inbound, outbound };
}
const times = (n: number, f: (i: number) => void) => { for (let i = 0; i < n; i++) f(i); };
const status = (...workloads: [string, Host][]) =>
  formatStatus(laneStatus(workloads.map(([workload, h]) => ({ workload, samples: parsePrometheus(prometheusText(h.envoyStats(), LANE_STATS_TAGS)) }))));

describe("lanes status on the built module (emulated sidecars, Envoy's Prometheus text)", () => {
  it("mocka-v1 keeps its lanes (one invalid lane); mockb-v1 drops them: named with its numbers", async () => {
    const a = await sidecar();
    times(3, () => a.inbound.request([...base, ["x-asm-prefer-tag", "s3"], ["baggage", "x-asm-prefer-tag=s3"]], IN));
    a.inbound.request([...base, ["x-asm-prefer-tag", "s9"]], IN); // not a configured lane
    times(3, () => a.outbound.request([...base, ["baggage", "x-asm-prefer-tag=s3"]], OUT));
    const b = await sidecar();
    times(5, () => b.inbound.request([...base, ["x-asm-prefer-tag", "s2"], ["baggage", "x-asm-prefer-tag=s2"]], IN));
    times(5, () => b.outbound.request(base, OUT)); // the app did not pass baggage on

    assert.equal(status(["mockb-v1", b.host], ["mocka-v1", a.host]), text(
      "workload  direction  lane   requests  by source",
      "mocka-v1  inbound    s3     3         header 3",
      "mocka-v1  inbound    _none  1         none 1",
      "mocka-v1  outbound   s3     3         baggage 3",
      "mockb-v1  inbound    s2     5         header 5",
      "mockb-v1  outbound   s1     5         default 5",
      "",
      "signals:",
      `  mocka-v1: 1 invalid lane seen (inbound): ${INVALID}`,
      "  mockb-v1: drops the lane: 5 outbound requests had no lane of their own (default 5) while 5 inbound requests carried one",
    ));
  });

  it("with correlation: the lanes restored by trace id are counted as source trace and named", async () => {
    const b = await sidecar({ correlation: { enabled: true } });
    const trace = (i: number) => traceparent(`4bf92f3577b34da6a3ce929d0e0e47${String(i).padStart(2, "0")}`);
    times(5, (i) => b.inbound.request([...base, ["x-asm-prefer-tag", "s2"], ["traceparent", trace(i)]] as Header[], IN));
    times(5, (i) => b.outbound.request([...base, ["traceparent", trace(i)]] as Header[], OUT)); // no baggage
    // With lane_metrics on, the per-lane counter holds this count (the per-direction one is not incremented).
    assert.equal(b.host.counter("lane=.=s2;.;lane_direction=.=outbound;.;lane_source=.=trace;.;lanetag_requests_total"), 5);
    assert.equal(b.host.counter("lane_tag.outbound.lane_from_trace"), 0);
    assert.equal(status(["mockb-v1", b.host]), text(
      "workload  direction  lane  requests  by source",
      "mockb-v1  inbound    s2    5         header 5",
      "mockb-v1  outbound   s2    5         trace 5",
      "",
      "signals:",
      "  mockb-v1: its app drops baggage; correlation restored 5 lanes by trace id (5 of 5 outbound requests)",
    ));
  });

  it("lane_metrics off: the older counters only, and the status says so", async () => {
    const host = await Host.load(wasmBytes());
    const p = host.configure({ configuration: JSON.stringify({ lanes: LANES, direction: "outbound", default_lane: "s1" }) });
    p.request(base, OUT);
    assert.match(status(["mockb-v1", host]), /^no lane requests counted\n\nsignals:\n {2}mockb-v1: no lane metrics: lane_metrics is off/);
  });

  it("stats_tags missing: the untagged names are recognised", async () => {
    const b = await sidecar();
    b.outbound.request(base, OUT);
    const samples = parsePrometheus(prometheusText(b.host.envoyStats(), []));
    assert.match(formatStatus(laneStatus([{ workload: "mockb-v1", samples }])), /mockb-v1: lane metrics have no labels: the proxy's bootstrap lacks the stats_tags/);
  });
});

// ---- the CLI and fetchStatus against a stand-in for Envoy's admin ----------------------------------------

function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((ok) => {
    execFile(process.execPath, ["--import", "tsx", "deploy/lanes.ts", ...args], { cwd: ROOT, encoding: "utf8" }, (e, out, err) => {
      ok({ code: e ? (typeof e.code === "number" ? e.code : -1) : 0, out, err });
    });
  });
}

const listen = (s: Server) => new Promise<string>((ok) => s.listen(0, "127.0.0.1", () => ok(`127.0.0.1:${(s.address() as AddressInfo).port}`)));

describe("npm run lanes -- status", { concurrency: true }, () => {
  let admin: Server, silent: Server, addr = "", silentAddr = "", closed = "";
  before(async () => {
    // /stats/prometheus as MOCKB; /server_info names the workload as Istio does; /bare/ has no server_info.
    admin = createServer((req, res) => {
      const path = req.url ?? "";
      if (path === "/stats/prometheus" || path === "/bare/stats/prometheus") { res.setHeader("content-type", "text/plain; version=0.0.4"); res.end(MOCKB); return; }
      if (path === "/server_info") { res.setHeader("content-type", "application/json"); res.end(JSON.stringify({ state: "LIVE", node: { id: "sidecar~10.0.0.7~mockb-v1-5d9c.default~default.svc.cluster.local", metadata: { WORKLOAD_NAME: "mockb-v1" } } })); return; }
      if (path === "/id/server_info") { res.end(JSON.stringify({ node: { id: "router~10.0.0.9~gw.default" } })); return; }
      if (path === "/id/stats/prometheus") { res.end(MOCKA); return; }
      res.statusCode = 404;
      res.end("not found\n");
    });
    silent = createServer(() => { /* never answers */ });
    const gone = createServer();
    [addr, silentAddr, closed] = await Promise.all([listen(admin), listen(silent), listen(gone)]);
    await new Promise((ok) => gone.close(ok));
  });
  after(() => {
    admin.closeAllConnections();
    silent.closeAllConnections();
    admin.close();
    silent.close();
  });

  it("prints the table, the workload named by /server_info; exit 0", async () => {
    const r = await run(["status", `http://${addr}`]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, "");
    assert.match(r.out, /^workload +direction +lane +requests +by source\nmockb-v1 +inbound +s2 +40 +baggage 40\nmockb-v1 +outbound +s1 +40 +default 40\n\nsignals:\n {2}mockb-v1: drops the lane: 40 outbound/);
  });

  it("name=url names the workload; without a scheme http:// is meant; no server_info: host:port", async () => {
    const r = await run(["status", `mine=${addr}`, `http://${addr}/bare/`]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^mine +inbound +s2 +40/m);
    assert.match(r.out, new RegExp(`^${addr.replace(/\./g, "\\.")} +outbound +s1 +40`, "m"));
  });

  it("fetchStatus: node.id when there is no WORKLOAD_NAME", async () => {
    const [s] = await fetchStatus([`http://${addr}/id`]);
    assert.equal(s.error, undefined);
    assert.equal(s.workload, "router~10.0.0.9~gw.default");
    assert.equal(s.samples.length, 6);
  });

  it("--help: exit 0, usage on stdout", async () => {
    const r = await run(["--help"]);
    assert.equal(r.code, 0);
    assert.match(r.out, /^usage: npm run lanes -- status \[name=\]<admin-url>\.\.\./);
  });

  for (const [what, args, msg] of [
    ["no targets", ["status"], /^missing an admin URL \(\[name=\]<admin-url>\)\nusage: npm run lanes/],
    ["no command", [], /^missing the command \(status\)\nusage: npm run lanes/],
    ["an unknown command", ["stats", "http://127.0.0.1:15000"], /^unknown command "stats" \(known: status\)\nusage: /],
    ["a target that is no URL", ["status", "mockb=http://[::1"], /^"mockb=http:\/\/\[::1": "http:\/\/\[::1" is not a URL/],
    ["an empty name", ["status", "=http://127.0.0.1:15000"], /^"=http:\/\/127\.0\.0\.1:15000": the name before "=" is empty/],
    ["a scheme that is not http", ["status", "ftp://127.0.0.1:15000"], /the admin URL must be http:\/\/ or https:\/\/, got ftp:/],
    ["a bad --timeout", ["status", "--timeout", "0", "127.0.0.1:15000"], /^--timeout needs a positive integer, got "0"/],
  ] as const) {
    it(`usage error, exit 2: ${what}`, async () => {
      const r = await run([...args]);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, msg);
      assert.equal(r.out, "");
    });
  }

  it("an unreachable target: named, connection refused, exit 1", async () => {
    const r = await run(["status", `mockb-v1=http://${closed}`]);
    assert.equal(r.code, 1);
    assert.equal(r.out, "");
    assert.equal(r.err, `mockb-v1 (mockb-v1=http://${closed}): cannot read http://${closed}/stats/prometheus: ` +
      "connection refused (nothing listens there: is it the proxy's admin port, e.g. 15000?)\nthe target could not be read\n");
  });

  it("one target read, one not (HTTP 404, no answer in time): the table, the others on stderr, exit 0", async () => {
    const r = await run(["status", "--timeout", "1", `http://${addr}`, `a=http://${addr}/nope/`, `b=${silentAddr}`]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^mockb-v1 +inbound +s2 +40/m);
    assert.match(r.err, new RegExp(`^a \\(a=http://${addr}/nope/\\): cannot read http://${addr}/nope/stats/prometheus: HTTP 404 Not Found$`, "m"));
    assert.match(r.err, new RegExp(`^b \\(b=${silentAddr}\\): cannot read http://${silentAddr}/stats/prometheus: no answer within 1 s$`, "m"));
  });

  it("parseTarget: name=url, scheme added, path kept for the admin's endpoints", () => {
    const t = parseTarget("mockb-v1=127.0.0.1:15000");
    assert.equal(t.name, "mockb-v1");
    assert.equal(t.url.href, "http://127.0.0.1:15000/");
    assert.equal(parseTarget("https://h/admin?x=1").url.href, "https://h/admin/?x=1");
    assert.equal(parseTarget("https://h/admin?x=1").name, undefined);
    assert.throws(() => parseTarget("a= "), TargetError);
  });
});

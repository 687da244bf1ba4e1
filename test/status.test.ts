// npm run lanes -- status: parsing Envoy's /stats/prometheus, the table and its signals, the emulator's
// Prometheus rendering, the whole path on the built module, and the CLI against a local admin stand-in.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Host, prometheusText, type Header } from "../deploy/emulator/index.ts";
import { LANE_STATS_TAGS } from "../deploy/lib/observe.ts";
import { fetchStatus, formatStatus, laneStatus, parsePrometheus, parseTarget, PrometheusParseError, TargetError,
  type StatusSource } from "../deploy/lib/status.ts";
import { ROOT, wasmBytes, base, IN, OUT, traceparent } from "./helpers.ts";

const lane = (l: string, dir: string, src: string, n: number) =>
  `lanetag_requests_total{lane="${l}",lane_direction="${dir}",lane_source="${src}"} ${n}`;
const text = (...lines: string[]) => `${lines.join("\n")}\n`;
const INVALID = "the routing header or baggage named a lane that is malformed or not among the configured lanes, and it was not used";
const METRICS_DOC = 'README.md, section "Lane metrics"';

// What a sidecar's admin serves, trimmed: other Envoy metrics around ours, comments, a histogram.
const MOCKB = text(
  "# TYPE envoy_cluster_upstream_rq_total counter",
  'envoy_cluster_upstream_rq_total{envoy_cluster_name="outbound|8000||mockc"} 80',
  "# TYPE lane_tag_inbound_invalid_lane counter",
  "lane_tag_inbound_invalid_lane{} 3",
  "# TYPE lane_tag_outbound_invalid_lane counter",
  "lane_tag_outbound_invalid_lane{} 0",
  "",
  "# HELP lanetag_requests_total lane-tag requests",
  "# TYPE lanetag_requests_total counter",
  lane("s2", "inbound", "baggage", 40),
  lane("s3", "inbound", "baggage", 0),
  lane("s1", "outbound", "default", 40),
  lane("s3", "outbound", "baggage", 0),
  "# TYPE envoy_http_downstream_rq_time histogram",
  'envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix="inbound_0.0.0.0_8000",le="0.5"} 12',
);
const MOCKA = text(
  "# TYPE lane_tag_outbound_lane_from_trace counter",
  "lane_tag_outbound_lane_from_trace{} 12",
  "# TYPE lanetag_requests_total counter",
  lane("s2", "inbound", "header", 52),
  lane("s2", "outbound", "baggage", 40),
  lane("s2", "outbound", "trace", 12),
  lane("_none", "outbound", "none", 1),
  lane("_other", "inbound", "header", 2),
);

describe("parsePrometheus", () => {
  it("keeps the lane-tag samples, with their labels and values; skips comments, blank lines, other metrics", () => {
    assert.deepEqual(parsePrometheus(MOCKB), [
      { name: "lane_tag_inbound_invalid_lane", labels: {}, value: 3 },
      { name: "lane_tag_outbound_invalid_lane", labels: {}, value: 0 },
      { name: "lanetag_requests_total", labels: { lane: "s2", lane_direction: "inbound", lane_source: "baggage" }, value: 40 },
      { name: "lanetag_requests_total", labels: { lane: "s3", lane_direction: "inbound", lane_source: "baggage" }, value: 0 },
      { name: "lanetag_requests_total", labels: { lane: "s1", lane_direction: "outbound", lane_source: "default" }, value: 40 },
      { name: "lanetag_requests_total", labels: { lane: "s3", lane_direction: "outbound", lane_source: "baggage" }, value: 0 },
    ]);
  });

  const cases: [string, string, { labels?: Record<string, string>; value?: number; name?: string }][] = [
    ["escaped quote, backslash and newline in a label value",
      'lanetag_requests_total{lane="a\\"b\\\\c\\nd",lane_direction="outbound",lane_source="header"} 7',
      { labels: { lane: 'a"b\\c\nd', lane_direction: "outbound", lane_source: "header" }, value: 7 }],
    ["a comma and a brace inside a value", 'lanetag_requests_total{lane="x,y}",lane_source="baggage"} 1', { labels: { lane: "x,y}", lane_source: "baggage" } }],
    ["a trailing comma, spaces, a timestamp", 'lanetag_requests_total{ lane = "s1" , } 5 1700000000000', { labels: { lane: "s1" }, value: 5 }],
    ["no label block at all", "lane_tag_both_invalid_lane 4", { labels: {}, value: 4 }],
    ["CRLF line ends", "lane_tag_both_invalid_lane{} 4\r", { value: 4 }],
    ["a float value", "lane_tag_both_invalid_lane{} 1.5e3", { value: 1500 }],
    ["the untagged lane counter (no stats_tags)", "lane___s2___lane_direction___outbound___lane_source___baggage___lanetag_requests_total{} 9",
      { name: "lane___s2___lane_direction___outbound___lane_source___baggage___lanetag_requests_total", value: 9 }],
  ];
  for (const [what, line, want] of cases) {
    it(what, () => {
      const [s] = parsePrometheus(`# TYPE x counter\n${line}\n`);
      assert.ok(s, `nothing parsed from ${line}`);
      if (want.labels) assert.deepEqual(s.labels, want.labels);
      if (want.value !== undefined) assert.equal(s.value, want.value);
      if (want.name) assert.equal(s.name, want.name);
    });
  }

  it("ignores other metrics even when they are malformed", () => {
    assert.deepEqual(parsePrometheus('envoy_x{a="unclosed} 1\nnot a metric line\n{}\n'), []);
  });

  for (const [what, line, msg] of [
    ["an unclosed label value", 'lanetag_requests_total{lane="s1} 5', /line 2: the value of label lane is not closed/],
    ["no value", 'lanetag_requests_total{lane="s1"}', /line 2: lanetag_requests_total has no value/],
    ["a value that is no number", "lane_tag_inbound_no_lane{} many", /line 2: "many" is not a sample value/],
    ["a label without a quoted value", "lanetag_requests_total{lane=s1} 5", /line 2: a label name and ="…" expected/],
  ] as const) {
    it(`a malformed lane-tag sample is refused, naming the line: ${what}`, () => {
      assert.throws(() => parsePrometheus(`# TYPE x counter\n${line}\n`), (e: Error) => e instanceof PrometheusParseError && msg.test(e.message));
    });
  }
});

describe("laneStatus and formatStatus", () => {
  const src = (workload: string, t: string): StatusSource => ({ workload, samples: parsePrometheus(t) });
  const cases: { what: string; sources: StatusSource[]; out: string }[] = [
    {
      what: "two workloads: rows sorted by workload, direction, lane (_other, _none last); every request signal",
      sources: [src("mockb-v1", MOCKB), src("mocka-v1", MOCKA)],
      out: text(
        "workload  direction  lane    requests  by source",
        "mocka-v1  inbound    s2      52        header 52",
        "mocka-v1  inbound    _other  2         header 2",
        "mocka-v1  outbound   s2      52        baggage 40, trace 12",
        "mocka-v1  outbound   _none   1         none 1",
        "mockb-v1  inbound    s2      40        baggage 40",
        "mockb-v1  outbound   s1      40        default 40",
        "",
        "signals:",
        "  mocka-v1: drops the lane: 1 outbound request had no lane of its own (none 1) while 54 inbound requests carried one",
        "  mocka-v1: its app drops baggage; correlation restored 12 lanes by trace id (12 of 53 outbound requests)",
        "  mockb-v1: drops the lane: 40 outbound requests had no lane of their own (default 40) while 40 inbound requests carried one",
        `  mockb-v1: 3 invalid lanes seen (inbound): ${INVALID}`,
      ),
    },
    {
      what: "a workload that keeps its lanes: no signals; sources of one name (replicas) are summed",
      sources: [
        src("mockc-v2", text(lane("s2", "inbound", "baggage", 10), lane("s2", "outbound", "baggage", 10))),
        src("mockc-v2", text(lane("s2", "inbound", "baggage", 5), lane("s2", "outbound", "baggage", 4), lane("s2", "outbound", "header", 1))),
      ],
      out: text(
        "workload  direction  lane  requests  by source",
        "mockc-v2  inbound    s2    15        baggage 15",
        "mockc-v2  outbound   s2    15        baggage 14, header 1",
        "",
        "signals: none",
      ),
    },
    {
      what: "both defaults and lane-less requests; a gateway's direction both after inbound and outbound; no inbound lane, no drop",
      sources: [
        src("gw", text(lane("s1", "both", "assign", 6), lane("s2", "both", "assign", 2), "lane_tag_both_invalid_lane{} 1")),
        src("mockd-v1", text(lane("s1", "inbound", "header", 3), lane("s1", "outbound", "default", 2), lane("_none", "outbound", "none", 1), lane("s1", "outbound", "header", 3))),
        src("mocke-v1", text(lane("_none", "inbound", "none", 4), lane("s1", "outbound", "default", 4))),
      ],
      out: text(
        "workload  direction  lane   requests  by source",
        "gw        both       s1     6         assign 6",
        "gw        both       s2     2         assign 2",
        "mockd-v1  inbound    s1     3         header 3",
        "mockd-v1  outbound   s1     5         header 3, default 2",
        "mockd-v1  outbound   _none  1         none 1",
        "mocke-v1  inbound    _none  4         none 4",
        "mocke-v1  outbound   s1     4         default 4",
        "",
        "signals:",
        `  gw: 1 invalid lane seen (both): ${INVALID}`,
        "  mockd-v1: drops the lane: 3 outbound requests had no lane of their own (default 2, none 1) while 3 inbound requests carried one",
      ),
    },
    {
      what: "lane_metrics off (only the older counters), stats_tags missing (untagged names), no counters, nothing counted yet",
      sources: [
        src("off", text("lane_tag_outbound_lane_from_default{} 7", "lane_tag_inbound_invalid_lane{} 2")),
        src("untagged", text("# TYPE lane___s2___lane_direction___outbound___lane_source___baggage___lanetag_requests_total counter",
          "lane___s2___lane_direction___outbound___lane_source___baggage___lanetag_requests_total{} 9", "lane_tag_outbound_lane_from_baggage{} 9")),
        src("bare", text("envoy_server_live{} 1")),
        src("idle", text(lane("s1", "inbound", "baggage", 0), "lane_tag_inbound_no_lane{} 0")),
      ],
      out: text(
        "no lane requests counted",
        "",
        "signals:",
        "  bare: no lane-tag counters at all: the filter is not running on this proxy, or a stats_matcher leaves wasmcustom stats out",
        "  idle: no requests counted yet",
        `  off: no lane metrics: lane_metrics is off in this workload's filter configuration, so there is no per-lane table; set "lane_metrics": true (${METRICS_DOC})`,
        `  off: 2 invalid lanes seen (inbound): ${INVALID}`,
        `  untagged: lane metrics have no labels: the proxy's bootstrap lacks the stats_tags lane, lane_direction and lane_source (all three are needed; ${METRICS_DOC})`,
      ),
    },
    {
      what: "label values as they came, escapes undone",
      sources: [src("odd", text('lanetag_requests_total{lane="we\\"ird",lane_direction="inbound",lane_source="header"} 1'))],
      out: text("workload  direction  lane    requests  by source", 'odd       inbound    we"ird  1         header 1', "", "signals: none"),
    },
  ];
  for (const c of cases) {
    it(c.what, () => assert.equal(formatStatus(laneStatus(c.sources)), c.out));
  }

  it("the report: rows with requests by source, signals naming their workload", () => {
    const r = laneStatus([src("mockb-v1", MOCKB)]);
    assert.deepEqual(r.rows[1], { workload: "mockb-v1", direction: "outbound", lane: "s1", requests: 40, bySource: [["default", 40]] });
    assert.deepEqual(r.signals.map((s) => [s.workload, s.kind]), [["mockb-v1", "drops-lane"], ["mockb-v1", "invalid-lanes"]]);
  });
});

describe("prometheusText: Envoy's /stats/prometheus for the emulator's stats", () => {
  const NAME = "wasmcustom.lane=.=s2;.;lane_direction=.=outbound;.;lane_source=.=baggage;.;lanetag_requests_total";
  it("a tagged stat: the stats_tags cut out of the name, as labels; wasmcustom. dropped without envoy_", () => {
    assert.equal(prometheusText(new Map([[NAME, 12n]]), LANE_STATS_TAGS),
      '# TYPE lanetag_requests_total counter\nlanetag_requests_total{lane="s2",lane_direction="outbound",lane_source="baggage"} 12\n');
  });
  it("a stat without tags: the name sanitized, empty braces as Envoy prints them", () => {
    assert.equal(prometheusText(new Map([["wasmcustom.lane_tag.outbound.invalid_lane", 3n]]), LANE_STATS_TAGS),
      "# TYPE lane_tag_outbound_invalid_lane counter\nlane_tag_outbound_invalid_lane{} 3\n");
  });
  it("the lane stat without stats_tags: one untagged, sanitized name per series", () => {
    assert.equal(prometheusText(new Map([[NAME, 12n]]), []),
      "# TYPE lane___s2___lane_direction___outbound___lane_source___baggage___lanetag_requests_total counter\n" +
      "lane___s2___lane_direction___outbound___lane_source___baggage___lanetag_requests_total{} 12\n");
  });
  it("one # TYPE per metric, groups and samples sorted; other namespaces and digit-first names left out", () => {
    const stats = new Map<string, bigint>([
      ["wasmcustom.lane=.=s3;.;lane_direction=.=inbound;.;lane_source=.=header;.;lanetag_requests_total", 1n],
      ["cluster.mockc.upstream_rq_total", 5n],
      ["wasmcustom.lane_tag.both.no_lane", 0n],
      ["wasmcustom.9lives", 9n],
      [NAME, 12n],
      ["wasmcustom.lane=.=s1;.;lane_direction=.=outbound;.;lane_source=.=default;.;lanetag_requests_total", 2n],
    ]);
    assert.equal(prometheusText(stats, LANE_STATS_TAGS), text(
      "# TYPE lane_tag_both_no_lane counter",
      "lane_tag_both_no_lane{} 0",
      "# TYPE lanetag_requests_total counter",
      'lanetag_requests_total{lane="s1",lane_direction="outbound",lane_source="default"} 2',
      'lanetag_requests_total{lane="s2",lane_direction="outbound",lane_source="baggage"} 12',
      'lanetag_requests_total{lane="s3",lane_direction="inbound",lane_source="header"} 1',
    ));
  });
  it("label values escaped; a regex without a value group takes the removed part; a tag name sanitized", () => {
    const stats = new Map([['wasmcustom.k=.=a"b\\c;.;v1.m', 1n]]);
    const tags = [{ tag_name: "k", regex: "(k=\\.=(.*?);\\.;)" }, { tag_name: "ver.sion", regex: "(v\\d+)\\." }];
    assert.equal(prometheusText(stats, tags), '# TYPE _m counter\n_m{k="a\\"b\\\\c",ver_sion="v1"} 1\n');
    assert.deepEqual(parsePrometheus(prometheusText(new Map([[NAME.replace("s2", 'x"y'), 1n]]), LANE_STATS_TAGS))[0].labels.lane, 'x"y');
  });
});

// ---- on the built module ------------------------------------------------------------------------------

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

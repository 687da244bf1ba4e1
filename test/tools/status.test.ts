// npm run lanes -- status, its pure parts: parsing Envoy's /stats/prometheus, the table and its signals, and
// the emulator's Prometheus rendering (status-live.test.ts: the built module and the CLI).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { prometheusText } from "../../emulator/index.ts";
import { LANE_STATS_TAGS } from "../../deploy/lib/observe.ts";
import { formatStatus, laneStatus, parsePrometheus, PrometheusParseError, type StatusSource } from "../../deploy/lib/status.ts";
import { lane, text, INVALID, METRICS_DOC, MOCKB, MOCKA } from "./status-fixtures.ts";

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


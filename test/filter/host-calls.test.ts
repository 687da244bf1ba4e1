// The built module against the host's answers: property names before and after Envoy 1.33, and every host
// call refused in turn (the emulator's fault injection), which must leave a valid request, visible in counters
// and logs.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Host, WasmResult, type HostOptions } from "../../emulator/index.ts";
import { wasmBytes, send, base, IN, OUT, UNSET, values } from "../support/helpers.ts";

const KEY = "x-asm-prefer-tag";
const LABELS = { LABELS: { ASM_TRAFFIC_TAG: "v2" } };

/**
 * A VM whose host calls can be refused on demand: `refuse(name, which, status)` makes the `which`-th calls
 * (1-based, counted from now) of `name` return `status` without effect.
 */
async function vm(opts: HostOptions = {}) {
  const seen = new Map<string, number>();
  let armed: { name: string; which: (n: number) => boolean; status: number; base: number } | null = null;
  const host = await Host.load(wasmBytes(), {
    countCalls: true, ...opts,
    faults: (call, n) => {
      seen.set(call, n);
      if (!armed || call !== armed.name || !armed.which(n - armed.base)) return undefined;
      return armed.status;
    },
  });
  const refuse = (name: string, which: number[] | "all", status: number = WasmResult.InternalFailure) => {
    armed = { name, which: which === "all" ? () => true : (k) => which.includes(k), status, base: seen.get(name) ?? 0 };
  };
  const heal = () => { armed = null; };
  const counters = () => new Map([...host.metrics.keys()].map((k) => [k, host.counter(k)]));
  return { host, refuse, heal, counters };
}

/** Counters that changed between two snapshots. */
function changed(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) if (v !== (before.get(k) ?? 0)) out[k] = v - (before.get(k) ?? 0);
  return out;
}

describe("Envoy's property names before and after 1.33", () => {
  for (const envoy of ["1.32", "1.38"]) {
    it(`Envoy ${envoy}: direction auto tells inbound from outbound, with one property read per request`, async () => {
      const { host } = await vm({ envoy });
      const p = host.configure({ configuration: '{"direction":"auto","default_lane":"s1"}' });
      assert.equal(p.failed, false);
      const reads = () => host.calls.get("proxy_get_property") ?? 0;
      let before = reads();
      const inbound = send(p, [...base, [KEY, "s2"]], IN);
      assert.deepEqual(inbound.baggage, [`${KEY}=s2`], "inbound rules: the header's lane goes to baggage");
      assert.equal(reads() - before, 1);
      before = reads();
      const outbound = send(p, [...base, ["baggage", `${KEY}=s3`]], OUT);
      assert.deepEqual(outbound.tag, ["s3"], "outbound rules: baggage sets the header");
      assert.equal(reads() - before, 1);
      assert.deepEqual(send(p, [...base], IN).tag, [], "inbound: no default lane");
      assert.deepEqual(send(p, [...base], UNSET).tag, ["s1"], "direction 0 (plain Envoy): both rule sets");
      assert.equal(host.counter("lane_tag.inbound.lane_from_header"), 1);
      assert.equal(host.counter("lane_tag.outbound.lane_from_baggage"), 1);
    });

    it(`Envoy ${envoy}: local_lane reads the workload's label`, async () => {
      const { host } = await vm({ envoy, nodeMetadata: LABELS });
      const p = host.configure({ configuration: '{"direction":"outbound","local_lane":{"label":"ASM_TRAFFIC_TAG","label_to_lane":{"v2":"s2"}}}' });
      assert.ok(host.logs.some((l) => l.message === 'lane-tag: local_lane: node.metadata.LABELS.ASM_TRAFFIC_TAG is "v2": local lane "s2"'));
      assert.deepEqual(send(p, [...base], OUT).tag, ["s2"]);
    });
  }

  it("a host that answers the old name only during requests: the filter switches to it and stays", async () => {
    const { host, refuse, heal } = await vm({ envoy: "1.32" });
    refuse("proxy_get_property", "all", WasmResult.NotFound); // nothing answered at configure
    const p = host.configure({ configuration: "" });
    heal();
    const reads = () => host.calls.get("proxy_get_property") ?? 0;
    let before = reads();
    assert.deepEqual(send(p, [...base, ["baggage", `${KEY}=s3`]], OUT).tag, ["s3"]);
    assert.equal(reads() - before, 2, "xds name not found, then the old one");
    before = reads();
    assert.deepEqual(send(p, [...base, [KEY, "s2"]], IN).baggage, [`${KEY}=s2`]);
    assert.equal(reads() - before, 1, "the old name from then on");
  });

  it("neither name answered: both rule sets, as for plain Envoy", async () => {
    const { host, refuse } = await vm();
    const p = host.configure({ configuration: '{"default_lane":"s1"}' });
    refuse("proxy_get_property", "all", WasmResult.NotFound);
    const r = send(p, [...base, [KEY, "s2"]], IN);
    assert.deepEqual(r.tag, ["s2"]);
    assert.deepEqual(r.baggage, [`${KEY}=s2`]);
    assert.equal(host.counter("lane_tag.both.lane_from_header"), 1);
  });
});

describe("a refused header write leaves a valid request", () => {
  it("outbound: a routing header that cannot be replaced is removed, never left invalid", async () => {
    const { host, refuse } = await vm();
    const p = host.configure({ configuration: '{"direction":"outbound"}' });
    refuse("proxy_replace_header_map_value", [1]);
    const r = send(p, [...base, [KEY, "bad!"], ["baggage", `${KEY}=s2`]], OUT);
    assert.deepEqual(r.tag, []);
    assert.deepEqual(r.baggage, [`${KEY}=s2`], "baggage as it was");
    assert.equal(host.counter("lane_tag.outbound.host_error"), 1);
  });

  it("outbound default lane: header refused → removed; baggage still gets the lane and the request stays valid", async () => {
    const { host, refuse } = await vm();
    const p = host.configure({ configuration: '{"direction":"outbound","default_lane":"s1"}' });
    refuse("proxy_replace_header_map_value", [1]);
    const r = send(p, [...base, [KEY, "-x"]], OUT);
    assert.deepEqual(r.tag, [], "the invalid value is gone");
    assert.deepEqual(r.baggage, [`${KEY}=s1`]);
    assert.equal(host.counter("lane_tag.outbound.host_error"), 1);
  });

  it("inbound: a refused baggage write leaves baggage as it was, and is not counted as added", async () => {
    const { host, refuse } = await vm();
    const p = host.configure({ configuration: '{"direction":"inbound"}' });
    refuse("proxy_replace_header_map_value", [1]);
    const r = send(p, [...base, [KEY, "s2"], ["baggage", "a=1"]], IN);
    assert.deepEqual(r.tag, ["s2"]);
    assert.deepEqual(r.baggage, ["a=1"]);
    assert.equal(host.counter("lane_tag.inbound.baggage_added"), 0);
    assert.equal(host.counter("lane_tag.inbound.host_error"), 1);
  });

  it("a refused header read: a trusted sidecar leaves the request alone", async () => {
    const { host, refuse } = await vm();
    const p = host.configure({ configuration: '{"direction":"outbound","default_lane":"s1"}' });
    refuse("proxy_get_header_map_pairs", [1]);
    const r = send(p, [...base, [KEY, "-x"]], OUT);
    assert.equal(r.mutations, 0);
    assert.equal(host.counter("lane_tag.outbound.host_error"), 1);
  });
});

describe("an untrusted gateway fails closed when the host refuses", () => {
  const GATEWAY = '{"direction":"both","trust_client_lane":false,"lanes":["s1","s2","s3"],"default_lane":"s1"}';
  const client = [...base, [KEY, "s2"], ["baggage", `a=1,${KEY}=s3,b=2`]] as [string, string][];

  it("the header read refused: routing header and baggage removed", async () => {
    const { host, refuse } = await vm();
    const p = host.configure({ configuration: GATEWAY });
    refuse("proxy_get_header_map_pairs", [1]);
    const r = send(p, client, OUT);
    assert.deepEqual(r.tag, []);
    assert.deepEqual(r.baggage, []);
    assert.equal(host.counter("lane_tag.both.client_baggage_dropped"), 1);
    assert.equal(host.counter("lane_tag.both.host_error"), 1);
  });

  it("the routing header write refused: the client's header is removed instead", async () => {
    const { host, refuse } = await vm();
    const p = host.configure({ configuration: GATEWAY });
    refuse("proxy_replace_header_map_value", [1]);
    const r = send(p, client, OUT);
    assert.deepEqual(r.tag, []);
    assert.deepEqual(r.baggage, [`${KEY}=s1,a=1,b=2`], "the client's member gone");
  });

  it("the baggage rewrite refused: the stripped baggage is written instead", async () => {
    const { host, refuse } = await vm();
    const p = host.configure({ configuration: GATEWAY });
    refuse("proxy_replace_header_map_value", [2]);
    const r = send(p, client, OUT);
    assert.deepEqual(r.tag, ["s1"]);
    assert.deepEqual(r.baggage, ["a=1,b=2"]);
    assert.equal(host.counter("lane_tag.both.client_baggage_dropped"), 0);
    assert.equal(host.counter("lane_tag.both.host_error"), 1);
  });

  it("every baggage write refused: the whole baggage is removed", async () => {
    const { host, refuse } = await vm();
    const p = host.configure({ configuration: GATEWAY });
    refuse("proxy_replace_header_map_value", [2, 3]);
    const r = send(p, client, OUT);
    assert.deepEqual(r.tag, ["s1"]);
    assert.deepEqual(r.baggage, []);
    assert.equal(host.counter("lane_tag.both.client_baggage_dropped"), 1);
    assert.equal(host.counter("lane_tag.both.host_error"), 2);
  });

  it("no write succeeds at all: nothing the client sent is routed by, and it is counted", async () => {
    const { host, refuse } = await vm();
    const p = host.configure({ configuration: GATEWAY });
    refuse("proxy_replace_header_map_value", "all");
    const r = send(p, client, OUT);
    assert.deepEqual(r.tag, []);
    assert.deepEqual(r.baggage, []);
    assert.equal(host.counter("lane_tag.both.client_baggage_dropped"), 1);
  });
});

describe("refused definitions and configure-time reads are visible and tried again", () => {
  it("a counter Envoy refuses is logged, never counted into another, and defined at the next configure", async () => {
    const { host, refuse, heal, counters } = await vm();
    refuse("proxy_define_metric", [1, 2]); // inbound.lane_from_baggage and inbound.lane_from_header
    const p = host.configure({ configuration: '{"direction":"inbound"}' });
    heal();
    assert.equal(p.failed, false);
    const warn = host.logs.filter((l) => l.level === "warn" && l.message.includes("counters not defined"));
    assert.equal(warn.length, 1);
    assert.match(warn[0].message, /lane_tag\.inbound\.lane_from_baggage \(status 10\), lane_tag\.inbound\.lane_from_header \(status 10\)/);
    let before = counters();
    send(p, [...base, ["baggage", `${KEY}=s2`]], IN);
    send(p, [...base, [KEY, "s2"], ["baggage", `${KEY}=s2`]], IN);
    assert.deepEqual(changed(before, counters()), {}, "the two undefined counters are skipped; nothing else counts them");
    const defines = host.calls.get("proxy_define_metric")!;
    host.configure({ configuration: '{"direction":"inbound"}' });
    assert.equal(host.calls.get("proxy_define_metric")! - defines, 2, "only the missing two are defined again");
    before = counters();
    send(p, [...base, ["baggage", `${KEY}=s2`]], IN);
    assert.deepEqual(changed(before, counters()), { "lane_tag.inbound.lane_from_baggage": 1 });
  });

  it("a label that cannot be read is an error log, not \"no label\", and the next configure reads it again", async () => {
    const { host, refuse, heal } = await vm({ nodeMetadata: LABELS });
    const config = '{"direction":"outbound","local_lane":{"label":"ASM_TRAFFIC_TAG","label_to_lane":{"v2":"s2"}}}';
    refuse("proxy_get_property", "all", WasmResult.SerializationFailure);
    const p = host.configure({ configuration: config });
    heal();
    assert.ok(host.logs.some((l) => l.level === "error" && l.message === "lane-tag: local_lane: node.metadata.LABELS.ASM_TRAFFIC_TAG could not be read (status 3): outbound requests get no lane from it until the next configure"));
    assert.ok(host.logs.some((l) => l.level === "warn" && l.message === "lane-tag: plugin_root_id could not be read (status 3): not checked"));
    assert.deepEqual(send(p, [...base], OUT).tag, []);
    const again = host.configure({ configuration: config });
    assert.deepEqual(send(again, [...base], OUT).tag, ["s2"]);
  });
});

it("with any one kind of host call refused on every request, no request fails and no invalid lane is routed by", async () => {
  const { host, refuse } = await vm({ nodeMetadata: LABELS });
  const p = host.configure({ configuration: '{"direction":"auto","default_lane":"s1","correlation":{"enabled":true},"assign":{"weights":{"s1":1}}}' });
  for (const call of ["proxy_get_header_map_pairs", "proxy_get_property", "proxy_get_shared_data", "proxy_set_shared_data",
    "proxy_get_current_time_nanoseconds", "proxy_increment_metric", "proxy_replace_header_map_value", "proxy_remove_header_map_value"]) {
    refuse(call, "all");
    for (const stream of [IN, OUT, UNSET]) {
      const r = send(p, [...base, [KEY, "bad!"], ["baggage", `${KEY}=s2`], ["traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]], stream);
      assert.equal(r.outcome, "continue", call);
      assert.equal(host.vmFailed, null, call);
      // The pairs read refused: untouched (a trusted filter); otherwise the invalid value is replaced or removed.
      if (call === "proxy_get_header_map_pairs") assert.equal(r.mutations, 0, call);
      else assert.ok(r.tag.every((t) => t === "s2"), `${call}: ${values(r.headers, KEY)}`);
    }
  }
});

// The built module (build/lane-tag.wasm) in the Envoy-like host: the contract with Envoy, configure (the
// counters it defines included), and every row of the behaviour spec for each direction. The request path's
// robustness is in filter-request.test.ts, the gateway's distrust of client lanes in filter-trust.test.ts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Host } from "../../emulator/index.ts";
import { filter, send, values, base, IN, OUT, UNSET, wasmBytes, ROOT } from "../support/helpers.ts";

const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8"));

describe("module contract", () => {
  const mod = new WebAssembly.Module(wasmBytes());
  it("imports only ABI 0.2.x host functions Envoy provides, never proxy_clear_route_cache", () => {
    const imports = WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}`).sort();
    assert.deepEqual(imports, [
      "env.proxy_define_metric", "env.proxy_get_buffer_bytes", "env.proxy_get_current_time_nanoseconds",
      "env.proxy_get_header_map_pairs", "env.proxy_get_header_map_value", "env.proxy_get_property", "env.proxy_get_shared_data",
      "env.proxy_increment_metric", "env.proxy_log", "env.proxy_remove_header_map_value",
      "env.proxy_replace_header_map_value", "env.proxy_set_property", "env.proxy_set_shared_data",
      "wasi_snapshot_preview1.proc_exit",
    ]);
  });
  it("exports the ABI version, malloc, memory and the callbacks it implements", () => {
    const exports = WebAssembly.Module.exports(mod).map((e) => e.name).sort();
    assert.deepEqual(exports, [
      "malloc", "memory", "proxy_abi_version_0_2_0", "proxy_on_configure", "proxy_on_context_create",
      "proxy_on_delete", "proxy_on_request_headers", "proxy_on_response_headers", "proxy_on_vm_start",
    ]);
  });
  // The size budget (docs/module-size.md): 24 KiB for the core filter, 42 KiB with correlation,
  // local lane, weighted assignment and lane_from, 52 KiB with lane metrics, filter state and hop trace,
  // 64 KiB with the Jaeger, OpenTracing and tracestate carriers.
  it("is at most 64 KiB", () => {
    assert.ok(wasmBytes().length <= 64 * 1024, `${wasmBytes().length} bytes`);
  });
});

describe("configure", () => {
  it("empty configuration means defaults, read without a host call (sdk.ts defect 2)", async () => {
    const { host, plugin } = await filter("", {}, { traceCalls: true });
    assert.equal(plugin.failed, false);
    assert.equal(host.trace.filter((c) => c.name === "proxy_get_buffer_bytes").length, 0);
    assert.deepEqual(host.logs, [{
      level: "info",
      message: `lane-tag ${pkg.version} configured: {"routing_header":"x-asm-prefer-tag","baggage_key":"x-asm-prefer-tag","direction":"auto","lanes":[],"default_lane":"","trust_client_lane":true}`,
    }]);
    assert.deepEqual(send(plugin, [...base, ["baggage", "x-asm-prefer-tag=s2"]]).tag, ["s2"]);
  });

  it("configuration is read through real out-pointers (sdk.ts defect 1)", async () => {
    // Larger than the module's arena, so the host's malloc takes the heap path too.
    const lanes = Array.from({ length: 256 }, (_, i) => `lane-${i}-${"x".repeat(54 - String(i).length + 3)}`.slice(0, 63));
    const config = JSON.stringify({ lanes, default_lane: lanes[255], direction: "outbound" });
    assert.ok(config.length > 16384);
    const { host, plugin } = await filter(config, {}, { traceCalls: true });
    assert.equal(plugin.failed, false, JSON.stringify(host.logs));
    const reads = host.trace.filter((c) => c.name === "proxy_get_buffer_bytes");
    assert.equal(reads.length, 1);
    const [type, start, length, ptrPtr, sizePtr] = reads[0].args;
    assert.deepEqual([type, start, length], [7, 0, config.length]);
    assert.notEqual(sizePtr, config.length, "size pointer must not be the size (0.1.8 passes configuration_size)");
    assert.ok(ptrPtr > 0 && sizePtr > 0 && ptrPtr % 4 === 0 && sizePtr % 4 === 0 && Math.abs(ptrPtr - sizePtr) >= 4);
    assert.deepEqual(send(plugin, [...base, ["baggage", `x-asm-prefer-tag=${lanes[7]}`]]).tag, [lanes[7]]);
    assert.deepEqual(send(plugin, [...base]).tag, [lanes[255]]);
    assert.deepEqual(send(plugin, [...base, ["baggage", "x-asm-prefer-tag=s2"]]).tag, [lanes[255]], "s2 is not allowed");
  });

  it("invalid configuration: on_configure returns false with one critical line naming the field; no trap", async () => {
    const { host, plugin } = await filter({ direction: "sideways" });
    assert.equal(plugin.failed, true);
    assert.equal(host.vmFailed, null);
    assert.deepEqual(host.logs, [{
      level: "critical",
      message: 'lane-tag: invalid configuration: field "direction": "sideways" is not one of "auto", "inbound", "outbound", "both"',
    }]);
    // Envoy then refuses requests through this plugin (503) unless fail_open is set.
    assert.equal(plugin.request([...base]).outcome, "failed");
  });

  it("a failed configure fails requests open when the plugin is fail-open", async () => {
    const { plugin } = await filter("{not json", { failOpen: true });
    assert.equal(plugin.failed, true);
    const r = plugin.request([...base, ["x-asm-prefer-tag", "bad value"]]);
    assert.equal(r.outcome, "passed-failed");
    assert.deepEqual(values(r.headers, "x-asm-prefer-tag"), ["bad value"]);
  });

  for (const [name, config] of [
    ["not JSON", "{"], ["not an object", "[1]"], ["unknown field", '{"lane":"s2"}'], ["wrong type", '{"lanes":"s1"}'],
    ["invalid lane", '{"default_lane":"-"}'], ["uppercase header", '{"routing_header":"X-Tag"}'],
    ["binary garbage", "\u0000\u00ff\u0001"],
  ]) {
    it(`rejects ${name} loudly and never traps`, async () => {
      const { host, plugin } = await filter(config);
      assert.equal(plugin.failed, true);
      assert.equal(host.vmFailed, null);
      assert.equal(host.logs.length, 1);
      assert.equal(host.logs[0].level, "critical");
      assert.match(host.logs[0].message, /^lane-tag: invalid configuration: /);
    });
  }

  it("serves root id lane-tag and an unset root id; refuses another root id", async () => {
    assert.equal((await filter("", { rootId: "lane-tag" })).plugin.failed, false);
    assert.equal((await filter("", { rootId: "" })).plugin.failed, false);
    const other = await filter("", { rootId: "lane_tag" });
    assert.equal(other.plugin.failed, true);
    assert.deepEqual(other.host.logs.map((l) => l.level), ["critical"]);
    assert.match(other.host.logs[0].message, /root id "lane_tag" is not served by this module \(its root id is "lane-tag"\)/);
  });

  it("keeps each plugin's configuration apart when several share one VM", async () => {
    const host = await Host.load(wasmBytes());
    const a = host.configure({ configuration: '{"direction":"outbound"}' });
    const b = host.configure({ configuration: '{"direction":"outbound","routing_header":"x-lane","baggage_key":"lane"}' });
    const r1 = send(a, [...base, ["baggage", "x-asm-prefer-tag=s2,lane=s3"]]);
    const r2 = send(b, [...base, ["baggage", "x-asm-prefer-tag=s2,lane=s3"]]);
    assert.deepEqual(r1.tag, ["s2"]);
    assert.deepEqual(values(r2.headers, "x-lane"), ["s3"]);
    assert.deepEqual(r2.tag, []);
    // Removing one plugin leaves the other working.
    host.removePlugin(a);
    assert.deepEqual(values(b.request([...base, ["baggage", "lane=s1"]]).headers, "x-lane"), ["s1"]);
  });
});

describe("metrics", () => {
  it("defines every counter once, at configure, per direction", async () => {
    const { host } = await filter("", {}, { traceCalls: true });
    const names = [...host.metrics.keys()];
    assert.equal(names.length, 57);
    for (const d of ["inbound", "outbound", "both"]) {
      for (const m of ["lane_from_baggage", "lane_from_header", "lane_from_default", "no_lane", "invalid_lane",
        "baggage_added", "baggage_replaced", "baggage_oversize", "client_lane_removed", "lane_from_trace",
        "lane_from_local", "lane_from_assign", "trace_recorded", "client_baggage_dropped", "host_error", "lane_from_client", "trace_evicted", "carrier_conflict", "baggage_trimmed"]) {
        assert.ok(names.includes(`lane_tag.${d}.${m}`), `lane_tag.${d}.${m}`);
      }
    }
    host.configure({ configuration: "" });
    assert.equal(host.trace.filter((c) => c.name === "proxy_define_metric").length, 57, "not redefined by a second plugin");
  });
});

// One test per row of the behaviour spec, for each way of getting the direction.
const WAYS = {
  outbound: [["auto, listener_direction 2", {}, OUT], ["direction: outbound", { direction: "outbound" }, UNSET]],
  inbound: [["auto, listener_direction 1", {}, IN], ["direction: inbound", { direction: "inbound" }, UNSET]],
  both: [["auto, no listener_direction", {}, UNSET], ["direction: both", { direction: "both" }, OUT]],
} as const;

for (const [name, config, stream] of WAYS.outbound) {
  describe(`outbound (${name})`, () => {
    it("1. baggage lane -> routing header set (replacing any other)", async () => {
      const { host, plugin } = await filter(config);
      const r = send(plugin, [...base, ["x-asm-prefer-tag", "s1"], ["baggage", "a=1,x-asm-prefer-tag=s2"], ["x-asm-prefer-tag", "s3"]], stream);
      assert.deepEqual(r.tag, ["s2"]);
      assert.deepEqual(r.baggage, ["a=1,x-asm-prefer-tag=s2"]);
      assert.equal(host.counter("lane_tag.outbound.lane_from_baggage"), 1);
    });
    it("2. valid routing header, no baggage lane -> header kept, lane member added", async () => {
      const { host, plugin } = await filter(config);
      const r = send(plugin, [...base, ["x-asm-prefer-tag", "s3"], ["baggage", "a=1"]], stream);
      assert.deepEqual(r.tag, ["s3"]);
      assert.deepEqual(r.baggage, ["x-asm-prefer-tag=s3,a=1"]);
      const n = send(plugin, [...base, ["x-asm-prefer-tag", "s3"]], stream);
      assert.deepEqual(n.baggage, ["x-asm-prefer-tag=s3"]);
      assert.equal(host.counter("lane_tag.outbound.lane_from_header"), 2);
      assert.equal(host.counter("lane_tag.outbound.baggage_added"), 2);
    });
    it("3. neither, default_lane set -> header and member from the default", async () => {
      const { host, plugin } = await filter({ ...config, default_lane: "s1" });
      const r = send(plugin, [...base, ["baggage", "a=1"]], stream);
      assert.deepEqual(r.tag, ["s1"]);
      assert.deepEqual(r.baggage, ["x-asm-prefer-tag=s1,a=1"]);
      assert.equal(host.counter("lane_tag.outbound.lane_from_default"), 1);
    });
    it("4. neither, no default -> request untouched", async () => {
      const { host, plugin } = await filter(config);
      const headers: [string, string][] = [...base, ["baggage", "a=1"]];
      const r = send(plugin, headers, stream);
      assert.deepEqual(r.headers, headers);
      assert.equal(r.mutations, 0);
      assert.equal(host.counter("lane_tag.outbound.no_lane"), 1);
    });
    it("an invalid or not-allowed routing header is removed, never forwarded", async () => {
      const { host, plugin } = await filter({ ...config, lanes: ["s1", "s2"] });
      for (const v of ["bad lane", "s9", "-x", "", "s%32"]) {
        assert.deepEqual(send(plugin, [...base, ["x-asm-prefer-tag", v]], stream).tag, [], v);
      }
      assert.equal(host.counter("lane_tag.outbound.invalid_lane"), 5);
      // ... and replaced when baggage carries a lane
      assert.deepEqual(send(plugin, [...base, ["x-asm-prefer-tag", "s9"], ["baggage", "x-asm-prefer-tag=s1"]], stream).tag, ["s1"]);
    });
  });
}

for (const [name, config, stream] of WAYS.inbound) {
  describe(`inbound (${name})`, () => {
    it("routing header lane absent from baggage -> member added", async () => {
      const { host, plugin } = await filter(config);
      const r = send(plugin, [...base, ["x-asm-prefer-tag", "s2"], ["baggage", "a=1;p=2"]], stream);
      assert.deepEqual(r.tag, ["s2"]);
      assert.deepEqual(r.baggage, ["x-asm-prefer-tag=s2,a=1;p=2"]);
      assert.equal(host.counter("lane_tag.inbound.lane_from_header"), 1);
      assert.equal(host.counter("lane_tag.inbound.baggage_added"), 1);
    });
    it("routing header lane differs from baggage -> member value replaced in place", async () => {
      const { host, plugin } = await filter(config);
      const r = send(plugin, [...base, ["x-asm-prefer-tag", "s1"], ["baggage", "a=1,x-asm-prefer-tag=s2;p,b=2"]], stream);
      assert.deepEqual(r.tag, ["s1"]);
      assert.deepEqual(r.baggage, ["x-asm-prefer-tag=s1,a=1,b=2"]);
      assert.equal(host.counter("lane_tag.inbound.baggage_replaced"), 1);
    });
    it("only baggage carries a lane -> routing header set too", async () => {
      const { plugin } = await filter(config);
      const r = send(plugin, [...base, ["baggage", "x-asm-prefer-tag=s3"]], stream);
      assert.deepEqual(r.tag, ["s3"]);
      assert.deepEqual(r.baggage, ["x-asm-prefer-tag=s3"]);
    });
    it("default_lane does not apply inbound", async () => {
      const { plugin } = await filter({ ...config, default_lane: "s1" });
      const r = send(plugin, [...base], stream);
      assert.deepEqual(r.tag, []);
      assert.equal(r.mutations, 0);
    });
    it("an invalid routing header is removed", async () => {
      const { plugin } = await filter(config);
      assert.deepEqual(send(plugin, [...base, ["x-asm-prefer-tag", "s 1"]], stream).tag, []);
    });
  });
}

for (const [name, config, stream] of WAYS.both) {
  describe(`both (${name})`, () => {
    it("header lane wins and is put in baggage (inbound rules first)", async () => {
      const { host, plugin } = await filter(config);
      const r = send(plugin, [...base, ["x-asm-prefer-tag", "s1"], ["baggage", "x-asm-prefer-tag=s2"]], stream);
      assert.deepEqual(r.tag, ["s1"]);
      assert.deepEqual(r.baggage, ["x-asm-prefer-tag=s1"]);
      assert.equal(host.counter("lane_tag.both.lane_from_header"), 1);
    });
    it("baggage lane sets the header; default lane applies to bare requests", async () => {
      const { plugin } = await filter({ ...config, default_lane: "s1" });
      assert.deepEqual(send(plugin, [...base, ["baggage", "x-asm-prefer-tag=s3"]], stream).tag, ["s3"]);
      const d = send(plugin, [...base], stream);
      assert.deepEqual(d.tag, ["s1"]);
      assert.deepEqual(d.baggage, ["x-asm-prefer-tag=s1"]);
    });
  });
}

// Configure on the built module with configurations of any size and shape up to the 1 MiB bound: long
// strings in every field and key, escapes, many members, deep nesting, long numbers. Each configures or is
// refused without a trap, and a refusal's log line quotes at most ~100 bytes of the value it names.
// (Time is the benchmark's to show; nothing here is timed.)
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Host } from "../../emulator/index.ts";
import { wasmBytes } from "../support/helpers.ts";

const MiB = 1 << 20;
/** The longest refusal line: fixed text, a field name and a value, each quoted and cut to ~100 bytes. */
const MAX_LINE = 600;

const wasm = wasmBytes();

async function configure(text: string) {
  const host = await Host.load(wasm);
  const plugin = host.configure({ configuration: text });
  return { host, plugin };
}

/** Refused, without a trap, in one log line of bounded length; the line, for more checks. */
function assertRefused(r: Awaited<ReturnType<typeof configure>>, what: string): string {
  assert.equal(r.host.vmFailed, null, `${what}: ${r.host.vmFailed}`);
  assert.equal(r.plugin.failed, true, `${what}: accepted`);
  assert.equal(r.host.logs.length, 1, `${what}: ${r.host.logs.length} log lines`);
  const line = r.host.logs[0].message;
  assert.ok(Buffer.byteLength(line) <= MAX_LINE, `${what}: a log line of ${Buffer.byteLength(line)} bytes: ${line.slice(0, 300)}`);
  assert.match(line, /^lane-tag: invalid configuration: /, what);
  return line;
}

const W = { s1: 1 };
/** Every string field and every object key of the configuration, holding `v`. */
const PLACES: [string, (v: string) => object][] = [
  ["routing_header", (v) => ({ routing_header: v })],
  ["baggage_key", (v) => ({ baggage_key: v })],
  ["direction", (v) => ({ direction: v })],
  ["default_lane", (v) => ({ default_lane: v })],
  ["lanes[]", (v) => ({ lanes: ["s1", v] })],
  ["correlation.headers[]", (v) => ({ correlation: { enabled: true, headers: [v] } })],
  ["local_lane.label", (v) => ({ local_lane: { label: v } })],
  ["local_lane.label_to_lane value", (v) => ({ local_lane: { label: "l", label_to_lane: { v1: v } } })],
  ["local_lane.label_to_lane key", (v) => ({ local_lane: { label: "l", label_to_lane: { [v]: "s1" } } })],
  ["assign.weights key", (v) => ({ assign: { weights: { [v]: 1 } } })],
  ["assign.sticky_header", (v) => ({ assign: { weights: W, sticky_header: v } })],
  ["lane_from.header", (v) => ({ lane_from: { header: v, trusted: true } })],
  ["lane_from.cookie", (v) => ({ lane_from: { cookie: v, trusted: true } })],
  ["lane_from.query", (v) => ({ lane_from: { query: v, trusted: true } })],
  ["lane_from.values key", (v) => ({ lane_from: { header: "version", trusted: true, values: { [v]: "s1" } } })],
  ["lane_from.values value", (v) => ({ lane_from: { header: "version", trusted: true, values: { v1: v } } })],
  ["hop_trace.workload", (v) => ({ hop_trace: { workload: v } })],
  ["hop_trace.label", (v) => ({ hop_trace: { label: v } })],
  ["hop_trace.label_to_lane key", (v) => ({ hop_trace: { label: "l", label_to_lane: { [v]: "s1" } } })],
  ["hop_trace.label_to_lane value", (v) => ({ hop_trace: { label: "l", label_to_lane: { v1: v } } })],
  ["a top-level key", (v) => ({ [v]: 1 })],
  ["a correlation key", (v) => ({ correlation: { [v]: 1 } })],
  ["a hop_trace key", (v) => ({ hop_trace: { [v]: true } })],
];

/** `before`, then `filler` repeated, then `after`: `size` bytes of text in all. */
function fill(before: string, filler: string, after: string, size: number): string {
  const room = size - before.length - after.length;
  return before + filler.repeat(Math.floor(room / filler.length)) + " ".repeat(room % filler.length) + after;
}

/** n comma-separated members or items. */
function keys(n: number, member: (i: number) => string): string {
  return Array.from({ length: n }, (_, i) => member(i)).join(",");
}

/** The JSON text of `place` holding a run of "a" that makes the whole text exactly `size` bytes. */
function sized(place: (v: string) => object, size: number): string {
  const overhead = JSON.stringify(place("")).length;
  return JSON.stringify(place("a".repeat(size - overhead)));
}

describe("configure with a long string in any field or key: refused, no trap, the value cut in the log", () => {
  for (const size of [16 * 1024, 64 * 1024, MiB]) {
    for (const [name, place] of PLACES) {
      it(`${name}, ${size / 1024} KiB configuration`, async () => {
        const text = sized(place, size);
        assert.equal(text.length, size);
        const value = size - JSON.stringify(place("")).length;
        const line = assertRefused(await configure(text), name);
        // The value is named, cut: ~100 bytes of it, then its size (a key's: that of the field name holding it).
        assert.match(line, /[".]a{60,}/);
        const sizes = [...line.matchAll(/"\.\.\.\((\d+) bytes\)/g)].map((m) => Number(m[1]));
        assert.ok(sizes.some((n) => n >= value && n < value + 30), line);
      });
    }
  }
});

describe("configure with escapes, many members, deep nesting and long numbers", () => {
  const cases: [string, string, RegExp][] = [
    ["\\u escapes", `{"default_lane":"${"\\u0041".repeat(10_000)}"}`, /field "default_lane": "A{60,}"\.\.\.\(10000 bytes\) is not a lane name/],
    ["backslash escapes", `{"default_lane":"${"\\\\".repeat(32_000)}"}`, /field "default_lane": "(\\\\){30,}"\.\.\.\(32000 bytes\)/],
    ["control characters, escaped", `{"routing_header":"${"\\n".repeat(32_000)}"}`, /"(\\u000a){10,}"\.\.\.\(32000 bytes\) is not an HTTP header name/],
    // A surrogate pair is never cut in half: after "x", 49 emoji fill 99 of the 100 characters shown.
    ["surrogate pairs", `{"direction":"x${"\\ud83d\\ude00".repeat(10_000)}"}`, /field "direction": "x(\u{1f600}){49}"\.\.\.\(40001 bytes\) is not one of/u],
    ["escapes in a key", `{"assign":{"weights":{"${"\\u0062".repeat(10_000)}":1}}}`, /field "assign\.weights\.b{60,}"\.\.\.\(10015 bytes\): "b{60,}"\.\.\.\(10000 bytes\) is not a lane name/],
    // Up to 16384 values a document is read whole (duplicate keys found in linear time), then checked.
    ["many distinct top-level keys", `{${keys(16_000, (i) => `"k${i}":0`)}}`, /field "k0": unknown field/],
    ["many weights", `{"assign":{"weights":{${keys(16_000, (i) => `"s${i}":1`)}}}}`, /field "assign\.weights": must be an object of lane to weight \(at most 256 lanes\)/],
    ["many label_to_lane entries", `{"local_lane":{"label":"l","label_to_lane":{${keys(8_000, (i) => `"v${i}":"s1"`)}}}}`, /field "local_lane\.label_to_lane": must be an object of label value to lane \(at most 256\)/],
    ["a duplicate key after many", `{"assign":{"weights":{${keys(16_000, (i) => `"s${i}":1`)},"s7":2}}}`, /field "s7": given more than once/],
    ["many lanes", `{"lanes":[${keys(16_000, (i) => `"s${i}"`)}]}`, /field "lanes": has 16000 lanes, at most 256 are allowed/],
    // Past that, it is refused as too large where the count is passed, in any shape.
    ["too many keys", `{${keys(80_000, (i) => `"k${i}":0`)}}`, /configuration is too large: more than 16384 values at offset \d+$/],
    ["too many array items", `{"lanes":[${"0,".repeat(400_000)}0]}`, /configuration is too large: more than 16384 values/],
    ["too many empty arrays", fill(`{"x":[`, "[],", "[]]}", MiB), /configuration is too large: more than 16384 values/],
    ["deep nesting", fill(`{"lanes":`, "[", "", MiB), /nesting deeper than 32/],
    ["a long number", fill(`{"correlation":{"capacity":1`, "0", "}}", MiB), /field "correlation\.capacity": must be an integer from 1 to 1048576, got a number that is not a whole number in range/],
    ["a long string of an unknown field, unterminated", fill(`{"x":"`, "a", "", MiB), /not valid JSON: unterminated string at offset/],
    ["one byte over the bound", fill(JSON.stringify({ default_lane: "s1", lanes: ["s1"] }), " ", "", MiB + 1), /configuration is 1048577 bytes, at most 1048576 are allowed/],
  ];
  for (const [name, text, message] of cases) {
    it(name, async () => {
      assert.ok(text.length <= MiB + 1, `${name}: ${text.length}`);
      assert.match(assertRefused(await configure(text), name), message);
    });
  }

  it("a 1 MiB configuration that is valid configures (padding, a long fraction)", async () => {
    for (const text of [
      fill(JSON.stringify({ default_lane: "s1", lanes: ["s1"] }), " ", "", MiB),
      fill(`{"correlation":{"enabled":true,"capacity":1.`, "0", "}}", MiB),
    ]) {
      const { host, plugin } = await configure(text);
      assert.equal(host.vmFailed, null);
      assert.equal(plugin.failed, false, host.logs.at(-1)?.message.slice(0, 300));
      assert.match(host.logs.at(-1)!.message, /configured: \{/);
    }
  });
});

describe("values configure reads from the host are cut in its log lines too", () => {
  const long = "x".repeat(65536);
  it("a root id, a node metadata label value, a workload name of 64 KiB", async () => {
    const other = await Host.load(wasm);
    const p = other.configure({ configuration: "", rootId: long });
    assert.equal(p.failed, true);
    assert.equal(other.vmFailed, null);
    assert.match(other.logs[0].message, /^lane-tag: root id "x{100}"\.\.\.\(65536 bytes\) is not served by this module/);
    const host = await Host.load(wasm, { nodeMetadata: { WORKLOAD_NAME: long, LABELS: { lane: long } } });
    const q = host.configure({ configuration: JSON.stringify({ local_lane: { label: "lane" }, hop_trace: true }) });
    assert.equal(host.vmFailed, null);
    assert.equal(q.failed, false);
    const lines = host.logs.map((l) => l.message).filter((m) => !m.includes(" configured: "));
    assert.equal(lines.length, 3, lines.join("\n"));
    for (const line of lines) assert.ok(Buffer.byteLength(line) <= MAX_LINE, line.slice(0, 300));
    assert.match(lines[0], /node\.metadata\.LABELS\.lane is "x{100}"\.\.\.\(65536 bytes\), which is no lane/);
    assert.match(lines[1], /WORKLOAD_NAME is "x{100}"\.\.\.\(65536 bytes\), not a workload name/);
  });
});

describe("the largest valid configuration", () => {
  // Every list and map at its limit, every string at its longest: ~290 KiB of JSON.
  const lanes = Array.from({ length: 256 }, (_, i) => `l${i}-${"x".repeat(63)}`.slice(0, 63));
  const map = (p: string) => Object.fromEntries(lanes.map((l, i) => [`${p}${i}-${"v".repeat(256)}`.slice(0, 256), l]));
  const header = (i: number) => `x-h${i}-${"h".repeat(256)}`.slice(0, 256);
  const config = {
    routing_header: header(100), baggage_key: "k".repeat(256), direction: "both", lanes, default_lane: lanes[255],
    correlation: { enabled: true, headers: Array.from({ length: 8 }, (_, i) => header(i)), capacity: 1048576, ttl_ms: 86400000 },
    local_lane: { label: "L".repeat(317), label_to_lane: map("a") },
    assign: { weights: Object.fromEntries(lanes.map((l) => [l, 1000000])), sticky_header: header(50) },
    lane_from: { header: header(60), cookie: "c".repeat(256), query: "q".repeat(256), values: map("b"), trusted: true },
    lane_metrics: true, filter_state: true,
    hop_trace: { accept_debug_header: false, workload: "w".repeat(253), label: "M".repeat(317), label_to_lane: map("c") },
  };
  it("configures, logs the whole effective configuration, in memory linear in its size", async () => {
    const { host, plugin } = await configure(JSON.stringify(config));
    assert.equal(plugin.failed, false, host.logs.at(-1)?.message.slice(0, 300));
    const line = host.logs.find((l) => l.message.includes(" configured: "))!.message;
    assert.deepEqual(JSON.parse(line.slice(line.indexOf(" configured: ") + 13)), { ...config, trust_client_lane: true });
    // Building that line piece by piece (+=, or Array.join at the release build's shrink level) took 256 MiB.
    assert.ok(host.memoryBytes() <= 32 * MiB, `${host.memoryBytes()} bytes`);
  });
});

describe("reconfiguring with 1 MiB configurations keeps memory bounded", () => {
  it("50 refused and 50 accepted reconfigures: linear memory stops growing", async () => {
    const host = await Host.load(wasm);
    const refused = fill(`{"default_lane":"`, "a", `"}`, MiB);
    const accepted = fill(JSON.stringify({ lanes: ["s1"], default_lane: "s1" }), " ", "", MiB);
    assert.equal(refused.length, MiB);
    assert.equal(accepted.length, MiB);
    let previous = host.configure({ configuration: "" });
    const round = () => {
      for (const text of [refused, accepted]) {
        const p = host.configure({ configuration: text });
        assert.equal(host.vmFailed, null);
        assert.equal(p.failed, text === refused);
        // Envoy removes the old root context once the new one is configured.
        host.removePlugin(previous);
        previous = p;
      }
    };
    for (let i = 0; i < 3; i++) round();
    const warm = host.memoryBytes();
    for (let i = 3; i < 50; i++) round();
    assert.equal(host.memoryBytes(), warm, `grew from ${warm} to ${host.memoryBytes()} bytes`);
    // A module that configures ~1 MiB of text needs a few times that, not hundreds.
    assert.ok(warm <= 32 * MiB, `${warm} bytes`);
  });
});

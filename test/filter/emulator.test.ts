// The host emulator's fidelity to Envoy: byte-exact headers, ASCII-only lowercasing, metric ids, the
// property names of each Envoy era, fault injection. Module behaviour comes from build/lane-tag.wasm; host
// calls with chosen arguments come from a probe module compiled here from a few lines of AssemblyScript.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Host, WasmResult, type HostOptions, type PluginOptions, type StreamOptions } from "../../emulator/index.ts";
import { filter, base, IN, OUT, ROOT } from "../support/helpers.ts";

// ---- the probe: runs a list of host calls written into its memory, now, at configure or in a request ----

const PROBE_SOURCE = `
@external("env", "proxy_log") declare function log(level: u32, p: usize, n: usize): u32;
@external("env", "proxy_get_property") declare function get_property(p: usize, n: usize, rp: usize, rn: usize): u32;
@external("env", "proxy_get_header_map_value") declare function get_header(t: u32, kp: usize, kn: usize, rp: usize, rn: usize): u32;
@external("env", "proxy_get_header_map_size") declare function header_size(t: u32, rp: usize): u32;
@external("env", "proxy_add_header_map_value") declare function add_header(t: u32, kp: usize, kn: usize, vp: usize, vn: usize): u32;
@external("env", "proxy_replace_header_map_value") declare function replace_header(t: u32, kp: usize, kn: usize, vp: usize, vn: usize): u32;
@external("env", "proxy_remove_header_map_value") declare function remove_header(t: u32, kp: usize, kn: usize): u32;
@external("env", "proxy_define_metric") declare function define_metric(t: u32, np: usize, nn: usize, idp: usize): u32;
@external("env", "proxy_increment_metric") declare function increment_metric(id: u32, offset: i64): u32;
@external("env", "proxy_record_metric") declare function record_metric(id: u32, value: u64): u32;
@external("env", "proxy_get_metric") declare function get_metric(id: u32, rp: usize): u32;
@external("env", "proxy_set_shared_data") declare function set_shared(kp: usize, kn: usize, vp: usize, vn: usize, cas: u32): u32;
@external("env", "proxy_get_shared_data") declare function get_shared(kp: usize, kn: usize, rp: usize, rn: usize, casp: usize): u32;

const PHASE: usize = 0x400; // bit 0: run the ops in on_configure; bit 1: in on_request_headers
const OPS: usize = 0x404;   // u32 count, then per op 8 u32: code, 5 arguments, status (written back), unused
let top: usize = 0x8000;

export function malloc(n: usize): usize {
  const p = top;
  top = (top + n + 7) & ~(<usize>7);
  const pages = <i32>((top + 0xffff) >> 16) - memory.size();
  if (pages > 0) memory.grow(pages);
  return p;
}
export function proxy_abi_version_0_2_0(): void {}
export function proxy_on_context_create(id: u32, parent: u32): void {}
export function proxy_on_configure(id: u32, size: u32): u32 { if (load<u32>(PHASE) & 1) run(); return 1; }
export function proxy_on_request_headers(id: u32, n: u32, eos: u32): u32 { if (load<u32>(PHASE) & 2) run(); return 0; }
export function run(): void {
  const n = <usize>load<u32>(OPS);
  for (let i: usize = 0; i < n; i++) {
    const op = OPS + 4 + i * 32;
    const a = load<u32>(op + 4), b = load<u32>(op + 8), c = load<u32>(op + 12), d = load<u32>(op + 16), e = load<u32>(op + 20);
    let r: u32 = 0xffff;
    switch (load<u32>(op)) {
      case 1: r = log(a, b, c); break;
      case 2: r = get_property(a, b, c, d); break;
      case 3: r = get_header(a, b, c, d, e); break;
      case 4: r = header_size(a, b); break;
      case 5: r = add_header(a, b, c, d, e); break;
      case 6: r = replace_header(a, b, c, d, e); break;
      case 7: r = remove_header(a, b, c); break;
      case 8: r = define_metric(a, b, c, d); break;
      case 9: r = increment_metric(a, <i64><i32>b); break;
      case 10: r = record_metric(a, <u64>b); break;
      case 11: r = get_metric(a, b); break;
      case 12: r = set_shared(a, b, c, d, e); break;
      case 13: r = get_shared(a, b, c, d, e); break;
    }
    store<u32>(op + 24, r);
  }
}
`;
const OP = { log: 1, getProperty: 2, getHeader: 3, headerSize: 4, addHeader: 5, replaceHeader: 6, removeHeader: 7,
  defineMetric: 8, incrementMetric: 9, recordMetric: 10, getMetric: 11, setShared: 12, getShared: 13 } as const;
/** The host function each probe op calls. */
const OP_CALLS: Record<number, string> = {
  1: "proxy_log", 2: "proxy_get_property", 3: "proxy_get_header_map_value", 4: "proxy_get_header_map_size",
  5: "proxy_add_header_map_value", 6: "proxy_replace_header_map_value", 7: "proxy_remove_header_map_value",
  8: "proxy_define_metric", 9: "proxy_increment_metric", 10: "proxy_record_metric", 11: "proxy_get_metric",
  12: "proxy_set_shared_data", 13: "proxy_get_shared_data",
};

const tmp = mkdtempSync(join(tmpdir(), "lane-tag-probe-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
writeFileSync(join(tmp, "probe.ts"), PROBE_SOURCE);
// Built in its own folder: in the project root asc would read asconfig.json and compile the filter into it.
const built = spawnSync(`${ROOT}node_modules/.bin/asc`, [join(tmp, "probe.ts"), "--runtime", "stub", "--noAssert", "--use", "abort=",
  "-O1", "--initialMemory", "2", "-o", join(tmp, "probe.wasm")], { cwd: tmp, encoding: "utf8" });
if (built.status !== 0) throw new Error(`the probe did not build:\n${built.stderr}`);
const PROBE = new Uint8Array(readFileSync(join(tmp, "probe.wasm")));

const PHASE = 0x400, OPS = 0x404, DATA = 0x1000;
type When = "now" | "configure" | "request";

/** A probe VM and helpers to lay out host-call arguments in its memory. */
async function probe(opts: HostOptions = {}) {
  const host = await Host.load(PROBE, opts);
  const memory = host.exports.memory as WebAssembly.Memory;
  const dv = () => new DataView(memory.buffer);
  let data = DATA;
  const p = {
    host,
    /** Writes bytes (a string is taken as a byte string) and returns [pointer, length]. */
    put(b: string | Uint8Array): [number, number] {
      const bytes = typeof b === "string" ? Buffer.from(b, "latin1") : b;
      const at = data;
      new Uint8Array(memory.buffer).set(bytes, at);
      data += (bytes.length + 8) & ~7;
      return [at, bytes.length];
    },
    /** A 16-byte out-slot, filled with 0xEE so that an untouched slot shows. */
    out(): number {
      const at = data;
      new Uint8Array(memory.buffer).fill(0xee, at, at + 16);
      data += 16;
      return at;
    },
    word: (at: number) => dv().getUint32(at, true),
    u64: (at: number) => dv().getBigUint64(at, true),
    /** The data an out-slot (pointer, size) points at. */
    bytesAt: (slot: number) => new Uint8Array(memory.buffer).slice(p.word(slot), p.word(slot) + p.word(slot + 4)),
    /** Runs the ops now, in the next configure or in the next request; returns their statuses. */
    ops(ops: number[][], when: When = "now", run?: () => void): number[] {
      const d = dv();
      d.setUint32(PHASE, when === "configure" ? 1 : when === "request" ? 2 : 0, true);
      d.setUint32(OPS, ops.length, true);
      ops.forEach((op, i) => op.forEach((x, j) => d.setUint32(OPS + 4 + i * 32 + j * 4, x >>> 0, true)));
      for (let i = 0; i < ops.length; i++) d.setUint32(OPS + 4 + i * 32 + 24, 0xdead, true);
      if (when === "now") (host.exports.run as () => void)();
      else run!();
      d.setUint32(PHASE, 0, true);
      return ops.map((_, i) => dv().getUint32(OPS + 4 + i * 32 + 24, true));
    },
    configure: (ops: number[][], plugin: PluginOptions = {}) => {
      let pl!: ReturnType<Host["configure"]>;
      const statuses = p.ops(ops, "configure", () => { pl = host.configure(plugin); });
      return { statuses, plugin: pl };
    },
    request: (ops: number[][], headers: Parameters<ReturnType<Host["configure"]>["request"]>[0] = [], stream: StreamOptions = {}, plugin = host.configure({})) => {
      let r!: ReturnType<typeof plugin.request>;
      const statuses = p.ops(ops, "request", () => { r = plugin.request(headers, stream); });
      return { statuses, result: r };
    },
  };
  return p;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const le64 = (n: number) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigInt64(0, BigInt(n), true); return b; };
const rawValue = (raw: [string, Uint8Array][], name: string) => raw.filter(([k]) => k === name).map(([, v]) => v);

// ---- byte-exact headers --------------------------------------------------------------------------------

const OTHER_MEMBERS: [string, Uint8Array][] = [
  ["a leading BOM", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("userId=alice,sessionId=8f2a")])],
  ["non-ASCII UTF-8", Buffer.from("userId=\u00e9l\u00e8ve\u{1F600},sessionId=8f2a")],
  ["obs-text (not UTF-8)", Buffer.concat([Buffer.from("userId="), Buffer.from([0xc0, 0xff, 0x80, 0xe9]), Buffer.from(",sessionId=8f2a")])],
];

for (const headerStrings of ["utf8", "bytes"] as const) {
  test(`a member's bytes survive the module's baggage rewrite and the next hop, byte for byte (headerStrings ${headerStrings})`, async () => {
    const inbound = (await filter({ direction: "inbound" }, {}, { headerStrings })).plugin;
    const outbound = (await filter({ direction: "outbound" }, {}, { headerStrings })).plugin;
    for (const [what, member] of OTHER_MEMBERS) {
      const input = new Uint8Array(member);
      const hop1 = inbound.request([...base, ["x-asm-prefer-tag", "s2"], ["baggage", input], ["x-untouched", input]], IN);
      input.fill(0x41); // the request took copies: `raw`, read later, is not affected
      assert.ok(hop1.mutations > 0, `${what}: the module rewrote baggage`);
      assert.equal(hex(rawValue(hop1.raw, "x-untouched")[0]), hex(member), what);
      const [bag] = rawValue(hop1.raw, "baggage");
      assert.equal(hex(bag), hex(Buffer.concat([Buffer.from("x-asm-prefer-tag=s2,"), member])), what);
      // The next hop gets exactly those bytes, and passes them on.
      const hop2 = outbound.request(hop1.raw, OUT);
      assert.deepEqual(rawValue(hop2.raw, "baggage").map(hex), [hex(bag)], what);
      assert.deepEqual(rawValue(hop2.raw, "x-asm-prefer-tag").map(hex), [hex(Buffer.from("s2"))], what);
      // The strings of `headers`: the bytes as text, or as a byte string.
      const value = hop1.headers.find(([k]) => k === "baggage")![1];
      assert.equal(value, headerStrings === "bytes" ? Buffer.from(bag).toString("latin1") : new TextDecoder("utf-8", { ignoreBOM: true }).decode(bag), what);
    }
  });
}

test('"utf8" header strings are text on the wire as UTF-8, a BOM kept; "bytes" strings are the bytes', async () => {
  const text = "\ufeffuserId=\u00e9l\u00e8ve";
  const u = (await filter({ direction: "inbound" })).plugin.request([...base, ["x-asm-prefer-tag", "s2"], ["baggage", text]], IN);
  assert.deepEqual(u.headers.find(([k]) => k === "baggage"), ["baggage", `x-asm-prefer-tag=s2,${text}`]);
  assert.equal(hex(rawValue(u.raw, "baggage")[0]), hex(Buffer.from(`x-asm-prefer-tag=s2,${text}`, "utf8")));
  const byteString = Buffer.from(text, "utf8").toString("latin1");
  const b = (await filter({ direction: "inbound" }, {}, { headerStrings: "bytes" })).plugin.request([...base, ["x-asm-prefer-tag", "s2"], ["baggage", byteString]], IN);
  assert.deepEqual(b.headers.find(([k]) => k === "baggage"), ["baggage", `x-asm-prefer-tag=s2,${byteString}`]);
  // A char above \xff is no byte: Node's http refuses it too.
  const bytesPlugin = (await filter("", {}, { headerStrings: "bytes" })).plugin;
  assert.throws(() => bytesPlugin.request([["x-a", "\u0100"]]), TypeError);
  await assert.rejects(Host.load(PROBE, { headerStrings: "latin1" as "bytes" }), /headerStrings must be "utf8" or "bytes"/);
});

test("header names are lowercased ASCII-only, on input and when the module writes them", async () => {
  const p = await probe();
  // UTF-8 "X-ÄB": Ä is C3 84, its lowercase ä would be C3 A4.
  const key = p.put(Buffer.from("X-\u00c4B")), val = p.put("v");
  const sameKey = p.put(Buffer.from("x-\u00c4b")), unicodeLower = p.put(Buffer.from("x-\u00e4b"));
  const s1 = p.out(), s2 = p.out(), size = p.out();
  const { statuses, result } = p.request([
    [OP.replaceHeader, 0, ...key, ...val],
    [OP.getHeader, 0, ...sameKey, s1, s1 + 4],
    [OP.getHeader, 0, ...unicodeLower, s2, s2 + 4],
    [OP.headerSize, 0, size],
  ], [["X-Upper", "1"], ["X-\u00dcber", "\u00e9"]]);
  assert.deepEqual(statuses, [WasmResult.Ok, WasmResult.Ok, WasmResult.NotFound, WasmResult.Ok]);
  assert.deepEqual(result.headers.map(([k]) => k), ["x-upper", "x-\u00dcber", "x-\u00c4b"]);
  assert.deepEqual(result.raw.map(([, v]) => hex(v)), ["31", "c3a9", "76"]);
  // HeaderMap::byteSize(): bytes, not chars (Ü and é are two bytes each).
  assert.equal(p.word(size), "x-upper1".length + "x-\u00dcber\u00e9".length + 2 + "x-\u00c4bv".length + 1);
  // Byte strings: 0xC0 is not lowered to 0xE0 (toLowerCase would make "À" "à").
  const b = await probe({ headerStrings: "bytes" });
  const r = b.request([], [["X-\u00c0", "\u00c0"]]).result;
  assert.deepEqual(r.headers, [["x-\u00c0", "\u00c0"]]);
  assert.deepEqual(r.raw.map(([k, v]) => [k, hex(v)]), [["x-\u00c0", "c0"]]);
});

test("log messages are UTF-8 with a BOM kept; shared-data keys and property paths are exact bytes", async () => {
  const p = await probe({ nodeMetadata: { "\u00e9": "accent" } });
  const msg = p.put(Buffer.from([0xef, 0xbb, 0xbf, 0x68, 0x69, 0x20, 0xc3, 0xa9, 0xff]));
  const k1 = p.put(new Uint8Array([0x6b, 0xc0, 0xff])), k2 = p.put(new Uint8Array([0x6b, 0xc0, 0xfe])), v = p.put("x");
  const path = p.put(Buffer.from("xds\0node\0metadata\0\u00e9")), latin1Path = p.put(new Uint8Array([...Buffer.from("xds\0node\0metadata\0"), 0xe9]));
  const out = p.out(), none = p.out();
  assert.deepEqual(p.ops([[OP.log, 2, ...msg], [OP.setShared, ...k1, ...v, 0], [OP.setShared, ...k2, ...v, 0],
    [OP.getProperty, ...path, out, out + 4], [OP.getProperty, ...latin1Path, none, none + 4]]),
  [WasmResult.Ok, WasmResult.Ok, WasmResult.Ok, WasmResult.Ok, WasmResult.NotFound]);
  assert.deepEqual(p.host.logs.at(-1), { level: "info", message: "\ufeffhi \u00e9\ufffd" });
  // Two keys that decode to the same text as UTF-8 are two entries, under their bytes.
  assert.deepEqual(p.host.sharedData.keys().sort(), ["k\u00c0\u00fe", "k\u00c0\u00ff"]);
  assert.equal(Buffer.from(p.bytesAt(out)).toString(), "accent");
});

// ---- metrics -------------------------------------------------------------------------------------------

test("define_metric gives a new id on every call (type + 4n, n from 1 per type); same name, same stat", async () => {
  const p = await probe({ traceCalls: true });
  const c = p.put("c"), g = p.put("g"), h = p.put("h"), c2 = p.put("c2");
  const ids = Array.from({ length: 6 }, () => p.out());
  assert.deepEqual(p.ops([[OP.defineMetric, 0, ...c, ids[0]], [OP.defineMetric, 0, ...c, ids[1]], [OP.defineMetric, 1, ...g, ids[2]],
    [OP.defineMetric, 2, ...h, ids[3]], [OP.defineMetric, 3, ...c, ids[4]], [OP.defineMetric, 0, ...c2, ids[5]]]),
  [WasmResult.Ok, WasmResult.Ok, WasmResult.Ok, WasmResult.Ok, WasmResult.BadArgument, WasmResult.Ok]);
  // proxy-wasm-cpp-host pre-increments from the type: counters 4, 8, 12, gauges 5, histograms 6; type 3
  // is refused without taking an id or writing one.
  assert.deepEqual(ids.map(p.word), [4, 8, 5, 6, 0xeeeeeeee, 12]);
  assert.deepEqual(p.host.metrics.get("c")?.ids, [4, 8]);
  const v4 = p.out(), v8 = p.out();
  assert.deepEqual(p.ops([[OP.incrementMetric, 4, 2], [OP.incrementMetric, 8, 3], [OP.getMetric, 4, v4], [OP.getMetric, 8, v8]]), [0, 0, 0, 0]);
  assert.equal(p.u64(v4), 5n);
  assert.equal(p.u64(v8), 5n);
  assert.equal(p.host.counter("c"), 5);
  assert.equal(p.host.envoyStats().get("wasmcustom.c"), 5n);
});

test("increment_metric: counters take only offsets > 0; unknown ids are NotFound; histograms BadArgument", async () => {
  const p = await probe();
  const c = p.put("c"), g = p.put("g"), h = p.put("h"), id = p.out(), gv = p.out();
  p.ops([[OP.defineMetric, 0, ...c, id], [OP.defineMetric, 1, ...g, id], [OP.defineMetric, 2, ...h, id]]);
  assert.deepEqual(p.ops([
    [OP.incrementMetric, 4, 0], [OP.incrementMetric, 4, -1], [OP.incrementMetric, 4, 1],
    [OP.incrementMetric, 0, 1], [OP.incrementMetric, 8, 1], [OP.incrementMetric, 6, 1],
    [OP.incrementMetric, 5, 10], [OP.incrementMetric, 5, -3], [OP.getMetric, 5, gv],
    [OP.recordMetric, 4, 4], [OP.getMetric, 6, gv + 8],
  ]), [WasmResult.BadArgument, WasmResult.BadArgument, WasmResult.Ok,
    WasmResult.NotFound, WasmResult.NotFound, WasmResult.BadArgument,
    WasmResult.Ok, WasmResult.Ok, WasmResult.Ok,
    WasmResult.Ok, WasmResult.BadArgument]);
  assert.equal(p.u64(gv), 7n, "a gauge goes down by a negative offset");
  assert.equal(p.host.counter("c"), 5, "1 by increment, then record_metric adds 4 to a counter");
});

// ---- properties per Envoy version ----------------------------------------------------------------------

const PATHS = { legacyDirection: "listener_direction", legacyNode: "node\0metadata\0LABELS\0app",
  xdsDirection: "xds\0listener_direction", xdsNode: "xds\0node\0metadata\0LABELS\0app", rootId: "plugin_root_id", vmId: "plugin_vm_id" };

/** Every PATHS entry looked up at configure and in requests: hex of the value, or "NotFound". */
async function properties(envoy: string | undefined, plugin: PluginOptions, stream: StreamOptions) {
  const p = await probe({ envoy, vmId: "vm", nodeMetadata: { LABELS: { app: "mocka" } } });
  const names = Object.keys(PATHS) as (keyof typeof PATHS)[];
  const lookups = () => names.map((n) => { const slot = p.out(); return { n, slot, op: [OP.getProperty, ...p.put(PATHS[n]), slot, slot + 4] }; });
  const answers = (ls: ReturnType<typeof lookups>, statuses: number[]) =>
    Object.fromEntries(ls.map(({ n, slot }, i) => [n, statuses[i] === WasmResult.Ok ? hex(p.bytesAt(slot)) : statuses[i] === WasmResult.NotFound ? "NotFound" : `status ${statuses[i]}`]));
  const atConfigure = lookups();
  const c = p.configure(atConfigure.map((l) => l.op), plugin);
  const inRequest = lookups();
  const r = p.request(inRequest.map((l) => l.op), [], stream, c.plugin);
  return { configure: answers(atConfigure, c.statuses), request: answers(inRequest, r.statuses) };
}

const MOCKA = hex(Buffer.from("mocka")), LANE_TAG = hex(Buffer.from("lane-tag")), VM = hex(Buffer.from("vm"));

test('envoy "1.32": listener_direction (the plugin\'s, at configure too) and node...; no xds names', async () => {
  const a = await properties("1.32", { listenerDirection: 1 }, { listenerDirection: 2 });
  const legacy = { xdsDirection: "NotFound", xdsNode: "NotFound", rootId: LANE_TAG, vmId: VM, legacyNode: MOCKA };
  assert.deepEqual(a.configure, { ...legacy, legacyDirection: hex(le64(1)) });
  assert.deepEqual(a.request, { ...legacy, legacyDirection: hex(le64(2)) });
  // A stream without a direction: the plugin's; neither: 0, as 8 zero bytes.
  assert.equal((await properties("1.32.5", { listenerDirection: 1 }, {})).request.legacyDirection, hex(le64(1)));
  assert.equal((await properties("1.20", {}, {})).configure.legacyDirection, hex(le64(0)));
});

test('envoy "1.38" (the default) and "1.33": xds names only; xds\\0listener_direction only in a stream', async () => {
  for (const envoy of [undefined, "1.38", "1.33"]) {
    const a = await properties(envoy, { listenerDirection: 1 }, { listenerDirection: 2 });
    const current = { legacyDirection: "NotFound", legacyNode: "NotFound", rootId: LANE_TAG, vmId: VM, xdsNode: MOCKA };
    assert.deepEqual(a.configure, { ...current, xdsDirection: "NotFound" }, String(envoy));
    assert.deepEqual(a.request, { ...current, xdsDirection: hex(le64(2)) }, String(envoy));
    // A listener without traffic_direction: 0, as 8 zero bytes, not NotFound.
    assert.equal((await properties(envoy, {}, {})).request.xdsDirection, hex(le64(0)), String(envoy));
  }
});

test("a malformed envoy version is refused", async () => {
  for (const bad of ["", "1", "1.x", "v1.38", "1.38.0-dev", "2.0", " 1.38", "1.038"]) {
    await assert.rejects(Host.load(PROBE, { envoy: bad }), /HostOptions\.envoy must be an Envoy version such as "1\.32" or "1\.38\.0"/, JSON.stringify(bad));
  }
  assert.equal((await Host.load(PROBE)).envoy, "1.38");
});

// ---- fault injection -----------------------------------------------------------------------------------

test("a fault returns its status for the n-th call of that name, and the call has no effect", async () => {
  const seen: string[] = [];
  const p = await probe({
    countCalls: true,
    faults: (call, n) => { seen.push(`${call}#${n}`); return call === "proxy_replace_header_map_value" && n === 2 ? WasmResult.InternalFailure : undefined; },
  });
  const [a, b, c, v, size] = [p.put("x-a"), p.put("x-b"), p.put("x-c"), p.put("1"), p.out()];
  const { statuses, result } = p.request([[OP.replaceHeader, 0, ...a, ...v], [OP.headerSize, 0, size], [OP.replaceHeader, 0, ...b, ...v],
    [OP.replaceHeader, 0, ...c, ...v]], [["x-b", "old"]]);
  assert.deepEqual(statuses, [WasmResult.Ok, WasmResult.Ok, WasmResult.InternalFailure, WasmResult.Ok]);
  assert.deepEqual(result.headers, [["x-b", "old"], ["x-a", "1"], ["x-c", "1"]]);
  assert.equal(result.mutations, 2);
  // n counts the calls of each name on this Host.
  assert.deepEqual(seen, ["proxy_replace_header_map_value#1", "proxy_get_header_map_size#1", "proxy_replace_header_map_value#2",
    "proxy_replace_header_map_value#3"]);
  assert.equal(p.host.calls.get("proxy_replace_header_map_value"), 3);
});

test("every host function the probe calls can be faulted, with no side effect", async () => {
  const faulted = new Set<string>();
  const p = await probe({ faults: (call) => { faulted.add(call); return WasmResult.Empty; }, nodeMetadata: { k: "v" } });
  const s = () => p.out();
  const [name, key, val, path, msg] = [p.put("m"), p.put("x-k"), p.put("v"), p.put("xds\0node\0metadata\0k"), p.put("hello")];
  const slots = Array.from({ length: 8 }, s);
  const ops = [
    [OP.log, 2, ...msg], [OP.getProperty, ...path, slots[0], slots[0] + 4], [OP.getHeader, 0, ...key, slots[1], slots[1] + 4],
    [OP.headerSize, 0, slots[2]], [OP.addHeader, 0, ...key, ...val], [OP.replaceHeader, 0, ...key, ...val], [OP.removeHeader, 0, ...key],
    [OP.defineMetric, 0, ...name, slots[3]], [OP.incrementMetric, 4, 1], [OP.recordMetric, 4, 1], [OP.getMetric, 4, slots[4]],
    [OP.setShared, ...key, ...val, 0], [OP.getShared, ...key, slots[5], slots[5] + 4, slots[6]],
  ];
  const { statuses, result } = p.request(ops, [["x-k", "kept"]]);
  assert.deepEqual(statuses, ops.map(() => WasmResult.Empty));
  assert.deepEqual([...faulted].sort(), Object.values(OP_CALLS).sort());
  assert.deepEqual(result.headers, [["x-k", "kept"]]);
  assert.equal(result.mutations, 0);
  assert.deepEqual(slots.map(p.word), slots.map(() => 0xeeeeeeee), "no out-pointer written, no malloc");
  assert.deepEqual([p.host.logs.length, p.host.metrics.size, p.host.sharedData.keys().length], [0, 0, 0]);
});

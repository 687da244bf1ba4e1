// The built module's request path in the Envoy-like host: it never logs, changes nothing it need not,
// bounds the baggage it parses, survives hostile header maps; and the host's trap and proc_exit semantics
// these tests rely on.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ProcExit } from "../../emulator/index.ts";
import { filter, send, values, base, IN, OUT, UNSET } from "../support/helpers.ts";

describe("request path", () => {
  it("never logs, whatever the request (sdk.ts defect 4)", async () => {
    const { host, plugin } = await filter({ default_lane: "s1" }, {}, { countCalls: true });
    const before = host.calls.get("proxy_log") ?? 0;
    const inputs: [string, string][][] = [
      [], [["baggage", "x-asm-prefer-tag=s2"]], [["x-asm-prefer-tag", "s3"]], [["x-asm-prefer-tag", "bad lane"]],
      [["baggage", "x-asm-prefer-tag=%zz"]], [["baggage", "x".repeat(9000)]], [["baggage", "a=1"], ["baggage", "b=2"]],
    ];
    for (let i = 0; i < 1000; i++) {
      for (const dir of [IN, OUT, UNSET]) plugin.request([...base, ...inputs[i % inputs.length]], dir);
    }
    assert.equal((host.calls.get("proxy_log") ?? 0) - before, 0);
    assert.equal(host.vmFailed, null);
  });

  it("leaves baggage byte-identical and makes no header change when nothing needs to change", async () => {
    const { plugin } = await filter();
    const bag = "  userId=alice ;p=1 ,x-asm-prefer-tag=s2,  other=%20x ";
    for (const dir of [IN, OUT, UNSET]) {
      const r = send(plugin, [...base, ["x-asm-prefer-tag", "s2"], ["baggage", bag]], dir);
      assert.equal(r.mutations, 0, "no mutation: Envoy would clear the route cache on any");
      assert.deepEqual(r.baggage, [bag]);
      assert.deepEqual(r.tag, ["s2"]);
    }
  });

  it("reads every baggage header (combined with ',' in order) and writes one", async () => {
    const { plugin } = await filter({ direction: "inbound" });
    const r = send(plugin, [...base, ["baggage", "a=1"], ["x-asm-prefer-tag", "s3"], ["baggage", "x-asm-prefer-tag=s2;p, b=2"]], IN);
    assert.deepEqual(r.baggage, ["x-asm-prefer-tag=s3,a=1,b=2"]);
    const o = send((await filter({ direction: "outbound" })).plugin,
      [...base, ["baggage", "x-asm-prefer-tag=s1"], ["baggage", "a=1"], ["baggage", "x-asm-prefer-tag=s2"]], OUT);
    assert.deepEqual(o.tag, ["s2"], "the last valid lane member wins across headers");
    assert.deepEqual(o.baggage, ["x-asm-prefer-tag=s1", "a=1", "x-asm-prefer-tag=s2"], "baggage untouched");
  });

  it("does not parse baggage over 8192 bytes combined, passes it on untouched and counts it", async () => {
    const { host, plugin } = await filter({ direction: "outbound" });
    const half = "k=" + "v".repeat(4094); // 4096 bytes
    const ok = send(plugin, [...base, ["baggage", half], ["baggage", "x-asm-prefer-tag=s2," + "v".repeat(4095 - 20)]]);
    assert.equal(ok.baggage.join(",").length, 8192);
    assert.deepEqual(ok.tag, ["s2"]);
    const big = [...base, ["baggage", half], ["baggage", "x-asm-prefer-tag=s2," + "v".repeat(4096 - 20)]] as [string, string][];
    const r = send(plugin, big);
    assert.deepEqual(r.tag, []);
    assert.deepEqual(r.baggage, [big[3][1], big[4][1]]);
    assert.equal(host.counter("lane_tag.outbound.baggage_oversize"), 1);
    // A header lane still applies; the oversize baggage is not rewritten.
    const h = send(plugin, [...big, ["x-asm-prefer-tag", "s3"]]);
    assert.deepEqual(h.tag, ["s3"]);
    assert.deepEqual(h.baggage, [big[3][1], big[4][1]]);
  });

  it("survives hostile header maps without trapping", async () => {
    const { host, plugin } = await filter({ default_lane: "s1" });
    const hostile: [string, string][][] = [
      [["baggage", ""]], [["x-asm-prefer-tag", ""]], [["baggage", ",,,,;;;==="]],
      [["baggage", "x-asm-prefer-tag=" + "%".repeat(5000)]], [["baggage", "\u0000\r\n"]],
      Array.from({ length: 500 }, () => ["baggage", "x-asm-prefer-tag=s2"] as [string, string]),
      Array.from({ length: 500 }, () => ["x-asm-prefer-tag", "s2"] as [string, string]),
      [["baggage", "é=é,x-asm-prefer-tag=s\u00e9"]], [["baggage", "x".repeat(65536)]],
    ];
    for (const h of hostile) for (const dir of [IN, OUT, UNSET]) {
      const r = send(plugin, [...base, ...h], dir);
      assert.equal(r.outcome, "continue");
      assert.ok(r.tag.length <= 1);
    }
    assert.equal(host.vmFailed, null);
  });
});

describe("host emulator semantics the tests rely on", () => {
  it("a trap marks the VM failed and every later request fails closed", async () => {
    // Our module never traps; a proc_exit from a misbehaving module is emulated via a module that
    // exits on its first request.
    const { host, plugin } = await filter();
    const exports = (host as any).ex;
    const original = exports.proxy_on_request_headers;
    (host as any).ex = { ...exports, proxy_on_request_headers: () => { throw new WebAssembly.RuntimeError("unreachable"); } };
    assert.equal(plugin.request([...base]).outcome, "failed");
    (host as any).ex = { ...exports, proxy_on_request_headers: original };
    assert.match(host.vmFailed ?? "", /trap in proxy_on_request_headers/);
    assert.equal(plugin.request([...base]).outcome, "failed");
  });

  it("proc_exit (what an AssemblyScript abort ends in) does the same; a fail-open plugin then passes requests untouched", async () => {
    const { host, plugin } = await filter("", { failOpen: true });
    const exports = (host as any).ex;
    (host as any).ex = { ...exports, proxy_on_request_headers: () => { throw new ProcExit(255); } };
    assert.equal(plugin.request([...base, ["baggage", "x-asm-prefer-tag=s2"]]).outcome, "failed");
    assert.equal(host.vmFailed, "proc_exit(255) in proxy_on_request_headers");
    const r = plugin.request([...base, ["baggage", "x-asm-prefer-tag=s2"]]);
    assert.equal(r.outcome, "passed-failed");
    assert.deepEqual(values(r.headers, "x-asm-prefer-tag"), []);
  });
});


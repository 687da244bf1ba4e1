// Trace correlation on the X-Ray header (x-amzn-trace-id), on the built module in the host emulator: the
// id is the Root field, which every hop keeps while Parent= changes.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Host } from "../../emulator/index.ts";
import { wasmBytes, send, base, IN, OUT, slotKey } from "../support/helpers.ts";

const MS = 1_000_000n;
const ROOT = "1-5759e988-bd862e3fe1be46a994272793";

async function sidecar(headers?: string[]) {
  const host = await Host.load(wasmBytes(), { countCalls: true });
  host.now = () => 1_700_000_000_000n * MS;
  const common = { lanes: ["s1", "s2", "s3"], correlation: { enabled: true, ...(headers ? { headers } : {}) } };
  const inbound = host.configure({ configuration: JSON.stringify({ ...common, direction: "inbound" }) });
  const outbound = host.configure({ configuration: JSON.stringify({ ...common, direction: "outbound", default_lane: "s1" }) });
  assert.ok(!inbound.failed && !outbound.failed, host.logs.map((l) => l.message).join("\n"));
  return { host, inbound, outbound };
}

const xray = (v: string) => [...base, ["x-amzn-trace-id", v]] as [string, string][];

describe("correlation on x-amzn-trace-id", () => {
  it("the lane comes back on the app's call, whose Parent= differs", async () => {
    const s = await sidecar(["traceparent", "x-amzn-trace-id"]);
    send(s.inbound, [...xray(`Root=${ROOT};Parent=53995c3f42cd8ad8;Sampled=1`), ["x-asm-prefer-tag", "s2"]], IN);
    assert.equal(s.host.counter("lane_tag.inbound.trace_recorded"), 1);
    // Keyed on the Root value alone.
    assert.deepEqual(s.host.sharedData.keys(), [slotKey(ROOT, 8192)]);
    const out = send(s.outbound, xray(`Root=${ROOT};Parent=6c4e0d4b1a2f3e5d;Sampled=1`), OUT);
    assert.deepEqual(out.tag, ["s2"]);
    assert.equal(s.host.counter("lane_tag.outbound.lane_from_trace"), 1);
    // Root in another position, keys in another case, spaces after ";": the same trace.
    assert.deepEqual(send(s.outbound, xray(`Self=1-67891233-12456789abcdef0123456789; parent=6c4e0d4b1a2f3e5d; root=${ROOT}`), OUT).tag, ["s2"]);
    // Another trace, and a malformed Root: the default.
    assert.deepEqual(send(s.outbound, xray("Root=1-5759e988-bd862e3fe1be46a994272794;Parent=6c4e0d4b1a2f3e5d;Sampled=1"), OUT).tag, ["s1"]);
    assert.deepEqual(send(s.outbound, xray("Root=1-5759e988-bd862e3fe1be46a99427279;Sampled=1"), OUT).tag, ["s1"]);
  });

  it("records nothing for a header without a valid Root, and never traps on junk", async () => {
    const s = await sidecar(["x-amzn-trace-id"]);
    for (const v of ["", ";", "Root=", "Root=2-5759e988-bd862e3fe1be46a994272793", "Root=1-00000000-000000000000000000000000", `Root=${ROOT};Root=x`, "\u00ff".repeat(5000), "Root=;".repeat(3000)]) {
      assert.deepEqual(send(s.inbound, [...xray(v), ["x-asm-prefer-tag", "s3"]], IN).tag, ["s3"]);
    }
    assert.equal(s.host.counter("lane_tag.inbound.trace_recorded"), 0);
    assert.deepEqual(s.host.sharedData.keys(), []);
  });

  it("is not a default header: without it configured the X-Ray header is not read", async () => {
    const s = await sidecar();
    send(s.inbound, [...xray(`Root=${ROOT};Parent=53995c3f42cd8ad8;Sampled=1`), ["x-asm-prefer-tag", "s2"]], IN);
    assert.equal(s.host.counter("lane_tag.inbound.trace_recorded"), 0);
  });
});

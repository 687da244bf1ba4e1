// npm run manifests with the spec's `observe`: lane metrics, filter state and the hop trace in every filter
// configuration, valid for the CRDs and accepted by the built module, and the Istio settings printed.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSpec, SpecError } from "../../deploy/lib/spec.ts";
import { generate, filterConfig } from "../../deploy/render/generate.ts";
import { Host } from "../../emulator/index.ts";
import { wasmBytes } from "../support/helpers.ts";
import { EXAMPLE, spec, manifests, assertValidAndAccepted } from "./manifests-shared.ts";

const text = readFileSync(EXAMPLE, "utf8");
const withObserve = (observe: string) => parseSpec(`${text}\nobserve: ${observe}\n`, EXAMPLE);

describe("observe: lane observability in the generated filters", () => {
  it("is off by default: no lane_metrics, filter_state or hop_trace in any role", () => {
    for (const role of ["inbound", "outbound", "gateway"] as const) {
      const c = filterConfig(spec, role);
      assert.deepEqual([c.lane_metrics, c.filter_state, c.hop_trace], [undefined, undefined, undefined], role);
    }
  });

  it("turns each on in every role; the gateway accepts x-lane-tag-debug, the sidecars name their lane by the lane label", () => {
    const s = withObserve("{laneMetrics: true, filterState: true, hopTrace: true}");
    assert.deepEqual(filterConfig(s, "gateway").hop_trace, { accept_debug_header: true });
    for (const role of ["inbound", "outbound"] as const) {
      assert.deepEqual(filterConfig(s, role).hop_trace, { label: "ASM_TRAFFIC_TAG", label_to_lane: { v1: "s1", v2: "s2", v3: "s3" } }, role);
    }
    for (const role of ["inbound", "outbound", "gateway"] as const) {
      assert.equal(filterConfig(s, role).lane_metrics, true);
      assert.equal(filterConfig(s, role).filter_state, true);
    }
    const only = withObserve("{filterState: true}");
    assert.deepEqual([filterConfig(only, "inbound").lane_metrics, filterConfig(only, "inbound").filter_state], [undefined, true]);
  });

  it("the resources are valid for their CRDs and every filter configuration configures the built module", async () => {
    await assertValidAndAccepted(generate(withObserve("{laneMetrics: true, filterState: true, hopTrace: true}")), await Host.load(wasmBytes()));
  });

  it("refuses what is not a mapping of booleans, naming the field", () => {
    for (const [observe, want] of [
      ["true", /observe: must be a mapping \{laneMetrics, filterState, hopTrace\}/],
      ["{hopTrace: yes please}", /observe\.hopTrace: must be true or false/],
      ["{traces: true}", /observe\.traces: unknown field \(known: laneMetrics, filterState, hopTrace\)/],
    ] as const) {
      assert.throws(() => withObserve(observe), (e: unknown) => e instanceof SpecError && want.test(e.message), observe);
    }
  });

  it("npm run manifests prints the Istio settings lane metrics need, only when they are on", () => {
    const dir = mkdtempSync(join(tmpdir(), "lane-tag-observe-"));
    try {
      writeFileSync(join(dir, "on.yaml"), `${text}\nobserve: {laneMetrics: true}\n`);
      const on = manifests([join(dir, "on.yaml"), "--out", join(dir, "on")]);
      assert.equal(on.code, 0, on.err);
      assert.match(on.out, /sidecar\.istio\.io\/extraStatTags: "lane,lane_direction,lane_source"/);
      assert.match(on.out, /proxyStatsMatcher.*inclusionPrefixes.*wasmcustom\.lane/);
      const off = manifests([EXAMPLE, "--out", join(dir, "off")]);
      assert.equal(off.code, 0, off.err);
      assert.doesNotMatch(off.out, /extraStatTags/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

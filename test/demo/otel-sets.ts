// Shared by the otel-apps-*.test.ts files: runs --apps otel for propagator sets and checks each against the
// expectations table (kept, lost after the first hop, or drifts: lost after the second), so the table is the one place that changes when the filter reads another carrier. Split
// over files to keep each one short: every run starts six instrumented app processes.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadSpec } from "../../deploy/lib/spec.ts";
import { runDemo } from "../../demo/demo.ts";
import { laneOutcome, outcomeChain, OUTCOMES, type Outcome } from "../../demo/otel/expectations.ts";
import type { Mode } from "../../demo/mesh.ts";
import type { GatewayTrace } from "../../demo/core/gateway-trace.ts";
import { ROOT } from "../support/helpers.ts";

const spec = loadSpec(join(ROOT, "deploy/lanes.example.yaml"));

/** The outcomes a run's chains all agree with (seed 1 gives s2 and s3 requests, which tell the three apart). */
async function observed(propagators: string[], mode: Mode, gatewayTrace: GatewayTrace | undefined): Promise<(Outcome | string)[]> {
  const { results } = await runDemo({ requests: 20, seed: 1, withFilter: true, quiet: true, concurrency: 8, apps: "otel", propagators, mode, gatewayTrace }, spec, () => {});
  const chains = results.map((r) => `${r.lane}: ${r.hops.map((h) => h.version).join("→")}`);
  const matching = OUTCOMES.filter((o) => results.every((r) => r.hops.map((h) => h.version).join("→") === outcomeChain(spec, r.lane, o).join("→")));
  return matching.length ? matching : [`none of ${OUTCOMES.join(", ")}: ${[...new Set(chains)].join("; ")}`];
}

/** gatewayTrace: the trace the gateway starts (--gateway-trace): w3c, as one with an OpenTelemetry tracer does,
 *  or b3, as Envoy's Zipkin tracer does; correlation mode starts a w3c one without it. */
export interface SetRun { propagators: string[]; mode: Mode; gatewayTrace?: GatewayTrace }

export function describeSets(title: string, runs: SetRun[]) {
  describe(title, () => {
    for (const { propagators, mode, gatewayTrace } of runs) {
      const correlation = mode === "correlation";
      const want = laneOutcome(propagators, { correlation, trace: gatewayTrace ?? (correlation ? "w3c" : "none") });
      it(`OTEL_PROPAGATORS=${propagators.join(",")}, mode ${mode}${gatewayTrace ? `, the gateway starting a ${gatewayTrace} trace` : ""}: lanes ${want}`, async () => {
        assert.deepEqual(await observed(propagators, mode, gatewayTrace), [want]);
      });
    }
  });
}

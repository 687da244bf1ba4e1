// Shared by the spec tests that hold the spec to the filter: the filter configurations a spec generates,
// configured in the BUILT module.
import assert from "node:assert/strict";
import { parseSpec, SpecError, type LanesSpec } from "../../deploy/lib/spec.ts";
import { generate } from "../../deploy/render/generate.ts";
import { Host } from "../../emulator/index.ts";
import { wasmBytes } from "../support/helpers.ts";

/** Every filter configuration the spec generates (ASM parameters and Istio pluginConfig), once each. */
export function filterConfigs(spec: LanesSpec): string[] {
  const out = new Set<string>();
  for (const o of generate(spec)) {
    const r = o.resource;
    if (r.kind === "ASMFilterDeployment") out.add(r.spec.filter.parameters);
    if (r.kind === "WasmPlugin") out.add(JSON.stringify(r.spec.pluginConfig));
  }
  return [...out];
}

/** Configures each in a fresh VM of the built module: the refusals, with the config that got each. */
export async function refusals(configs: string[]): Promise<string[]> {
  const bad: string[] = [];
  const host = await Host.load(wasmBytes(), { nodeMetadata: { WORKLOAD_NAME: "w", LABELS: {} } });
  for (const configuration of configs) {
    const before = host.logs.length;
    const p = host.configure({ configuration });
    const refused = host.logs.slice(before).filter((l) => l.level === "critical" || l.level === "error");
    if (p.failed || refused.length) bad.push(`${refused.map((l) => l.message).join("; ") || "failed"}\n  config: ${configuration.slice(0, 300)}`);
  }
  return bad;
}

/** The spec parsed from `text`, failing the test (with `what` and the spec) if the checks refuse it. */
export function accepted(text: string, what: string): LanesSpec {
  try {
    return parseSpec(text, "gen.yaml");
  } catch (e) {
    if (e instanceof SpecError) assert.fail(`${what}: the spec check refused a valid spec:\n${e.message}\n--- spec:\n${text.slice(0, 2000)}`);
    throw e;
  }
}

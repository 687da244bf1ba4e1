// The resources a user applies for the demo's spec: its manifests written to a temporary folder exactly as
// `npm run manifests` writes them (same renderers, same YAML), then read back as `kubectl apply -f` would read
// them. The demo routes by these, so it checks the files, not only the plan they come from.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LanesSpec } from "../deploy/lib/spec.ts";
import { generate } from "../deploy/render/generate.ts";
import { writeOutputs } from "../deploy/lib/output-files.ts";
import { loadResources } from "./routes/load.ts";

/** Writes the spec's manifests under `out` (asm/, istio/, ...) as `npm run manifests -- <spec> --out <out>`. */
export function writeManifests(spec: LanesSpec, out: string, specName = "the demo's spec") {
  writeOutputs(generate(spec), out, specName);
}

/** The resources of one output folder (istio, asm) for `spec`: generated, written, read back; nothing left behind. */
export function appliedResources(spec: LanesSpec, folder: string): any[] {
  const dir = mkdtempSync(join(tmpdir(), "lane-tag-demo-"));
  try {
    writeManifests(spec, dir);
    return loadResources(join(dir, folder));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The spec with the demo's --weights in its gateway, so that the generated gateway route splits by them. */
export function withWeights(spec: LanesSpec, weights: { lane: string; weight: number }[]): LanesSpec {
  if (!spec.gateway) return spec;
  return { ...spec, gateway: { ...spec.gateway, weights: Object.fromEntries(weights.filter((w) => w.weight > 0).map((w) => [w.lane, w.weight])) } };
}

/** The sidecar mesh's routing resources: `folder` (istio or asm) of `manifests` (a folder `npm run manifests`
 *  wrote) when given, else of the spec's manifests generated now. */
export function sidecarResources(spec: LanesSpec, folder: string, manifests?: string): any[] {
  return manifests !== undefined ? loadResources(join(manifests, folder)) : appliedResources(spec, folder);
}

/** The ambient mesh's resources: ambient/ of `manifests` when given, else of the spec's manifests generated now. */
export function ambientResources(spec: LanesSpec, manifests?: string): any[] {
  return sidecarResources(spec, "ambient", manifests);
}

/** A host the gateway serves, for its route's host match: its first host ("*" stands for any name). */
export function gatewayHost(spec: LanesSpec): string {
  return (spec.gateway?.hosts[0] ?? "*").replace(/^\*/, "demo.example");
}

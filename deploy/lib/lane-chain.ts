// Stacked lanes: each lane's fallback chain up to the baseline (`lanes.<name>.fallback`), the lane whose
// version of a service a request reaches, and the spec's checks of the chains.
import type { Lane, LanesSpec } from "./spec-types.ts";
import type { Path, SpecContext } from "./spec-check.ts";

/**
 * A lane's fallback chain: the lane, the lane it falls back to, and so on up to the baseline (stacked lanes:
 * feat-x -> release-2 -> s1). A lane that is not in the spec has the baseline's chain. A lane without a
 * `fallback` falls back to the baseline (parseSpec sets it; specs built in code may leave it out).
 */
export function laneChain(spec: LanesSpec, lane: string): string[] {
  const out: string[] = [];
  let at: Lane | undefined = spec.lanes.find((l) => l.name === lane) ?? spec.lanes.find((l) => l.name === spec.baseline);
  // parseSpec refuses cycles; the seen-check only keeps a hand-built spec from looping.
  while (at && !out.includes(at.name)) {
    out.push(at.name);
    const next = at.fallback ?? (at.name === spec.baseline ? undefined : spec.baseline);
    at = next === undefined ? undefined : spec.lanes.find((l) => l.name === next);
  }
  return out;
}

/** The lane whose version of `service` a request in `lane` reaches: the nearest up its chain that has one. */
export function laneFor(spec: LanesSpec, service: string, lane: string): string {
  const chain = laneChain(spec, lane);
  return chain.find((l) => spec.lanes.find((x) => x.name === l)!.services.includes(service)) ?? spec.baseline;
}

/**
 * `lanes.<name>.fallback`: another lane of the spec, never the baseline's own, no cycles. Lanes without one
 * fall back to the baseline (set here), so every chain ends at the baseline, which holds every service.
 */
export function checkFallbacks(fail: SpecContext["fail"], lanes: Lane[], baseline: string): void {
  const byName = new Map(lanes.map((l) => [l.name, l]));
  for (const l of lanes) {
    if (l.fallback === undefined) continue;
    const p: Path = ["lanes", l.name, "fallback"];
    if (l.name === baseline) {
      fail(p, `the baseline lane ${l.name} has no fallback: it holds every service, and every other lane's chain ends at it`);
      delete l.fallback;
    } else if (!byName.has(l.fallback)) {
      fail(p, `${JSON.stringify(l.fallback)} is not one of the lanes (${lanes.map((x) => x.name).join(", ")})`);
      l.fallback = baseline;
    }
  }
  for (const l of lanes) if (l.name !== baseline && l.fallback === undefined) l.fallback = baseline;
  // Each cycle once, at its first lane in the spec's order, e.g. "the fallback chain a -> b -> a is a cycle".
  const reported = new Set<string>();
  for (const l of lanes) {
    const seen: string[] = [];
    let at: Lane | undefined = l;
    while (at && !seen.includes(at.name)) {
      seen.push(at.name);
      at = at.fallback === undefined ? undefined : byName.get(at.fallback);
    }
    if (!at) continue;
    const cycle = seen.slice(seen.indexOf(at.name));
    if (cycle.some((n) => reported.has(n))) continue;
    const first = lanes.find((x) => cycle.includes(x.name))!.name;
    const from = cycle.indexOf(first);
    const ordered = [...cycle.slice(from), ...cycle.slice(0, from), first];
    for (const n of cycle) reported.add(n);
    fail(["lanes", first, "fallback"], `the fallback chain ${ordered.join(" -> ")} is a cycle: a chain must end at the baseline ${baseline}`);
  }
}

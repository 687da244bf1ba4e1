// `targets` and `ambient` of the lanes spec: which outputs to generate, and how the Istio ambient output
// places its waypoints and per-version Services. What ambient mode cannot do is refused here, by name.
import { DNS_LABEL, K8S, isObject, describe, number, shown, type SpecContext } from "./spec-check.ts";
import { TARGETS, type AmbientSpec, type Lane, type Target } from "./spec-types.ts";

export interface AmbientInput {
  lanes: Lane[];
  services: string[];
  localLane: unknown;
  correlation: boolean;
  /** The gateway's entry service and port: the per-version Services' default port. */
  entry?: { service: string; port?: number };
}

/** A port number 1-65535, or a problem naming the path. */
function port(ctx: SpecContext, path: (string | number)[], v: unknown): number | undefined {
  if (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535) return v as number;
  ctx.fail(path, `must be a port number 1-65535, got ${number(v)}`);
  return undefined;
}

/** `targets`: a non-empty list of asm, istio, ambient; undefined when absent. */
function parseTargets(ctx: SpecContext, raw: unknown): Target[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw) || raw.length === 0) {
    ctx.fail(["targets"], `must be a non-empty list of ${TARGETS.join(", ")}, got ${describe(raw)}`);
    return [];
  }
  const out: Target[] = [];
  raw.forEach((t: unknown, i: number) => {
    if (typeof t !== "string" || !(TARGETS as readonly string[]).includes(t)) ctx.fail(["targets", i], `${typeof t === "string" ? shown(t) : describe(t)} is not one of ${TARGETS.join(", ")}`);
    else if (out.includes(t as Target)) ctx.fail(["targets", i], `${shown(t)} is listed twice`);
    else out.push(t as Target);
  });
  return out;
}

/**
 * The targets and, when ambient is one, its settings. Without `targets` every output is generated, except
 * ambient where the spec uses strict mode (which ambient cannot do) and says nothing of ambient.
 */
export function parseTargetsAndAmbient(ctx: SpecContext, rawTargets: unknown, raw: unknown, input: AmbientInput): { targets: Target[]; ambient?: AmbientSpec } {
  const given = parseTargets(ctx, rawTargets);
  const strict = input.localLane === true;
  const targets: Target[] = given ?? (strict && raw === undefined ? ["asm", "istio"] : [...TARGETS]);
  if (!targets.includes("ambient")) {
    if (raw !== undefined) ctx.fail(["ambient"], "is set, but targets leaves ambient out: add ambient to targets or remove this field");
    return { targets };
  }
  if (strict) {
    ctx.fail(["localLane"], "strict mode cannot work in Istio ambient mode: no proxy there knows the pod's own lane (ztunnel carries L4 only; a waypoint serves every pod of its namespace or service): remove localLane, or leave ambient out of targets (targets: [asm, istio])");
  }
  return { targets, ambient: parseAmbient(ctx, raw, input) };
}

function parseAmbient(ctx: SpecContext, raw: unknown, input: AmbientInput): AmbientSpec {
  const { fail, str, check } = ctx;
  let a: Record<string, any> = {};
  if (raw !== undefined) {
    if (!isObject(raw)) fail(["ambient"], `must be a mapping {waypoint, scope, port, ports}, got ${describe(raw)}`);
    else a = ctx.fields(["ambient"], raw, ["waypoint", "scope", "port", "ports"]);
  }
  const waypoint = str(["ambient", "waypoint"], a.waypoint, false, "waypoint");
  check(["ambient", "waypoint"], waypoint, DNS_LABEL, "a Kubernetes name (a DNS-1123 label)", K8S.label);
  const scope = str(["ambient", "scope"], a.scope, false, "namespace");
  if (scope !== "namespace" && scope !== "service") fail(["ambient", "scope"], `${shown(scope)} is not one of "namespace", "service"`);
  if (scope === "service" && a.waypoint !== undefined) fail(["ambient", "waypoint"], "is the namespace waypoint's name: with scope service each service's waypoint is <service>-waypoint");
  if (scope === "service" && input.correlation) {
    fail(["ambient", "scope"], "trace correlation needs scope namespace: it works only where one waypoint sees both the request arriving at a service and that service's own calls, i.e. one namespace waypoint shared by the services; a per-service waypoint sees only the requests to its service");
  }
  const entryPort = input.entry?.port;
  const def = a.port === undefined ? undefined : port(ctx, ["ambient", "port"], a.port);
  const ports: Record<string, number> = {};
  if (a.ports !== undefined) {
    if (!isObject(a.ports)) fail(["ambient", "ports"], `must be a mapping of service name to port, got ${describe(a.ports)}`);
    else for (const [svc, v] of Object.entries(a.ports)) {
      if (!input.services.includes(svc)) fail(["ambient", "ports", svc], `${shown(svc)} is not a service of any lane`);
      const p = port(ctx, ["ambient", "ports", svc], v);
      if (p !== undefined) ports[svc] = p;
    }
  }
  // Without ambient.port: the gateway's entry port (the services of a lane group commonly share one), else 80.
  const all = def ?? entryPort ?? 80;
  for (const svc of input.services) ports[svc] ??= all;
  return { waypoint, scope: scope === "service" ? "service" : "namespace", ports: Object.fromEntries(input.services.map((s) => [s, ports[s]])) };
}

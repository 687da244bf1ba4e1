// The lanes spec: one YAML file describing a lane group. Read by the one loader (spec-yaml.ts), checked
// field by field; every error names the file, the path in it, its line, and what is wrong. A spec that
// passes generates filter configurations within every limit the filter enforces (FILTER_LIMITS).
import { dirname, resolve } from "node:path";
import { readYaml } from "./spec-yaml.ts";
import { readTextFile, textProblem, TextFileError } from "./text-file.ts";
import { DNS_LABEL, FILTER_LIMITS, K8S, LABEL_VALUE, SpecError, TOKEN, describe, isObject, shown, specContext, type Path, type SpecContext } from "./spec-check.ts";
import { parseCorrelation, parseGateway, parseObserve, parseOtel, parseWorkloads } from "./spec-parts.ts";
import { checkFallbacks } from "./lane-chain.ts";
import { parseTargetsAndAmbient } from "./spec-ambient.ts";
import { carrierKeyProblem } from "./carriers.ts";
import type { Lane, LanesSpec } from "./spec-types.ts";

export { laneChain, laneFor } from "./lane-chain.ts";
export { SpecError, FILTER_LIMITS, type Path, type SpecContext } from "./spec-check.ts";
export * from "./spec-types.ts";

/**
 * What a valid spec may still get wrong, said before it is applied. Strict mode (localLane) carries a lane
 * only through the workloads' own labels: a lane without a version of some service loses its lane there
 * (the baseline's workload answers, and its label says the baseline).
 */
export function specWarnings(spec: LanesSpec): string[] {
  if (!spec.localLane) return [];
  const gaps = spec.lanes.map((l) => [l.name, spec.services.filter((s) => !l.services.includes(s))] as const).filter(([, m]) => m.length > 0);
  return gaps.length === 0 ? [] : [`localLane: strict mode needs every lane to hold every service, or requests leave their lane at the first service the lane lacks: ${gaps.map(([l, m]) => `${l} has no ${m.join(", ")}`).join("; ")}`];
}

// host[:port]/path[:tag][@digest]; the host part must look like a registry (has a dot or port, or is localhost).
const IMAGE = /^([a-z0-9.-]+(:[0-9]+)?)\/([a-z0-9]+([._/-][a-z0-9]+)*)(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(@sha256:[a-f0-9]{64})?$/;

const TOP = ["group", "namespace", "routingHeader", "baggageKey", "labelKey", "workloadLabel", "baseline", "image",
  "istioImage", "imagePullPolicy", "lanes", "gateway", "correlation", "localLane", "workloads", "digests", "otel", "observe", "targets", "ambient"] as const;

/** Reads and checks a lanes spec file (every tool reads specs here); throws SpecError listing every problem. */
export function loadSpec(file: string): LanesSpec {
  let text: string;
  try {
    text = readTextFile(file, "the lanes spec");
  } catch (e) {
    if (e instanceof TextFileError) throw new SpecError([e.message]);
    throw e;
  }
  return parseSpec(text, file);
}

export function parseSpec(text: string, file: string): LanesSpec {
  const binary = textProblem(Buffer.from(text, "utf8"));
  if (binary) throw new SpecError([`${file}: ${binary}`]);
  const problems: string[] = [];
  const yaml = readYaml(text, file, problems);
  if (problems.length) throw new SpecError(problems);
  if (!isObject(yaml.root)) throw new SpecError([`${file}: (top level): must be a mapping of the fields group, namespace, lanes, ...`]);
  let root: Record<string, any> = yaml.root;
  const ctx = specContext(file, yaml, problems, () => typeof root.routingHeader === "string" ? root.routingHeader : "x-asm-prefer-tag");
  // Fields named x-... are the spec's own notes and anchors (`x-defaults: &defaults {...}`), as in Compose files.
  root = ctx.fields([], Object.fromEntries(Object.entries(root).filter(([k]) => !k.startsWith("x-"))), TOP);
  const { fail, str } = ctx;

  const names = parseNames(ctx, root);
  const { lanes, services } = parseLanes(ctx, root.lanes);
  const baseline = str(["baseline"], root.baseline, true);
  const baseLane = lanes.find((l) => l.name === baseline);
  if (baseline && lanes.length && !baseLane) fail(["baseline"], `${shown(baseline)} is not one of the lanes (${lanes.map((l) => l.name).join(", ")})`);
  if (baseLane) {
    const missing = services.filter((s) => !baseLane.services.includes(s));
    if (missing.length) fail(["lanes", baseline, "services"], `the baseline lane must hold every service of the group; missing: ${missing.join(", ")}`);
    checkFallbacks(fail, lanes, baseline);
  }
  const gateway = root.gateway === undefined ? undefined : parseGateway(ctx, root.gateway, lanes, services);
  const correlation = parseCorrelation(ctx, root.correlation);
  const localLane = root.localLane ?? false;
  if (typeof localLane !== "boolean") fail(["localLane"], `must be true or false, got ${describe(localLane)}`);
  const workloads = parseWorkloads(ctx, root.workloads, services, names.workloadLabel);
  const digests = str(["digests"], root.digests, false);
  const otel = parseOtel(ctx, root.otel, names.group, correlation !== undefined);
  checkCarrierKey(ctx, root, names.baggageKey, otel?.propagators);
  const observe = parseObserve(ctx, root.observe);
  const { targets, ambient } = parseTargetsAndAmbient(ctx, root.targets, root.ambient, { lanes, services, localLane, correlation: correlation !== undefined, entry: gateway?.entry });

  if (problems.length) throw new SpecError(problems);
  return {
    ...names, baseline, lanes, services, gateway,
    ...(correlation ? { correlation } : {}), ...(otel ? { otel } : {}), observe, localLane: localLane === true, workloads,
    ...(digests ? { digests: resolve(dirname(file), digests) } : {}),
    targets, ...(ambient ? { ambient } : {}),
  };
}

// OpenTelemetry JS percent-encodes these in the keys it sends: the lane would not survive an instrumented app.
const REWRITTEN = "#$%&+^`|";

/**
 * The baggage key against the carriers otel.propagators choose (what the filter's configure refuses), at
 * the field that set it: baggageKey, else the routing header. Only a key that passed its own checks, so
 * that one mistake is one problem.
 */
function checkCarrierKey(ctx: SpecContext, root: Record<string, any>, key: string, propagators: readonly string[] | undefined): void {
  const own = root.baggageKey !== undefined && root.baggageKey !== null;
  if (own && (typeof root.baggageKey !== "string" || root.baggageKey === "")) return;
  if (!TOKEN.test(key) || key.length > FILTER_LIMITS.name || [...key].some((ch) => REWRITTEN.includes(ch))) return;
  if (!own && key !== key.toLowerCase()) return;
  const problem = carrierKeyProblem(key, propagators);
  if (problem) ctx.fail([own ? "baggageKey" : "routingHeader"], `${shown(key)} ${problem}${own ? "" : "; it is also the baggage key unless baggageKey is set"}`);
}

type Names = Pick<LanesSpec, "group" | "namespace" | "routingHeader" | "baggageKey" | "labelKey" | "workloadLabel" | "image" | "istioImage" | "imagePullPolicy">;

/** The group's names: group, namespace, the headers and labels that carry the lane, the images. */
function parseNames(ctx: SpecContext, root: Record<string, any>): Names {
  const { fail, str, check } = ctx;
  const group = str(["group"], root.group, true);
  check(["group"], group, DNS_LABEL, "a DNS-1123 label (lowercase letters, digits and '-')", K8S.label);
  const namespace = str(["namespace"], root.namespace, true);
  check(["namespace"], namespace, DNS_LABEL, "a Kubernetes namespace name", K8S.label);
  const routingHeader = str(["routingHeader"], root.routingHeader, false, "x-asm-prefer-tag");
  check(["routingHeader"], routingHeader, TOKEN, "an HTTP header name (an RFC 9110 token)", FILTER_LIMITS.name);
  if (routingHeader !== routingHeader.toLowerCase()) fail(["routingHeader"], `${shown(routingHeader)} must be lowercase`);
  if (routingHeader === "baggage") fail(["routingHeader"], `must not be "baggage", the header that carries the lane`);
  const baggageKey = str(["baggageKey"], root.baggageKey, false, routingHeader);
  // Unless given, it is the routing header, checked above.
  if (root.baggageKey !== undefined) check(["baggageKey"], baggageKey, TOKEN, "a W3C baggage key (a token)", FILTER_LIMITS.name);
  const rewritten = [...baggageKey].find((ch) => REWRITTEN.includes(ch));
  if (rewritten !== undefined) {
    const own = root.baggageKey !== undefined && root.baggageKey !== null;
    fail([own ? "baggageKey" : "routingHeader"], `${shown(baggageKey)} holds "${rewritten}", which OpenTelemetry rewrites in baggage keys (any of #$%&+^\`|): the lane would not survive an instrumented app${own ? "" : "; it is also the baggage key unless baggageKey is set"}`);
  }
  const labelKey = str(["labelKey"], root.labelKey, false, "ASM_TRAFFIC_TAG");
  if (labelKey) ctx.labelKey(["labelKey"], labelKey);
  const workloadLabel = str(["workloadLabel"], root.workloadLabel, false, "app");
  if (workloadLabel) ctx.labelKey(["workloadLabel"], workloadLabel);
  const imageRef = (path: Path, v: string) => {
    check(path, v, IMAGE, "an OCI image reference (registry/repository:tag, a tag of at most 128 characters)");
    // Without a registry host (a dot, a port, or localhost) Istio would read the name as a Docker Hub image.
    const host = v.split("/")[0];
    if (v && IMAGE.test(v) && !(host.includes(".") || host.includes(":") || host === "localhost")) {
      fail(path, `${shown(v)} names no registry: start it with the registry host, e.g. registry.example.com/${v}`);
    }
  };
  const image = str(["image"], root.image, true);
  imageRef(["image"], image);
  let istioImage = str(["istioImage"], root.istioImage, false);
  if (istioImage) imageRef(["istioImage"], istioImage);
  else if (IMAGE.test(image)) {
    const m = IMAGE.exec(image)!;
    if (m[6]) fail(["image"], "is pinned by digest: give istioImage too (the Istio layout is a separate artifact)");
    else istioImage = `${image}${m[5] ? "" : ":latest"}-istio`;
  }
  const pull = str(["imagePullPolicy"], root.imagePullPolicy, false, "IfNotPresent");
  if (!["IfNotPresent", "Always"].includes(pull)) fail(["imagePullPolicy"], `${shown(pull)} is not one of "IfNotPresent", "Always"`);
  return { group, namespace, routingHeader, baggageKey, labelKey, workloadLabel, image, istioImage, imagePullPolicy: pull as LanesSpec["imagePullPolicy"] };
}

/** `lanes`: name -> {label, services, fallback}; at most FILTER_LIMITS.lanes, each name a lane and a subset name. */
function parseLanes(ctx: SpecContext, raw: unknown): { lanes: Lane[]; services: string[] } {
  const { fail, str, check } = ctx;
  const lanes: Lane[] = [];
  const services: string[] = [];
  if (raw === undefined) { fail(["lanes"], "is required"); return { lanes, services }; }
  if (!isObject(raw) || Object.keys(raw).length === 0) {
    fail(["lanes"], "must be a non-empty mapping of lane name to {label, services, fallback}");
    return { lanes, services };
  }
  const count = Object.keys(raw).length;
  if (count > FILTER_LIMITS.lanes) fail(["lanes"], `has ${count} lanes: the filter takes at most ${FILTER_LIMITS.lanes}`);
  const labels = new Map<string, string>();
  for (const [name, value] of Object.entries(raw)) {
    const p: Path = ["lanes", name];
    if (name.length > K8S.label) fail(p, `lane name ${shown(name)} is too long: a lane name has at most ${K8S.label} characters (the filter's limit, and a DNS-1123 label's), this one has ${name.length}`);
    else if (!DNS_LABEL.test(name)) fail(p, `lane name ${shown(name)} must be a DNS-1123 label (it names DestinationRule subsets): lowercase letters, digits and '-'`);
    if (!isObject(value)) { fail(p, `must be a mapping with label and services, got ${describe(value)}`); continue; }
    const l = ctx.fields(p, value, ["label", "services", "fallback"]);
    const label = str([...p, "label"], l.label, true);
    check([...p, "label"], label, LABEL_VALUE, "a Kubernetes label value", K8S.labelValue);
    if (label && labels.has(label)) fail([...p, "label"], `${shown(label)} is already the label of lane ${labels.get(label)}`);
    labels.set(label, name);
    const svcs: string[] = [];
    if (!Array.isArray(l.services) || l.services.length === 0) fail([...p, "services"], "must be a non-empty list of service names");
    else l.services.forEach((s: unknown, i: number) => {
      const sp: Path = [...p, "services", i];
      if (typeof s !== "string") return void fail(sp, `must be a string, got ${describe(s)}`);
      if (s.length > K8S.label) return void fail(sp, `${shown(s)} is too long: a Kubernetes service name has at most ${K8S.label} characters, this one has ${s.length}`);
      if (!DNS_LABEL.test(s)) return void fail(sp, `${shown(s)} is not a Kubernetes service name`);
      if (svcs.includes(s)) return void fail(sp, `${shown(s)} is listed twice`);
      svcs.push(s);
      if (!services.includes(s)) services.push(s);
    });
    const fallback = l.fallback === undefined ? undefined : str([...p, "fallback"], l.fallback, true) || undefined;
    lanes.push({ name, label, services: svcs, ...(fallback ? { fallback } : {}) });
  }
  return { lanes, services };
}

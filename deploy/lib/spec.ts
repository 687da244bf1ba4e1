// The lanes spec: one YAML file describing a lane group. Parsed with the `yaml` package, checked field by
// field; every error names the file, the path in it, its line, and what is wrong.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { LineCounter, parseDocument, isMap, isScalar } from "yaml";
import { parseGateway, parseOtel, parseObserve } from "./spec-parts.ts";
import { checkFallbacks } from "./lane-chain.ts";

export { laneChain, laneFor } from "./lane-chain.ts";

export interface Lane {
  name: string;
  /** Value of `labelKey` on the lane's workloads (e.g. ASM_TRAFFIC_TAG: v2). */
  label: string;
  services: string[];
  /**
   * The lane this one falls back to where it has no version of a service (`lanes.<name>.fallback`): the
   * baseline unless the spec names another lane; undefined for the baseline itself. See laneChain().
   */
  fallback?: string;
}

export interface GatewaySpec {
  name: string;
  /** The namespace of the `Gateway` resource (where its VirtualService goes). */
  namespace: string;
  /**
   * The namespace of the gateway's pods (`workloadNamespace`, istio-system by default): the gateway's filter
   * goes there, since Istio applies a WasmPlugin outside its root namespace only to that namespace's pods.
   */
  workloadNamespace: string;
  labels: Record<string, string>;
  hosts: string[];
  entry: { service: string; port?: number; prefix: string };
  /** Lane -> weight (sum 100); may be empty when laneFrom is set (clients name their lanes). */
  weights: Record<string, number>;
  /** When set, the gateway's lane-tag assigns lanes by weight, sticky per value of this header. */
  stickyHeader?: string;
  /** Where clients name their lane (the filter's lane_from, trusted at the gateway). */
  laneFrom?: LaneFromSpec;
}

export interface LaneFromSpec {
  header?: string;
  cookie?: string;
  query?: string;
  /** Client value -> lane name; without it the value must be a lane name. */
  values?: Record<string, string>;
}

/** Trace-correlated lanes (the filter's `correlation`): on when present. */
export interface CorrelationSpec {
  headers?: string[];
  capacity?: number;
  ttlMs?: number;
}

/** Zero-code instrumentation (`otel`): an OpenTelemetry Operator Instrumentation that propagates baggage. */
export interface OtelSpec {
  name: string;
  propagators: string[];
  /** OTLP endpoint of a collector; without it the Instrumentation samples nothing and exports no metrics. */
  endpoint?: string;
}

/**
 * Lane observability (`observe`): per-lane counters, the lane in access logs (filter state), and the hop
 * trace (the gateway accepts x-lane-tag-debug: 1, every sidecar adds its entry). All off by default.
 */
export interface ObserveSpec {
  laneMetrics: boolean;
  filterState: boolean;
  hopTrace: boolean;
}

/** Propagators every generated Instrumentation has: baggage carries the lane, tracecontext the trace id. */
export const OTEL_REQUIRED_PROPAGATORS = ["tracecontext", "baggage"];

export interface LanesSpec {
  group: string;
  namespace: string;
  routingHeader: string;
  baggageKey: string;
  labelKey: string;
  workloadLabel: string;
  baseline: string;
  image: string;
  istioImage: string;
  imagePullPolicy: "IfNotPresent" | "Always";
  lanes: Lane[];
  /** Every service of the group, in first-seen order. */
  services: string[];
  gateway?: GatewaySpec;
  correlation?: CorrelationSpec;
  otel?: OtelSpec;
  observe: ObserveSpec;
  /** Strict mode: outbound requests without a lane take the lane of the workload's own `labelKey` label. */
  localLane: boolean;
  /** Service -> the value of `workloadLabel` on its pods, where it is not the service name (e.g. wsk-svc -> wsk). */
  workloads: Record<string, string>;
  /** The digest file to pin the images with (`digests`, resolved against the spec file's folder). */
  digests?: string;
  /** Set when pinned: the WasmPlugin's sha256 (the Istio layout's manifest digest, hex). */
  istioSha256?: string;
}

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

/** The `workloadLabel` value that selects a service's pods. */
export function workloadOf(spec: LanesSpec, service: string): string {
  return spec.workloads[service] ?? service;
}

export class SpecError extends Error {
  constructor(public readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}$/;
export const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
export const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
// host[:port]/path[:tag][@digest]; the host part must look like a registry (has a dot or port, or is localhost).
const IMAGE = /^([a-z0-9.-]+(:[0-9]+)?)\/([a-z0-9]+([._/-][a-z0-9]+)*)(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(@sha256:[a-f0-9]{64})?$/;

export type Path = (string | number)[];

/** The checks parseSpec's parts share: each records a problem at a path, with its line. */
export interface SpecContext {
  fail(path: Path, msg: string): void;
  str(path: Path, value: unknown, required: boolean, def?: string): string;
  check(path: Path, value: string, re: RegExp, what: string): void;
  headerName(path: Path, v: string): void;
}

/** Reads and checks a lanes spec file; throws SpecError listing every problem. */
export function loadSpec(file: string): LanesSpec {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new SpecError([`${file}: cannot read: ${(e as Error).message}`]);
  }
  return parseSpec(text, file);
}

export function parseSpec(text: string, file: string): LanesSpec {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: string[] = [];
  const at = (path: Path) => {
    const node = path.length === 0 ? doc.contents : (doc.getIn(path, true) as any);
    const offset = node?.range?.[0];
    return offset === undefined ? "" : ` (line ${lineCounter.linePos(offset).line})`;
  };
  const where = (path: Path) => (path.length === 0 ? "(top level)" : path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join(""));
  const fail = (path: Path, msg: string) => problems.push(`${file}: ${where(path)}: ${msg}${at(path)}`);

  for (const e of doc.errors) {
    problems.push(`${file}: not valid YAML: ${e.message.split("\n")[0]} (line ${lineCounter.linePos(e.pos[0]).line})`);
  }
  if (problems.length) throw new SpecError(problems);
  const root = doc.toJS() as unknown;
  if (!isObject(root)) throw new SpecError([`${file}: (top level): must be a mapping of the fields group, namespace, lanes, ...`]);

  const known = ["group", "namespace", "routingHeader", "baggageKey", "labelKey", "workloadLabel", "baseline", "image",
    "istioImage", "imagePullPolicy", "lanes", "gateway", "correlation", "localLane", "workloads", "digests", "otel", "observe"];
  for (const k of Object.keys(root)) if (!known.includes(k)) fail([k], `unknown field (known: ${known.join(", ")})`);

  const str = (path: Path, value: unknown, required: boolean, def = ""): string => {
    if (value === undefined || value === null) {
      if (required) fail(path, "is required");
      return def;
    }
    if (value === "") {
      fail(path, "must not be empty");
      return def;
    }
    if (typeof value !== "string") {
      fail(path, `must be a string, got ${describe(value)}`);
      return def;
    }
    return value;
  };
  const check = (path: Path, value: string, re: RegExp, what: string) => {
    if (value !== "" && !re.test(value)) fail(path, `${JSON.stringify(value)} is not ${what}`);
  };

  const headerName = (path: Path, v: string) => {
    if (!TOKEN.test(v)) fail(path, `${JSON.stringify(v)} is not an HTTP header name`);
    else if (v !== v.toLowerCase()) fail(path, `${JSON.stringify(v)} must be lowercase`);
    else if (v === "baggage" || v === routingHeaderOf(root)) fail(path, `${JSON.stringify(v)} is not allowed here (it carries the lane)`);
  };

  const group = str(["group"], root.group, true);
  check(["group"], group, DNS_LABEL, "a DNS-1123 label (lowercase letters, digits and '-', at most 63)");
  const namespace = str(["namespace"], root.namespace, true);
  check(["namespace"], namespace, DNS_LABEL, "a Kubernetes namespace name");
  const routingHeader = str(["routingHeader"], root.routingHeader, false, "x-asm-prefer-tag");
  check(["routingHeader"], routingHeader, TOKEN, "an HTTP header name");
  if (routingHeader !== routingHeader.toLowerCase()) fail(["routingHeader"], `${JSON.stringify(routingHeader)} must be lowercase`);
  if (routingHeader === "baggage") fail(["routingHeader"], `must not be "baggage", the header that carries the lane`);
  const baggageKey = str(["baggageKey"], root.baggageKey, false, routingHeader);
  check(["baggageKey"], baggageKey, TOKEN, "a W3C baggage key (a token)");
  // OpenTelemetry JS percent-encodes these in the keys it sends: the lane would not survive an instrumented app.
  const rewritten = [...baggageKey].find((ch) => "#$%&+^`|".includes(ch));
  if (rewritten !== undefined) {
    const own = root.baggageKey !== undefined && root.baggageKey !== null;
    fail([own ? "baggageKey" : "routingHeader"], `${JSON.stringify(baggageKey)} holds "${rewritten}", which OpenTelemetry rewrites in baggage keys (any of #$%&+^\`|): the lane would not survive an instrumented app${own ? "" : "; it is also the baggage key unless baggageKey is set"}`);
  }
  const labelKey = str(["labelKey"], root.labelKey, false, "ASM_TRAFFIC_TAG");
  check(["labelKey"], labelKey, LABEL_KEY, "a Kubernetes label key");
  const workloadLabel = str(["workloadLabel"], root.workloadLabel, false, "app");
  check(["workloadLabel"], workloadLabel, LABEL_KEY, "a Kubernetes label key");
  const imageRef = (path: Path, v: string) => {
    check(path, v, IMAGE, "an OCI image reference (registry/repository:tag)");
    // Without a registry host (a dot, a port, or localhost) Istio would read the name as a Docker Hub image.
    const host = v.split("/")[0];
    if (v && IMAGE.test(v) && !(host.includes(".") || host.includes(":") || host === "localhost")) {
      fail(path, `${JSON.stringify(v)} names no registry: start it with the registry host, e.g. registry.example.com/${v}`);
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
  if (!["IfNotPresent", "Always"].includes(pull)) fail(["imagePullPolicy"], `${JSON.stringify(pull)} is not one of "IfNotPresent", "Always"`);

  // Mapping keys are names: YAML would turn `2:` into a number and `0x10:` into 16.
  for (const path of [["lanes"], ["gateway", "weights"], ["gateway", "labels"]] as Path[]) {
    const node = doc.getIn(path, true);
    if (!isMap(node)) continue;
    for (const pair of node.items) {
      const k = pair.key as any;
      if (isScalar(k) && typeof k.value !== "string") {
        const line = k.range ? ` (line ${lineCounter.linePos(k.range[0]).line})` : "";
        problems.push(`${file}: ${where(path)}: key ${k.source ?? String(k.value)} must be a string: quote it ("${k.source ?? String(k.value)}")${line}`);
      }
    }
  }

  // Lanes
  const lanes: Lane[] = [];
  const services: string[] = [];
  if (root.lanes === undefined) fail(["lanes"], "is required");
  else if (!isObject(root.lanes) || Object.keys(root.lanes).length === 0) fail(["lanes"], "must be a non-empty mapping of lane name to {label, services, fallback}");
  else {
    const labels = new Map<string, string>();
    for (const [name, raw] of Object.entries(root.lanes)) {
      const p: Path = ["lanes", name];
      if (!DNS_LABEL.test(name)) {
        fail(p, `lane name ${JSON.stringify(name)} must be a DNS-1123 label (it names DestinationRule subsets): lowercase letters, digits and '-'`);
      }
      if (!isObject(raw)) { fail(p, `must be a mapping with label and services, got ${describe(raw)}`); continue; }
      for (const k of Object.keys(raw)) if (!["label", "services", "fallback"].includes(k)) fail([...p, k], "unknown field (known: label, services, fallback)");
      const label = str([...p, "label"], raw.label, true);
      check([...p, "label"], label, LABEL_VALUE, "a Kubernetes label value");
      if (label && labels.has(label)) fail([...p, "label"], `${JSON.stringify(label)} is already the label of lane ${labels.get(label)}`);
      labels.set(label, name);
      const svcs: string[] = [];
      if (!Array.isArray(raw.services) || raw.services.length === 0) fail([...p, "services"], "must be a non-empty list of service names");
      else raw.services.forEach((s: unknown, i: number) => {
        const sp: Path = [...p, "services", i];
        if (typeof s !== "string") return void fail(sp, `must be a string, got ${describe(s)}`);
        if (!DNS_LABEL.test(s)) return void fail(sp, `${JSON.stringify(s)} is not a Kubernetes service name`);
        if (svcs.includes(s)) return void fail(sp, `${JSON.stringify(s)} is listed twice`);
        svcs.push(s);
        if (!services.includes(s)) services.push(s);
      });
      const fallback = raw.fallback === undefined ? undefined : str([...p, "fallback"], raw.fallback, true) || undefined;
      lanes.push({ name, label, services: svcs, ...(fallback ? { fallback } : {}) });
    }
  }
  const baseline = str(["baseline"], root.baseline, true);
  const baseLane = lanes.find((l) => l.name === baseline);
  if (baseline && lanes.length && !baseLane) fail(["baseline"], `${JSON.stringify(baseline)} is not one of the lanes (${lanes.map((l) => l.name).join(", ")})`);
  if (baseLane) {
    const missing = services.filter((s) => !baseLane.services.includes(s));
    if (missing.length) fail(["lanes", baseline, "services"], `the baseline lane must hold every service of the group; missing: ${missing.join(", ")}`);
  }
  if (baseLane) checkFallbacks(fail, lanes, baseline);

  const ctx: SpecContext = { fail, str, check, headerName };
  const gateway = root.gateway === undefined ? undefined : parseGateway(ctx, root.gateway, lanes, services);

  // Trace correlation and strict mode
  let correlation: CorrelationSpec | undefined;
  const c = root.correlation;
  if (c === true) correlation = {};
  else if (c !== undefined && c !== false) {
    if (!isObject(c)) fail(["correlation"], `must be true, false or a mapping {headers, capacity, ttlMs}, got ${describe(c)}`);
    else {
      correlation = {};
      for (const k of Object.keys(c)) if (!["headers", "capacity", "ttlMs"].includes(k)) fail(["correlation", k], "unknown field (known: headers, capacity, ttlMs)");
      if (c.headers !== undefined) {
        if (!Array.isArray(c.headers) || c.headers.length === 0 || c.headers.length > 8) fail(["correlation", "headers"], "must be a list of 1-8 header names");
        else {
          c.headers.forEach((h: unknown, i: number) => {
            if (typeof h !== "string") fail(["correlation", "headers", i], `must be a string, got ${describe(h)}`);
            else headerName(["correlation", "headers", i], h);
          });
          correlation.headers = c.headers;
        }
      }
      const int = (k: "capacity" | "ttlMs", max: number) => {
        const v = c[k];
        if (v === undefined) return;
        if (!(Number.isInteger(v) && v >= 1 && v <= max)) fail(["correlation", k], `must be an integer 1-${max}, got ${JSON.stringify(v)}`);
        else correlation![k] = v;
      };
      int("capacity", 1048576);
      int("ttlMs", 86400000);
    }
  }
  const localLane = root.localLane ?? false;
  if (typeof localLane !== "boolean") fail(["localLane"], `must be true or false, got ${describe(localLane)}`);
  const workloads: Record<string, string> = {};
  if (root.workloads !== undefined) {
    if (!isObject(root.workloads)) fail(["workloads"], `must be a mapping of service name to the ${JSON.stringify(workloadLabel)} label of its pods, got ${describe(root.workloads)}`);
    else for (const [svc, app] of Object.entries(root.workloads)) {
      if (!services.includes(svc)) fail(["workloads", svc], `${JSON.stringify(svc)} is not a service of any lane`);
      else if (typeof app !== "string" || app === "" || !LABEL_VALUE.test(app)) fail(["workloads", svc], `must be a Kubernetes label value, got ${JSON.stringify(app)}`);
      else workloads[svc] = app;
    }
  }

  const digests = str(["digests"], root.digests, false);

  const otel = parseOtel(ctx, root.otel, group);
  const observe = parseObserve(ctx, root.observe);

  if (problems.length) throw new SpecError(problems);
  return {
    group, namespace, routingHeader, baggageKey, labelKey, workloadLabel, baseline, image, istioImage,
    imagePullPolicy: pull as LanesSpec["imagePullPolicy"], lanes, services, gateway,
    ...(correlation ? { correlation } : {}), ...(otel ? { otel } : {}), observe, localLane: localLane === true, workloads,
    ...(digests ? { digests: resolve(dirname(file), digests) } : {}),
  };
}

function routingHeaderOf(root: Record<string, any>): string {
  return typeof root.routingHeader === "string" ? root.routingHeader : "x-asm-prefer-tag";
}

export function isObject(v: unknown): v is Record<string, any> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}

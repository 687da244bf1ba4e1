// From a lanes spec to Kubernetes resources: ASM (ASMFilterDeployment + lane routing with ASM's fallback)
// and Istio (WasmPlugin + lane routing that sends lanes without a version straight to the nearest lane up
// their fallback chain that has one: the baseline, unless the spec stacks lanes).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { workloadOf, laneFor, type LanesSpec } from "./spec.ts";
import { LANE_TAGS, LANE_REQUESTS_METRIC } from "./observe.ts";

const runtimeConfig = JSON.parse(readFileSync(fileURLToPath(new URL("../../runtime-config.json", import.meta.url)), "utf8"));
/** The root id the module serves, as runtime-config.json declares it (a test keeps the two equal). */
export const ROOT_ID: string = runtimeConfig.config.rootIds[0];

export type Resource = Record<string, any> & {
  apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

/** A generated file: its path under the output folder, the resource it holds, and comment lines for it. */
export interface Output { path: string; resource: Resource; notes?: string[] }

export type FilterRole = "outbound" | "inbound" | "gateway";

/** The filter's configuration for one role (what `parameters` and `pluginConfig` carry). */
export function filterConfig(spec: LanesSpec, role: FilterRole): Record<string, unknown> {
  const config: Record<string, unknown> = {
    routing_header: spec.routingHeader,
    baggage_key: spec.baggageKey,
    // Explicit: Istio/ASM set listener_direction 2 on gateways too, so "auto" cannot tell a gateway apart.
    direction: role === "gateway" ? "both" : role,
    lanes: spec.lanes.map((l) => l.name),
  };
  // Outbound requests without a lane stay in the baseline, where every service has a version.
  if (role === "outbound") config.default_lane = spec.baseline;
  // Clients must not pick their own lane: the gateway assigns it.
  if (role === "gateway") config.trust_client_lane = false;
  // Trace correlation: inbound records trace id -> lane, outbound restores it (sidecars only).
  if (spec.correlation && role !== "gateway") {
    const c = spec.correlation;
    config.correlation = { enabled: true, ...(c.headers ? { headers: c.headers } : {}), ...(c.capacity ? { capacity: c.capacity } : {}), ...(c.ttlMs ? { ttl_ms: c.ttlMs } : {}) };
  }
  // Strict mode: the workload's own lane label (Istio/ASM put pod labels in node.metadata.LABELS).
  if (spec.localLane && role === "outbound") {
    config.local_lane = { label: spec.labelKey, label_to_lane: Object.fromEntries(spec.lanes.map((l) => [l.label, l.name])) };
  }
  // Lanes clients name (a header, cookie or query parameter): trusted, since the gateway set them up.
  const lf = spec.gateway?.laneFrom;
  if (role === "gateway" && lf) {
    config.lane_from = { ...(lf.header ? { header: lf.header } : {}), ...(lf.cookie ? { cookie: lf.cookie } : {}), ...(lf.query ? { query: lf.query } : {}), ...(lf.values ? { values: lf.values } : {}), trusted: true };
  }
  // The weighted choice in the filter instead of the route's split, where the filter decides the lane
  // before routing (sticky per user, or after lane_from).
  if (role === "gateway" && filterRoutes(spec) && Object.keys(spec.gateway!.weights).length > 0) {
    config.assign = { weights: Object.fromEntries(spec.lanes.map((l) => [l.name, spec.gateway!.weights[l.name] ?? 0])), ...(spec.gateway!.stickyHeader ? { sticky_header: spec.gateway!.stickyHeader } : {}) };
  }
  // Observability: counters per lane, the lane in access logs, and the hop trace (started only at the
  // gateway, from x-lane-tag-debug: 1; sidecars name their lane by their lane label).
  const o = spec.observe;
  if (o?.laneMetrics) config.lane_metrics = true;
  if (o?.filterState) config.filter_state = true;
  if (o?.hopTrace) {
    config.hop_trace = role === "gateway" ? { accept_debug_header: true }
      : { label: spec.labelKey, label_to_lane: Object.fromEntries(spec.lanes.map((l) => [l.label, l.name])) };
  }
  return config;
}

/** Whether the gateway's lane-tag decides the lane (sticky choice or lane_from), so its route matches the header. */
function filterRoutes(spec: LanesSpec): boolean {
  return Boolean(spec.gateway?.stickyHeader || spec.gateway?.laneFrom);
}

/** Why inbound and outbound filters of a workload must share a vm_id, for the generated files. */
export const CORRELATION_NOTE = [
  "correlation is on: this workload's inbound and outbound lane-tag filters must run with the same vm_id,",
  "because the trace id -> lane entries live in Envoy's shared data, which is kept per vm_id.",
];

const fqdn = (spec: LanesSpec, svc: string) => `${svc}.${spec.namespace}.svc.cluster.local`;

function asmLabels(spec: LanesSpec) {
  return { "asm-system": "true", provider: "asm", "swimlane-group": spec.group };
}

/**
 * Names a service's routing resource: ASM's own scheme in istio-system, or ours beside the service. ASM's
 * carry its labels and ours, so that all of the group's resources are found by ours.
 */
function routingMeta(spec: LanesSpec, svc: string, asm: boolean, kind: "dr" | "vs") {
  return asm
    ? { labels: { ...asmLabels(spec), ...ownLabels(spec) }, name: `trafficlabel-${kind}-${spec.group}-${spec.namespace}-${svc}`, namespace: "istio-system" }
    : { labels: ownLabels(spec), name: `lane-tag-${spec.group}-${svc}`, namespace: spec.namespace };
}

function destinationRule(spec: LanesSpec, svc: string, asm: boolean): Resource {
  return {
    apiVersion: "networking.istio.io/v1beta1",
    kind: "DestinationRule",
    metadata: routingMeta(spec, svc, asm, "dr"),
    spec: {
      host: fqdn(spec, svc),
      subsets: spec.lanes.filter((l) => l.services.includes(svc)).map((l) => ({ name: l.name, labels: { [spec.labelKey]: l.label } })),
    },
  };
}

/** The labels every generated resource carries: `kubectl delete -l` and `apply --prune -l` select by them. */
export function ownLabels(spec: LanesSpec): Record<string, string> {
  return { "app.kubernetes.io/managed-by": "lane-tag", "lane-tag/group": spec.group };
}

function virtualService(spec: LanesSpec, svc: string, asm: boolean): Resource {
  const host = fqdn(spec, svc);
  const http: any[] = spec.lanes.map((l) => {
    const route: any = {
      match: [{ headers: { [spec.routingHeader]: { exact: l.name } } }],
      route: [{ destination: { host, subset: routeSubset(spec, svc, l.name, asm) } }],
    };
    if (asm) route.fallback = { target: { host, subset: spec.baseline } };
    return route;
  });
  if (!asm) http.push({ route: [{ destination: { host, subset: spec.baseline } }] });
  return {
    apiVersion: "networking.istio.io/v1beta1",
    kind: "VirtualService",
    metadata: routingMeta(spec, svc, asm, "vs"),
    spec: { hosts: [host], http },
  };
}

/**
 * The subset a lane's route to `svc` names. Istio has no fallback: the nearest lane up the lane's fallback
 * chain that has a version of the service (the baseline for a plain lane). ASM routes a lane to its own
 * subset and its `fallback` takes a lane without one to the baseline (the form ASM itself generates); a
 * stacked lane without a version goes to the nearest ancestor lane that has one, when that is not the
 * baseline, still with ASM's fallback to the baseline.
 */
export function routeSubset(spec: LanesSpec, svc: string, lane: string, asm: boolean): string {
  const to = laneFor(spec, svc, lane);
  return asm && to === spec.baseline ? lane : to;
}

/** The gateway's weighted lane assignment: each lane's share goes to the entry service with its header set. */
function gatewayVirtualService(spec: LanesSpec): Resource {
  const g = spec.gateway!;
  const host = fqdn(spec, g.entry.service);
  const port = g.entry.port ? { port: { number: g.entry.port } } : {};
  const metadata = { labels: ownLabels(spec), name: `lane-tag-${spec.group}-gateway`, namespace: g.namespace };
  if (filterRoutes(spec)) {
    // lane-tag has set the lane (sticky by weight, or named by the client) before routing: route on it,
    // as a service's routes do; requests without one go to the baseline.
    const lanes = spec.lanes.filter((l) => g.laneFrom || (g.weights[l.name] ?? 0) > 0);
    return {
      apiVersion: "networking.istio.io/v1beta1",
      kind: "VirtualService",
      metadata,
      spec: {
        hosts: g.hosts,
        gateways: [`${g.namespace}/${g.name}`],
        http: [
          ...lanes.map((l) => ({
            match: [{ uri: { prefix: g.entry.prefix }, headers: { [spec.routingHeader]: { exact: l.name } } }],
            route: [{ destination: { host, subset: laneFor(spec, g.entry.service, l.name), ...port } }],
          })),
          { match: [{ uri: { prefix: g.entry.prefix } }], route: [{ destination: { host, subset: spec.baseline, ...port } }] },
        ],
      },
    };
  }
  const route = spec.lanes.filter((l) => (g.weights[l.name] ?? 0) > 0).map((l) => ({
    destination: {
      host,
      subset: laneFor(spec, g.entry.service, l.name),
      ...(g.entry.port ? { port: { number: g.entry.port } } : {}),
    },
    weight: g.weights[l.name],
    headers: { request: { set: { [spec.routingHeader]: l.name } } },
  }));
  return {
    apiVersion: "networking.istio.io/v1beta1",
    kind: "VirtualService",
    metadata: { labels: ownLabels(spec), name: `lane-tag-${spec.group}-gateway`, namespace: g.namespace },
    spec: {
      hosts: g.hosts,
      gateways: [`${g.namespace}/${g.name}`],
      http: [{ match: [{ uri: { prefix: g.entry.prefix } }], route }],
    },
  };
}

/** A filter resource's name: the group in it, so that two lane groups in one namespace never collide. */
const filterName = (spec: LanesSpec, role: FilterRole, svc?: string) => role === "gateway" ? `lane-tag-${spec.group}-gateway` : `lane-tag-${spec.group}-${svc}-${role}`;

/**
 * A filter resource's metadata. The gateway's goes where the gateway's pods run, which need not be the
 * `Gateway` resource's namespace: Istio applies a WasmPlugin outside its root namespace only to that
 * namespace's pods (ASM's EnvoyFilter, generated beside the ASMFilterDeployment, likewise).
 */
function filterMeta(spec: LanesSpec, role: FilterRole, svc?: string) {
  return { name: filterName(spec, role, svc), namespace: role === "gateway" ? spec.gateway!.workloadNamespace : spec.namespace, labels: ownLabels(spec) };
}

function asmFilter(spec: LanesSpec, role: FilterRole, svc?: string): Resource {
  const metadata = filterMeta(spec, role, svc);
  const name = metadata.name;
  return {
    apiVersion: "istio.alibabacloud.com/v1beta1",
    kind: "ASMFilterDeployment",
    metadata,
    spec: {
      workload: { kind: "Deployment", labels: role === "gateway" ? spec.gateway!.labels : { [spec.workloadLabel]: workloadOf(spec, svc!) } },
      filter: {
        patchContext: role === "gateway" ? "GATEWAY" : role === "outbound" ? "SIDECAR_OUTBOUND" : "SIDECAR_INBOUND",
        parameters: JSON.stringify(filterConfig(spec, role)),
        image: spec.image,
        rootID: ROOT_ID,
        id: name,
      },
    },
  };
}

/**
 * A sidecar's lane filter must never take traffic down: fail open. A filter that does not trust the
 * client's lane (the gateway's) fails closed: open, a plugin that fails to load would let clients through
 * with the lane they named themselves (the routing header the routes match, their own baggage).
 */
function failStrategy(config: Record<string, unknown>): "FAIL_OPEN" | "FAIL_CLOSE" {
  return config.trust_client_lane === false ? "FAIL_CLOSE" : "FAIL_OPEN";
}

function wasmPlugin(spec: LanesSpec, role: FilterRole, svc?: string): Resource {
  const config = filterConfig(spec, role);
  const resource: Resource = {
    apiVersion: "extensions.istio.io/v1alpha1",
    kind: "WasmPlugin",
    metadata: filterMeta(spec, role, svc),
    spec: {
      selector: { matchLabels: role === "gateway" ? spec.gateway!.labels : { [spec.workloadLabel]: workloadOf(spec, svc!) } },
      url: `oci://${spec.istioImage}`,
      // Pinned: Istio checks the pulled image's manifest digest against it.
      ...(spec.istioSha256 ? { sha256: spec.istioSha256 } : {}),
      imagePullPolicy: spec.imagePullPolicy,
      pluginName: ROOT_ID,
      pluginConfig: config,
      failStrategy: failStrategy(config),
      type: "HTTP",
    },
  };
  if (role !== "gateway") resource.spec.match = [{ mode: role === "outbound" ? "CLIENT" : "SERVER" }];
  return resource;
}

/**
 * The OpenTelemetry Operator's Instrumentation for zero-code baggage propagation (the seeds' step, generated).
 * Without a collector it follows the seeds' option A: nothing sampled, no metrics exported, only propagation.
 */
function instrumentation(spec: LanesSpec): Resource {
  const o = spec.otel!;
  return {
    apiVersion: "opentelemetry.io/v1alpha1",
    kind: "Instrumentation",
    metadata: { name: o.name, namespace: spec.namespace, labels: ownLabels(spec) },
    spec: o.endpoint
      ? { exporter: { endpoint: o.endpoint }, propagators: o.propagators, sampler: { type: "parentbased_traceidratio", argument: "1" } }
      : { env: [{ name: "OTEL_METRICS_EXPORTER", value: "none" }], propagators: o.propagators, sampler: { type: "always_off", argument: "1" } },
  };
}

/** The languages the operator injects, each by its own pod annotation. */
export const OTEL_LANGUAGES = ["java", "nodejs", "python", "dotnet", "go"] as const;

/** Pod annotations that make the operator inject the generated Instrumentation, as printed by `manifests`. */
export function otelAnnotations(spec: LanesSpec): string[] {
  const o = spec.otel!;
  return [
    `zero-code propagation: annotate each Deployment's pod template (spec.template.metadata.annotations) for its language, in namespace ${spec.namespace}:`,
    ...OTEL_LANGUAGES.map((l) => `  ${`${l}:`.padEnd(8)}instrumentation.opentelemetry.io/inject-${l}: "true"`),
    `  ${"go:".padEnd(8)}instrumentation.opentelemetry.io/otel-go-auto-target-exe: "<path of the app's binary in the container>"   (go needs this one too, and the operator's Go instrumentation enabled)`,
    `  pods with several containers: instrumentation.opentelemetry.io/container-names: "<app container>" (the seeds use "default")`,
    `  "true" takes the namespace's only Instrumentation; where there are others, give its name: "${o.name}"`,
  ];
}

/** What the proxies need for lane_metrics' labels, as printed by `manifests` when it is on. */
export function laneMetricsNotes(spec: LanesSpec): string[] {
  return [
    `lane metrics: Envoy shows lane, lane_direction and lane_source as labels of ${LANE_REQUESTS_METRIC} only with stats tags and stats inclusion for them; on every workload of the group (pod template annotations) and the gateway:`,
    `  sidecar.istio.io/extraStatTags: "${LANE_TAGS.join(",")}"`,
    `  proxy.istio.io/config: '{"proxyStatsMatcher":{"inclusionPrefixes":["wasmcustom.lane"]}}'`,
    `  or mesh-wide: meshConfig.defaultConfig.extraStatTags [${LANE_TAGS.join(", ")}] and meshConfig.defaultConfig.proxyStatsMatcher.inclusionPrefixes [wasmcustom.lane]`,
  ];
}

/**
 * ASMFilterDeployment has no fail strategy field: the EnvoyFilter ASM generates from it decides. Envoy's
 * own default (no fail_open, no failure_policy) fails closed, as the gateway's filter must; the note says
 * how to check.
 */
function asmGatewayNote(spec: LanesSpec): string[] {
  const name = filterName(spec, "gateway");
  return [
    "This filter must fail closed: if it fails to load, the gateway would route on the lane the client named itself.",
    "ASMFilterDeployment has no fail strategy field; check the EnvoyFilter ASM generates from it:",
    `kubectl get envoyfilter ${name} -n ${spec.gateway!.workloadNamespace} -o yaml   (fail_open absent or false, failure_policy absent or FAIL_CLOSED)`,
  ];
}

/** Every resource for the spec, with the file each goes to. */
export function generate(spec: LanesSpec): Output[] {
  const out: Output[] = [];
  for (const [dir, asm] of [["asm", true], ["istio", false]] as const) {
    for (const svc of spec.services) {
      for (const role of ["outbound", "inbound"] as const) {
        out.push({
          path: `${dir}/filter-${svc}-${role}.yaml`,
          resource: asm ? asmFilter(spec, role, svc) : wasmPlugin(spec, role, svc),
          ...(spec.correlation ? { notes: [...CORRELATION_NOTE, asm
            ? "ASMFilterDeployment has no vm_id field: check that ASM gives both filters one vm_id (metrics: trace_recorded grows inbound, lane_from_trace outbound)."
            : "Istio gives every WasmPlugin an empty vm_id, so both plugins share it."] } : {}),
        });
      }
    }
    if (spec.gateway) out.push({ path: `${dir}/filter-gateway.yaml`, resource: asm ? asmFilter(spec, "gateway") : wasmPlugin(spec, "gateway"), ...(asm ? { notes: asmGatewayNote(spec) } : {}) });
    for (const svc of spec.services) {
      out.push({ path: `${dir}/destinationrule-${svc}.yaml`, resource: destinationRule(spec, svc, asm) });
      out.push({ path: `${dir}/virtualservice-${svc}.yaml`, resource: virtualService(spec, svc, asm) });
    }
    if (spec.gateway) out.push({ path: `${dir}/virtualservice-gateway.yaml`, resource: gatewayVirtualService(spec) });
    if (spec.otel) out.push({ path: `${dir}/instrumentation.yaml`, resource: instrumentation(spec) });
  }
  return out;
}

// The Docker-less mesh of `npm run demo -- --mesh ambient`: Istio's ambient mode, with no sidecars. The apps
// are the mock apps by default; their calls go through a ztunnel (L4: it changes nothing in the request) to the
// waypoint of the Service called, one per namespace (or per service, ambient.scope: service). With
// `apps` (--apps otel) they are the SDK-instrumented app processes instead, dialling ztunnel as HTTP_PROXY. A waypoint is
// one proxy that runs the built filter once, then routes by the HTTPRoutes attached to the Service and
// delivers to the pod. Everything is read from the ambient/ folder as `npm run manifests` writes it: the
// waypoint Gateways, the filter configurations of their WasmPlugins (targetRefs), the per-version Services
// and their waypoint labels, the HTTPRoutes; the ingress Gateway, its HTTPRoute and its WasmPlugin.
import http from "node:http";
import { existsSync, readFileSync } from "node:fs";
import type { Plugin } from "../emulator/index.ts";
import type { LanesSpec } from "../lib/spec.ts";
import { routingPlan, servicePlan } from "../lib/plan.ts";
import { waypointOf } from "../render/ambient.ts";
import { chain, workloads, deployments, upstreamOf, gatewayWeights, weightedValue, SERVICE_PORT, RANDOM_HEADER, LANE_HEADER } from "./core/topology.ts";
import { ambientResources, gatewayHost, withWeights } from "./applied.ts";
import { resolveHttp, serviceIndex, servicePods, serviceKey, type ServiceRef, type Resolver } from "./core/router-http.ts";
import { pairs, outgoing, forward, listen, filterStream, meshSpec, gatewayTracer, mockApps, PROPAGATE, WASM, type Mesh, type MeshOptions, type AppSpec, type Mode } from "./mesh.ts";
import { prng } from "./core/client.ts";
import { ambientRefusal } from "./ambient-options.ts";
import { loadFilter, wasmPluginFor } from "./ambient-topology.ts";

const USE_WAYPOINT = "istio.io/use-waypoint";
const INGRESS_USE_WAYPOINT = "istio.io/ingress-use-waypoint";


/** The waypoint Gateways (class istio-waypoint) of the group's namespace, by name. */
function waypointNames(resources: any[], namespace: string): string[] {
  return resources.filter((r) => r?.kind === "Gateway" && r.spec?.gatewayClassName === "istio-waypoint" && (r.metadata?.namespace ?? "default") === namespace).map((r) => r.metadata.name);
}

/**
 * The apps' own Services (a user has them; the folder does not): each selects every version of its
 * service, and uses the waypoint the enrolment steps give it (the namespace's, or its own).
 */
function appServices(spec: LanesSpec): ServiceRef[] {
  const plan = routingPlan(spec);
  return chain(spec).map((s) => ({ name: s, namespace: spec.namespace, selector: { app: servicePlan(plan, s).workload }, labels: { [USE_WAYPOINT]: waypointOf(plan, s) } }));
}

/** The waypoint a Service's traffic goes through: its label, else the namespace's (scope namespace), else none. */
function waypointFor(spec: LanesSpec, s: ServiceRef): string | undefined {
  return s.labels[USE_WAYPOINT] ?? (spec.ambient?.scope === "namespace" ? spec.ambient.waypoint : undefined);
}

function answer(res: http.ServerResponse, status: number, reason: string) {
  res.writeHead(status);
  res.end(reason);
}

type Respond = (h: any) => any;

/**
 * What the mesh's parts share, built once by `ambientContext`: the resolved resources and options, the
 * listeners to close, and the ports apps and waypoints end up on (filled as each part starts).
 */
interface Ambient {
  spec: LanesSpec;
  opts: MeshOptions;
  withFilter: boolean;
  seed: number;
  mode: Mode;
  drop?: string;
  resources: any[];
  services: Map<string, ServiceRef>;
  resolve: Resolver;
  pick: ReturnType<typeof servicePods>;
  wasm: Uint8Array;
  serve: (s: http.Server) => Promise<number>;
  closeServers: () => Promise<unknown>;
  appPort: Map<string, number>;
  /** Per waypoint and Service it serves, the listener that stands for the Service's address there. */
  waypointPort: Map<string, number>;
}

const vip = (waypoint: string, s: ServiceRef) => `${waypoint}|${serviceKey(s)}`;

/** Checks the options and the spec, and reads what the mesh routes by: nothing listens yet. */
function ambientContext(base: LanesSpec, opts: MeshOptions): Ambient {
  const { withFilter = true, weights, seed = 7, mode = "baggage", drop } = opts;
  const refusal = ambientRefusal(mode);
  if (refusal) throw new Error(refusal);
  const spec = meshSpec(base, mode, opts);
  if (!spec.ambient) throw new Error("the spec's targets leave ambient out: the ambient mesh needs its ambient/ output");
  if (!spec.gateway) throw new Error("the ambient mesh needs the spec's gateway: its ingress Gateway and HTTPRoute are the way in");
  if (drop && !chain(spec).includes(drop)) throw new Error(`--drop ${drop}: not a service of the chain (${chain(spec).join(", ")})`);
  const choices = gatewayWeights(spec, weights).filter((w) => w.weight > 0);
  const resources = ambientResources(withWeights(spec, choices), opts.manifests);
  const services = serviceIndex(resources, appServices(spec));
  const resolve = resolveHttp(resources, spec, services);
  const pick = servicePods(spec, workloads(spec), (s) => servicePlan(routingPlan(spec), s).workload);
  if (!existsSync(WASM)) throw new Error(`${WASM} is missing: run npm run build`);
  const wasm = readFileSync(WASM);
  const servers: http.Server[] = [];
  const serve = async (s: http.Server) => { servers.push(s); return listen(s); };
  const closeServers = () => Promise.all(servers.map((s) => new Promise((ok) => { s.closeAllConnections(); s.close(() => ok(null)); })));
  return { spec, opts, withFilter, seed, mode, drop, resources, services, resolve, pick, wasm, serve, closeServers, appPort: new Map(), waypointPort: new Map() };
}

/** Delivers to a pod the Service selects (ztunnel to the pod: L4, nothing changed). */
function toPod(m: Ambient, res: http.ServerResponse, s: ServiceRef, path: string, authority: string, headers: Record<string, string[]>, extra: Record<string, string> = {}, respond?: Respond) {
  const w = m.pick(s);
  if ("status" in w) return answer(res, w.status, w.reason);
  const port = m.appPort.get(w.name);
  if (port === undefined) return answer(res, 503, `no app runs for ${w.name}`);
  forward(res, port, path, authority, headers, extra, respond);
}

/** Sends to a Service as ztunnel does: through its waypoint when it has one, else straight to a pod. */
function toService(m: Ambient, res: http.ServerResponse, s: ServiceRef, path: string, authority: string, headers: Record<string, string[]>, extra: Record<string, string> = {}, viaWaypoint = true, respond?: Respond) {
  const wp = viaWaypoint ? waypointFor(m.spec, s) : undefined;
  const port = wp ? m.waypointPort.get(vip(wp, s)) : undefined;
  if (wp && port === undefined) return answer(res, 503, `Service ${serviceKey(s)} uses waypoint ${wp}, which is not among the resources`);
  if (port !== undefined) return forward(res, port, path, authority, headers, extra, respond);
  toPod(m, res, s, path, authority, headers, extra, respond);
}

/** The waypoints: one VM each (the filter of the WasmPlugin that targets it), one listener per Service. */
async function startWaypoints(m: Ambient): Promise<void> {
  const { spec, resources } = m;
  for (const wp of waypointNames(resources, spec.namespace)) {
    const plugin = m.withFilter ? await loadFilter(m.wasm, wp, wasmPluginFor(resources, spec.namespace, wp)) : null;
    for (const s of m.services.values()) {
      if (waypointFor(spec, s) !== wp) continue;
      m.waypointPort.set(vip(wp, s), await m.serve(waypointListener(m, plugin, s)));
    }
  }
}

/** A waypoint's listener for Service `s`: the filter, then the Service's HTTPRoutes, then a pod. */
function waypointListener(m: Ambient, plugin: Plugin | null, s: ServiceRef): http.Server {
  return http.createServer((req, res) => {
    req.resume();
    // The role's direction is explicit ("both"): the listener direction the host reports does not matter.
    const f = filterStream(plugin, pairs(req, req.headers.host ?? s.name, req.url ?? "/"), 1);
    res.on("close", f.close);
    if (!f.headers) return answer(res, 503, "lane-tag failed (fail closed)");
    const o = outgoing(f.headers);
    const r = m.resolve({ host: s.name, port: SERVICE_PORT, path: o.path, method: req.method }, o.headers);
    if (!("service" in r)) return answer(res, r.status, r.reason);
    toPod(m, res, r.service, o.path, o.authority, r.headers, {}, f.respond);
  });
}

/** ztunnel: the apps' calls by the Service's name, unchanged, to its waypoint. Returns its port. */
function startZtunnel(m: Ambient): Promise<number> {
  const { spec } = m;
  return m.serve(http.createServer((req, res) => {
    req.resume();
    const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
    const s = m.services.get(`${spec.namespace}/${url.hostname}`);
    if (!s) return answer(res, 502, `no Service ${url.hostname} in ${spec.namespace}`);
    const o = outgoing(pairs(req, url.host, url.pathname + url.search));
    toService(m, res, s, o.path, o.authority, o.headers);
  }));
}

/**
 * The apps (opts.apps, else the mock apps), each calling its upstream through ztunnel; a failed start closes
 * what already listens.
 */
async function startApps(m: Ambient, ztunnel: number) {
  const { spec, drop } = m;
  // A kind may skip a workload no lane routes to (otel: a process each); the mock apps start every one.
  const routed = new Set(deployments(spec).map((w) => w.name));
  const apps: AppSpec[] = workloads(spec).map((w) => {
    const up = upstreamOf(spec, w.service);
    const propagate = drop === w.service ? "traceparent" : drop ? "baggage,traceparent" : PROPAGATE[m.mode];
    return { workload: w.name, service: w.service, version: w.version, upstreamUrl: up ? `http://${up}:${SERVICE_PORT}/` : undefined, proxy: `http://127.0.0.1:${ztunnel}`, propagate, routed: routed.has(w.name) };
  });
  const running = await (m.opts.apps ?? mockApps(m.serve))(apps).catch(async (e) => { await m.closeServers(); throw e; });
  for (const [w, port] of running.ports) m.appPort.set(w, port);
  return running;
}

/** The ingress Gateway: its filter, then its HTTPRoute's weighted pick, then the Service. Returns its port. */
async function startIngress(m: Ambient): Promise<number> {
  const { spec, mode } = m;
  const g = spec.gateway!;
  const plugin = m.withFilter ? await loadFilter(m.wasm, g.name, wasmPluginFor(m.resources, g.namespace, g.name)) : null;
  const rand = prng(m.seed);
  const startTrace = gatewayTracer(m.opts);
  return m.serve(http.createServer((req, res) => {
    req.resume();
    const incoming = pairs(req, req.headers.host ?? "gateway", req.url ?? "/");
    // A gateway with a tracer starts the trace (correlation needs a trace id on the first hop).
    incoming.push(...startTrace(req));
    const f = filterStream(plugin, incoming, 2);
    res.on("close", f.close);
    if (!f.headers) return answer(res, 503, "lane-tag failed (fail closed)");
    const o = outgoing(f.headers);
    const raw = o.headers[RANDOM_HEADER]?.[0];
    delete o.headers[RANDOM_HEADER]; // a test hook, not passed on
    const draw = mode === "sticky" ? undefined : weightedValue(raw, rand);
    const r = m.resolve({ host: gatewayHost(spec), port: 80, path: o.path, method: req.method, atGateway: true, draw }, o.headers);
    if (!("service" in r)) return answer(res, r.status, r.reason);
    const lane = r.headers[spec.routingHeader]?.[0] ?? spec.baseline;
    // Through the Service's waypoint only where the Service asks for it (istio.io/ingress-use-waypoint).
    toService(m, res, r.service, o.path, o.authority, r.headers, { [LANE_HEADER]: lane }, r.service.labels[INGRESS_USE_WAYPOINT] === "true", f.respond);
  }));
}

/** Starts the ambient topology on 127.0.0.1; `withFilter: false` runs the same mesh without lane-tag. */
export async function startAmbientMesh(base: LanesSpec, opts: MeshOptions = {}): Promise<Mesh> {
  const m = ambientContext(base, opts);
  // Waypoints first, so ztunnel knows their ports; the apps last but one, as they need ztunnel's.
  await startWaypoints(m);
  const ztunnel = await startZtunnel(m);
  const running = await startApps(m, ztunnel);
  const ingressPort = await startIngress(m);
  return {
    gatewayUrl: `http://127.0.0.1:${ingressPort}/mock`,
    close: async () => {
      await Promise.all([running.close(), m.closeServers()]);
    },
  };
}

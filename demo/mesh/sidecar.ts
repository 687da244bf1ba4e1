// The sidecar shape: every workload's app behind its own proxy, an inbound listener (to the app) and an
// outbound one (the app's calls, by the Service's name and the lane) with lane-tag on both in one VM, and an
// ingress gateway; every hop routed by the VirtualServices and DestinationRules a user applies (router.ts).
import type { Header, Host } from "../../emulator/index.ts";
import { servicePlan } from "../../deploy/lib/plan.ts";
import { chain, deployments } from "../core/topology.ts";
import { istioRouter, headerMap, headerPairs, type Routed } from "../core/router.ts";
import { plugins, adminServer } from "../core/proxy.ts";
import { listen as listenHttp, closeAll } from "../core/http.ts";
import type { AppSpec, ProxyShape, Route } from "../core/transport.ts";
import { appSpec, first, gatewayHops, laneHeader, meshHop } from "./hops.ts";

type Vm = Awaited<ReturnType<typeof plugins>>;

export const sidecars: ProxyShape = async (setup, transport, listen) => {
  const { spec, plan, wasm } = setup;
  const appOf = (s: string) => servicePlan(plan, s).workload;
  const pods = transport.pods(spec);
  const router = istioRouter(setup.resources, spec, pods, appOf);
  const services = chain(spec);
  const inboundPort = new Map<string, number>();
  const toWorkload = (r: Routed, headers: Header[], authority?: (service: string) => string): Route => {
    if ("status" in r) return { status: r.status, message: r.reason };
    const to = authority?.(r.workload.service);
    return { port: inboundPort.get(r.workload.name)!, headers: headerPairs(headers, r.headers, to), ...(to ? { authority: to } : {}) };
  };
  const admin = adminEndpoints(setup.admin);

  // Outbound: by the Service's name (:authority) and the lane to the inbound listener of the chosen workload.
  const outbound = (headers: Header[]): Route => {
    const authority = first(headers, ":authority") ?? "";
    const [service, port] = authority.split(":");
    if (!services.includes(service)) return { status: 404, message: `no route to ${authority}` };
    return toWorkload(router(meshHop(headers, service, Number(port ?? transport.servicePort)), headerMap(headers)), headers);
  };
  // Every workload's VM and outbound listener first, then all apps at once, then the inbound listeners:
  // every workload has its ports before any traffic.
  const vms = new Map<string, Vm | null>();
  const apps: AppSpec[] = [];
  const routed = new Set(deployments(spec).map((w) => w.name));
  for (const w of pods) {
    const labels = { app: appOf(w.service), [spec.labelKey]: w.version };
    const vm = wasm ? await plugins(wasm, plan, ["inbound", "outbound"], labels, w.name) : null;
    if (vm) await admin.add(vm.host, w.name, labels);
    vms.set(w.name, vm);
    apps.push(appSpec(setup, transport, w, await listen({ name: `${w.name} outbound`, plugin: vm?.outbound ?? null, direction: 2, route: outbound }), routed));
  }
  const running = await transport.startApps(apps);
  for (const w of pods) {
    const port = running.ports.get(w.name);
    const route = (): Route => port === undefined ? { status: 503, message: `no app runs for ${w.name}: no lane routes to it` } : { port };
    inboundPort.set(w.name, await listen({ name: `${w.name} inbound`, plugin: vms.get(w.name)?.inbound ?? null, direction: 1, route }));
  }

  // The gateway: lane-tag in the gateway role, then the route's lane (its weighted pick, unless lane-tag chose).
  const gw = wasm ? await plugins(wasm, plan, ["gateway"], undefined, "ingressgateway") : null;
  if (gw) await admin.add(gw.host, "ingressgateway", {});
  const hops = gatewayHops(setup);
  const entry = await listen({ name: "gateway", plugin: gw?.gateway ?? null, direction: 2, trace: setup.trace, route: (headers) => {
    const { hop, rest } = hops(headers);
    const r = router(hop, headerMap(rest));
    const to = toWorkload(r, rest, (service) => `${service}:${transport.servicePort}`);
    return "status" in to || "status" in r ? to : { ...to, responseHeaders: laneHeader(spec, r.headers) };
  } });

  const hosts = [...vms].filter((e): e is [string, Vm] => e[1] !== null);
  return {
    entry, apps: { ...running, close: async () => { await Promise.all([running.close(), admin.close()]); } },
    ...(setup.admin ? { admins: admin.list } : {}),
    traceEvicted: () => new Map(hosts.map(([workload, vm]) => [workload, vm.host.counter("lane_tag.inbound.trace_evicted") + vm.host.counter("lane_tag.both.trace_evicted")])),
  };
};

/** The proxies' admin-like endpoints (none unless `on`), for `lanes status`. */
function adminEndpoints(on: boolean) {
  const list: { workload: string; url: string }[] = [];
  const servers: Parameters<typeof closeAll>[0] = [];
  return {
    list,
    add: async (host: Host, workload: string, labels: Record<string, string>) => {
      if (!on) return;
      const s = adminServer(host, workload, labels);
      servers.push(s);
      list.push({ workload, url: `http://127.0.0.1:${await listenHttp(s)}` });
    },
    close: () => closeAll(servers),
  };
}

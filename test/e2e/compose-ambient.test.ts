// The ambient docker-compose variant (demo/ambient/): committed as generated; the waypoint's Envoy routes
// agree with the generated HTTPRoutes (deploy/generated/ambient/, read with Gateway API's precedence) for every
// service x lane; the gateway splits as the entry route does, through the waypoint; the apps call through the
// waypoint; and the chain, hop by hop through the built module in the waypoint role, is the plan's. The apps
// are otel/app.cjs under the OpenTelemetry SDK, run here without Docker (compose-run.ts) with their exact
// command and environment behind the Docker-less ambient mesh. (Envoy and Compose validation:
// compose-variants.test.ts.)
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join, resolve as resolvePath } from "node:path";
import { parse } from "yaml";
import { loadSpec } from "../../deploy/lib/spec.ts";
import { filterConfig, type FilterRole } from "../../deploy/render/generate.ts";
import { loadResources } from "../../demo/routes/load.ts";
import { routeHttp } from "../../demo/routes/gateway-api.ts";
import { observed } from "../../demo/core/builders.ts";
import { chain, deployments, expectedChain, chainWithoutFilter, resolve, upstreamOf } from "../../demo/core/topology.ts";
import { ambientFiles, AMBIENT_DIR, WAYPOINT_PORT } from "../../demo/ambient/generate.ts";
import { startMesh } from "../../demo/mesh.ts";
import type { AppRunner, Mesh } from "../../demo/mesh.ts";
import { sendRequests } from "../../demo/core/client.ts";
import { liveApps, DEFAULT_PROPAGATORS } from "../../demo/otel/apps.ts";
import { checkOutcome, laneOutcome } from "../../demo/otel/expectations.ts";
import { variants } from "../../demo/e2e-envoy.ts";
import { composeVariant, chains, withComposeMesh, type AppLayout } from "./compose-run.ts";
import type { Plugin } from "../../emulator/index.ts";
import { filter, send, UNSET, ROOT } from "../support/helpers.ts";

const example = loadSpec(join(ROOT, "deploy/lanes.example.yaml"));
const GENERATED = join(ROOT, "deploy/generated/ambient");
const resources = loadResources(GENERATED);
const load = (file: string): any => parse(readFileSync(join(AMBIENT_DIR, file), "utf8"));
const hcmOf = (config: any) => config.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
const LANES = [...example.lanes.map((l) => l.name), "s9", undefined];

/** The app a cluster of `config` sends to: its one endpoint, host:port. */
function endpointOf(config: any, cluster: string): string {
  const c = config.static_resources.clusters.find((x: any) => x.name === cluster);
  assert.ok(c, `no cluster ${cluster}`);
  const eps = c.load_assignment.endpoints.flatMap((e: any) => e.lb_endpoints.map((l: any) => l.endpoint.address.socket_address));
  assert.equal(eps.length, 1, cluster);
  return `${eps[0].address}:${eps[0].port_value}`;
}

/** Envoy's choice: the virtual host for `authority`, its first route whose header matchers all hold. */
function envoyRoute(config: any, authority: string, headers: Record<string, string>): any {
  const vhost = hcmOf(config).route_config.virtual_hosts.find((v: any) => v.domains.includes(authority) || v.domains.includes("*"));
  assert.ok(vhost, `no virtual host for ${authority}`);
  const route = vhost.routes.find((r: any) => (r.match.headers ?? []).every((h: any) => headers[h.name] === h.string_match.exact));
  assert.ok(route, `no route in ${vhost.name} for ${JSON.stringify(headers)}`);
  return route;
}

/** The app (compose service) the generated HTTPRoutes send a request for `svc` to: backend Service -> its selector. */
function httpRouteApp(svc: string, headers: Record<string, string>): string {
  const r = routeHttp(resources, { kind: "Service", name: svc, namespace: "default", port: 8000, portName: "http" }, { path: "/", headers });
  assert.equal(r.kind, "backend", `${svc} ${JSON.stringify(headers)}: ${JSON.stringify(r)}`);
  const backend = (r as any).backend.name;
  const service = resources.find((x) => x.kind === "Service" && x.metadata.name === backend);
  assert.ok(service, `no Service ${backend} in deploy/generated/ambient`);
  return `${service.spec.selector.app}-${service.spec.selector[example.labelKey]}`;
}

describe("the ambient docker-compose variant", () => {
  it("the committed files are what npm run local-configs generates: a compose file, the gateway and the waypoint", () => {
    const files = ambientFiles(example);
    for (const [name, text] of Object.entries(files)) assert.equal(readFileSync(join(AMBIENT_DIR, name), "utf8"), text, `ambient/${name}: run npm run local-configs`);
    for (const d of ["envoy", "envoy-nofilter"]) assert.deepEqual(readdirSync(join(AMBIENT_DIR, d)).sort(), ["gateway.yaml", "waypoint.yaml"]);
    assert.equal(Object.keys(files).length, 5);
  });

  it("the waypoint routes every service x lane (and no lane, and an unknown one) where the generated HTTPRoutes do, and the plan does", () => {
    const wp = load("envoy/waypoint.yaml");
    let checked = 0;
    for (const svc of chain(example)) {
      for (const lane of LANES) {
        const headers: Record<string, string> = lane ? { [example.routingHeader]: lane } : {};
        const fromRoutes = httpRouteApp(svc, headers);
        const fromEnvoy = endpointOf(wp, envoyRoute(wp, `${svc}:8000`, headers).route.cluster);
        assert.equal(fromEnvoy, `${fromRoutes}:8000`, `${svc}, lane ${lane}`);
        assert.equal(fromRoutes, resolve(example, svc, lane).name, `${svc}, lane ${lane}: the plan`);
        checked++;
      }
    }
    assert.equal(checked, 3 * 5);
  });

  it("the gateway: the entry route's split and header per lane, to the per-version Service through the waypoint", () => {
    const gw = load("envoy/gateway.yaml");
    const wp = load("envoy/waypoint.yaml");
    const entry = resources.find((r) => r.kind === "HTTPRoute" && r.metadata.name === "lane-tag-test-gateway");
    const refs = entry.spec.rules[0].backendRefs;
    const split = envoyRoute(gw, "anything", {}).route.weighted_clusters;
    assert.equal(split.header_name, "x-lane-random");
    assert.deepEqual(split.clusters.map((c: any) => [c.name, c.weight]), refs.map((b: any) => [b.name, b.weight]));
    for (const c of split.clusters) {
      const lane = c.request_headers_to_add[0].header.value;
      assert.deepEqual(c.response_headers_to_add.map((h: any) => [h.header.key, h.header.value]), [["x-lane", lane]]);
      assert.equal(endpointOf(gw, c.name), `waypoint:${WAYPOINT_PORT}`);
      // At the waypoint, Host = the per-version Service: no route is attached there, it goes to that version.
      const app = endpointOf(wp, envoyRoute(wp, c.host_rewrite_literal, { [example.routingHeader]: lane }).route.cluster);
      assert.equal(app, `${resolve(example, "mocka", lane).name}:8000`, `lane ${lane}`);
    }
    assert.deepEqual(split.clusters.map((c: any) => c.request_headers_to_add[0].header.value), ["s1", "s2", "s3"]);
  });

  it("lane-tag: the waypoint role on the waypoint, the gateway role on the gateway, as the manifests configure them", () => {
    for (const [file, role] of [["waypoint.yaml", "waypoint"], ["gateway.yaml", "gateway"]] as const) {
      const filters = hcmOf(load(`envoy/${file}`)).http_filters;
      assert.deepEqual(filters.map((f: any) => f.name), ["lane-tag", "envoy.filters.http.router"], file);
      assert.deepEqual(JSON.parse(filters[0].typed_config.config.configuration.value), filterConfig(observed(example), role as FilterRole), file);
    }
    const plugin = resources.find((r) => r.kind === "WasmPlugin" && r.metadata.name === "lane-tag-test-waypoint").spec.pluginConfig;
    assert.deepEqual(plugin, filterConfig(example, "waypoint"));
  });

  it("compose: no sidecars; each app calls its upstream through the waypoint with Host = the service; the module mounted", () => {
    const compose = load("docker-compose.yml");
    const wp = load("envoy/waypoint.yaml");
    const apps = deployments(example).map((w) => w.name);
    assert.deepEqual(Object.keys(compose.services).sort(), ["gateway", "waypoint", ...apps].sort());
    assert.deepEqual(compose.services.gateway.ports, ["127.0.0.1:8084:8080"]);
    for (const p of ["gateway", "waypoint"]) {
      assert.equal(resolvePath(AMBIENT_DIR, compose.services[p].volumes[1].split(":/")[0]), join(ROOT, "build/lane-tag.wasm"));
    }
    const listen = wp.static_resources.listeners[0].address.socket_address.port_value;
    for (const w of deployments(example)) {
      const s = compose.services[w.name];
      assert.equal(s.network_mode, undefined, `${w.name} has its own network namespace`);
      assert.deepEqual([s.environment.app, s.environment.version, s.environment.PORT], [w.service, w.version, "8000"]);
      // What the waypoint dials: this service's name, at the port its cluster names.
      assert.ok(wp.static_resources.clusters.some((c: any) => endpointOf(wp, c.name) === `${w.name}:${s.environment.PORT}`), w.name);
      const up = upstreamOf(example, w.service);
      assert.equal(s.environment.HTTP_PROXY, up ? `http://waypoint:${listen}` : undefined, w.name);
      if (up) assert.ok(hcmOf(wp).route_config.virtual_hosts.find((v: any) => v.name === up).domains.includes(new URL(s.environment.upstream_url).host));
    }
  });
});

describe("the ambient variant's chain, hop by hop: its Envoy routes and the built module in the waypoint role", () => {
  let waypoint: Plugin;
  before(async () => {
    const config = JSON.parse(hcmOf(load("envoy/waypoint.yaml")).http_filters[0].typed_config.config.configuration.value);
    ({ plugin: waypoint } = await filter(config));
  });

  /** The versions a request in `lane` reaches: gateway split, then waypoint -> app, app -> waypoint, ... */
  function walk(lane: string, withFilter: boolean): string[] {
    const gw = load("envoy/gateway.yaml");
    const wp = load("envoy/waypoint.yaml");
    const split = envoyRoute(gw, "*", {}).route.weighted_clusters.clusters.find((c: any) => c.request_headers_to_add[0].header.value === lane);
    let headers: [string, string][] = [[":authority", split.host_rewrite_literal], [":path", "/"], [":method", "GET"], [example.routingHeader, lane]];
    const versions: string[] = [];
    for (let hop = 0; hop < chain(example).length; hop++) {
      const r = withFilter ? send(waypoint, headers, UNSET) : { headers, baggage: headers.filter(([k]) => k === "baggage").map(([, v]) => v) };
      const h = Object.fromEntries(r.headers);
      const app = endpointOf(wp, envoyRoute(wp, h[":authority"], h).route.cluster).split(":")[0];
      versions.push(app.slice(app.lastIndexOf("-") + 1));
      const up = upstreamOf(example, app.slice(0, app.lastIndexOf("-")));
      if (!up) break;
      // The app's SDK passes on the baggage it got (the carrier walked here), calling its upstream by name through the waypoint.
      headers = [[":authority", `${up}:8000`], [":path", "/"], [":method", "GET"], ...r.baggage.map((b): [string, string] => ["baggage", b])];
    }
    return versions;
  }

  for (const lane of example.lanes.map((l) => l.name)) {
    it(`lane ${lane}: kept with lane-tag on the waypoint, lost after the first hop without it`, () => {
      assert.deepEqual(walk(lane, true), expectedChain(example, lane));
      assert.deepEqual(walk(lane, false), chainWithoutFilter(example, lane));
    });
  }
});

/** The ambient variant's apps: `<service>-<version>` on its own network, dialled by the waypoint; calls through it. */
const AMBIENT_APPS: AppLayout = { service: (w) => w, isApp: (n) => !["gateway", "waypoint"].includes(n), proxy: `http://waypoint:${WAYPOINT_PORT}`, port: 8000, host: "0.0.0.0" };
const { appServices, composeApps, composePropagators, assertInstrumented } = composeVariant(AMBIENT_DIR, AMBIENT_APPS);
const T = { timeout: 120_000 };
const withMesh = <R>(withFilter: boolean, apps: AppRunner, body: (m: Mesh) => Promise<R>) => withComposeMesh(example, { withFilter, apps }, body, (s, o) => startMesh(s, { ...o, mesh: "ambient" }));
/** e2e:envoy's ambient variant's own checks (lane shares and chains) against the mesh. */
const e2eAmbient = (mesh: Mesh, requests: number, readyMs = 20_000) =>
  variants({ http: "", websocket: "", grpc: "", stacked: "", ambient: mesh.gatewayUrl }, { requests, readyMs, settleMs: 0, print: () => {} }).ambient;

describe("the ambient compose variant's apps: app.cjs under the OpenTelemetry SDK, as the Operator injects it", () => {
  it("each version runs app.cjs with NODE_OPTIONS=--require the preload, otel/ and node_modules mounted read-only, on HOST 0.0.0.0", () => {
    const apps = appServices();
    assert.deepEqual(apps.map(([name]) => name), deployments(example).map((w) => w.name));
    assert.deepEqual(composePropagators(), example.otel?.propagators ?? DEFAULT_PROPAGATORS);
    for (const [name, s] of apps) {
      const w = deployments(example).find((x) => x.name === name)!;
      assertInstrumented(name, s);
      assert.deepEqual([s.environment.OTEL_SERVICE_NAME, s.environment.OTEL_RESOURCE_ATTRIBUTES], [w.service, `service.version=${w.version}`]);
      assert.equal(s.environment.HOST, "0.0.0.0", `${name}: the waypoint dials it from its own container`);
    }
    assert.equal(laneOutcome(composePropagators()), "kept");
    // e2e:envoy checks the mounted SDK and the propagators before Docker runs them.
    assert.deepEqual(variants().ambient.precheck?.(), []);
  });

  it("behind the Docker-less ambient mesh with lane-tag: every lane keeps its chain; e2e:envoy's ambient check passes", T, async () => {
    await withMesh(true, composeApps(), async (mesh) => {
      const results = await sendRequests(mesh.gatewayUrl, 60, { seed: 1, concurrency: 8 });
      assert.deepEqual(checkOutcome(example, results, "kept"), []);
      assert.deepEqual(chains(results, "s2"), ["mocka v2 → mockb v1 → mockc v2"]);
      assert.deepEqual(chains(results, "s3"), ["mocka v1 → mockb v3 → mockc v1"]);
      assert.deepEqual(await e2eAmbient(mesh, 200).check("envoy"), []);
    });
    assert.equal(liveApps(), 0, "every app process stopped with the mesh");
  });

  it("without lane-tag (envoy-nofilter) the same apps reach only the baseline after mocka, as e2e:envoy expects", T, async () => {
    await withMesh(false, composeApps(), async (mesh) => {
      const results = await sendRequests(mesh.gatewayUrl, 40, { seed: 1, concurrency: 8 });
      assert.deepEqual(checkOutcome(example, results, "lost"), []);
      assert.deepEqual(await e2eAmbient(mesh, 60).check("envoy-nofilter"), []);
    });
  });

  it("the lanes hold only through the SDK: the compose apps without NODE_OPTIONS forward nothing, and the checks fail", T, async () => {
    await withMesh(true, composeApps((env) => { delete env.NODE_OPTIONS; }), async (mesh) => {
      const results = await sendRequests(mesh.gatewayUrl, 40, { seed: 1, concurrency: 8 });
      assert.notDeepEqual(checkOutcome(example, results, "kept"), []);
      assert.deepEqual(checkOutcome(example, results, "lost"), []);
      assert.deepEqual(chains(results, "s3"), ["mocka v1 → mockb v1 → mockc v1"]);
      await assert.rejects(e2eAmbient(mesh, 60, 2000).check("envoy"), /did not answer their expected chain/);
    });
  });
});

// The docker-compose variants where no Docker engine runs: the WebSocket seed (demo/websocket/) and the
// gRPC chain (demo/grpc/) are what npm run local-configs generates; every Envoy config passes
// envoy-validate --strict; every compose file (the HTTP variant's too) is valid Compose; and the configs do what
// the variants need: WebSocket upgrades on every listener, HTTP/2 toward the gRPC apps and sidecars, lane-tag
// configured per role with one VM per proxy, routes that send each lane where topology.ts (and so the
// Docker-less demo) sends it, and apps whose addresses match their sidecars' listeners.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, resolve as resolvePath } from "node:path";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { loadSpec, type LanesSpec } from "../../deploy/lib/spec.ts";
import { filterConfig, type FilterRole } from "../../deploy/render/generate.ts";
import { observed } from "../../demo/core/builders.ts";
import { chain, deployments, workloads, upstreamOf, resolve, type Workload } from "../../demo/core/topology.ts";
import { HERE } from "../../demo/generate.ts";
import { websocketFiles, WS_DIR } from "../../demo/websocket/generate.ts";
import { grpcFiles, GRPC_DIR } from "../../demo/grpc/generate.ts";
import { WS_SPEC } from "../../demo/websocket/client.ts";
import { AMBIENT_DIR } from "../../demo/ambient/generate.ts";
import { ROOT, SHARED } from "../support/helpers.ts";

const example = loadSpec(join(ROOT, "deploy/lanes.example.yaml"));
const ws = loadSpec(WS_SPEC);
interface Variant { name: string; dir: string; spec: LanesSpec; files: Record<string, string>; workloads: Workload[] }
const VARIANTS: Variant[] = [
  { name: "websocket", dir: WS_DIR, spec: ws, files: websocketFiles(ws), workloads: deployments(ws) },
  { name: "grpc", dir: GRPC_DIR, spec: example, files: grpcFiles(example), workloads: workloads(example) },
];
const HTTP_VARIANT = { name: "http", dir: HERE, spec: example, workloads: workloads(example) };
// Its own checks (routes, compose) are in compose-ambient.test.ts; it is validated here with the others.
const AMBIENT_VARIANT = { name: "ambient", dir: AMBIENT_DIR, spec: example, workloads: deployments(example) };
const ENVOY_DIRS = ["envoy", "envoy-nofilter"];
const VALIDATE = join(SHARED, "tools/envoy-validate/validate.mjs");
const COMPOSE_SCHEMA = join(SHARED, "schemas/compose-spec.json");

const load = (dir: string, file: string): any => parse(readFileSync(join(dir, file), "utf8"));
const configFiles = (dir: string) => ENVOY_DIRS.flatMap((d) => readdirSync(join(dir, d)).map((f) => `${d}/${f}`));
const hcmOf = (listener: any) => listener.filter_chains[0].filters.find((f: any) => f.name === "envoy.filters.network.http_connection_manager").typed_config;
const clusterNamed = (config: any, name: string) => config.static_resources.clusters.find((c: any) => c.name === name);
const isAggregate = (c: any) => c.cluster_type?.name === "envoy.clusters.aggregate";
/** A volume's host path ("HOST:/container/path[:ro]"; the host path may hold ${VAR:-default}). */
const hostPath = (volume: string) => volume.slice(0, volume.indexOf(":/"));

/** Where Envoy sends a request to `cluster`: the endpoints of the first cluster of an aggregate that has any. */
function endpointsOf(config: any, cluster: string): string[] {
  const c = clusterNamed(config, cluster);
  assert.ok(c, `no cluster ${cluster}`);
  if (isAggregate(c)) {
    for (const member of c.cluster_type.typed_config.clusters) {
      const found = endpointsOf(config, member);
      if (found.length) return found;
    }
    return [];
  }
  return c.load_assignment.endpoints.flatMap((e: any) => e.lb_endpoints.map((l: any) => `${l.endpoint.address.socket_address.address}:${l.endpoint.address.socket_address.port_value}`));
}

/** The cluster of the first route of `vhost` whose header matchers all match `headers`. */
function routeCluster(vhost: any, headers: Record<string, string>): string {
  const route = vhost.routes.find((r: any) => (r.match.headers ?? []).every((h: any) => headers[h.name] === h.string_match.exact));
  assert.ok(route, `no route in ${vhost.name} for ${JSON.stringify(headers)}`);
  return route.route.cluster;
}

describe("docker-compose variants: websocket/ and grpc/", () => {
  for (const v of VARIANTS) {
    it(`${v.name}: the committed compose file and Envoy configs are what npm run local-configs generates`, () => {
      for (const [name, text] of Object.entries(v.files)) assert.equal(readFileSync(join(v.dir, name), "utf8"), text, `${v.name}/${name}: run npm run local-configs`);
      for (const f of configFiles(v.dir)) assert.ok(f in v.files, `stale file demo/${v.name}/${f}`);
      assert.equal(Object.keys(v.files).length, 1 + 2 * (v.workloads.length + 1), "a compose file, and a gateway and a sidecar per workload, with and without lane-tag");
    });
  }

  it("every Envoy config validates against Envoy's API (envoy-validate --strict)", { skip: !existsSync(VALIDATE) && "../shared/tools/envoy-validate is absent" }, () => {
    const configs = [...VARIANTS, AMBIENT_VARIANT].flatMap((v) => configFiles(v.dir).map((f) => join(v.dir, f)));
    // websocket: a gateway and 3 sidecars; grpc: a gateway and 9; ambient: a gateway and the waypoint.
    assert.equal(configs.length, 2 * (4 + 10 + 2));
    const r = spawnSync(process.execPath, [VALIDATE, "--strict", ...configs], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split("\n").filter((l) => l.startsWith("ok ")).length, configs.length);
  });

  it("every compose file (the HTTP variant's too) is valid against the Compose Specification's schema", { skip: !existsSync(COMPOSE_SCHEMA) && "../shared/schemas/compose-spec.json is absent" }, () => {
    const schema = JSON.parse(readFileSync(COMPOSE_SCHEMA, "utf8"));
    // It names draft-07 by an https URL Ajv does not register; Ajv's default dialect is draft-07.
    delete schema.$schema;
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    for (const v of [HTTP_VARIANT, AMBIENT_VARIANT, ...VARIANTS]) {
      assert.ok(validate(load(v.dir, "docker-compose.yml")), `${v.name}: ${JSON.stringify(validate.errors)}`);
    }
    // ... and it can fail: an unknown key, a wrong type.
    const broken = load(WS_DIR, "docker-compose.yml");
    broken.services.gateway.portz = broken.services.gateway.ports;
    broken.services["helloworld-v2-app"].network_mode = 1;
    assert.equal(validate(broken), false);
    assert.deepEqual(validate.errors!.map((e) => e.instancePath).sort(), ["/services/gateway", "/services/helloworld-v2-app/network_mode"]);
  });

  it("every listener of every variant proxies WebSocket upgrades, and the filtered configs differ from envoy-nofilter only by lane-tag", () => {
    for (const v of [HTTP_VARIANT, AMBIENT_VARIANT, ...VARIANTS]) {
      for (const f of readdirSync(join(v.dir, "envoy"))) {
        const [on, off] = ENVOY_DIRS.map((d) => load(v.dir, `${d}/${f}`));
        for (const l of [...on.static_resources.listeners, ...off.static_resources.listeners]) {
          assert.deepEqual(hcmOf(l).upgrade_configs, [{ upgrade_type: "websocket" }], `${v.name}/${f} ${l.name}`);
        }
        for (const l of on.static_resources.listeners) hcmOf(l).http_filters = hcmOf(l).http_filters.filter((x: any) => x.name !== "lane-tag");
        assert.deepEqual(on, off, `${v.name}/${f}`);
      }
    }
  });

  it("lane-tag: the manifests' configuration for the listener's role, one vm_id per proxy, the router last", () => {
    for (const v of VARIANTS) {
      for (const f of readdirSync(join(v.dir, "envoy"))) {
        const vms = new Set<string>();
        for (const l of load(v.dir, `envoy/${f}`).static_resources.listeners) {
          const filters = hcmOf(l).http_filters;
          assert.deepEqual(filters.map((x: any) => x.name), ["lane-tag", "envoy.filters.http.router"], `${v.name}/${f} ${l.name}`);
          const config = filters[0].typed_config.config;
          vms.add(config.vm_config.vm_id);
          assert.deepEqual(JSON.parse(config.configuration.value), filterConfig(observed(v.spec), l.name as FilterRole), `${v.name}/${f} ${l.name}`);
        }
        assert.deepEqual([...vms], ["lane-tag"], `${v.name}/${f}`);
      }
    }
    // The WebSocket gateway takes the lane clients name: lane_from with the seed's header, cookie and query.
    const gw = JSON.parse(hcmOf(load(WS_DIR, "envoy/gateway.yaml").static_resources.listeners[0]).http_filters[0].typed_config.config.configuration.value);
    assert.deepEqual(gw.lane_from, { header: "version", cookie: "lane", query: "lane", trusted: true });
  });

  it("every sidecar's outbound listener sends each lane (and no lane) where topology.ts's resolve() does", () => {
    for (const v of VARIANTS) {
      for (const w of v.workloads) {
        const config = load(v.dir, `envoy/${w.name}.yaml`);
        const out = hcmOf(config.static_resources.listeners.find((l: any) => l.name === "outbound"));
        const up = upstreamOf(v.spec, w.service);
        if (!up) {
          assert.deepEqual(out.route_config.virtual_hosts, [], `${v.name}/${w.name} calls nothing`);
          continue;
        }
        const [vhost] = out.route_config.virtual_hosts;
        const port = v.name === "websocket" ? 5000 : 8000;
        assert.deepEqual(vhost.domains, [up, `${up}:${port}`]);
        for (const lane of [...v.spec.lanes.map((l) => l.name), undefined]) {
          const headers: Record<string, string> = lane ? { [v.spec.routingHeader]: lane } : {};
          assert.deepEqual(endpointsOf(config, routeCluster(vhost, headers)), [`${resolve(v.spec, up, lane).name}:${port}`], `${v.name}/${w.name}, lane ${lane}`);
        }
      }
    }
  });

  it("websocket: the gateway sends every lane a client can name to wsk v1, the only wsk", () => {
    const config = load(WS_DIR, "envoy/gateway.yaml");
    const [vhost] = hcmOf(config.static_resources.listeners[0]).route_config.virtual_hosts;
    for (const lane of [...ws.lanes.map((l) => l.name), "v9", undefined]) {
      assert.deepEqual(endpointsOf(config, routeCluster(vhost, lane ? { version: lane } : {})), ["wsk-svc-v1:5000"], `lane ${lane}`);
    }
    assert.deepEqual(deployments(ws).map((w) => w.name), ["wsk-svc-v1", "helloworld-v1", "helloworld-v2"]);
  });

  it("grpc: HTTP/2 toward every app and sidecar, HTTP/2 accepted on every listener, the HTTP variant's routes", () => {
    const http2 = (c: any) => c.typed_extension_protocol_options?.["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"];
    for (const f of readdirSync(join(GRPC_DIR, "envoy"))) {
      const grpcConfig = load(GRPC_DIR, `envoy/${f}`);
      const httpConfig = load(HERE, `envoy/${f}`);
      for (const c of grpcConfig.static_resources.clusters.filter((x: any) => !isAggregate(x))) {
        assert.deepEqual(http2(c), { "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions", explicit_http_config: { http2_protocol_options: {} } }, `${f} ${c.name}`);
      }
      for (const l of grpcConfig.static_resources.listeners) assert.equal(hcmOf(l).codec_type, "AUTO", `${f} ${l.name}`);
      // The HTTP variant's proxies speak HTTP/1.1 upstream: the check above tells the two apart.
      assert.ok(httpConfig.static_resources.clusters.every((c: any) => http2(c) === undefined));
      // Otherwise the same proxies: listeners, routes (the gateway's weighted split), clusters.
      for (const c of grpcConfig.static_resources.clusters) delete c.typed_extension_protocol_options;
      for (const l of grpcConfig.static_resources.listeners) delete hcmOf(l).codec_type;
      assert.deepEqual(grpcConfig, httpConfig, f);
    }
  });

  it("compose: each app in its sidecar's network namespace, addressed as the sidecar's listeners say; the repository and module mounted", () => {
    for (const v of VARIANTS) {
      const compose = load(v.dir, "docker-compose.yml");
      assert.equal(Object.keys(compose.services).length, 1 + 2 * v.workloads.length);
      assert.deepEqual(compose.services.gateway.ports, [`127.0.0.1:${v.name === "websocket" ? 8081 : 8082}:8080`]);
      assert.equal(load(v.dir, "envoy/gateway.yaml").static_resources.listeners[0].address.socket_address.port_value, 8080);
      for (const [name, s] of Object.entries<any>(compose.services)) {
        if (!name.endsWith("-app")) {
          assert.match(s.image, /^envoyproxy\/envoy:v\d+\.\d+\.\d+$/);
          const [config, wasm] = s.volumes.map(hostPath);
          for (const d of ENVOY_DIRS) assert.ok(existsSync(join(v.dir, config.replace("${ENVOY_CONFIG:-envoy}", d))), `${name}: ${config} as ${d}`);
          assert.equal(resolvePath(v.dir, wasm), join(ROOT, "build/lane-tag.wasm"));
          continue;
        }
        const sidecar = name.slice(0, -4);
        const config = load(v.dir, `envoy/${sidecar}.yaml`);
        const listener = (n: string) => config.static_resources.listeners.find((l: any) => l.name === n).address.socket_address;
        assert.equal(s.network_mode, `service:${sidecar}`);
        assert.match(s.image, /^node:(2[24]|26)(-alpine)?$/);
        assert.deepEqual(s.volumes.map((x: string) => resolvePath(v.dir, hostPath(x))), [ROOT.replace(/\/$/, "")]);
        assert.deepEqual(s.command.slice(0, 3), ["node", "--import", "tsx"]);
        assert.ok(existsSync(join(ROOT, s.command[3])), s.command[3]);
        assert.equal(s.working_dir, "/repo");
        assert.deepEqual(endpointsOf(config, "app"), [`127.0.0.1:${s.environment.PORT}`], `${name}: the inbound listener's app cluster`);
        const out = listener("outbound");
        const up = upstreamOf(v.spec, sidecar.replace(/-v\d+$/, ""));
        const vhosts = hcmOf(config.static_resources.listeners.find((l: any) => l.name === "outbound")).route_config.virtual_hosts;
        if (v.name === "websocket") {
          assert.equal(s.environment.HTTP_PROXY, up ? `http://${out.address}:${out.port_value}` : undefined);
          if (up) assert.ok(vhosts[0].domains.includes(new URL(s.environment.upstream_url).host), s.environment.upstream_url);
        } else {
          assert.equal(s.environment.via, up ? `${out.address}:${out.port_value}` : undefined);
          if (up) assert.ok(vhosts[0].domains.includes(s.environment.upstream), s.environment.upstream);
          assert.equal(s.environment.HTTP_PROXY, undefined, "grpc-js would tunnel through it with CONNECT");
        }
      }
    }
    assert.deepEqual(chain(ws), ["wsk-svc", "helloworld"]);
  });
});

// The waypoint role on the built module: the pluginConfig of the generated ambient/filter-waypoint.yaml,
// configured in the emulator. One proxy routes and delivers, so a baggage lane becomes the routing header
// (which the HTTPRoutes match) and stays in baggage; a header lane is written into baggage; no lane stays
// none (the routes' catch-all takes it to the baseline). Then the request is routed by the files.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadResources } from "../../demo/routes/load.ts";
import { routeHttp } from "../../demo/routes/gateway-api.ts";
import { base, filter, send, UNSET, ROOT, traceparent, values } from "../support/helpers.ts";
import type { Header } from "../../emulator/index.ts";

const AMBIENT = join(ROOT, "deploy/generated/ambient");
const resources = loadResources(AMBIENT);
const config = resources.find((r) => r.kind === "WasmPlugin" && r.metadata.name === "lane-tag-test-waypoint").spec.pluginConfig;

/** The backend a request with these headers reaches at mockb's Service. */
function mockb(headers: Header[]): string {
  const h = Object.fromEntries(headers.filter(([k]) => !k.startsWith(":")));
  const r = routeHttp(resources, { kind: "Service", name: "mockb", namespace: "default", port: 8000, portName: "http" }, { path: "/", headers: h });
  return r.kind === "backend" ? r.backend.name : r.kind;
}

describe("the waypoint filter (ambient/filter-waypoint.yaml) on the built module", () => {
  it("takes its configuration", async () => {
    const { plugin, host } = await filter(config);
    assert.equal(plugin.failed, false, JSON.stringify(host.logs.at(-1)));
  });

  it("a baggage lane: the routing header is set, the lane stays in baggage; mockb's route takes it to mockb's s3 version", async () => {
    const { plugin } = await filter(config);
    const r = send(plugin, [...base, ["baggage", "userid=7,x-asm-prefer-tag=s3"]], UNSET);
    assert.deepEqual(r.tag, ["s3"]);
    assert.deepEqual(r.baggage, ["userid=7,x-asm-prefer-tag=s3"]);
    assert.equal(mockb(r.headers), "test-mockb-s3");
  });

  it("a header lane without baggage: baggage gets it (the app propagates baggage), the header stays", async () => {
    const { plugin } = await filter(config);
    const r = send(plugin, [...base, ["x-asm-prefer-tag", "s2"]], UNSET);
    assert.deepEqual(r.tag, ["s2"]);
    assert.deepEqual(r.baggage, ["x-asm-prefer-tag=s2"]);
    assert.equal(mockb(r.headers), "test-mockb-s1");
  });

  it("the same on either listener direction the host reports (the role's direction is explicit)", async () => {
    for (const listenerDirection of [1, 2]) {
      const { plugin } = await filter(config);
      const r = send(plugin, [...base, ["baggage", "x-asm-prefer-tag=s3"]], { listenerDirection });
      assert.deepEqual(r.tag, ["s3"], `direction ${listenerDirection}`);
    }
  });

  it("no lane: no header, no baggage added (no default lane); the catch-all takes it to the baseline", async () => {
    const { plugin } = await filter(config);
    const r = send(plugin, [...base, ["traceparent", traceparent("4bf92f3577b34da6a3ce929d0e0e4736")]], UNSET);
    assert.deepEqual(r.tag, []);
    assert.deepEqual(r.baggage, []);
    assert.equal(mockb(r.headers), "test-mockb-s1");
  });

  it("an unknown lane in baggage is not routed on: the baseline", async () => {
    const { plugin } = await filter(config);
    const r = send(plugin, [...base, ["baggage", "x-asm-prefer-tag=nope"]], UNSET);
    assert.deepEqual(r.tag, []);
    assert.equal(mockb(r.headers), "test-mockb-s1");
    assert.deepEqual(values(r.headers, "x-asm-prefer-tag"), []);
  });
});

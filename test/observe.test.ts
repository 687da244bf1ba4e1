// Lane observability on the built module: per-lane counters, the lane as filter state, and the hop trace
// through a gateway and three sidecars with a fallback, all in the Envoy-like host emulator.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Host, type Header, type Plugin, type Stream } from "../deploy/emulator/index.ts";
import { wasmBytes, values, base, IN, OUT, traceparent } from "./helpers.ts";

const LANES = ["s1", "s2", "s3"];
const VERSION_TO_LANE = { v1: "s1", v2: "s2", v3: "s3" };
const dec = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString("latin1"));

async function sidecar(workload: string, version: string, extra: object = {}) {
  const host = await Host.load(wasmBytes(), { vmId: "lane-tag", countCalls: true, nodeMetadata: { WORKLOAD_NAME: workload, LABELS: { app: workload.split("-")[0], version } } });
  const cfg = (direction: string) => JSON.stringify({ direction, lanes: LANES, ...(direction === "outbound" ? { default_lane: "s1" } : {}),
    hop_trace: { label: "version", label_to_lane: VERSION_TO_LANE }, ...extra });
  const inbound = host.configure({ configuration: cfg("inbound") });
  const outbound = host.configure({ configuration: cfg("outbound") });
  assert.ok(!inbound.failed && !outbound.failed, JSON.stringify(host.logs));
  return { host, inbound, outbound };
}

async function gateway(hopTrace: object = { accept_debug_header: true }) {
  const host = await Host.load(wasmBytes(), { countCalls: true, nodeMetadata: { WORKLOAD_NAME: "ingressgateway" } });
  const p = host.configure({ configuration: JSON.stringify({ direction: "both", lanes: LANES, trust_client_lane: false, hop_trace: hopTrace }) });
  assert.ok(!p.failed, JSON.stringify(host.logs));
  return { host, p };
}

/** What an app forwards on its upstream call: only baggage (OpenTelemetry), never the routing header. */
const appCall = (headers: Header[], authority: string): Header[] => [[":authority", authority], [":path", "/"], [":method", "GET"], ...headers.filter(([k]) => k === "baggage")];

/**
 * client -> gateway (assigns lane `lane`) -> mocka -> mockb -> mockc, routed as the mesh does: a lane's
 * version where it has one (s2: mocka-v2 and mockc-v2, no mockb), else the baseline's. Each sidecar's
 * inbound sees the request the mesh routed, the app calls on with its baggage, responses come back
 * through every filter in reverse. `appTrace`: a header some app adds to its response.
 */
async function chain(client: Header[], lane: string, appTrace?: string) {
  const gw = await gateway();
  const cars = { "mocka-v2": await sidecar("mocka-v2", "v2"), "mockb-v1": await sidecar("mockb-v1", "v1"), "mockc-v2": await sidecar("mockc-v2", "v2") };
  const open: Stream[] = [];
  const g = gw.p.open([...base, ...client], OUT);
  open.push(g);
  // The gateway's route sets the lane (a weighted VirtualService in the mesh).
  let req: Header[] = [...g.request.headers.filter(([k]) => k !== "x-asm-prefer-tag"), ["x-asm-prefer-tag", lane]];
  const hops = Object.values(cars);
  const inbound: Stream[] = [];
  const outbound: Stream[] = [];
  for (let i = 0; i < hops.length; i++) {
    const s = hops[i].inbound.open(req, IN);
    inbound.push(s);
    if (i === hops.length - 1) break;
    const o = hops[i].outbound.open(appCall(s.request.headers, `${["mocka", "mockb", "mockc"][i + 1]}:8000`), OUT);
    outbound.push(o);
    req = o.request.headers;
  }
  // Responses, innermost first. Apps answer with their own headers (they copy none from upstream).
  const appResponse: Header[] = [[":status", "200"], ...(appTrace ? [["x-lane-tag-trace", appTrace] as Header] : [])];
  let resp = inbound[2].respond(appResponse).headers;
  for (let i = 1; i >= 0; i--) {
    outbound[i].respond(resp); // what the app got back from its upstream (and does not pass on)
    resp = inbound[i].respond(appResponse).headers;
  }
  const final = g.respond(resp).headers;
  for (const s of [...open, ...inbound, ...outbound]) s.close();
  return { gatewayRequest: g.request.headers, response: final, inner: inbound[0].request.headers, cars, gw };
}

describe("hop trace", () => {
  it("gives the client the path through the lanes, in call order, with the fallback named", async () => {
    const { response, cars } = await chain([["x-lane-tag-debug", "1"]], "s2");
    assert.deepEqual(values(response, "x-lane-tag-trace"), ["mocka-v2@s2, mockb-v1@s1 (fallback from s2), mockc-v2@s2"]);
    // Every record was freed with its stream: a later untraced request is untraced everywhere.
    for (const c of Object.values(cars)) assert.equal(c.host.vmFailed, null);
  });

  it("rides in baggage as lane-tag-trace=<16 hex>, added by the gateway next to the lane", async () => {
    const { gatewayRequest, inner } = await chain([["x-lane-tag-debug", "1"], ["baggage", "userId=alice"]], "s1");
    const bag = values(gatewayRequest, "baggage");
    assert.equal(bag.length, 1);
    assert.match(bag[0], /^userId=alice,lane-tag-trace=[0-9a-f]{16}$/);
    assert.match(values(inner, "baggage")[0], /lane-tag-trace=[0-9a-f]{16}/);
  });

  it("is not started without the debug header, nor where the gateway does not accept it", async () => {
    for (const client of [[] as Header[], [["x-lane-tag-debug", "0"]] as Header[], [["x-lane-tag-debug", "1 "]] as Header[]]) {
      const { response, gatewayRequest } = await chain(client, "s2");
      assert.deepEqual(values(response, "x-lane-tag-trace"), [], JSON.stringify(client));
      assert.ok(!values(gatewayRequest, "baggage").some((b) => b.includes("lane-tag-trace")));
    }
    const gw = await gateway({});
    const r = gw.p.request([...base, ["x-lane-tag-debug", "1"]], OUT);
    assert.ok(!values(r.headers, "baggage").some((b) => b.includes("lane-tag-trace")));
  });

  it("a client cannot start or forge one: its trace header and baggage member are removed at the gateway", async () => {
    const { gatewayRequest, response } = await chain([["x-lane-tag-trace", "forged"], ["baggage", "a=1,lane-tag-trace=0123456789abcdef, lane-tag-trace = 1111111111111111"]], "s2");
    assert.deepEqual(values(gatewayRequest, "x-lane-tag-trace"), []);
    assert.deepEqual(values(gatewayRequest, "baggage"), ["a=1"]);
    assert.deepEqual(values(response, "x-lane-tag-trace"), []);
  });

  it("the gateway removes a trace from responses to untraced requests (an app's or a sidecar's)", async () => {
    const { response } = await chain([], "s2", "leaked-workload@s9");
    assert.deepEqual(values(response, "x-lane-tag-trace"), []);
    // Traced, the gateway passes what the mesh built (the inbound sidecars replace an app's header).
    const traced = await chain([["x-lane-tag-debug", "1"]], "s2", "leaked-workload@s9");
    assert.deepEqual(values(traced.response, "x-lane-tag-trace"), ["mocka-v2@s2, mockb-v1@s1 (fallback from s2), mockc-v2@s2"]);
  });

  it("untraced requests cost nothing on a sidecar's response path: no host call", async () => {
    const c = await sidecar("mockb-v1", "v1");
    const s = c.inbound.open([...base, ["x-asm-prefer-tag", "s2"], ["baggage", "x-asm-prefer-tag=s2"]], IN);
    const before = new Map(c.host.calls);
    const r = s.respond([[":status", "200"]]);
    s.close();
    assert.deepEqual(c.host.calls, before);
    assert.equal(r.mutations, 0);
  });

  it("without hop_trace the response callback makes no host call, even at a gateway", async () => {
    const host = await Host.load(wasmBytes(), { countCalls: true });
    const p = host.configure({ configuration: JSON.stringify({ direction: "both", trust_client_lane: false }) });
    const s = p.open([...base, ["x-lane-tag-debug", "1"]], OUT);
    const before = new Map(host.calls);
    const r = s.respond([[":status", "200"], ["x-lane-tag-trace", "x@y"]]);
    assert.deepEqual(host.calls, before);
    assert.deepEqual(values(r.headers, "x-lane-tag-trace"), ["x@y"]);
  });
});

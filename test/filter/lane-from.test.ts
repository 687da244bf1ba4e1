// lane_from on the built module: a lane the client names in a header (through a value map), a cookie or a
// query parameter, taken only where the operator configures it, validated like any lane, never failing a
// request; and a WebSocket upgrade request handled like any other.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Header } from "../../emulator/index.ts";
import { filter, send, base, IN, OUT, values } from "../support/helpers.ts";
import { Rand } from "../fuzz/generate.ts";

const KEY = "x-asm-prefer-tag";
const LANES = ["s1", "s2", "s3"];
// An ingress gateway that does not trust clients' lanes, except where lane_from says.
const gateway = (laneFrom: object, extra: object = {}) => ({ direction: "both", trust_client_lane: false, lanes: LANES, lane_from: { trusted: true, ...laneFrom }, ...extra });
const path = (p: string): Header[] => [[":authority", "gw"], [":path", p], [":method", "GET"]];

describe("lane_from", () => {
  it("header with a value map: the seed's `version: v2` puts the request in lane s2", async () => {
    const { host, plugin } = await filter(gateway({ header: "version", values: { v1: "s1", v2: "s2" } }));
    const r = send(plugin, [...base, ["version", "v2"], ["baggage", "userId=alice"]], OUT);
    assert.deepEqual(r.tag, ["s2"]);
    assert.deepEqual(r.baggage, [`${KEY}=s2,userId=alice`]);
    assert.equal(host.counter("lane_tag.both.lane_from_client"), 1);
    // A value the map does not know: no lane from it, counted as invalid.
    const unknown = send(plugin, [...base, ["version", "v9"]], OUT);
    assert.deepEqual(unknown.tag, []);
    assert.equal(host.counter("lane_tag.both.invalid_lane"), 1);
    // Only the first value of the header counts (as Envoy's get_header_map_value).
    assert.deepEqual(send(plugin, [...base, ["version", "v1"], ["version", "v2"]], OUT).tag, ["s1"]);
  });

  it("the routing header itself, trusted: the lane the client sends, if it is allowed", async () => {
    const { plugin } = await filter({ ...gateway({ header: "version" }), routing_header: "version", lanes: ["v1", "v2"] });
    const r = send(plugin, [...base, ["version", "v2"]], OUT);
    assert.deepEqual(values(r.headers, "version"), ["v2"]);
    assert.deepEqual(r.baggage, ["version=v2"]);
    assert.deepEqual(values(send(plugin, [...base, ["version", "v3"]], OUT).headers, "version"), [], "not in lanes: removed, never forwarded");
  });

  it("cookie: several cookies and Cookie headers, spaces and quotes; the first cookie of the name counts", async () => {
    const { plugin } = await filter(gateway({ cookie: "lane" }));
    const cases: [Header[], string[]][] = [
      [[["cookie", "session=abc; lane=s2; theme=dark"]], ["s2"]],
      [[["cookie", "session=abc"], ["cookie", "lane=\"s3\""]], ["s3"]],   // HTTP/2 sends one header per cookie
      [[["cookie", "  lane = s2 ;x=1"]], ["s2"]],
      [[["cookie", "lane=bad lane"], ["cookie", "lane=s3"]], []],          // the first is invalid: no lane
      [[["cookie", "xlane=s2; Lane=s3"]], []],
      [[["cookie", ""]], []],
    ];
    for (const [cookies, tag] of cases) assert.deepEqual(send(plugin, [...base, ...cookies], OUT).tag, tag, JSON.stringify(cookies));
  });

  it("query: encoded names and values, repeated parameters, fragments", async () => {
    const { plugin } = await filter(gateway({ query: "lane" }));
    const cases: [string, string[]][] = [
      ["/socket.io/?EIO=4&transport=websocket&lane=s2", ["s2"]],
      ["/?lane=s%33", ["s3"]],
      ["/?%6Cane=s2", ["s2"]],
      ["/?lane=s1&lane=s2", ["s1"]],
      ["/?lane=s%zz&lane=s2", []],
      ["/?x=1#lane=s2", []],
      ["/?lane=s9", []],
      ["/no/query", []],
    ];
    for (const [p, tag] of cases) assert.deepEqual(send(plugin, path(p), OUT).tag, tag, p);
  });

  it("sources in order header, cookie, query; a lane the request carries wins; assignment and default come after", async () => {
    const { plugin } = await filter(gateway({ header: "x-lane", cookie: "lane", query: "lane" }, { default_lane: "s1" }));
    assert.deepEqual(send(plugin, [...path("/?lane=s3"), ["cookie", "lane=s2"], ["x-lane", "s1"]], OUT).tag, ["s1"]);
    assert.deepEqual(send(plugin, [...path("/?lane=s3"), ["cookie", "lane=s2"]], OUT).tag, ["s2"]);
    assert.deepEqual(send(plugin, [...path("/?lane=s3"), ["x-lane", "nope"]], OUT).tag, ["s3"], "an invalid header value: the next source");
    assert.deepEqual(send(plugin, path("/"), OUT).tag, ["s1"], "nothing named: the default lane");
    const trusting = await filter({ direction: "both", lanes: LANES, lane_from: { cookie: "lane" } });
    assert.deepEqual(send(trusting.plugin, [...base, ["baggage", `${KEY}=s3`], ["cookie", "lane=s2"]], OUT).tag, ["s3"], "a carried lane is not overridden");
  });

  it("at an untrusted gateway the client's own lane members are still removed", async () => {
    const { plugin } = await filter(gateway({ cookie: "lane" }));
    const r = send(plugin, [...base, [KEY, "s3"], ["baggage", `a=1,${KEY}=s3`], ["cookie", "lane=s2"]], OUT);
    assert.deepEqual(r.tag, ["s2"]);
    assert.deepEqual(r.baggage, [`${KEY}=s2,a=1`]);
  });

  it("is refused at configure where the operator does not trust clients and did not trust this entry", async () => {
    const { plugin, host } = await filter({ direction: "both", trust_client_lane: false, lane_from: { cookie: "lane" } });
    assert.equal(plugin.failed, true);
    assert.match(host.logs.at(-1)!.message, /set "trusted": true to take them/);
  });

  it("bad input never fails a request and never puts an invalid lane in the routing header", async () => {
    const { host, plugin } = await filter(gateway({ header: "version", cookie: "lane", query: "lane" }, { default_lane: "s1" }));
    const r = new Rand(5);
    const junk = () => r.str("lane=s2;%&?#+\"' \t,\\\u00e9\u0000x", 0, 40);
    for (let i = 0; i < 3000; i++) {
      const res = send(plugin, [[":authority", "gw"], [":path", "/" + junk()], [":method", "GET"], ["cookie", junk()], ["version", junk()]], OUT);
      assert.equal(res.outcome, "continue");
      assert.equal(res.tag.length, 1);
      assert.ok(LANES.includes(res.tag[0]), res.tag[0]);
    }
    assert.equal(host.vmFailed, null);
  });
});

describe("a WebSocket upgrade request is a request like any other", () => {
  const upgrade: Header[] = [[":authority", "wsk-svc:5000"], [":path", "/socket.io/?EIO=4&transport=websocket"], [":method", "GET"], [":scheme", "http"],
    ["connection", "Upgrade"], ["upgrade", "websocket"], ["sec-websocket-version", "13"], ["sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="]];
  it("inbound: the routing header's lane goes to baggage; the upgrade headers stay as they were", async () => {
    const { plugin } = await filter({ direction: "inbound" });
    const r = send(plugin, [...upgrade, [KEY, "s2"]], IN);
    assert.deepEqual(r.baggage, [`${KEY}=s2`]);
    assert.deepEqual(r.headers.filter(([k]) => k !== "baggage"), [...upgrade, [KEY, "s2"]]);
  });
  it("outbound: baggage sets the routing header", async () => {
    const { plugin } = await filter({ direction: "outbound" });
    const r = send(plugin, [...upgrade, ["baggage", `${KEY}=s2`]], OUT);
    assert.deepEqual(r.tag, ["s2"]);
    assert.deepEqual(r.headers.slice(0, upgrade.length), upgrade);
  });
});

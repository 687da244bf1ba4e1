// "The request path never logs" (README, Guarantees; sdk.ts defect 4) on the built module, across
// configurations: every feature alone, all of them, all but each one, in every direction and role
// (sidecar, gateway that does not trust clients), on both Envoy property eras, with and without node
// metadata; many requests, malformed ones included, each with its response and the end of its stream;
// and again with every request-path host call refused. Logging at configure is allowed (and happens).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Host, WasmResult, type HeaderInput, type HostOptions, type Plugin, type StreamOptions } from "../../emulator/index.ts";
import { wasmBytes, base, IN, OUT, UNSET, traceparent } from "../support/helpers.ts";

const LANES = ["s1", "s2", "s3"];
const FEATURES: Record<string, object> = {
  lanes: { lanes: LANES },
  default_lane: { default_lane: "s1" },
  correlation: { correlation: { enabled: true, capacity: 64, headers: ["traceparent", "b3", "x-request-id"] } },
  local_lane: { local_lane: { label: "ASM_TRAFFIC_TAG", label_to_lane: { v1: "s1", v2: "s2" } } },
  assign: { assign: { weights: { s1: 2, s2: 1 }, sticky_header: "x-user-id" } },
  assign_unsticky: { assign: { weights: { s1: 1, s3: 1 } } },
  lane_from: { lane_from: { header: "version", cookie: "lane", query: "lane", values: { v1: "s1", v2: "s2" }, trusted: true } },
  lane_metrics: { lane_metrics: true },
  filter_state: { filter_state: true },
  hop_trace: { hop_trace: { accept_debug_header: true, label: "version", label_to_lane: { v1: "s1", v2: "s2" } } },
  routing_header: { routing_header: "x-lane", baggage_key: "lane" },
  carriers: { carriers: ["baggage", "jaeger", "ottrace", "tracestate"] },
  baggage_limits: { baggage_limits: true },
};
const NAMES = Object.keys(FEATURES);
// Every feature off, all on, each alone, all but each (the two assign variants never together).
const SETS: string[][] = [[], NAMES.filter((n) => n !== "assign_unsticky"), ...NAMES.map((n) => [n]),
  ...NAMES.map((n) => NAMES.filter((m) => m !== n && (n === "assign" || m !== "assign_unsticky")))];
// Direction x role; `auto` meets every listener direction.
const ROLES: [object, StreamOptions[]][] = [];
for (const trust_client_lane of [true, false]) {
  ROLES.push([{ direction: "auto", trust_client_lane }, [IN, OUT, UNSET]]);
  for (const direction of ["inbound", "outbound", "both"]) ROLES.push([{ direction, trust_client_lane }, [OUT]]);
}

const bin = (...b: number[]) => new Uint8Array(b);
const TP = traceparent("4bf92f3577b34da6a3ce929d0e0e4736");
const REQUESTS: HeaderInput[][] = [
  [], [["baggage", "x-asm-prefer-tag=s2"]], [["x-asm-prefer-tag", "s3"]], [["x-lane", "s2"], ["baggage", "lane=s3"]],
  [["x-asm-prefer-tag", "s1"], ["baggage", "a=1,x-asm-prefer-tag=s2;p=1"]], [["x-asm-prefer-tag", "bad lane"]], [["x-asm-prefer-tag", "s9"]],
  [["baggage", "x-asm-prefer-tag=%zz"]], [["baggage", "x-asm-prefer-tag=s2;=v,lane=s1;"]], [["baggage", ",,,;;;==="]], [["baggage", ""]],
  [["baggage", "x".repeat(9000)]], [["baggage", "a=" + "v".repeat(70_000)], ["baggage", "x-asm-prefer-tag=s2"]],
  Array.from({ length: 300 }, () => ["x-asm-prefer-tag", "s2"] as HeaderInput),
  Array.from({ length: 300 }, (_, i) => ["baggage", `k${i}=v,x-asm-prefer-tag=s${(i % 3) + 1}`] as HeaderInput),
  [["baggage", "\u0000\r\n,x-asm-prefer-tag=s2"]], [["baggage", bin(0xff, 0xfe, 0x3d, 0x80)], ["x-asm-prefer-tag", bin(0x73, 0xc3)]],
  [["baggage", "x-asm-prefer%2Dtag=s2, x-asm-prefer-tag =s3"]],
  [["traceparent", TP]], [["traceparent", TP], ["x-asm-prefer-tag", "s2"]], [["traceparent", "00-zz-00-01"], ["b3", "0"]],
  [["b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"]], [["x-request-id", "r".repeat(300)]], [["x-request-id", "req-1"]],
  [["version", "v2"]], [["version", "v9"], ["cookie", "lane=s2"]], [["cookie", "lane=\"s3"], ["cookie", ";;=;lane"]],
  [[":path", "/?lane=s%33&x=%"]], [[":path", "/?" + "lane=%zz&".repeat(100)]], [[":path", ""]],
  [["x-user-id", "alice"]], [["x-user-id", ""]],
  [["x-lane-tag-debug", "1"]], [["x-lane-tag-debug", "1 "]], [["x-lane-tag-trace", "forged@s1"], ["x-lane-tag-debug", "1"]],
  [["baggage", "lane-tag-trace=0123456789abcdef,x-asm-prefer-tag=s2"]], [["baggage", "lane-tag-trace=0123456789ABCDEF"]],
  [["baggage", "lane-tag-trace=aa00000000000001"], ["traceparent", TP], ["version", "v1"], ["x-user-id", "bob"]],
  // The other carriers, with and without their trace contexts, repeated, and disagreeing.
  [["uberctx-x-asm-prefer-tag", "s2"], ["ot-baggage-x-asm-prefer-tag", "s3"], ["ot-tracer-traceid", "80f198ee56343ba8"], ["ot-tracer-spanid", "e457b5a2e4d86bd1"], ["traceparent", TP], ["tracestate", "x-asm-prefer-tag=s1,a=1"]],
  [["uberctx-lane", "s%zz"], ["uberctx-lane", "s2"], ["ot-baggage-lane", "s2"], ["tracestate", "lane=s2"], ["tracestate", ",,=,"], ["jaeger-baggage", "x-asm-prefer-tag=s2"]],
  // Baggage past the limits, with malformed members and the lane last.
  [["baggage", Array.from({ length: 120 }, (_, i) => (i % 7 ? `m${i}=v` : `bad ${i}`)).join(",") + ",x-asm-prefer-tag=s2,lane=s3"]],
];
const RESPONSES: HeaderInput[][] = [
  [[":status", "200"]], [[":status", "200"], ["x-lane-tag-trace", "mockc-v1@s1"]], [[":status", "503"], ["x-lane-tag-trace", "t".repeat(5000)]],
  [[":status", "200"], ["x-lane-tag-trace", bin(0, 0xff, 0x2c)]], [],
];

async function vm(opts: HostOptions, logCalls: { n: number }, refuse?: string) {
  let armed = false;
  const host = await Host.load(wasmBytes(), {
    logLevel: "trace", ...opts,
    faults: (call) => {
      if (call === "proxy_log" && armed) logCalls.n++;
      return armed && call === refuse ? WasmResult.InternalFailure : undefined;
    },
  });
  return { host, arm: () => { armed = true; } };
}

function configureAll(host: Host, set: string[]): [Plugin, StreamOptions[]][] {
  const features = Object.assign({}, ...set.map((n) => FEATURES[n]));
  return ROLES.map(([role, streams]) => {
    const p = host.configure({ configuration: JSON.stringify({ ...features, ...role }) });
    assert.ok(!p.failed, `${JSON.stringify({ ...features, ...role })}: ${host.logs.at(-1)?.message}`);
    return [p, streams];
  });
}

/** Every request through every plugin and stream direction, each answered with a response, then closed. */
function traffic(plugins: [Plugin, StreamOptions[]][]): number {
  let n = 0;
  for (const [p, streams] of plugins) for (const stream of streams) {
    REQUESTS.forEach((h, i) => {
      const s = p.open([...base, ...h], stream);
      s.respond(RESPONSES[i % RESPONSES.length]);
      s.close();
      n++;
    });
  }
  return n;
}

const HOSTS: [string, HostOptions][] = [
  ["Envoy 1.38", { envoy: "1.38", vmId: "lane-tag", nodeMetadata: { WORKLOAD_NAME: "mocka-v2", LABELS: { ASM_TRAFFIC_TAG: "v2", version: "v2" } } }],
  ["Envoy 1.32", { envoy: "1.32", nodeMetadata: { WORKLOAD_NAME: "mocka-v1", LABELS: { ASM_TRAFFIC_TAG: "v1", version: "v1" } } }],
  ["no node metadata", {}],
];

describe("the request path never logs", () => {
  for (const [name, opts] of HOSTS) {
    it(`${name}: ${SETS.length} feature sets × ${ROLES.length} roles and directions, every request with its response`, async () => {
      let requests = 0;
      for (const set of SETS) {
        const logCalls = { n: 0 };
        const { host, arm } = await vm(opts, logCalls);
        const plugins = configureAll(host, set);
        const configured = host.logs.length;
        arm();
        requests += traffic(plugins);
        assert.equal(logCalls.n, 0, `features ${set.join(",") || "none"}: ${host.logs.slice(configured).map((l) => l.message).join("; ")}`);
        assert.equal(host.logs.length, configured);
        assert.equal(host.vmFailed, null);
      }
      assert.ok(requests > 10_000, `${requests} requests`);
    });
  }

  // Each request-path host call refused on every call: counted (host_error), never logged.
  const CALLS = ["proxy_get_header_map_pairs", "proxy_get_header_map_value", "proxy_replace_header_map_value", "proxy_remove_header_map_value",
    "proxy_get_property", "proxy_set_property", "proxy_get_shared_data", "proxy_set_shared_data", "proxy_increment_metric",
    "proxy_get_current_time_nanoseconds"];
  for (const refuse of CALLS) {
    it(`nor when ${refuse} is refused`, async () => {
      for (const set of [SETS[0], SETS[1]]) {
        const logCalls = { n: 0 };
        const { host, arm } = await vm(HOSTS[0][1], logCalls, refuse);
        const plugins = configureAll(host, set);
        const configured = host.logs.length;
        arm();
        traffic(plugins);
        assert.equal(logCalls.n, 0, `features ${set.join(",") || "none"}: ${host.logs.slice(configured).map((l) => l.message).join("; ")}`);
        assert.equal(host.vmFailed, null);
      }
    });
  }
});

// The bench's plugin configurations and request scenarios.
import type { Header } from "../../emulator/index.ts";
import { big, common, inHdr, lane3 } from "./inputs.ts";

// `config` is the plugin's direction setting: the manifests generate an explicit one per listener; "auto"
// reads Envoy's listener_direction property on every request (one more host call).
export interface Scenario { name: string; headers: Header[]; direction: number; config: ConfigName; pool?: Header[][]; respond?: Header[] }
export type ConfigName = keyof typeof CONFIGS;
export const CONFIGS = {
  outbound: { direction: "outbound" },
  inbound: { direction: "inbound" },
  auto: {},
  // Fallback sources for lane-less outbound requests, and the sticky gateway.
  correlationOut: { direction: "outbound", correlation: { enabled: true } },
  correlationIn: { direction: "inbound", correlation: { enabled: true } },
  local: { direction: "outbound", local_lane: { label: "ASM_TRAFFIC_TAG", label_to_lane: { v1: "s1", v2: "s2" } } },
  gateway: { direction: "both", trust_client_lane: false, assign: { weights: { s1: 60, s2: 20, s3: 20 }, sticky_header: "x-user-id" } },
  // Observability, each compared with the same request with it off.
  outboundLanes: { direction: "outbound", lanes: ["s1", "s2", "s3"] },
  outboundMetrics: { direction: "outbound", lanes: ["s1", "s2", "s3"], lane_metrics: true },
  outboundState: { direction: "outbound", lanes: ["s1", "s2", "s3"], filter_state: true },
  outboundObserved: { direction: "outbound", lanes: ["s1", "s2", "s3"], lane_metrics: true, filter_state: true },
  inboundLanes: { direction: "inbound", lanes: ["s1", "s2", "s3"] },
  inboundObserved: { direction: "inbound", lanes: ["s1", "s2", "s3"], lane_metrics: true, filter_state: true },
  inboundHop: { direction: "inbound", lanes: ["s1", "s2", "s3"], hop_trace: { label: "ASM_TRAFFIC_TAG", label_to_lane: { v1: "s1", v2: "s2" } } },
  // baggage_limits at a gateway, compared with the same gateway without it.
  gatewayPlain: { direction: "both", trust_client_lane: false, lanes: ["s1", "s2", "s3"], default_lane: "s1" },
  gatewayLimits: { direction: "both", trust_client_lane: false, lanes: ["s1", "s2", "s3"], default_lane: "s1", baggage_limits: true },
};

export const scenarios: Scenario[] = [
  { name: "outbound, 3-member baggage with lane", direction: 2, config: "outbound", headers: lane3 },
  { name: "outbound, no baggage", direction: 2, config: "outbound", headers: [...common] },
  { name: "inbound, header -> baggage", direction: 1, config: "inbound", headers: inHdr },
  { name: `outbound, ${(big.length / 1024).toFixed(1)} KB / 180-member baggage`, direction: 2, config: "outbound",
    headers: [...common, ["baggage", big]] },
  { name: "outbound, 3-member baggage, direction auto", direction: 2, config: "auto", headers: lane3 },
  { name: "inbound, header -> baggage, correlation (entry fresh)", direction: 1, config: "correlationIn", headers: inHdr },
  { name: "outbound, no lane, restored by trace id", direction: 2, config: "correlationOut", headers: [...common] },
  { name: "outbound, no lane, local lane", direction: 2, config: "local", headers: [...common] },
  { name: "gateway, sticky weighted choice", direction: 2, config: "gateway", headers: [...common, ["x-user-id", "alice@example.com"]] },
  // Last: its 65536 distinct header sets and the shared-data writes load the JavaScript heap.
  // Each request a new trace (the usual case: one request per trace and service): a read and a write.
  { name: "inbound, header -> baggage, correlation (new trace)", direction: 1, config: "correlationIn",
    headers: [], pool: Array.from({ length: 65536 }, (_, i) => [...common.filter(([k]) => k !== "traceparent" && k !== "x-request-id"),
      ["traceparent", `00-${(i + 1).toString(16).padStart(32, "0")}-00f067aa0ba902b7-01`], ["x-request-id", `req-${i}`],
      ["x-asm-prefer-tag", "s2"], ["baggage", "userId=alice,sessionId=8f2a"]] as Header[]) },
];
/** The core scenarios (baggage, header, default lane): typical and worst case are judged on these. */
export const CORE = 5;

const traced: Header[] = [...common, ["x-asm-prefer-tag", "s2"], ["baggage", "userId=alice,sessionId=8f2a,lane-tag-trace=0123456789abcdef"]];
const resp: Header[] = [[":status", "200"], ["content-type", "text/plain"], ["x-lane-tag-trace", "mockc-v2@s2"]];
/** Observability: [row, the request with the feature off, the configuration with it on]. */
export const observed: [string, Scenario, ConfigName][] = [
  ["outbound, 3-member baggage: lane_metrics", { name: "", direction: 2, config: "outboundLanes", headers: lane3 }, "outboundMetrics"],
  ["outbound, 3-member baggage: filter_state", { name: "", direction: 2, config: "outboundLanes", headers: lane3 }, "outboundState"],
  ["outbound, 3-member baggage: both", { name: "", direction: 2, config: "outboundLanes", headers: lane3 }, "outboundObserved"],
  ["inbound, header -> baggage: both", { name: "", direction: 1, config: "inboundLanes", headers: inHdr }, "inboundObserved"],
  ["inbound request + response, hop_trace on, untraced", { name: "", direction: 1, config: "inboundLanes", headers: inHdr, respond: resp }, "inboundHop"],
  ["inbound request + response, traced (this hop's entry)", { name: "", direction: 1, config: "inboundLanes", headers: traced, respond: resp }, "inboundHop"],
  ["gateway, 3-member baggage (within the limits): baggage_limits", { name: "", direction: 2, config: "gatewayPlain", headers: lane3 }, "gatewayLimits"],
  [`gateway, ${(big.length / 1024).toFixed(1)} KB / 180-member baggage (cut to 64): baggage_limits`, { name: "", direction: 2, config: "gatewayPlain", headers: [...common, ["baggage", big]] }, "gatewayLimits"],
];

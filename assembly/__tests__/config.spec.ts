import { parseConfig } from "../config/config-parse";
import { DIR_AUTO, DIR_INBOUND, DIR_OUTBOUND, DIR_BOTH } from "../config/config";

function error(json: string): string {
  const r = parseConfig(json);
  return r.config === null ? r.error : "";
}

describe("configuration defaults", () => {
  it("empty or blank configuration means all defaults", () => {
    const texts: string[] = ["", "  \n\t", "{}", " { } "];
    for (let i = 0; i < texts.length; i++) {
      const c = parseConfig(texts[i]).config!;
      expect(c.routingHeader).toBe("x-asm-prefer-tag");
      expect(c.baggageKey).toBe("x-asm-prefer-tag");
      expect(c.direction).toBe(DIR_AUTO);
      expect(c.lanes.length).toBe(0);
      expect(c.defaultLane).toBe("");
    }
  });
  it("baggage_key defaults to routing_header", () => {
    const c = parseConfig("{\"routing_header\":\"x-lane\"}").config!;
    expect(c.baggageKey).toBe("x-lane");
  });
  it("takes baggage keys OpenTelemetry keeps as they are, and a routing header with other token characters", () => {
    expect(parseConfig("{\"baggage_key\":\"a!'*-._~Z9\"}").config!.baggageKey).toBe("a!'*-._~Z9");
    expect(parseConfig("{\"routing_header\":\"x-lane+1\",\"baggage_key\":\"lane\"}").config!.routingHeader).toBe("x-lane+1");
  });
  it("reads lane_from and prints it", () => {
    const c = parseConfig("{\"trust_client_lane\":false,\"lane_from\":{\"header\":\"version\",\"cookie\":\"lane\",\"query\":\"lane\",\"values\":{\"v2\":\"s2\"},\"trusted\":true}}").config!;
    expect(c.hasLaneFrom).toBe(true);
    expect(c.fromHeader).toBe("version");
    expect(c.fromLanes[0]).toBe("s2");
    expect(c.toJSON()).toBe("{\"routing_header\":\"x-asm-prefer-tag\",\"baggage_key\":\"x-asm-prefer-tag\",\"direction\":\"auto\",\"lanes\":[],\"default_lane\":\"\",\"trust_client_lane\":false," +
      "\"lane_from\":{\"header\":\"version\",\"cookie\":\"lane\",\"query\":\"lane\",\"values\":{\"v2\":\"s2\"},\"trusted\":true}}");
    expect(parseConfig("").config!.hasLaneFrom).toBe(false);
  });
  it("reads baggage_limits (off by default) and prints it when on", () => {
    expect(parseConfig("").config!.baggageLimits).toBe(false);
    const c = parseConfig("{\"baggage_limits\":true}").config!;
    expect(c.baggageLimits).toBe(true);
    expect(c.toJSON()).toBe("{\"routing_header\":\"x-asm-prefer-tag\",\"baggage_key\":\"x-asm-prefer-tag\",\"direction\":\"auto\",\"lanes\":[],\"default_lane\":\"\",\"trust_client_lane\":true,\"baggage_limits\":true}");
    expect(parseConfig("{\"baggage_limits\":false}").config!.toJSON().indexOf("baggage_limits")).toBe(-1);
  });
  it("reads lane_metrics, filter_state and hop_trace and prints them; all off by default", () => {
    const off = parseConfig("").config!;
    expect(off.observes).toBe(false);
    const c = parseConfig("{\"lanes\":[\"s1\"],\"lane_metrics\":true,\"filter_state\":true,\"hop_trace\":{\"accept_debug_header\":true,\"workload\":\"gw\",\"label\":\"version\",\"label_to_lane\":{\"v1\":\"s1\"}}}").config!;
    expect(c.observes).toBe(true);
    expect(c.hopTrace).toBe(true);
    expect(c.traceAccept).toBe(true);
    expect(c.hopLaneForLabel("v1")).toBe("s1");
    expect(c.hopLaneForLabel("v2")).toBe("");
    expect(c.toJSON()).toBe("{\"routing_header\":\"x-asm-prefer-tag\",\"baggage_key\":\"x-asm-prefer-tag\",\"direction\":\"auto\",\"lanes\":[\"s1\"],\"default_lane\":\"\",\"trust_client_lane\":true," +
      "\"lane_metrics\":true,\"filter_state\":true,\"hop_trace\":{\"accept_debug_header\":true,\"workload\":\"gw\",\"label\":\"version\",\"label_to_lane\":{\"v1\":\"s1\"}}}");
    // hop_trace without its own label uses local_lane's.
    const l = parseConfig("{\"local_lane\":{\"label\":\"version\",\"label_to_lane\":{\"v2\":\"s2\"}},\"hop_trace\":true}").config!;
    expect(l.hopLabel()).toBe("version");
    expect(l.hopLaneForLabel("v2")).toBe("s2");
    expect(parseConfig("{\"hop_trace\":{\"enabled\":false}}").config!.observes).toBe(false);
  });
  it("reads every field", () => {
    const c = parseConfig("{\"routing_header\":\"x-lane\",\"baggage_key\":\"lane\",\"direction\":\"inbound\"," +
      "\"lanes\":[\"s1\",\"s2\"],\"default_lane\":\"s1\"}").config!;
    expect(c.routingHeader).toBe("x-lane");
    expect(c.baggageKey).toBe("lane");
    expect(c.direction).toBe(DIR_INBOUND);
    expect(c.lanes.join(",")).toBe("s1,s2");
    expect(c.defaultLane).toBe("s1");
  });
  it("reads trust_client_lane (default true)", () => {
    expect(parseConfig("").config!.trustClientLane).toBe(true);
    expect(parseConfig("{\"trust_client_lane\":false}").config!.trustClientLane).toBe(false);
    expect(parseConfig("{\"trust_client_lane\":true}").config!.trustClientLane).toBe(true);
  });
  it("maps every direction", () => {
    expect(parseConfig("{\"direction\":\"auto\"}").config!.direction).toBe(DIR_AUTO);
    expect(parseConfig("{\"direction\":\"outbound\"}").config!.direction).toBe(DIR_OUTBOUND);
    expect(parseConfig("{\"direction\":\"both\"}").config!.direction).toBe(DIR_BOTH);
  });
  it("prints the effective configuration as JSON", () => {
    expect(parseConfig("{\"lanes\":[\"s1\"],\"direction\":\"both\"}").config!.toJSON()).toBe(
      "{\"routing_header\":\"x-asm-prefer-tag\",\"baggage_key\":\"x-asm-prefer-tag\",\"direction\":\"both\"," +
      "\"lanes\":[\"s1\"],\"default_lane\":\"\",\"trust_client_lane\":true}");
  });
  it("accepts JSON escapes and numbers in the syntax", () => {
    expect(parseConfig("{\"default_lane\":\"s\\u0032\"}").config!.defaultLane).toBe("s2");
  });
});

// [configuration, error message]
const ERRORS: string[][] = [
  ["{", "configuration is not valid JSON: expected a field name at offset 1"],
  ["{\"lanes\":[\"s1\"", "configuration is not valid JSON: unexpected end of input in an array at offset 14"],
  ["{\"direction\":}", "configuration is not valid JSON: unexpected character '}' at offset 13"],
  ["{\"a\":1,}", "configuration is not valid JSON: expected a field name at offset 7"],
  ["{\"direction\":\"auto\"} x", "configuration is not valid JSON: unexpected text after the JSON value at offset 21"],
  ["{'direction':'auto'}", "configuration is not valid JSON: expected a field name at offset 1"],
  ["[]", "configuration must be a JSON object, got an array"],
  ["\"x\"", "configuration must be a JSON object, got a string"],
  ["null", "configuration must be a JSON object, got null"],
  ["{\"mode\":\"loose\"}", "field \"mode\": unknown field (known: routing_header, baggage_key, direction, lanes, default_lane, trust_client_lane, carriers, baggage_limits, correlation, local_lane, assign, lane_from, lane_metrics, filter_state, hop_trace)"],
  ["{\"lane_metrics\":1}", "field \"lane_metrics\": must be true or false, got a number"],
  ["{\"baggage_limits\":{\"members\":64}}", "field \"baggage_limits\": must be true or false, got an object"],
  ["{\"filter_state\":\"yes\"}", "field \"filter_state\": must be true or false, got a string"],
  ["{\"hop_trace\":[]}", "field \"hop_trace\": must be true, false or an object, got an array"],
  ["{\"hop_trace\":{\"accept_debug_header\":1}}", "field \"hop_trace.accept_debug_header\": must be true or false, got a number"],
  ["{\"hop_trace\":{\"workload\":\"a,b\"}}", "field \"hop_trace.workload\": \"a,b\" is not a workload name (1-253 printable ASCII characters without spaces, \",\", \"@\" or \"(\")"],
  ["{\"hop_trace\":{\"workload\":\"\"}}", "field \"hop_trace.workload\": \"\" is not a workload name (1-253 printable ASCII characters without spaces, \",\", \"@\" or \"(\")"],
  ["{\"hop_trace\":{\"label\":\"a b\"}}", "field \"hop_trace.label\": \"a b\" is not a label key (1-317 printable ASCII characters, no spaces)"],
  ["{\"hop_trace\":{\"label_to_lane\":{\"v1\":\"s1\"}}}", "field \"hop_trace.label_to_lane\": needs hop_trace.label, the node metadata label it maps"],
  ["{\"hop_trace\":{\"label\":\"version\",\"label_to_lane\":{\"v1\":\"-\"}}}", "field \"hop_trace.label_to_lane.v1\": \"-\" is not a lane name (1-63 characters of [A-Za-z0-9._-] starting with a letter or digit)"],
  ["{\"lanes\":[\"s1\"],\"hop_trace\":{\"label\":\"version\",\"label_to_lane\":{\"v2\":\"s2\"}}}", "field \"hop_trace.label_to_lane.v2\": \"s2\" is not in \"lanes\""],
  ["{\"hop_trace\":{\"trace\":true}}", "field \"hop_trace.trace\": unknown field (known: enabled, accept_debug_header, workload, label, label_to_lane)"],
  ["{\"lane_from\":{}}", "field \"lane_from\": needs a header, cookie or query to take the lane from"],
  ["{\"lane_from\":[]}", "field \"lane_from\": must be an object, got an array"],
  ["{\"lane_from\":{\"header\":\"Version\"}}", "field \"lane_from.header\": \"Version\" must be lowercase (Envoy matches and forwards header names in lowercase)"],
  ["{\"lane_from\":{\"header\":\"baggage\"}}", "field \"lane_from.header\": must not be \"baggage\", the header that carries the lane"],
  ["{\"lane_from\":{\"cookie\":\"a b\"}}", "field \"lane_from.cookie\": \"a b\" is not a cookie name (a token of 1-256 characters)"],
  ["{\"lane_from\":{\"query\":\"\"}}", "field \"lane_from.query\": \"\" is not a query name (a token of 1-256 characters)"],
  ["{\"lane_from\":{\"query\":\"lane\",\"values\":{\"v2\":\"-x\"}}}", "field \"lane_from.values.v2\": \"-x\" is not a lane name (1-63 characters of [A-Za-z0-9._-] starting with a letter or digit)"],
  ["{\"lane_from\":{\"query\":\"lane\",\"values\":{\"\":\"s1\"}}}", "field \"lane_from.values.\": a value must have 1-256 characters"],
  ["{\"lane_from\":{\"query\":\"lane\",\"values\":[]}}", "field \"lane_from.values\": must be an object of value to lane (at most 256), got an array"],
  ["{\"lane_from\":{\"query\":\"lane\",\"trusted\":1}}", "field \"lane_from.trusted\": must be true or false, got a number"],
  ["{\"lane_from\":{\"query\":\"lane\",\"from\":1}}", "field \"lane_from.from\": unknown field (known: header, cookie, query, values, trusted)"],
  ["{\"lanes\":[\"s1\"],\"lane_from\":{\"query\":\"lane\",\"values\":{\"v2\":\"s2\"}}}", "field \"lane_from.values.v2\": \"s2\" is not in \"lanes\""],
  ["{\"trust_client_lane\":false,\"lane_from\":{\"cookie\":\"lane\"}}", "field \"lane_from\": the client names these lanes: with \"trust_client_lane\": false, set \"trusted\": true to take them"],
  ["{\"direction\":\"in\"}", "field \"direction\": \"in\" is not one of \"auto\", \"inbound\", \"outbound\", \"both\""],
  ["{\"direction\":1}", "field \"direction\": must be a string, got a number"],
  ["{\"direction\":\"auto\",\"direction\":\"both\"}", "field \"direction\": given more than once"],
  ["{\"routing_header\":\"X-Lane\"}", "field \"routing_header\": \"X-Lane\" must be lowercase (Envoy matches and forwards header names in lowercase)"],
  ["{\"routing_header\":\"x lane\"}", "field \"routing_header\": \"x lane\" is not an HTTP header name (an RFC 9110 token of 1-256 characters)"],
  ["{\"routing_header\":\"\"}", "field \"routing_header\": \"\" is not an HTTP header name (an RFC 9110 token of 1-256 characters)"],
  ["{\"routing_header\":\":authority\"}", "field \"routing_header\": \":authority\" is not an HTTP header name (an RFC 9110 token of 1-256 characters)"],
  ["{\"routing_header\":\"baggage\"}", "field \"routing_header\": must not be \"baggage\", the header that carries the lane"],
  ["{\"routing_header\":true}", "field \"routing_header\": must be a string, got a boolean"],
  ["{\"baggage_key\":\"a=b\"}", "field \"baggage_key\": \"a=b\" is not a W3C baggage key (a token of 1-256 characters)"],
  ["{\"baggage_key\":\"a%41\"}", "field \"baggage_key\": \"a%41\" holds \"%\", which OpenTelemetry rewrites in baggage keys (any of #$%&+^`|): the lane would not survive an instrumented app"],
  ["{\"baggage_key\":\"lane|x\"}", "field \"baggage_key\": \"lane|x\" holds \"|\", which OpenTelemetry rewrites in baggage keys (any of #$%&+^`|): the lane would not survive an instrumented app"],
  ["{\"routing_header\":\"x-lane+1\"}", "field \"routing_header\": \"x-lane+1\" holds \"+\", which OpenTelemetry rewrites in baggage keys (any of #$%&+^`|): the lane would not survive an instrumented app; it is also the baggage key unless baggage_key is set"],
  ["{\"lanes\":\"s1\"}", "field \"lanes\": must be an array of lane names, got a string"],
  ["{\"lanes\":[\"s1\",2]}", "field \"lanes[1]\": must be a string, got a number"],
  ["{\"lanes\":[\"s1\",\"-x\"]}", "field \"lanes[1]\": \"-x\" is not a lane name (1-63 characters of [A-Za-z0-9._-] starting with a letter or digit)"],
  ["{\"lanes\":[\"s1\",\"s1\"]}", "field \"lanes[1]\": \"s1\" is listed more than once"],
  ["{\"default_lane\":\"s 1\"}", "field \"default_lane\": \"s 1\" is not a lane name (1-63 characters of [A-Za-z0-9._-] starting with a letter or digit)"],
  ["{\"trust_client_lane\":\"false\"}", "field \"trust_client_lane\": must be true or false, got a string"],
  ["{\"trust_client_lane\":0}", "field \"trust_client_lane\": must be true or false, got a number"],
  ["{\"default_lane\":null}", "field \"default_lane\": must be a string, got null"],
  ["{\"lanes\":[\"s1\"],\"default_lane\":\"s2\"}", "field \"default_lane\": \"s2\" is not in \"lanes\""],
  ["{\"default_lane\":\"s\u00e9\"}", "field \"default_lane\": \"s\u00e9\" is not a lane name (1-63 characters of [A-Za-z0-9._-] starting with a letter or digit)"],
  ["{\"correlation\":true}", "field \"correlation\": must be an object, got a boolean"],
  ["{\"correlation\":{\"enabled\":1}}", "field \"correlation.enabled\": must be true or false, got a number"],
  ["{\"correlation\":{\"on\":true}}", "field \"correlation.on\": unknown field (known: enabled, headers, capacity, ttl_ms)"],
  ["{\"correlation\":{\"headers\":[]}}", "field \"correlation.headers\": must be an array of 1-8 header names, got an array"],
  ["{\"correlation\":{\"headers\":\"traceparent\"}}", "field \"correlation.headers\": must be an array of 1-8 header names, got a string"],
  ["{\"correlation\":{\"headers\":[\"traceparent\",\"Traceparent\"]}}", "field \"correlation.headers[1]\": \"Traceparent\" must be lowercase (Envoy matches and forwards header names in lowercase)"],
  ["{\"correlation\":{\"headers\":[\"b3\",\"b3\"]}}", "field \"correlation.headers[1]\": \"b3\" is listed more than once"],
  ["{\"correlation\":{\"headers\":[7]}}", "field \"correlation.headers[0]\": must be a string, got a number"],
  ["{\"correlation\":{\"capacity\":0}}", "field \"correlation.capacity\": must be an integer from 1 to 1048576, got 0"],
  ["{\"correlation\":{\"capacity\":1.5}}", "field \"correlation.capacity\": must be an integer from 1 to 1048576, got a number that is not a whole number in range"],
  ["{\"correlation\":{\"capacity\":\"8\"}}", "field \"correlation.capacity\": must be an integer from 1 to 1048576, got a string"],
  ["{\"correlation\":{\"ttl_ms\":86400001}}", "field \"correlation.ttl_ms\": must be an integer from 1 to 86400000, got 86400001"],
  ["{\"local_lane\":{}}", "field \"local_lane.label\": is required: the node metadata label that holds the workload's lane"],
  ["{\"local_lane\":\"ASM_TRAFFIC_TAG\"}", "field \"local_lane\": must be an object, got a string"],
  ["{\"local_lane\":{\"label\":\"a b\"}}", "field \"local_lane.label\": \"a b\" is not a label key (1-317 printable ASCII characters, no spaces)"],
  ["{\"local_lane\":{\"label\":\"L\",\"label_to_lane\":{\"v1\":\"-\"}}}", "field \"local_lane.label_to_lane.v1\": \"-\" is not a lane name (1-63 characters of [A-Za-z0-9._-] starting with a letter or digit)"],
  ["{\"local_lane\":{\"label\":\"L\",\"label_to_lane\":[]}}", "field \"local_lane.label_to_lane\": must be an object of label value to lane (at most 256), got an array"],
  ["{\"local_lane\":{\"label\":\"L\",\"label_to_lane\":{\"v2\":\"s2\"}},\"lanes\":[\"s1\"]}", "field \"local_lane.label_to_lane.v2\": \"s2\" is not in \"lanes\""],
  ["{\"local_lane\":{\"label\":\"L\",\"lane\":\"s1\"}}", "field \"local_lane.lane\": unknown field (known: label, label_to_lane)"],
  ["{\"assign\":{}}", "field \"assign.weights\": is required, with at least one weight above 0"],
  ["{\"assign\":{\"weights\":{\"s1\":0}}}", "field \"assign.weights\": is required, with at least one weight above 0"],
  ["{\"assign\":{\"weights\":{\"s1\":-1}}}", "field \"assign.weights.s1\": must be an integer from 0 to 1000000, got -1"],
  ["{\"assign\":{\"weights\":{\"s 1\":1}}}", "field \"assign.weights.s 1\": \"s 1\" is not a lane name (1-63 characters of [A-Za-z0-9._-] starting with a letter or digit)"],
  ["{\"assign\":{\"weights\":[60,40]}}", "field \"assign.weights\": must be an object of lane to weight (at most 256 lanes), got an array"],
  ["{\"assign\":{\"weights\":{\"s1\":1},\"sticky_header\":\"X-User\"}}", "field \"assign.sticky_header\": \"X-User\" must be lowercase (Envoy matches and forwards header names in lowercase)"],
  ["{\"assign\":{\"weights\":{\"s1\":1,\"s9\":1}},\"lanes\":[\"s1\"]}", "field \"assign.weights.s9\": \"s9\" is not in \"lanes\""],
  ["{\"assign\":{\"weights\":{\"s1\":1},\"sticky\":\"x\"}}", "field \"assign.sticky\": unknown field (known: weights, sticky_header)"],
  ["{\"assign\":{\"weights\":{\"s1\":1,\"s1\":2}}}", "field \"s1\": given more than once"],
  ["{\"hop_trace\":{\"label\":\"L\",\"label_to_lane\":{\"" + "v".repeat(257) + "\":\"s1\"}}}",
    "field \"hop_trace.label_to_lane." + "v".repeat(76) + "\"...(281 bytes): a label value must have at most 256 characters"],
  ["{\"default_lane\":\"" + "s".repeat(64) + "\"}", "field \"default_lane\": \"" + "s".repeat(64) + "\" is not a lane name (1-63 characters of [A-Za-z0-9._-] starting with a letter or digit)"],
];

describe("configuration errors", () => {
  it("name the field and say why", () => {
    for (let i = 0; i < ERRORS.length; i++) expect(error(ERRORS[i][0])).toBe(ERRORS[i][1], ERRORS[i][0]);
  });
  it("reject deep nesting without overflowing the stack", () => {
    expect(error("[".repeat(100000))).toBe("configuration is not valid JSON: nesting deeper than 32 at offset 33");
  });
  it("take label_to_lane maps of 256 label values of 256 characters", () => {
    let m = "";
    for (let i = 0; i < 256; i++) m += (i > 0 ? "," : "") + "\"" + "v".repeat(250) + i.toString() + "\":\"s1\"";
    const c = parseConfig("{\"local_lane\":{\"label\":\"L\",\"label_to_lane\":{" + m + "}}}").config!;
    expect(c.labelValues.length).toBe(256);
    expect(error("{\"local_lane\":{\"label\":\"L\",\"label_to_lane\":{" + m + ",\"x\":\"s1\"}}}"))
      .toBe("field \"local_lane.label_to_lane\": must be an object of label value to lane (at most 256), got an object");
  });
  it("reject a document of more than 16384 values as too large", () => {
    // The 16385th value starts at 1 + 3 * 16383.
    expect(error("[" + "{},".repeat(20000) + "{}]")).toBe("configuration is too large: more than 16384 values at offset 49150");
  });
  it("reject too many lanes", () => {
    let lanes = "";
    for (let i = 0; i < 257; i++) lanes += (i > 0 ? "," : "") + "\"l" + i.toString() + "\"";
    expect(error("{\"lanes\":[" + lanes + "]}")).toBe("field \"lanes\": has 257 lanes, at most 256 are allowed");
  });
});

describe("optional features", () => {
  it("correlation defaults, off", () => {
    const c = parseConfig("").config!;
    expect(c.correlation).toBe(false);
    expect(c.traceHeaders.join(",")).toBe("traceparent,x-b3-traceid,x-request-id");
    expect(c.capacity).toBe(8192);
    expect(c.ttlMs).toBe(60000);
    const d = parseConfig("{\"correlation\":{\"enabled\":true}}").config!;
    expect(d.correlation).toBe(true);
    expect(d.traceHeaders.length).toBe(3);
  });
  it("reads correlation", () => {
    const c = parseConfig("{\"correlation\":{\"enabled\":true,\"headers\":[\"b3\",\"x-request-id\"],\"capacity\":16,\"ttl_ms\":500}}").config!;
    expect(c.traceHeaders.join(",")).toBe("b3,x-request-id");
    expect(c.capacity).toBe(16);
    expect(c.ttlMs).toBe(500);
  });
  it("maps a label value to a lane", () => {
    const c = parseConfig("{\"lanes\":[\"s1\",\"s2\"],\"local_lane\":{\"label\":\"ASM_TRAFFIC_TAG\",\"label_to_lane\":{\"v1\":\"s1\",\"v2\":\"s2\"}}}").config!;
    expect(c.localLabel).toBe("ASM_TRAFFIC_TAG");
    expect(c.laneForLabel("v2")).toBe("s2");
    expect(c.laneForLabel("v1")).toBe("s1");
    expect(c.laneForLabel("v3")).toBe("");
    expect(c.laneForLabel("")).toBe("");
  });
  it("takes the label value as the lane without a table, if it is a lane and allowed", () => {
    const c = parseConfig("{\"lanes\":[\"s1\",\"s2\"],\"local_lane\":{\"label\":\"lane\"}}").config!;
    expect(c.laneForLabel("s2")).toBe("s2");
    expect(c.laneForLabel("s3")).toBe("");
    expect(c.laneForLabel("-s")).toBe("");
    expect(parseConfig("{\"local_lane\":{\"label\":\"lane\"}}").config!.laneForLabel("anything.1")).toBe("anything.1");
  });
  it("reads assign", () => {
    const c = parseConfig("{\"assign\":{\"weights\":{\"s1\":60,\"s2\":20,\"s3\":0},\"sticky_header\":\"x-user-id\"}}").config!;
    expect(c.assignLanes.join(",")).toBe("s1,s2,s3");
    expect(c.assignWeightsF[0]).toBe(60.0);
    expect(c.assignWeightsF[2]).toBe(0.0);
    expect(c.stickyHeader).toBe("x-user-id");
    expect(c.assignSeeds[0] != c.assignSeeds[1]).toBe(true);
  });
  it("prints the optional features it has", () => {
    const c = parseConfig("{\"correlation\":{\"enabled\":true,\"headers\":[\"b3\"]},\"local_lane\":{\"label\":\"L\",\"label_to_lane\":{\"v2\":\"s2\"}},\"assign\":{\"weights\":{\"s1\":3}}}").config!;
    expect(c.toJSON()).toBe("{\"routing_header\":\"x-asm-prefer-tag\",\"baggage_key\":\"x-asm-prefer-tag\",\"direction\":\"auto\"," +
      "\"lanes\":[],\"default_lane\":\"\",\"trust_client_lane\":true,\"correlation\":{\"enabled\":true,\"headers\":[\"b3\"],\"capacity\":8192,\"ttl_ms\":60000}," +
      "\"local_lane\":{\"label\":\"L\",\"label_to_lane\":{\"v2\":\"s2\"}},\"assign\":{\"weights\":{\"s1\":3},\"sticky_header\":\"\"}}");
    // correlation given but off is not printed
    expect(parseConfig("{\"correlation\":{\"enabled\":false}}").config!.toJSON().includes("correlation")).toBe(false);
  });
});

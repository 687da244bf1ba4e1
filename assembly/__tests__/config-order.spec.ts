// Which error parseConfig reports when a configuration has several: configure logs only the first, so an
// operator fixing one field at a time must see the same one whatever the parser's inner structure.
import { parseConfig } from "../config/config-parse";

function error(json: string): string {
  const r = parseConfig(json);
  return r.config === null ? r.error : "";
}

const DIRECTION = "field \"direction\": \"up\" is not one of \"auto\", \"inbound\", \"outbound\", \"both\"";

describe("the first of several configuration errors", () => {
  it("a repeated key, before any field's own error", () => {
    expect(error("{\"direction\":\"up\",\"direction\":\"up\"}")).toBe("field \"direction\": given more than once");
  });
  it("the first field in key order", () => {
    expect(error("{\"direction\":\"up\",\"routing_header\":\"X\"}")).toBe(DIRECTION);
    expect(error("{\"routing_header\":\"X\",\"direction\":\"up\"}"))
      .toBe("field \"routing_header\": \"X\" must be lowercase (Envoy matches and forwards header names in lowercase)");
    expect(error("{\"nope\":1,\"direction\":\"up\"}").startsWith("field \"nope\": unknown field (known: ")).toBe(true);
    expect(error("{\"assign\":{\"weights\":{}},\"direction\":\"up\"}"))
      .toBe("field \"assign.weights\": is required, with at least one weight above 0");
  });
  it("a field's own error, before the checks across fields", () => {
    expect(error("{\"lanes\":[\"s1\"],\"default_lane\":\"s2\",\"direction\":\"up\"}")).toBe(DIRECTION);
    expect(error("{\"baggage_key\":\"a+b\",\"direction\":\"up\"}")).toBe(DIRECTION);
    expect(error("{\"trust_client_lane\":false,\"lane_from\":{\"cookie\":\"lane\"},\"direction\":\"up\"}")).toBe(DIRECTION);
  });
  it("the checks across fields in a fixed order, whatever the key order", () => {
    const rewrite = "field \"baggage_key\": \"a+b\" holds \"+\", which OpenTelemetry rewrites in baggage keys (any of #$%&+^`|): " +
      "the lane would not survive an instrumented app";
    expect(error("{\"lanes\":[\"s1\"],\"default_lane\":\"s2\",\"baggage_key\":\"a+b\"}")).toBe(rewrite);
    expect(error("{\"lanes\":[\"s1\"],\"default_lane\":\"s2\",\"carriers\":[\"jaeger\"],\"baggage_key\":\"Lane\"}"))
      .toBe("field \"carriers[0]\": \"jaeger\" needs a lowercase baggage key, got \"Lane\": the key rides in a header name, which Envoy lowercases");
    expect(error("{\"local_lane\":{\"label\":\"L\",\"label_to_lane\":{\"v\":\"s3\"}},\"lanes\":[\"s1\"],\"default_lane\":\"s2\"}"))
      .toBe("field \"default_lane\": \"s2\" is not in \"lanes\"");
    expect(error("{\"assign\":{\"weights\":{\"s9\":1}},\"local_lane\":{\"label\":\"L\",\"label_to_lane\":{\"v\":\"s3\"}},\"lanes\":[\"s1\"]}"))
      .toBe("field \"local_lane.label_to_lane.v\": \"s3\" is not in \"lanes\"");
    expect(error("{\"lane_from\":{\"query\":\"q\",\"values\":{\"v\":\"s4\"},\"trusted\":true},\"assign\":{\"weights\":{\"s9\":1}},\"lanes\":[\"s1\"]}"))
      .toBe("field \"assign.weights.s9\": \"s9\" is not in \"lanes\"");
    expect(error("{\"trust_client_lane\":false,\"lane_from\":{\"cookie\":\"lane\",\"values\":{\"v2\":\"s2\"}},\"lanes\":[\"s1\"]}"))
      .toBe("field \"lane_from.values.v2\": \"s2\" is not in \"lanes\"");
  });
  it("a baggage key given explicitly takes the rewrite error from routing_header", () => {
    expect(error("{\"routing_header\":\"x+1\",\"baggage_key\":\"lane\"}")).toBe("");
    expect(error("{\"baggage_key\":\"lane\",\"routing_header\":\"x+1\"}")).toBe("");
  });
});

import { parseConfig, DIR_AUTO, DIR_INBOUND, DIR_OUTBOUND, DIR_BOTH } from "../config";

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
  ["{\"mode\":\"loose\"}", "field \"mode\": unknown field (known: routing_header, baggage_key, direction, lanes, default_lane, trust_client_lane)"],
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
];

describe("configuration errors", () => {
  it("name the field and say why", () => {
    for (let i = 0; i < ERRORS.length; i++) expect(error(ERRORS[i][0])).toBe(ERRORS[i][1], ERRORS[i][0]);
  });
  it("reject deep nesting without overflowing the stack", () => {
    expect(error("[".repeat(100000))).toBe("configuration is not valid JSON: nesting deeper than 32 at offset 33");
  });
  it("reject too many lanes", () => {
    let lanes = "";
    for (let i = 0; i < 257; i++) lanes += (i > 0 ? "," : "") + "\"l" + i.toString() + "\"";
    expect(error("{\"lanes\":[" + lanes + "]}")).toBe("field \"lanes\": has 257 lanes, at most 256 are allowed");
  });
});

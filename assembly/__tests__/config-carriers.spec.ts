import { parseConfig } from "../config/config-parse";
import { CARRIER_BAGGAGE, CARRIER_JAEGER, CARRIER_OTTRACE, CARRIER_TRACESTATE } from "../config/carrier-table";

function error(json: string): string {
  const r = parseConfig(json);
  return r.config === null ? r.error : "";
}

// [carriers JSON, the carriers in order as bits]
const GOOD: string[][] = [
  ["[\"baggage\"]", "1"],
  ["[\"jaeger\"]", "2"],
  ["[\"ottrace\",\"baggage\"]", "4,1"],
  ["[\"tracestate\",\"jaeger\",\"baggage\",\"ottrace\"]", "8,2,1,4"],
];

const BAD: string[][] = [
  ["{\"carriers\":\"baggage\"}", "field \"carriers\": must be an array of 1-4 carrier names (\"baggage\", \"jaeger\", \"ottrace\", \"tracestate\"), got a string"],
  ["{\"carriers\":[]}", "field \"carriers\": must be an array of 1-4 carrier names (\"baggage\", \"jaeger\", \"ottrace\", \"tracestate\"), got an array"],
  ["{\"carriers\":[\"baggage\",\"jaeger\",\"ottrace\",\"tracestate\",\"baggage\"]}", "field \"carriers\": must be an array of 1-4 carrier names (\"baggage\", \"jaeger\", \"ottrace\", \"tracestate\"), got an array"],
  ["{\"carriers\":[\"b3\"]}", "field \"carriers[0]\": \"b3\" is not a carrier (one of \"baggage\", \"jaeger\", \"ottrace\", \"tracestate\")"],
  ["{\"carriers\":[\"baggage\",\"Jaeger\"]}", "field \"carriers[1]\": \"Jaeger\" is not a carrier (one of \"baggage\", \"jaeger\", \"ottrace\", \"tracestate\")"],
  ["{\"carriers\":[\"jaeger\",1]}", "field \"carriers[1]\": must be a string, got a number"],
  ["{\"carriers\":[\"jaeger\",\"jaeger\"]}", "field \"carriers[1]\": \"jaeger\" is listed more than once"],
  ["{\"baggage_key\":\"Lane\",\"carriers\":[\"baggage\",\"jaeger\"]}", "field \"carriers[1]\": \"jaeger\" needs a lowercase baggage key, got \"Lane\": the key rides in a header name, which Envoy lowercases"],
  ["{\"baggage_key\":\"Lane\",\"carriers\":[\"ottrace\"]}", "field \"carriers[0]\": \"ottrace\" needs a lowercase baggage key, got \"Lane\": the key rides in a header name, which Envoy lowercases"],
  ["{\"baggage_key\":\"1lane\",\"carriers\":[\"tracestate\"]}", "field \"carriers[0]\": \"tracestate\" needs a baggage key that is a W3C tracestate key (lowercase letters, digits and _-*, a letter first), got \"1lane\""],
  ["{\"baggage_key\":\"la.ne\",\"carriers\":[\"tracestate\"]}", "field \"carriers[0]\": \"tracestate\" needs a baggage key that is a W3C tracestate key (lowercase letters, digits and _-*, a letter first), got \"la.ne\""],
];

describe("carriers", () => {
  it("defaults to baggage alone, and is not printed then", () => {
    const c = parseConfig("").config!;
    expect(c.carriers.length).toBe(1);
    expect(c.carriers[0]).toBe(CARRIER_BAGGAGE);
    expect(c.carrierMask).toBe(CARRIER_BAGGAGE);
    expect(c.toJSON().includes("carriers")).toBe(false);
  });
  it("keeps the configured order (the first carrier with a valid lane wins)", () => {
    for (let i = 0; i < GOOD.length; i++) {
      const r = parseConfig("{\"carriers\":" + GOOD[i][0] + "}");
      expect(r.error).toBe("", GOOD[i][0]);
      const c = r.config!;
      const bits: string[] = [];
      let mask = 0;
      for (let j = 0; j < c.carriers.length; j++) { bits.push(c.carriers[j].toString()); mask |= c.carriers[j]; }
      expect(bits.join(",")).toBe(GOOD[i][1], GOOD[i][0]);
      expect(c.carrierMask).toBe(mask);
    }
  });
  it("prints a configured list", () => {
    const c = parseConfig("{\"carriers\":[\"tracestate\",\"baggage\"]}").config!;
    expect(c.toJSON().includes(",\"carriers\":[\"tracestate\",\"baggage\"]")).toBe(true);
    expect(c.carrierMask).toBe(CARRIER_TRACESTATE | CARRIER_BAGGAGE);
  });
  it("refuses a bad list, naming the entry", () => {
    for (let i = 0; i < BAD.length; i++) expect(error(BAD[i][0])).toBe(BAD[i][1], BAD[i][0]);
  });
  it("takes the default key (the routing header) for every carrier, and a lowercase tracestate key", () => {
    expect(error("{\"carriers\":[\"baggage\",\"jaeger\",\"ottrace\",\"tracestate\"]}")).toBe("");
    expect(error("{\"baggage_key\":\"lane-1_*\",\"carriers\":[\"tracestate\"]}")).toBe("");
    expect(parseConfig("{\"carriers\":[\"jaeger\",\"ottrace\"]}").config!.carrierMask).toBe(CARRIER_JAEGER | CARRIER_OTTRACE);
    // A capital in the key is fine for baggage alone (W3C keys are case-sensitive).
    expect(error("{\"baggage_key\":\"Lane\"}")).toBe("");
  });
});

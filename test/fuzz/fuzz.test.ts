// A bounded fuzz run in npm test (npm run fuzz runs longer ones), and the fuzzer's own oracles.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fuzz, configureLogProblem, MAX_REFUSAL_LINE } from "./fuzz.ts";
import { judge, referenceLane, keptMembers, CorrelationModel, traceIdOf } from "./model.ts";

describe("fuzzing the built module", () => {
  it("100k generated and mutated requests: no trap, every oracle holds, memory flat", async () => {
    const seed = Number(process.env.FUZZ_SEED ?? 1);
    const rep = await fuzz(Number(process.env.FUZZ_ITERATIONS ?? 100_000), seed);
    assert.equal(rep.failure, undefined, rep.failure);
    assert.equal(rep.requests, Number(process.env.FUZZ_ITERATIONS ?? 100_000));
    assert.ok(rep.invalidConfigs > 0 && rep.invalidConfigs < rep.configs);
    // Long strings in fields and keys, many members, padding: configured or refused, lines bounded.
    assert.ok(rep.longConfigs > 0, `${rep.longConfigs} long configurations`);
    assert.equal(rep.memoryAtEnd, rep.memoryAfterWarmup);
    // Every lane source was exercised, so the oracles above judged each of them.
    for (const [source, n] of Object.entries(rep.sources)) assert.ok(n > 100, `${source}: ${n}`);
  });
});

describe("the fuzzer's oracles catch what they must", () => {
  const base: [string, string][] = [[":path", "/"]];
  it("a fallback lane that is not the model's (trace, local, weighted)", () => {
    const tp: [string, string] = ["traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"];
    const model = new CorrelationModel();
    const cfg = { correlation: { enabled: true }, default_lane: "s1" };
    model.record(cfg, [...base, tp], "s2", "inbound");
    assert.equal(judge(cfg, [...base, tp], [...base, tp, ["x-asm-prefer-tag", "s2"], ["baggage", "x-asm-prefer-tag=s2"]], 2, model), null);
    assert.match(judge(cfg, [...base, tp], [...base, tp, ["x-asm-prefer-tag", "s1"], ["baggage", "x-asm-prefer-tag=s1"]], 2, model)!, /expected "s2"/);
    model.nowMs += 60_001;
    assert.match(judge(cfg, [...base, tp], [...base, tp, ["x-asm-prefer-tag", "s2"], ["baggage", "x-asm-prefer-tag=s2"]], 2, model)!, /expected "s1"/);
    const weighted = { assign: { weights: { s1: 1, s2: 0 }, sticky_header: "x-user-id" } };
    assert.match(judge(weighted, base, [...base, ["x-asm-prefer-tag", "s2"], ["baggage", "x-asm-prefer-tag=s2"]], 2)!, /expected a lane with weight: s1/);
    assert.match(judge({ local_lane: { label: "lane" } }, base, [...base, ["x-asm-prefer-tag", "s1"], ["baggage", "x-asm-prefer-tag=s1"]], 2)!, /expected "s3"/);
  });
  it("a configure log line too long, or a refusal in more than one line", () => {
    const refusal = "lane-tag: invalid configuration: field \"default_lane\": ";
    assert.equal(configureLogProblem([refusal + "x".repeat(MAX_REFUSAL_LINE - refusal.length)], true), null);
    assert.match(configureLogProblem([refusal + "x".repeat(MAX_REFUSAL_LINE)], true)!, /a log line of \d+ bytes/);
    assert.match(configureLogProblem([refusal, refusal], true)!, /2 log lines for a refusal/);
    assert.match(configureLogProblem(["lane-tag: local_lane: node.metadata.LABELS." + "x".repeat(1000)], false)!, /a log line of/);
    assert.equal(configureLogProblem(["lane-tag 0.1.0 configured: {" + "x".repeat(5000)], false), null);
  });
  it("trace ids by byte position, as the module reads them", () => {
    assert.equal(traceIdOf("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), "4bf92f3577b34da6a3ce929d0e0e4736");
    // One two-byte character in the parent id moves the last "-" off byte 52.
    assert.equal(traceIdOf("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b\u00e9-01"), null);
    assert.equal(traceIdOf("b3", "4bf92f3577b34da6-1"), "4bf92f3577b34da6");
    assert.equal(traceIdOf("x-request-id", "a b"), null);
    const root = "1-5759e988-bd862e3fe1be46a994272793";
    assert.equal(traceIdOf("x-amzn-trace-id", `Self=1-67891233-12456789abcdef0123456789; root=${root}\t;Sampled=1`), root);
    assert.equal(traceIdOf("x-amzn-trace-id", `Root=${root};Root=`), null);
    assert.equal(traceIdOf("x-amzn-trace-id", `Root= ${root}`), null);
    assert.equal(traceIdOf("x-amzn-trace-id", "Root=1-00000000-000000000000000000000000"), null);
  });
  it("an invalid or duplicated routing header", () => {
    assert.match(judge({}, base, [...base, ["x-asm-prefer-tag", "bad lane"]], 2)!, /invalid routing header/);
    assert.match(judge({}, base, [...base, ["x-asm-prefer-tag", "s1"], ["x-asm-prefer-tag", "s1"]], 2)!, /2 routing headers/);
    assert.match(judge({ lanes: ["s1"] }, base, [...base, ["x-asm-prefer-tag", "s2"]], 2)!, /invalid routing header/);
  });
  it("CR/LF/NUL in a written header", () => {
    assert.match(judge({}, base, [...base, ["x-other", "a\r\nb"]], 2)!, /CR\/LF\/NUL/);
  });
  it("a dropped or altered member", () => {
    const input: [string, string][] = [...base, ["baggage", "a=1,b=2"], ["x-asm-prefer-tag", "s1"]];
    assert.match(judge({}, input, [...base, ["baggage", "a=1,x-asm-prefer-tag=s1"], ["x-asm-prefer-tag", "s1"]], 2)!, /other baggage members changed/);
    assert.match(judge({}, input, [...base, ["baggage", "a=1,b=3,x-asm-prefer-tag=s1"], ["x-asm-prefer-tag", "s1"]], 2)!, /other baggage members changed/);
    assert.equal(judge({}, input, [...base, ["baggage", "x-asm-prefer-tag=s1,a=1,b=2"], ["x-asm-prefer-tag", "s1"]], 2), null);
  });
  it("a lane member written anywhere but first", () => {
    const input: [string, string][] = [...base, ["baggage", "a=1,b=2"], ["x-asm-prefer-tag", "s1"]];
    assert.match(judge({}, input, [...base, ["baggage", "a=1,b=2,x-asm-prefer-tag=s1"], ["x-asm-prefer-tag", "s1"]], 2)!, /the lane member is not first/);
  });
  it("a lane other than the spec's", () => {
    const input: [string, string][] = [...base, ["baggage", "x-asm-prefer-tag=s2"], ["x-asm-prefer-tag", "s1"]];
    assert.match(judge({ direction: "outbound" }, input, input, 2)!, /routing header "s1", expected "s2"/);
    assert.match(judge({ direction: "inbound" }, input, input, 1)!, /baggage lane "s2", expected "s1"/);
  });
  it("a client's lane member left behind at a gateway, in any spelling", () => {
    const cfg = { direction: "both", trust_client_lane: false };
    const input: [string, string][] = [...base, ["baggage", "a=1,x-asm-prefer%2Dtag=s2"]];
    assert.match(judge(cfg, input, input, 2)!, /a client lane member survived/);
    assert.equal(judge(cfg, input, [...base, ["baggage", "a=1"]], 2), null);
  });
  it("the reference model reads the spec's examples", () => {
    assert.equal(referenceLane(" a=1 , x-asm-prefer-tag = s%32 ;p, x-asm-prefer-tag=%zz", {}), "s2");
    assert.equal(referenceLane("x-asm-prefer-tag=s1,x-asm-prefer-tag=s3", { lanes: ["s1"] }), "s1");
    assert.deepEqual(keptMembers(" a=1 ,,x-asm-prefer-tag=s1, b=\u0000", "x-asm-prefer-tag"), ["a=1"]);
  });
});

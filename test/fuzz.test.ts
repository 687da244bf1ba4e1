// A bounded fuzz run in npm test (npm run fuzz runs longer ones), and the fuzzer's own oracles.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fuzz, judge, referenceLane, keptMembers } from "./fuzz.ts";

describe("fuzzing the built module", () => {
  it("100k generated and mutated requests: no trap, every oracle holds, memory flat", async () => {
    const seed = Number(process.env.FUZZ_SEED ?? 1);
    const rep = await fuzz(Number(process.env.FUZZ_ITERATIONS ?? 100_000), seed);
    assert.equal(rep.failure, undefined, rep.failure);
    assert.equal(rep.requests, Number(process.env.FUZZ_ITERATIONS ?? 100_000));
    assert.ok(rep.invalidConfigs > 0 && rep.invalidConfigs < rep.configs);
    assert.equal(rep.memoryAtEnd, rep.memoryAfterWarmup);
  });
});

describe("the fuzzer's oracles catch what they must", () => {
  const base: [string, string][] = [[":path", "/"]];
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
    assert.equal(judge({}, input, [...base, ["baggage", "a=1,b=2,x-asm-prefer-tag=s1"], ["x-asm-prefer-tag", "s1"]], 2), null);
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

// The correlation demo's check: a lane lost because a full trace table gave up its record is reported
// apart (counted from trace_evicted), a lane lost any other way still fails; trace ids follow the seed.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadSpec } from "../../deploy/lib/spec.ts";
import { runDemo } from "../../demo/demo.ts";
import { traceparents } from "../../demo/mesh.ts";
import { checkRun, lostAt, type Result } from "../../demo/core/client.ts";
import { ROOT } from "../support/helpers.ts";

const spec = loadSpec(join(ROOT, "deploy/lanes.example.yaml"));

// A request's result from its chain's versions (mocka, mockb, mockc).
const result = (lane: string, versions: string[]): Result => {
  const hops = ["mocka", "mockb", "mockc"].map((app, k) => ({ app, version: versions[k], ip: "127.0.0.1" }));
  return { lane, status: 200, body: hops.map((h) => `-> ${h.app}(version: ${h.version}, ip: ${h.ip})`).join(" "), hops };
};

describe("correlation demo: lanes lost to a full trace table", () => {
  it("the workload that lost a lane is the one before the first hop off the lane's chain", () => {
    assert.equal(lostAt(spec, result("s3", ["v1", "v1", "v1"])), "mocka-v1");
    assert.equal(lostAt(spec, result("s2", ["v2", "v1", "v1"])), "mockb-v1");
    assert.equal(lostAt(spec, result("s2", ["v1", "v1", "v2"])), undefined, "off at the gateway: no sidecar to blame");
    assert.equal(lostAt(spec, result("s3", ["v1", "v3", "v1"])), undefined);
  });

  it("puts apart one lost lane per record the workload's table gave up; any other stays a failure", () => {
    const results = [result("s3", ["v1", "v3", "v1"]), result("s3", ["v1", "v1", "v1"]), result("s3", ["v1", "v1", "v1"]), result("s2", ["v2", "v1", "v1"])];
    const none = checkRun(spec, results, { filter: true });
    assert.equal(none.failures.length, 3);
    assert.deepEqual(none.evicted, []);
    const some = checkRun(spec, results, { filter: true, evicted: new Map([["mocka-v1", 1], ["mockc-v1", 5]]) });
    assert.deepEqual(some.evicted, ["request 1 in lane s3: mocka v1 → mockb v1 → mockc v1, expected v1 → v3 → v1 (mocka-v1's trace table gave up records)"]);
    assert.deepEqual(some.failures, [
      "request 2 in lane s3: mocka v1 → mockb v1 → mockc v1, expected v1 → v3 → v1",
      "request 3 in lane s2: mocka v2 → mockb v1 → mockc v1, expected v2 → v1 → v2",
    ]);
  });

  it("a table of 4 slots under 16 requests in flight: lanes lost and reported as evictions, no failure", async () => {
    const tiny = { ...spec, correlation: { capacity: 4 } };
    const r = await runDemo({ requests: 300, seed: 5, withFilter: true, quiet: true, concurrency: 16, mode: "correlation" }, tiny, () => {});
    assert.deepEqual(r.failures, []);
    assert.ok(r.evicted.length > 0, "some lanes were lost");
    for (const e of r.evicted) assert.match(e, /^request \d+ in lane s[23]: .*\((mocka|mockb)-v1's trace table gave up records\)$/);
  });

  it("two traces in flight that hash to one slot keep their lanes (seed 139: requests 20 in s3 and 21 in s1)", async () => {
    const r = await runDemo({ requests: 40, seed: 139, withFilter: true, quiet: true, concurrency: 8, mode: "correlation" }, spec, () => {});
    assert.deepEqual(r.failures, []);
    assert.deepEqual(r.evicted, []);
  });

  it("the gateway's trace ids follow the seed", () => {
    const take = (next: () => string) => Array.from({ length: 3 }, next);
    assert.deepEqual(take(traceparents(49)), take(traceparents(49)));
    assert.notDeepEqual(take(traceparents(49)), take(traceparents(50)));
    for (const t of take(traceparents(49))) assert.match(t, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.notDeepEqual(take(traceparents()), take(traceparents()), "random without a seed");
  });
});

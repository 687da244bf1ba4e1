// lanes status --ambient: the services of an ambient spec that no scraped waypoint serves, from Envoy's
// Prometheus text as the emulator renders it for the built module in the waypoint role; and the CLI.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Host, prometheusText } from "../../emulator/index.ts";
import { LANE_STATS_TAGS } from "../../deploy/lib/observe.ts";
import { loadSpec, parseSpec } from "../../deploy/lib/spec.ts";
import { routingPlan } from "../../deploy/lib/plan.ts";
import { formatStatus, laneStatus, parsePrometheus, type StatusSource } from "../../deploy/lib/status.ts";
import { waypointSignals } from "../../deploy/lib/status-ambient.ts";
import { ROOT, wasmBytes, base, UNSET } from "../support/helpers.ts";
import { MOCKB } from "./status-fixtures.ts";

const EXAMPLE = join(ROOT, "deploy/lanes.example.yaml");
const plan = routingPlan(loadSpec(EXAMPLE));

/** A proxy running the plan's waypoint filter (lane metrics on) that saw `requests` lane requests; its samples. */
async function waypointSamples(requests: number, p = plan) {
  const host = await Host.load(wasmBytes());
  const f = host.configure({ configuration: JSON.stringify({ ...p.filters.waypoint, lane_metrics: true }) });
  assert.equal(f.failed, false, host.logs.map((l) => l.message).join("\n"));
  for (let i = 0; i < requests; i++) f.request([...base, ["baggage", "x-asm-prefer-tag=s3"]], UNSET);
  return parsePrometheus(prometheusText(host.envoyStats(), LANE_STATS_TAGS));
}

const nsLine = (svc: string) => `  ${svc}: no waypoint reports its traffic (no target is waypoint waypoint with requests counted): lanes reach the baseline there; ` +
  "label the namespace istio.io/use-waypoint=waypoint (kubectl label namespace default istio.io/use-waypoint=waypoint), and pass the waypoint's admin as a target";

describe("waypointSignals", () => {
  it("the namespace waypoint counts lane requests: no service named", async () => {
    const sources: StatusSource[] = [{ workload: "waypoint", samples: await waypointSamples(4) }];
    assert.deepEqual(waypointSignals(plan, sources), []);
    assert.match(formatStatus(laneStatus(sources)), /^waypoint +both +s3 +4 +baggage 4$/m);
  });

  it("no waypoint among the targets, or one that counted nothing: every service named, with the label to set", async () => {
    for (const sources of [[{ workload: "gateway", samples: parsePrometheus(MOCKB) }], [{ workload: "waypoint", samples: await waypointSamples(0) }]]) {
      const report = laneStatus(sources);
      report.signals.push(...waypointSignals(plan, sources));
      const out = formatStatus(report);
      for (const svc of ["mocka", "mockb", "mockc"]) assert.ok(out.includes(`${nsLine(svc)}\n`), out);
    }
  });

  it("per-service waypoints: only the services whose own waypoint counts nothing", async () => {
    const text = readFileSync(EXAMPLE, "utf8") + "ambient:\n  scope: service\n";
    const perService = routingPlan(parseSpec(text, "per-service.yaml"));
    const sources: StatusSource[] = [{ workload: "mocka-waypoint", samples: await waypointSamples(2, perService) }, { workload: "mockb-waypoint", samples: await waypointSamples(0, perService) }];
    assert.deepEqual(waypointSignals(perService, sources).map((s) => s.text), ["mockb", "mockc"].map((svc) =>
      `${svc}: no waypoint reports its traffic (no target is waypoint ${svc}-waypoint with requests counted): lanes reach the baseline there; ` +
      `label the service istio.io/use-waypoint=${svc}-waypoint (kubectl label service ${svc} -n default istio.io/use-waypoint=${svc}-waypoint), and pass the waypoint's admin as a target`));
  });
});

function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((ok) => {
    execFile(process.execPath, ["--import", "tsx", "deploy/lanes.ts", ...args], { cwd: ROOT, encoding: "utf8" }, (e, out, err) => {
      ok({ code: e ? (typeof e.code === "number" ? e.code : -1) : 0, out, err });
    });
  });
}

describe("npm run lanes -- status --ambient", { concurrency: true }, () => {
  let admin: Server, addr = "", dir = "";
  before(async () => {
    admin = createServer((_req, res) => res.end(MOCKB));
    await new Promise<void>((ok) => admin.listen(0, "127.0.0.1", () => ok()));
    addr = `127.0.0.1:${(admin.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), "lanes-status-"));
  });
  after(() => {
    admin.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("names the services a scraped waypoint does not serve; the target named waypoint serves them all", async () => {
    const missing = await run(["status", "--ambient", EXAMPLE, `gateway=${addr}`]);
    assert.equal(missing.code, 0, missing.err);
    assert.ok(missing.out.endsWith(["mocka", "mockb", "mockc"].map((s) => `${nsLine(s)}\n`).join("")), missing.out);
    const served = await run(["status", "--ambient", EXAMPLE, `waypoint=${addr}`]);
    assert.equal(served.code, 0, served.err);
    assert.doesNotMatch(served.out, /no waypoint reports/);
    // Without --ambient nothing is said of waypoints.
    assert.doesNotMatch((await run(["status", `gateway=${addr}`])).out, /no waypoint reports/);
  });

  it("a spec without the ambient target, or no spec at all: exit 2, named", async () => {
    const sidecarOnly = join(dir, "sidecar.yaml");
    writeFileSync(sidecarOnly, `${readFileSync(EXAMPLE, "utf8")}targets: [asm, istio]\n`);
    const r = await run(["status", "--ambient", sidecarOnly, addr]);
    assert.equal(r.code, 2);
    assert.match(r.err, /^--ambient .*sidecar\.yaml: the spec's targets leave ambient out/);
    const gone = await run(["status", "--ambient", join(dir, "nope.yaml"), addr]);
    assert.equal(gone.code, 2);
    assert.match(gone.err, /^--ambient .*nope\.yaml: /);
  });
});

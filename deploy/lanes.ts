// npm run lanes -- status [name=]<admin-url>... [--timeout S] [--ambient lanes.yaml]
// Where do lanes go: reads the lane counters of running sidecars from their Envoy admin (/stats/prometheus)
// and prints, per workload, direction and lane, the requests and where their lane came from, then the
// signals worth acting on (deploy/lib/status.ts). Needs the filter's "lane_metrics": true and the
// proxies' stats_tags for the table. With --ambient, also the spec's services that no scraped waypoint serves.
import { integer, readCommand, UsageError } from "./lib/cli.ts";
import { fetchStatus, formatStatus, laneStatus, parseTarget, TargetError } from "./lib/status.ts";
import { waypointSignals } from "./lib/status-ambient.ts";
import { loadSpec } from "./lib/spec.ts";
import { SpecError } from "./lib/spec-check.ts";
import { routingPlan, type RoutingPlan } from "./lib/plan.ts";

const COMMANDS = ["status"] as const;

const LANES = {
  usage: "npm run lanes -- status [name=]<admin-url>... [--timeout S] [--ambient lanes.yaml]",
  description: `status  reads each sidecar's Envoy admin /stats/prometheus and prints one row per workload, direction and
        lane that saw requests, with where their lanes came from (baggage, header, default, trace, ...), then
        the signals: a workload whose app drops the lane, lanes kept only by trace correlation, invalid lanes,
        proxies where lane_metrics is off or the stats_tags are missing.
  [name=]<admin-url>  a proxy's admin address (Istio: kubectl port-forward <pod> 15000, then
                      http://127.0.0.1:15000; http:// may be left out); without a name the workload is
                      named by /server_info (node.metadata.WORKLOAD_NAME, else node.id), else host:port.
                      Targets with the same name are summed (replicas of one workload).
  --timeout S         seconds to wait for each proxy (default 5)
  --ambient F         the targets are an Istio ambient mesh of lanes spec F (its waypoints among them): also
                      name each service of F whose waypoint is not a target counting requests (its lanes
                      reach the baseline there: the service or namespace lacks istio.io/use-waypoint)
Exit status: 0 when at least one target was read (those that were not are named on stderr), 1 when none
was, 2 for a wrong command line.`,
  options: { timeout: { type: "string", default: "5" }, ambient: { type: "string" } },
  commands: COMMANDS,
  repeated: "an admin URL ([name=]<admin-url>)",
} as const;

export async function main(argv: string[]): Promise<number> {
  const { targets, timeout, ambient } = readCommand(LANES, argv, ({ values, positionals: [, ...targets] }) => {
    for (const t of targets) {
      try {
        parseTarget(t);
      } catch (e) {
        if (e instanceof TargetError) throw new UsageError(e.message);
        throw e;
      }
    }
    return { targets, timeout: integer("timeout", values.timeout, 1)!, ambient: values.ambient };
  });
  let plan: RoutingPlan | undefined;
  if (ambient !== undefined) {
    try {
      plan = routingPlan(loadSpec(ambient));
    } catch (e) {
      if (!(e instanceof SpecError)) throw e;
      console.error(`--ambient ${ambient}: ${e.message}`);
      return 2;
    }
    if (!plan.spec.ambient) {
      console.error(`--ambient ${ambient}: the spec's targets leave ambient out, so it has no waypoints to look for`);
      return 2;
    }
  }

  const sources = await fetchStatus(targets, timeout * 1000);
  const read = sources.filter((s) => s.error === undefined);
  for (const s of sources) if (s.error !== undefined) console.error(`${s.workload} (${s.target}): ${s.error}`);
  if (read.length === 0) {
    console.error(sources.length === 1 ? "the target could not be read" : `none of the ${sources.length} targets could be read`);
    return 1;
  }
  const report = laneStatus(read);
  if (plan) report.signals.push(...waypointSignals(plan, read));
  process.stdout.write(formatStatus(report));
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv.slice(2));

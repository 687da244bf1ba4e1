// The bench's "cost per carrier set" section: each carrier set the generated configurations can hold, on
// three requests (the lane in the set's first carrier, an inbound routing header written into every carrier,
// no lane), against the reference and the default ["baggage"] on the same request; then a carrier that is
// not configured, on a request that carries its headers anyway. Rows are checked (carrier-rows.ts) first.
import type { Host, Header, Plugin } from "../../emulator/index.ts";
import type { Scenario } from "./scenarios.ts";
import { lane3 } from "./inputs.ts";
import { CARRIER_SETS, carrierConfig, carrierRows, expectedChanges, unconfigured, wrongOutput, type CarrierRow } from "./carrier-rows.ts";
import { median, run, spread, x, ns } from "./timing.ts";

const isDefault = (r: CarrierRow) => r.set.length === 1 && r.set[0] === "baggage";
const scenario = (headers: Header[], direction: number): Scenario => ({ name: "", headers, direction, config: direction === 1 ? "inbound" : "outbound" });

interface Timed { scenario: Scenario; plugin: Plugin; times: number[] }

/**
 * The table. Rows whose requests are equal share the reference's and baggage-only's runs; every run of a
 * repetition is interleaved with the others, so this machine's noise moves all rows alike.
 */
export function carrierCosts(host: Host, ref: Plugin, reps: number, requests: number, print: (rows: string[][]) => void) {
  console.log(`\ncost per carrier set (median of ${reps} repetitions of ${requests} requests, interleaved; "/ baggage-only": to the default ["baggage"] on the same request):`);
  const plugin = new Map<string, Plugin>();
  const pluginFor = (set: readonly string[], dir: number) => {
    const key = `${set.join(",")}/${dir}`;
    let p = plugin.get(key);
    if (!p) {
      p = host.configure({ configuration: JSON.stringify(carrierConfig(set as CarrierRow["set"], dir === 1 ? "inbound" : "outbound")) });
      if (p.failed) throw new Error(`configure failed: carriers ${set.join(",")}`);
      plugin.set(key, p);
    }
    return p;
  };
  // One yardstick pair per distinct request: the reference and baggage-only on it.
  const shared = new Map<string, { ref: Timed; baggage: Timed }>();
  const rows: { row: CarrierRow; lane: Timed; ref: Timed; baggage: Timed }[] = [];
  for (const set of CARRIER_SETS) for (const row of carrierRows(set)) {
    const p = pluginFor(set, row.direction);
    const wrong = wrongOutput(p, row.headers, row.direction, expectedChanges(row));
    if (wrong) throw new Error(`carriers ${set.join(",")}, ${row.label}: ${wrong} (the bench would time a broken path)`);
    const key = `${row.direction} ${JSON.stringify(row.headers)}`;
    const sc = scenario(row.headers, row.direction);
    let y = shared.get(key);
    if (!y) shared.set(key, y = { ref: { scenario: sc, plugin: ref, times: [] }, baggage: { scenario: sc, plugin: pluginFor(["baggage"], row.direction), times: [] } });
    rows.push({ row, ref: y.ref, baggage: y.baggage, lane: isDefault(row) ? y.baggage : { scenario: sc, plugin: p, times: [] } });
  }
  const runs = [...new Set(rows.flatMap((r) => [r.ref, r.baggage, r.lane]))];
  for (const t of runs) run(t.plugin, t.scenario, 5_000); // warm-up
  for (let i = 0; i < reps; i++) for (const t of runs) t.times.push(run(t.plugin, t.scenario, requests));
  const out = [["carriers", "request", "reference ns/req", "lane-tag ns/req (min / median / max)", "lane-tag / reference", "/ baggage-only"]];
  for (const { row, lane, ref: r, baggage } of rows) {
    const l = median(lane.times);
    out.push([row.set.join(","), row.label, ns(median(r.times)), spread(lane.times), x(l, median(r.times)), isDefault(row) ? "(itself)" : x(l, median(baggage.times))]);
  }
  print(out);
}

/** ["baggage"] on the 3-member baggage request, with and without the other carriers' headers (lane and trace context). */
export function unconfiguredCost(host: Host, ref: Plugin, reps: number, requests: number, print: (rows: string[][]) => void) {
  console.log(`\na carrier that is not configured costs nothing: ["baggage"], the 3-member baggage request with and without uberctx-, ot-baggage-, ot-tracer-* and tracestate headers (median of ${reps}, interleaved; the reference's "with / without" is the host's share of the extra headers):`);
  const p = host.configure({ configuration: JSON.stringify(carrierConfig(["baggage"], "outbound")) });
  const cases: [string, Header[]][] = [["with the other carriers' headers", unconfigured], ["without them", lane3]];
  for (const [name, headers] of cases) {
    const wrong = wrongOutput(p, headers, 2, { "x-asm-prefer-tag": ["s2"] });
    if (wrong) throw new Error(`not-configured carriers, ${name}: ${wrong}`);
  }
  const t = cases.map(([, h]) => ({ sc: scenario(h, 2), r: [] as number[], l: [] as number[] }));
  for (const c of t) { run(p, c.sc, 5_000); run(ref, c.sc, 5_000); }
  for (let i = 0; i < reps; i++) for (const c of t) { c.r.push(run(ref, c.sc, requests)); c.l.push(run(p, c.sc, requests)); }
  const [w, wo] = t;
  print([
    ["request", "reference ns/req", "lane-tag ns/req (min / median / max)", "lane-tag / reference", "lane-tag with / without", "reference with / without"],
    [cases[0][0], ns(median(w.r)), spread(w.l), x(median(w.l), median(w.r)), x(median(w.l), median(wo.l)), x(median(w.r), median(wo.r))],
    [cases[1][0], ns(median(wo.r)), spread(wo.l), x(median(wo.l), median(wo.r)), "", ""],
  ]);
}

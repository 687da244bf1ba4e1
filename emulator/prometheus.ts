// Envoy's admin /stats/prometheus (text format) for the Wasm custom stats, so that tools reading a real
// sidecar (npm run lanes -- status) can be tested against what Envoy would serve for the emulated one.
// Mimics, from Envoy's source: the tag extractors of stats_config.stats_tags (tag_extractor_impl.cc,
// tag_producer_impl.cc: each regex searched, unanchored, in the full stat name; the first group is cut out
// of the name, the second, else the first, is the value; every extractor sees the original name; a tag
// name already taken is skipped), and prometheus_stats.cc (the custom namespace `wasmcustom.` stripped
// with no `envoy_` prefix; every char outside [a-zA-Z0-9_] of the name and label names made `_`; a name
// left empty or starting with a digit not shown; label values escaped; `# TYPE` once per tag-extracted
// name; groups and samples sorted the way Envoy's symbol table sorts names, segment by segment).
// Not mimicked: Envoy's built-in extractors (none matches a wasmcustom name), gauges and histograms
// (every stat is shown as a counter: lane-tag defines only counters), and the usedonly/filter params.

/** A stats_config.stats_tags entry with a regex (fixed_value tags are not emulated). */
export interface StatsTag { tag_name: string; regex: string }

interface Extracted { name: string; tags: [string, string][] }

const compiled = new Map<string, RegExp>();
function regexOf(source: string): RegExp {
  let re = compiled.get(source);
  // Envoy's default engine is std::regex, ECMAScript grammar: JavaScript's own. "d" gives group offsets.
  if (!re) compiled.set(source, re = new RegExp(source, "d"));
  return re;
}

/** Tags and the tag-extracted name of one stat, as Envoy's TagProducerImpl::produceTags. */
function extractTags(name: string, statsTags: readonly StatsTag[]): Extracted {
  const removed = new Uint8Array(name.length);
  const tags: [string, string][] = [];
  for (const t of statsTags) {
    if (tags.some(([n]) => n === t.tag_name)) continue;
    const m = regexOf(t.regex).exec(name);
    if (!m) continue;
    const remove = m.indices?.[1];
    // std::match_results: a group that did not take part is empty; a regex without groups removes nothing.
    tags.push([t.tag_name, m[2] ?? m[1] ?? ""]);
    if (remove) removed.fill(1, remove[0], remove[1]);
  }
  let rest = "";
  for (let i = 0; i < name.length; i++) if (!removed[i]) rest += name[i];
  return { name: rest, tags };
}

const sanitize = (s: string) => s.replace(/[^a-zA-Z0-9_]/g, "_");
const escapeValue = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

/** Envoy's metricName: the custom namespace stripped (undefined: Envoy leaves the stat out). */
function metricName(extracted: string): string | undefined {
  const NS = "wasmcustom.";
  if (!extracted.startsWith(NS)) return `envoy_${sanitize(extracted)}`;
  const name = sanitize(extracted.slice(NS.length));
  return name === "" || /^[0-9]/.test(name) ? undefined : name;
}

/** Envoy's symbol-table order: names compared by their dot-separated segments. */
function compareNames(a: string, b: string): number {
  const x = a.split("."), y = b.split(".");
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return x.length - y.length;
}

/**
 * The /stats/prometheus text Envoy serves for `stats` (name as in /stats, e.g. Host.envoyStats()) under
 * bootstrap stats_tags `statsTags`. Only stats in the `wasmcustom.` namespace are shown.
 */
export function prometheusText(stats: Map<string, bigint>, statsTags: StatsTag[]): string {
  // Envoy groups by tag-extracted name; two of them that sanitize alike would get two # TYPE lines there too.
  const groups = new Map<string, { stat: string; tags: [string, string][]; value: bigint }[]>();
  for (const [stat, value] of stats) {
    if (!stat.startsWith("wasmcustom.")) continue;
    const { name, tags } = extractTags(stat, statsTags);
    let g = groups.get(name);
    if (!g) groups.set(name, g = []);
    g.push({ stat, tags, value });
  }
  let out = "";
  for (const extracted of [...groups.keys()].sort(compareNames)) {
    const metric = metricName(extracted);
    if (metric === undefined) continue;
    out += `# TYPE ${metric} counter\n`;
    for (const s of groups.get(extracted)!.sort((a, b) => compareNames(a.stat, b.stat))) {
      const labels = s.tags.map(([n, v]) => `${sanitize(n)}="${escapeValue(v)}"`).join(",");
      out += `${metric}{${labels}} ${s.value}\n`;
    }
  }
  return out;
}

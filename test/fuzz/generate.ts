// The fuzzer's generators: seeded randomness, requests and configurations (valid, invalid and mutated),
// aimed at the places the filter decides: lane members and their properties, keys, trust, fallbacks.
import type { Header } from "../../emulator/index.ts";
import { prng } from "../../demo/core/random.ts";
import type { Cfg } from "./model.ts";

// ---- randomness -------------------------------------------------------------------------------------------

export class Rand {
  readonly next: () => number;
  constructor(seed: number) { this.next = prng(seed); }
  int(n: number): number { return Math.floor(this.next() * n); }
  chance(p: number): boolean { return this.next() < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
  str(alphabet: string, min: number, max: number): string {
    let s = "";
    for (let n = min + this.int(max - min + 1); n > 0; n--) s += alphabet[this.int(alphabet.length)];
    return s;
  }
}

const LANE_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
const ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";
const OCTETS = "abcXYZ019!#$&'*+-./:<>?@[]^_`{|}~=%";
const NASTY = ",;= \t%\r\n\u0000\"\\\u00e9\u007f\u0001x9";
const TOKEN_EXTRA = "!#$%&'*+-.^_`|~";
// Properties that break the grammar, and some that look odd but follow it.
const BAD_PROPERTIES = [";=v", ";", ";;p", ";key\\=v", ";key=\\", ";key=val%", ";meta=%GG", ";p=a b", " ; ", ";p=v;", ";p=%41", " ; p = v", ";p;q", ";p=a=b"];

// ---- generators ------------------------------------------------------------------------------------------

function genLaneValue(r: Rand, cfg: Cfg): string {
  switch (r.int(10)) {
    case 0: case 1: return cfg.lanes?.length ? r.pick(cfg.lanes) : r.pick(["s1", "s2", "s3"]);
    case 2: return r.str(ALNUM, 1, 1) + r.str(LANE_CHARS, 0, 62);
    case 3: return r.str(LANE_CHARS, 0, 70);
    case 4: return "s" + r.str("0123456789", 1, 2).split("").map((c) => (r.chance(0.5) ? `%3${c}` : c)).join("");
    case 5: return r.str(LANE_CHARS + "%", 1, 10);
    case 6: return r.str(NASTY + "s2", 0, 8);
    case 7: return "";
    case 8: return "x".repeat(60 + r.int(10));
    default: return r.pick(["s2", "S2", "s2 ", " s2", "s%32", "s%2", "%", "-s2", "s2;p", "s2,s3", "é", "s\r\n2"]);
  }
}

function genMember(r: Rand, cfg: Cfg): string {
  const key = cfg.baggage_key ?? cfg.routing_header ?? "x-asm-prefer-tag";
  const ows = () => (r.chance(0.7) ? "" : r.str(" \t", 1, 3));
  const prop = () => r.chance(0.15) ? r.pick(BAD_PROPERTIES)
    : `${ows()};${ows()}${r.str(ALNUM + TOKEN_EXTRA, 1, 5)}${r.chance(0.5) ? `${ows()}=${ows()}${r.str(OCTETS, 0, 6)}` : ""}`;
  const props = () => (r.chance(0.7) ? "" : Array.from({ length: 1 + r.int(3) }, prop).join(""));
  switch (r.int(8)) {
    case 0: case 1: case 2: return `${ows()}${key}${ows()}=${ows()}${genLaneValue(r, cfg)}${props()}${ows()}`;
    case 3: return `${ows()}${r.pick([key.toUpperCase(), key + "x", "x" + key, key.slice(1), key.replace("-", "%2D"),
      `%${key.charCodeAt(0).toString(16)}${key.slice(1)}`, `\u00a0${key}`, `${key}\u3000`, `${key}\u000b`, `${key}%20`])}=${genLaneValue(r, cfg)}`;
    case 4: return "";
    case 5: return r.str(NASTY + ALNUM, 0, 12);
    default: return `${ows()}${r.str(ALNUM + "-_.*", 1, 12)}${ows()}=${ows()}${r.str(OCTETS, 0, 20)}${props()}${ows()}`;
  }
}

function genBaggage(r: Rand, cfg: Cfg): string {
  if (r.chance(0.002)) return Array.from({ length: 1000 + r.int(3000) }, () => genMember(r, cfg)).join(",");
  if (r.chance(0.002)) return "k=" + "v".repeat(65536);
  if (r.chance(0.02)) return Array.from({ length: 170 + r.int(20) }, (_, i) => `k${i}=${r.str(OCTETS, 30, 40)}`).join(",") + `,${genMember(r, cfg)}`;
  return Array.from({ length: r.int(6) }, () => genMember(r, cfg)).join(r.chance(0.8) ? "," : r.pick([", ", " ,", ",,", "\t,"]));
}

function mutate(r: Rand, s: string): string {
  for (let n = 1 + r.int(3); n > 0; n--) {
    const at = r.int(s.length + 1);
    switch (r.int(4)) {
      case 0: s = s.slice(0, at) + r.str(NASTY, 1, 3) + s.slice(at); break;
      case 1: s = s.slice(0, at) + s.slice(at + 1 + r.int(4)); break;
      case 2: s = s.slice(0, at) + s.slice(at, at + r.int(8)) + s.slice(at); break;
      default: s = s.slice(0, at) + String.fromCharCode(r.int(256)) + s.slice(at + 1);
    }
  }
  return s;
}

const TRACE_POOL = ["4bf92f3577b34da6a3ce929d0e0e4736", "0af7651916cd43dd8448eb211c80319c", "80f198ee56343ba864fe8b2a57d3eff7"];

// X-Ray headers: the pool's traces as Roots with a changing Parent=, Root in other positions and cases,
// and the malformed (version, length, digits, all zero, a later bad Root, spaces inside).
function genXray(r: Rand): string {
  const id = r.pick(TRACE_POOL);
  const root = `1-${id.slice(0, 8)}-${id.slice(8, 32)}`;
  const parent = `Parent=${r.pick(["53995c3f42cd8ad8", "6c4e0d4b1a2f3e5d", r.str("0123456789abcdef", 0, 20)])}`;
  const key = r.pick(["Root", "Root", "root", "ROOT", "Root ", "Rooted", " Root", "\tRoot"]);
  const value = r.chance(0.8) ? root : r.pick([
    root.replace(/^1/, "2"), root.slice(0, 34), root + "0", root.replace(/-/, "_"), `1-${id.slice(0, 7)}g-${id.slice(8, 32)}`,
    "1-00000000-000000000000000000000000", ` ${root}`, `${root} `, "", r.str(OCTETS, 0, 40),
  ]);
  const fields = [`${key}=${value}`, parent, `Sampled=${r.pick(["1", "0", "?"])}`];
  if (r.chance(0.2)) fields.unshift(`Self=1-67891233-${r.str("0123456789abcdef", 24, 24)}`);
  if (r.chance(0.1)) fields.push(r.pick(["Root=bad", `Root=${root}`, "Root=", "CalledFrom=app", ""]));
  if (r.chance(0.3)) fields.reverse();
  return fields.join(r.pick([";", "; ", " ;", ";;"]));
}

export function genRequest(r: Rand, cfg: Cfg): Header[] {
  const rh = cfg.routing_header ?? "x-asm-prefer-tag";
  const h: Header[] = [[":authority", "mockb:8000"], [":path", "/"], [":method", "GET"]];
  const extra: Header[] = [];
  for (let n = r.chance(0.5) ? 0 : 1 + r.int(r.chance(0.01) ? 300 : 3); n > 0; n--) extra.push([rh, genLaneValue(r, cfg)]);
  for (let n = r.chance(0.2) ? 0 : 1 + r.int(r.chance(0.01) ? 200 : 3); n > 0; n--) extra.push(["baggage", genBaggage(r, cfg)]);
  if (r.chance(0.3)) extra.push([r.pick(["x-request-id", "traceparent", "user-agent", "b3", "x-user-id", "x-amzn-trace-id"]), r.str(OCTETS, 1, 30)]);
  // Trace ids and users from small pools, so that recorded lanes are looked up again.
  if (r.chance(0.4)) extra.push(["traceparent", `00-${r.pick(TRACE_POOL)}-00f067aa0ba902b7-01`]);
  if (r.chance(0.2)) extra.push(["x-request-id", `req-${r.int(4)}`]);
  if (r.chance(0.1)) extra.push(["b3", `${r.pick(TRACE_POOL)}-e457b5a2e4d86bd1-1`]);
  if (r.chance(0.15)) extra.push(["x-amzn-trace-id", genXray(r)]);
  if (r.chance(0.3)) extra.push(["x-user-id", `user-${r.int(5)}`]);
  // Where lane_from looks: a header, cookies (several headers, spaces, quotes), the query.
  if (r.chance(0.2)) extra.push(["version", r.pick(["v1", "v2", "s2", "v9", "", r.str(OCTETS, 0, 8)])]);
  for (let n = r.chance(0.7) ? 0 : 1 + r.int(2); n > 0; n--) {
    extra.push(["cookie", Array.from({ length: r.int(4) }, () => `${r.chance(0.3) ? " " : ""}${r.pick(["lane", "x", "Lane", "lane "])}=${r.chance(0.2) ? `"${genLaneValue(r, cfg)}"` : genLaneValue(r, cfg)}`).join(r.pick([";", "; "]))]);
  }
  if (r.chance(0.3)) {
    const params = Array.from({ length: r.int(4) }, () => `${r.pick(["lane", "%6Cane", "la+ne", "x", "lane%zz"])}${r.chance(0.9) ? `=${r.chance(0.3) ? genLaneValue(r, cfg).replace(/[^A-Za-z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16)}`) : genLaneValue(r, cfg)}` : ""}`);
    h[1] = [":path", `/p?${params.join("&")}${r.chance(0.1) ? "#lane=s2" : ""}`];
  }
  for (const e of extra) h.splice(3 + r.int(h.length - 2), 0, e);
  if (r.chance(0.2)) {
    const i = r.int(h.length);
    h[i] = [h[i][0], mutate(r, h[i][1])];
  }
  return h;
}

// ---- long configurations: every string field and object key, any length up to tens of KiB -------------

/** The places a string can take in a configuration: each puts `v` there (all of them limit it to ≤ 317). */
const PLACES: ((v: string) => object)[] = [
  (v) => ({ routing_header: v }), (v) => ({ baggage_key: v }), (v) => ({ direction: v }), (v) => ({ default_lane: v }),
  (v) => ({ lanes: ["s1", v] }), (v) => ({ correlation: { enabled: true, headers: [v] } }),
  (v) => ({ local_lane: { label: v } }), (v) => ({ local_lane: { label: "lane", label_to_lane: { v1: v } } }),
  (v) => ({ local_lane: { label: "lane", label_to_lane: { [v]: "s1" } } }), (v) => ({ assign: { weights: { [v]: 1 } } }),
  (v) => ({ assign: { weights: { s1: 1 }, sticky_header: v } }), (v) => ({ lane_from: { header: v, trusted: true } }),
  (v) => ({ lane_from: { cookie: v, trusted: true } }), (v) => ({ lane_from: { query: v, trusted: true } }),
  (v) => ({ lane_from: { query: "lane", trusted: true, values: { [v]: "s1" } } }),
  (v) => ({ lane_from: { query: "lane", trusted: true, values: { v1: v } } }),
  (v) => ({ hop_trace: { workload: v } }), (v) => ({ hop_trace: { label: v } }),
  (v) => ({ hop_trace: { label: "lane", label_to_lane: { [v]: "s1" } } }), (v) => ({ [v]: true }), (v) => ({ correlation: { [v]: 1 } }),
];
// Characters JSON escapes (quote, backslash, controls), and some it does not (non-ASCII, a surrogate pair).
const ESCAPED = "\"\\\n\t\u0001\u001f/\u00e9\u{1f600}";
/** The sizes a long value takes: mostly modest, rarely tens of KiB. */
const LONG_SIZES = [318, 1000, 4096, 16384, 40000];

/** A configuration refused for a value or a member count too large, or valid but long (padding). */
function genLongConfig(r: Rand): { text: string; cfg: Cfg; valid: boolean } {
  const size = r.chance(0.8) ? r.pick(LONG_SIZES.slice(0, 3)) : r.pick(LONG_SIZES);
  switch (r.int(4)) {
    case 0: {
      // Whitespace and a long fraction do not change a valid configuration.
      const base: Cfg = { lanes: ["s1", "s2"], default_lane: "s1", correlation: { enabled: true, capacity: 4 } };
      const text = JSON.stringify(base).replace('"capacity":4', `"capacity":4.${"0".repeat(size)}`) + " \n\t".repeat(size);
      return { text, cfg: base, valid: true };
    }
    case 1: {
      // Many members: past 256 in every map, past 16384 values in all.
      const n = r.pick([257, 2000, 20000]);
      const members = Array.from({ length: n }, (_, i) => `"v${i}":"s1"`).join(",");
      return { text: r.pick([`{"assign":{"weights":{${members.replace(/"s1"/g, "1")}}}}`, `{"local_lane":{"label":"lane","label_to_lane":{${members}}}}`,
        `{"lane_from":{"query":"lane","trusted":true,"values":{${members}}}}`]), cfg: {}, valid: false };
    }
    default: {
      const v = r.chance(0.5) ? r.str(LANE_CHARS, size, size) : r.str(ESCAPED + LANE_CHARS, size, size);
      return { text: JSON.stringify(r.pick(PLACES)(v)), cfg: {}, valid: false };
    }
  }
}

/** The largest configurations genLongConfig makes, for the fuzzer's warm-up. */
export function largestConfigs(): string[] {
  const big = LONG_SIZES[LONG_SIZES.length - 1];
  return [...PLACES.map((place) => JSON.stringify(place("a\u00e9\"".repeat(big / 3)))),
    `{"local_lane":{"label":"lane","label_to_lane":{${Array.from({ length: 20000 }, (_, i) => `"v${i}":"s1"`).join(",")}}}}`,
    `{"lanes":["s1"],"correlation":{"capacity":4.${"0".repeat(big)}}}` + " ".repeat(big)];
}

export function genConfig(r: Rand): { text: string; cfg: Cfg; valid: boolean } {
  if (r.chance(0.03)) return genLongConfig(r);
  if (r.chance(0.1)) {
    const bad = r.pick([
      () => "{", () => "[]", () => '{"direction":"sideways"}', () => '{"lanes":["-x"]}', () => '{"lane":"s1"}',
      () => '{"routing_header":"X"}', () => '{"trust_client_lane":1}', () => '{"default_lane":"s9","lanes":["s1"]}',
      () => r.str(NASTY + "{}[]\":,", 1, 40), () => '{"lanes":' + "[".repeat(100),
      () => '{"correlation":{"capacity":0}}', () => '{"assign":{"weights":{}}}', () => '{"local_lane":{}}',
      () => '{"correlation":{"headers":["Traceparent"]}}', () => '{"lanes":["s1"],"assign":{"weights":{"s2":1}}}',
    ]);
    const text = bad();
    // Random garbage can come out blank, which is a valid (empty) configuration.
    return { text, cfg: {}, valid: /^[ \t\n\r]*$/.test(text) };
  }
  const cfg: Cfg = {};
  if (r.chance(0.2)) cfg.routing_header = r.pick(["x-lane", "x-asm-prefer-tag", "x-env-tag"]);
  if (r.chance(0.2)) cfg.baggage_key = r.pick(["lane", "x-asm-prefer-tag", "env", "l!a'n*e~", "a.b_c-d"]);
  // Keys with characters OpenTelemetry rewrites are refused at configure, whether given or inherited.
  if (r.chance(0.03)) cfg.baggage_key = r.str(ALNUM + TOKEN_EXTRA, 1, 8);
  if (r.chance(0.01)) cfg.routing_header = "x-" + r.str(ALNUM + TOKEN_EXTRA, 1, 8).toLowerCase();
  if (r.chance(0.7)) cfg.direction = r.pick(["auto", "inbound", "outbound", "both"]);
  if (r.chance(0.3)) cfg.lanes = ["s1", "s2", "s3"].filter(() => r.chance(0.7));
  if (r.chance(0.3)) cfg.default_lane = cfg.lanes?.length ? r.pick(cfg.lanes) : r.pick(["s1", "base"]);
  if (r.chance(0.2)) cfg.trust_client_lane = r.chance(0.5);
  const allowed = cfg.lanes?.length ? cfg.lanes : ["s1", "s2", "s3"];
  if (r.chance(0.2)) {
    cfg.correlation = { enabled: r.chance(0.85) };
    if (r.chance(0.4)) cfg.correlation.headers = ["traceparent", "x-request-id", "b3", "x-b3-traceid", "x-amzn-trace-id"].filter(() => r.chance(0.6)).concat(["traceparent"]).filter((h, i, a) => a.indexOf(h) === i);
    if (r.chance(0.4)) cfg.correlation.capacity = r.pick([1, 4, 8192]);
    if (r.chance(0.3)) cfg.correlation.ttl_ms = r.pick([1, 60000]);
  }
  if (r.chance(0.15)) {
    cfg.local_lane = { label: r.pick(["ASM_TRAFFIC_TAG", "lane", "odd", "missing"]) };
    if (r.chance(0.6)) cfg.local_lane.label_to_lane = { v2: r.pick(allowed), v1: r.pick(allowed) };
  }
  if (r.chance(0.15)) {
    const weights: Record<string, number> = {};
    for (const l of allowed) if (r.chance(0.7)) weights[l] = r.int(4);
    weights[r.pick(allowed)] = 1 + r.int(100);
    cfg.assign = { weights, ...(r.chance(0.6) ? { sticky_header: "x-user-id" } : {}) };
  }
  if (r.chance(0.15)) {
    const lf: NonNullable<Cfg["lane_from"]> = {};
    if (r.chance(0.6)) lf.header = r.pick(["version", cfg.routing_header ?? "x-asm-prefer-tag"]);
    if (r.chance(0.5)) lf.cookie = "lane";
    if (r.chance(0.5) || (!lf.header && !lf.cookie)) lf.query = "lane";
    if (r.chance(0.4)) lf.values = { v1: r.pick(allowed), v2: r.pick(allowed), [r.str(OCTETS, 1, 6)]: r.pick(allowed) };
    if (r.chance(0.7)) lf.trusted = r.chance(0.8);
    cfg.lane_from = lf;
  }
  // Observability: changes no request header, except hop_trace's stripping at an untrusted gateway (not generated).
  if (r.chance(0.3)) cfg.lane_metrics = r.chance(0.8);
  if (r.chance(0.3)) cfg.filter_state = r.chance(0.8);
  if (r.chance(0.2) && cfg.trust_client_lane !== false) cfg.hop_trace = r.chance(0.8);
  if (r.chance(0.1)) cfg.baggage_limits = r.chance(0.8);
  if (r.chance(0.05)) return { text: r.pick(["", " ", "{}"]), cfg: {}, valid: true };
  // Keys OpenTelemetry rewrites are refused; so is lane_from where clients are not trusted and it is not.
  const valid = !/[#$%&+^`|]/.test(cfg.baggage_key ?? cfg.routing_header ?? "") &&
    !(cfg.lane_from && cfg.trust_client_lane === false && !cfg.lane_from.trusted);
  return { text: JSON.stringify(cfg), cfg, valid };
}

/** Response headers from an upstream: a status, maybe a hop trace (well-formed, huge or junk), maybe more. */
export function genResponse(r: Rand): Header[] {
  const out: Header[] = [[":status", r.pick(["200", "404", "503"])]];
  if (r.chance(0.3)) out.push(["content-type", "text/plain"]);
  const n = r.chance(0.3) ? r.int(3) : 0;
  for (let i = 0; i < n; i++) {
    out.push(["x-lane-tag-trace", r.pick(["mockc-v2@s2", "a@?, b@s1 (fallback from s2)", "x".repeat(5000), r.str(OCTETS, 0, 40)])]);
  }
  return out;
}

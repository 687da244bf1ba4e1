// npm run fuzz -- [--iterations N] [--seed S]: drives build/lane-tag.wasm through the host emulator with
// generated and mutated requests and configurations, and checks after every request:
//  - no trap, ever (a trap kills the VM for every request of the worker);
//  - every routing header the filter leaves is one valid lane (in the allowed set when configured);
//  - no CR, LF or NUL in any header the filter wrote;
//  - members other than the lane member are never dropped or altered when baggage is rewritten;
//  - the lane agrees with a reference model of the behaviour spec written independently in TypeScript
//    (for lane-less outbound requests with correlation/local_lane/assign: one of the lanes the model allows:
//    a lane recorded for one of the request's trace ids, else the next fallback's);
//  - linear memory stops growing after warm-up.
// Seeded and reproducible; a failure prints the seed, the iteration and a minimized input.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Host, type Header, type Plugin } from "../deploy/emulator/index.ts";
import { prng } from "../deploy/local/client.ts";
import { hash64 } from "./helpers.ts";
import { ensureBuilt } from "../deploy/lib/build.ts";
import { readCommand, integer } from "../deploy/lib/cli.ts";

const WASM = fileURLToPath(new URL("../build/lane-tag.wasm", import.meta.url));

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

// ---- the reference model (the behaviour spec, independently) ----------------------------------------------

export interface Cfg {
  routing_header?: string; baggage_key?: string; direction?: string; lanes?: string[]; default_lane?: string; trust_client_lane?: boolean;
  correlation?: { enabled?: boolean; headers?: string[]; capacity?: number; ttl_ms?: number };
  local_lane?: { label: string; label_to_lane?: Record<string, string> };
  assign?: { weights: Record<string, number>; sticky_header?: string };
  lane_from?: { header?: string; cookie?: string; query?: string; values?: Record<string, string>; trusted?: boolean };
}

/** The fuzz host's node metadata: what local_lane reads. */
export const NODE_METADATA = { LABELS: { ASM_TRAFFIC_TAG: "v2", lane: "s3", odd: "-x" } };
const TRACE_HEADERS = ["traceparent", "x-b3-traceid", "x-request-id"];

/** The trace id a header value yields for the filter (kinds as the README says), or null. */
export function traceIdOf(name: string, v: string): string | null {
  if (name === "traceparent") {
    // Positions are byte offsets of the UTF-8 value (the parent-id field is not checked, so it may hold
    // anything, even multi-byte text).
    const b = Buffer.from(v, "utf8");
    if (b.length < 55 || b[2] !== 0x2d || b[35] !== 0x2d || b[52] !== 0x2d) return null;
    const version = b.subarray(0, 2).toString("latin1"), id = b.subarray(3, 35).toString("latin1");
    return /^[0-9A-Fa-f]{2}$/.test(version) && version.toLowerCase() !== "ff" && /^[0-9A-Fa-f]{32}$/.test(id) && !/^0+$/.test(id) ? id : null;
  }
  if (name === "b3") {
    const id = v.split("-")[0];
    return v.includes("-") && (id.length === 16 || id.length === 32) && /^[0-9A-Fa-f]+$/.test(id) && !/^0+$/.test(id) ? id : null;
  }
  return byteLength(v) >= 1 && byteLength(v) <= 256 && /^[\x21-\x7e]+$/.test(v) ? v : null;
}

/** A lane value a client named, through lane_from.values when given: the lane, or null. */
function namedLane(cfg: Cfg, v: string): string | null {
  const values = cfg.lane_from?.values;
  if (values && Object.keys(values).length > 0) return Object.prototype.hasOwnProperty.call(values, v) ? values[v] : null;
  return validLane(v, cfg) ? v : null;
}

/** Form decoding ("+" is a space); null when an escape is malformed. */
function formDecode(s: string): string | null {
  if (/%(?![0-9A-Fa-f]{2})/.test(s)) return null;
  return s.replace(/\+/g, " ").replace(/%([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

/**
 * The lane lane_from takes from the request: header (first value), cookie (the first cookie of the name in
 * any Cookie header), query (the first parameter of the name in :path); the first source that has its name
 * decides, and an invalid value there moves on to the next source. Headers are byte strings here.
 */
export function clientLaneOf(cfg: Cfg, input: Header[]): string | null {
  const lf = cfg.lane_from;
  if (!lf) return null;
  if (lf.header) {
    const v = input.find(([k]) => k === lf.header)?.[1];
    const lane = v === undefined ? null : namedLane(cfg, v);
    if (lane !== null) return lane;
  }
  if (lf.cookie) {
    found: for (const [k, v] of input) {
      if (k !== "cookie") continue;
      for (const part of v.split(";")) {
        const t = trimOws(part);
        const eq = t.indexOf("=");
        if (eq < 0 || trimOws(t.slice(0, eq)) !== lf.cookie) continue;
        let value = trimOws(t.slice(eq + 1));
        if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
        const lane = namedLane(cfg, value);
        if (lane !== null) return lane;
        break found;
      }
    }
  }
  if (lf.query) {
    const path = input.find(([k]) => k === ":path")?.[1] ?? "";
    const beforeFragment = path.split("#")[0];
    const q = beforeFragment.indexOf("?");
    if (q >= 0) {
      for (const param of beforeFragment.slice(q + 1).split("&")) {
        const eq = param.indexOf("=");
        if (formDecode(eq < 0 ? param : param.slice(0, eq)) !== lf.query) continue;
        const value = eq < 0 ? "" : formDecode(param.slice(eq + 1));
        return value === null || Buffer.byteLength(value, "latin1") > 256 ? null : namedLane(cfg, value);
      }
    }
  }
  return null;
}

/** The lane local_lane gives on the fuzz host, or null. */
export function localLaneOf(cfg: Cfg): string | null {
  if (!cfg.local_lane) return null;
  const value = (NODE_METADATA.LABELS as Record<string, string>)[cfg.local_lane.label];
  if (value === undefined) return null;
  const lane = cfg.local_lane.label_to_lane ? cfg.local_lane.label_to_lane[value] : value;
  return lane !== undefined && validLane(lane, cfg) ? lane : null;
}

const LANE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const OCTET = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;

export function validLane(v: string, cfg: Cfg): boolean {
  return LANE.test(v) && (!cfg.lanes?.length || cfg.lanes.includes(v));
}

function decode(v: string): string | null {
  let out = "";
  for (let i = 0; i < v.length; i++) {
    if (v[i] !== "%") { out += v[i]; continue; }
    const h = v.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(h)) return null;
    out += String.fromCharCode(parseInt(h, 16));
    i += 2;
  }
  return out;
}

const trimOws = (s: string) => s.replace(/^[ \t]+|[ \t]+$/g, "");

/** Is `member` (already trimmed) a member with key `key`? Returns its value text, else null. */
export function memberValue(member: string, key: string): string | null {
  if (!member.startsWith(key)) return null;
  const rest = member.slice(key.length).replace(/^[ \t]*/, "");
  if (!rest.startsWith("=")) return null;
  return trimOws(rest.slice(1).split(";")[0]);
}

// A member's property list per the grammar: *( OWS ";" OWS property ), property = key OWS "=" OWS value /
// key OWS; keys are tokens, values baggage-octets in which "%" starts an escape.
const PROPERTY_VALUE = "(?:[\\x21\\x23\\x24\\x26-\\x2b\\x2d-\\x3a\\x3c-\\x5b\\x5d-\\x7e]|%[0-9A-Fa-f]{2})*";
const PROPERTIES = new RegExp(`^(?:[ \\t]*;[ \\t]*[!#$%&'*+\\-.^_\`|~0-9A-Za-z]+(?:[ \\t]*=[ \\t]*${PROPERTY_VALUE})?)*[ \\t]*$`);

/** Whether the properties of `member` (which has key `key`) follow the grammar. */
export function propertiesValid(member: string, key: string): boolean {
  const rest = member.slice(key.length).replace(/^[ \t]*=/, "");
  const semi = rest.indexOf(";");
  return semi < 0 || PROPERTIES.test(rest.slice(semi));
}

/** The lane of a combined baggage value per the spec: the last valid lane member, or null. */
export function referenceLane(baggage: string, cfg: Cfg): string | null {
  const key = cfg.baggage_key ?? cfg.routing_header ?? "x-asm-prefer-tag";
  let lane: string | null = null;
  for (const raw of baggage.split(",")) {
    const v = memberValue(trimOws(raw), key);
    if (v === null || !OCTET.test(v) || !propertiesValid(trimOws(raw), key)) continue;
    const d = decode(v);
    if (d !== null && validLane(d, cfg)) lane = d;
  }
  return lane;
}

/** The limit is on bytes, as Envoy hands them over (UTF-8 here), not on UTF-16 code units. */
const byteLength = (s: string) => Buffer.byteLength(s, "utf8");

const isCtl = (s: string) => /[\x00-\x08\x0a-\x1f\x7f]/.test(s);

/** The members a rewrite must keep, in order: every non-empty member without the lane key or control bytes. */
export function keptMembers(baggage: string, key: string, loose = false): string[] {
  return baggage.split(",").map(trimOws)
    .filter((m) => m !== "" && memberValue(m, key) === null && !isCtl(m) && !(loose && looseKey(m, key)));
}

/** A member whose key a lenient reader could take for `key`: as written or percent-decoded, non-token bytes left out. */
export function looseKey(member: string, key: string): boolean {
  const eq = member.indexOf("=");
  const semi = member.indexOf(";");
  if (eq < 0 || (semi >= 0 && semi < eq)) return false;
  const written = member.slice(0, eq);
  const decoded = written.replace(/%([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
  return [written, decoded].some((k) => k.replace(/[^!#$%&'*+\-.^_`|~0-9A-Za-z]/g, "") === key);
}

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

function genRequest(r: Rand, cfg: Cfg): Header[] {
  const rh = cfg.routing_header ?? "x-asm-prefer-tag";
  const h: Header[] = [[":authority", "mockb:8000"], [":path", "/"], [":method", "GET"]];
  const extra: Header[] = [];
  for (let n = r.chance(0.5) ? 0 : 1 + r.int(r.chance(0.01) ? 300 : 3); n > 0; n--) extra.push([rh, genLaneValue(r, cfg)]);
  for (let n = r.chance(0.2) ? 0 : 1 + r.int(r.chance(0.01) ? 200 : 3); n > 0; n--) extra.push(["baggage", genBaggage(r, cfg)]);
  if (r.chance(0.3)) extra.push([r.pick(["x-request-id", "traceparent", "user-agent", "b3", "x-user-id"]), r.str(OCTETS, 1, 30)]);
  // Trace ids and users from small pools, so that recorded lanes are looked up again.
  if (r.chance(0.4)) extra.push(["traceparent", `00-${r.pick(TRACE_POOL)}-00f067aa0ba902b7-01`]);
  if (r.chance(0.2)) extra.push(["x-request-id", `req-${r.int(4)}`]);
  if (r.chance(0.1)) extra.push(["b3", `${r.pick(TRACE_POOL)}-e457b5a2e4d86bd1-1`]);
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

export function genConfig(r: Rand): { text: string; cfg: Cfg; valid: boolean } {
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
    if (r.chance(0.4)) cfg.correlation.headers = ["traceparent", "x-request-id", "b3", "x-b3-traceid"].filter(() => r.chance(0.6)).concat(["traceparent"]).filter((h, i, a) => a.indexOf(h) === i);
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
  if (r.chance(0.05)) return { text: r.pick(["", " ", "{}"]), cfg: {}, valid: true };
  // Keys OpenTelemetry rewrites are refused; so is lane_from where clients are not trusted and it is not.
  const valid = !/[#$%&+^`|]/.test(cfg.baggage_key ?? cfg.routing_header ?? "") &&
    !(cfg.lane_from && cfg.trust_client_lane === false && !cfg.lane_from.trusted);
  return { text: JSON.stringify(cfg), cfg, valid };
}

// ---- oracles ---------------------------------------------------------------------------------------------

const DIRECTIONS = [undefined, 0, 1, 2, 3, 99];

function effectiveDirection(cfg: Cfg, listener: number | undefined): "inbound" | "outbound" | "both" {
  if (cfg.direction && cfg.direction !== "auto") return cfg.direction as any;
  return listener === 1 ? "inbound" : listener === 2 ? "outbound" : "both";
}

/** Checks one request's outcome; returns what is wrong, or null. */
/**
 * Trace correlation's shared data, modelled exactly: slots by hash, entries (hash, expiry, lane), the
 * skip-when-fresh rule, and the clock the fuzz host runs on. Kept across configurations, as shared data is
 * per vm_id; with it the fallback lane of every lane-less outbound request is predicted exactly, except a
 * weighted choice, which must be one of the lanes with weight (and the same for the same sticky value).
 */
export class CorrelationModel {
  nowMs = 1_700_000_000_000;
  private slots = new Map<string, { hash: bigint; expires: number; lane: string }>();
  private sticky = new Map<string, string>();
  private ids(cfg: Cfg, input: Header[]): bigint[] {
    if (!cfg.correlation?.enabled) return [];
    return (cfg.correlation.headers ?? TRACE_HEADERS).map((h) => {
      const v = input.find(([k]) => k === h)?.[1];
      const id = v === undefined ? null : traceIdOf(h, v);
      return id === null ? null : hash64(id) | 1n;
    }).filter((x): x is bigint => x !== null);
  }
  private key(cfg: Cfg, h: bigint): string {
    return `${((h >> 32n) % BigInt(cfg.correlation?.capacity ?? 8192)).toString(16)}`;
  }
  record(cfg: Cfg, input: Header[], lane: string | null, dir: string): void {
    if (lane === null || dir === "outbound") return;
    const ttl = cfg.correlation?.ttl_ms ?? 60000;
    for (const h of this.ids(cfg, input)) {
      const k = this.key(cfg, h);
      const e = this.slots.get(k);
      if (e && e.hash === h && e.lane === lane && e.expires - this.nowMs > Math.trunc(ttl / 2)) continue;
      this.slots.set(k, { hash: h, expires: this.nowMs + ttl, lane });
    }
  }
  traceLane(cfg: Cfg, input: Header[]): string | null {
    for (const h of this.ids(cfg, input)) {
      const e = this.slots.get(this.key(cfg, h));
      if (e && e.hash === h && e.expires > this.nowMs && validLane(e.lane, cfg)) return e.lane;
    }
    return null;
  }
  /** For a sticky weighted choice: the lane seen before for this configuration and value, or undefined. */
  stickyLane(text: string, value: string, lane: string): string | undefined {
    const k = `${text}\n${value}`;
    const seen = this.sticky.get(k);
    if (seen === undefined) this.sticky.set(k, lane);
    return seen;
  }
}

export function judge(cfg: Cfg, input: Header[], output: Header[], listener: number | undefined, state = new CorrelationModel()): string | null {
  const rh = cfg.routing_header ?? "x-asm-prefer-tag";
  const key = cfg.baggage_key ?? rh;
  const tags = output.filter(([k]) => k === rh).map(([, v]) => v);
  if (tags.length > 1) return `${tags.length} routing headers emitted`;
  if (tags.length === 1 && !validLane(tags[0], cfg)) return `invalid routing header emitted: ${JSON.stringify(tags[0])}`;
  const before = new Set(input.map(([k, v]) => `${k}\n${v}`));
  for (const [k, v] of output) {
    if (!before.has(`${k}\n${v}`) && /[\r\n\0]/.test(k + v)) return `emitted a header with CR/LF/NUL: ${JSON.stringify([k, v])}`;
  }
  const bagIn = input.filter(([k]) => k === "baggage").map(([, v]) => v);
  const bagOut = output.filter(([k]) => k === "baggage").map(([, v]) => v);
  const inJoined = bagIn.join(",");
  const dir = effectiveDirection(cfg, listener);
  const trusted = cfg.trust_client_lane !== false; // in every direction
  const rewritten = bagIn.length !== bagOut.length || bagIn.some((v, i) => v !== bagOut[i]);
  if (rewritten) {
    if (bagOut.length > 1) return `${bagOut.length} baggage headers after a rewrite`;
    const a = keptMembers(inJoined, key, !trusted), b = keptMembers(bagOut.join(","), key, !trusted);
    if (a.join("\n") !== b.join("\n")) return `other baggage members changed: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`;
    if (byteLength(inJoined) > 8192 && trusted) return "oversize baggage was rewritten";
  }
  if (!trusted) {
    // Whatever the client sent as a lane member, in any spelling, is gone; only the filter's own may be there.
    const mine = bagOut.join(",").split(",").map(trimOws).filter((m) => looseKey(m, key));
    const lane = output.find(([k]) => k === rh)?.[1];
    if (mine.some((m) => m !== `${key}=${lane}`)) return `a client lane member survived: ${JSON.stringify(mine)}`;
  }
  // Lane decisions against the reference model.
  // What the filter parses: the baggage as sent, or, where it removed a client's lane, what is left.
  const stripped = !trusted && inJoined.split(",").some((m) => looseKey(m, key));
  const oversize = byteLength(stripped ? keptMembers(inJoined, key, true).join(",") : inJoined) > 8192;
  const bagLane = trusted && !oversize ? referenceLane(inJoined, cfg) : null;
  const hdrIn = trusted ? input.filter(([k]) => k === rh).map(([, v]) => v).find((v) => validLane(v, cfg)) ?? null : null;
  const outLane = referenceLane(bagOut.join(","), cfg);
  let want: string | null;
  const carried = dir === "outbound" ? bagLane ?? hdrIn : hdrIn ?? bagLane;
  const got = tags[0] ?? null;
  if (carried !== null || dir === "inbound") want = carried;
  else {
    // A lane-less request on the outbound rules: trace correlation (any lane recorded for one of its
    // trace ids), else local_lane, else any lane with weight in assign, else default_lane.
    const assigned = cfg.assign ? Object.keys(cfg.assign.weights).filter((l) => cfg.assign!.weights[l] > 0) : [];
    const exact = clientLaneOf(cfg, input) ?? state.traceLane(cfg, input) ?? localLaneOf(cfg);
    if (exact !== null || assigned.length === 0) want = exact ?? cfg.default_lane ?? null;
    else {
      if (got === null || !assigned.includes(got)) return `routing header ${JSON.stringify(got)}, expected a lane with weight: ${assigned.join(", ")}`;
      const user = cfg.assign!.sticky_header ? input.find(([k]) => k === cfg.assign!.sticky_header)?.[1] : undefined;
      if (user) {
        const before = state.stickyLane(JSON.stringify(cfg), user, got);
        if (before !== undefined && before !== got) return `sticky value ${JSON.stringify(user)} got lane ${got}, before ${before}`;
      }
      want = got;
    }
  }
  if (got !== want) return `routing header ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`;
  if (!oversize && want !== null && outLane !== want) return `baggage lane ${JSON.stringify(outLane)}, expected ${JSON.stringify(want)}`;
  if (!trusted && !oversize && outLane !== null && outLane !== want) return `the client's lane survived: ${outLane}`;
  return null;
}

// ---- runner ----------------------------------------------------------------------------------------------

export interface FuzzReport {
  seed: number; requests: number; configs: number; invalidConfigs: number; ms: number;
  memoryAfterWarmup: number; memoryAtEnd: number; failure?: string;
  /** How often each lane source and trace recording happened (the filter's counters, all directions). */
  sources: Record<string, number>;
}

async function reproduce(text: string, cfg: Cfg, headers: Header[], listener: number | undefined): Promise<string | null> {
  const host = await Host.load(readFileSync(WASM), { nodeMetadata: NODE_METADATA });
  const p = host.configure({ configuration: text });
  if (host.vmFailed) return `trap at configure: ${host.vmFailed}`;
  if (p.failed) return null;
  const r = p.request(headers, { listenerDirection: listener });
  if (host.vmFailed) return `trap: ${host.vmFailed}`;
  return judge(cfg, headers, r.headers, listener, new CorrelationModel());
}

/** Greedy minimization: drop headers, then shorten values, while the failure persists. */
async function minimize(text: string, cfg: Cfg, headers: Header[], listener: number | undefined): Promise<Header[]> {
  let cur = headers;
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 0; i < cur.length; i++) {
      const next = cur.filter((_, j) => j !== i);
      if (await reproduce(text, cfg, next, listener)) { cur = next; changed = true; break; }
    }
    for (let i = 0; i < cur.length && !changed; i++) {
      const v = cur[i][1];
      for (const cut of [Math.floor(v.length / 2), 1]) {
        for (let at = 0; cut > 0 && at + cut <= v.length; at += cut) {
          const next = cur.map((h, j) => (j === i ? [h[0], v.slice(0, at) + v.slice(at + cut)] as Header : h));
          if (await reproduce(text, cfg, next, listener)) { cur = next; changed = true; break; }
        }
        if (changed) break;
      }
    }
  }
  return cur;
}

export async function fuzz(iterations: number, seed: number, log: (s: string) => void = () => {}): Promise<FuzzReport> {
  const r = new Rand(seed);
  const host = await Host.load(readFileSync(WASM), { nodeMetadata: NODE_METADATA });
  const model = new CorrelationModel();
  host.now = () => BigInt(model.nowMs) * 1_000_000n;
  const t0 = Date.now();
  let plugin: Plugin | null = null;
  let current = { text: "", cfg: {} as Cfg, valid: true };
  let configs = 0, invalid = 0, requests = 0;
  const report = (extra: Partial<FuzzReport>): FuzzReport => ({
    seed, requests, configs, invalidConfigs: invalid, ms: Date.now() - t0, memoryAfterWarmup, memoryAtEnd: host.memoryBytes(),
    sources: Object.fromEntries(["lane_from_baggage", "lane_from_header", "lane_from_client", "lane_from_trace", "lane_from_local", "lane_from_assign", "lane_from_default", "no_lane", "trace_recorded"]
      .map((m) => [m, ["inbound", "outbound", "both"].reduce((n, d) => n + host.counter(`lane_tag.${d}.${m}`), 0)])),
    ...extra,
  });
  // Warm-up: the largest inputs the generator makes, so later growth would be a leak.
  const warm = host.configure({ configuration: "" });
  for (const h of [[["baggage", "k=" + "v".repeat(65536)]], Array.from({ length: 200 }, () => ["baggage", "a=1,".repeat(1000)]), Array.from({ length: 300 }, () => ["x-asm-prefer-tag", "x".repeat(70)])] as Header[][]) {
    for (const l of DIRECTIONS) warm.request(h, { listenerDirection: l });
  }
  host.removePlugin(warm);
  const memoryAfterWarmup = host.memoryBytes();

  for (let i = 0; i < iterations; i++) {
    if (i % 200 === 0) {
      if (plugin) host.removePlugin(plugin);
      current = genConfig(r);
      configs++;
      plugin = host.configure({ configuration: current.text });
      if (host.vmFailed) return report({ failure: `seed ${seed}, iteration ${i}: trap at configure with ${JSON.stringify(current.text)}: ${host.vmFailed}` });
      if (plugin.failed !== !current.valid) {
        return report({ failure: `seed ${seed}, iteration ${i}: configuration ${JSON.stringify(current.text)} ${plugin.failed ? "refused" : "accepted"}: ${host.logs.at(-1)?.message}` });
      }
      if (plugin.failed) invalid++;
    }
    model.nowMs += r.int(3);
    const headers = genRequest(r, current.cfg);
    const listener = r.pick(DIRECTIONS);
    const res = plugin!.request(headers, { listenerDirection: listener });
    requests++;
    if (host.vmFailed || (current.valid && res.outcome !== "continue")) {
      const min = await minimize(current.text, current.cfg, headers, listener);
      return report({ failure: `seed ${seed}, iteration ${i}: ${host.vmFailed ?? res.outcome}\nconfig ${current.text}\nlistener_direction ${listener}\nminimal input ${JSON.stringify(min)}` });
    }
    if (!current.valid) continue;
    const bad = judge(current.cfg, headers, res.headers, listener, model);
    model.record(current.cfg, headers, res.headers.find(([k]) => k === (current.cfg.routing_header ?? "x-asm-prefer-tag"))?.[1] ?? null, effectiveDirection(current.cfg, listener));
    if (bad) {
      const min = await minimize(current.text, current.cfg, headers, listener);
      const again = await reproduce(current.text, current.cfg, min, listener);
      return report({ failure: `seed ${seed}, iteration ${i}: ${bad}\nconfig ${current.text}\nlistener_direction ${listener}\nminimal input ${JSON.stringify(min)}\n(${again === null ? `alone, on a fresh VM, it passes: the failure depends on earlier requests (shared data, sticky choices); the request as sent: ${JSON.stringify(headers)}` : `minimal input gives: ${again}`})` });
    }
    if (i > 0 && i % 100000 === 0) log(`  ${i} requests, memory ${host.memoryBytes() / 1024} KiB`);
  }
  const end = report({});
  if (end.memoryAtEnd !== memoryAfterWarmup) end.failure = `seed ${seed}: linear memory grew from ${memoryAfterWarmup / 1024} KiB to ${end.memoryAtEnd / 1024} KiB`;
  return end;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { iterations, seed } = readCommand({
    usage: "npm run fuzz -- [--iterations N] [--seed S]",
    description: `Fuzzes build/lane-tag.wasm (built first when stale) in the host emulator: generated and mutated requests
and configurations, checked for traps, valid routing headers, no CR/LF/NUL, kept baggage members, lanes as a
reference model, and flat memory. Seeded: a failure prints the command that reruns it.
  --iterations N  requests to send (100000 by default)
  --seed S        the seed (from the clock by default)`,
    options: { iterations: { type: "string" }, seed: { type: "string" } },
  }, process.argv.slice(2), ({ values }) => ({
    iterations: integer("iterations", values.iterations) ?? 100_000,
    seed: integer("seed", values.seed) ?? Date.now() % 1_000_000,
  }));
  if (!ensureBuilt()) process.exit(1);
  console.log(`lane-tag fuzz: seed ${seed}, ${iterations} requests`);
  const rep = await fuzz(iterations, seed, console.log);
  console.log(`${rep.requests} requests, ${rep.configs} configurations (${rep.invalidConfigs} invalid, all refused without a trap) in ${(rep.ms / 1000).toFixed(1)} s; linear memory ${rep.memoryAfterWarmup / 1024} KiB after warm-up, ${rep.memoryAtEnd / 1024} KiB at the end`);
  console.log(`lane sources: ${Object.entries(rep.sources).map(([k, v]) => `${k.replace("lane_from_", "")} ${v}`).join(", ")}`);
  if (rep.failure) {
    console.log(`FAILED (rerun: npm run fuzz -- --iterations ${iterations} --seed ${seed})\n${rep.failure}`);
    process.exit(1);
  }
  console.log("ok: no trap; routing headers valid; no CR/LF/NUL emitted; other members kept; lanes as the reference model; memory flat");
}

// The fuzzer's reference model of the behaviour spec, written independently of the module in TypeScript,
// and the oracles that judge each request's outcome against it.
import type { Header } from "../../emulator/index.ts";
import { hash64 } from "../support/helpers.ts";

// ---- the reference model (the behaviour spec, independently) ----------------------------------------------

export interface Cfg {
  routing_header?: string; baggage_key?: string; direction?: string; lanes?: string[]; default_lane?: string; trust_client_lane?: boolean;
  correlation?: { enabled?: boolean; headers?: string[]; capacity?: number; ttl_ms?: number };
  local_lane?: { label: string; label_to_lane?: Record<string, string> };
  assign?: { weights: Record<string, number>; sticky_header?: string };
  lane_from?: { header?: string; cookie?: string; query?: string; values?: Record<string, string>; trusted?: boolean };
  lane_metrics?: boolean; filter_state?: boolean; hop_trace?: boolean; baggage_limits?: boolean;
}

const SOURCE_NAMES = ["baggage", "header", "default", "trace", "local", "assign", "client"];

/**
 * Observability oracles for one stream: filter state names the lane the request leaves with (and a known
 * source), or is absent when it leaves without one or filter_state is off; without hop_trace the response
 * passes untouched.
 */
export function judgeObserved(cfg: Cfg, output: Header[], state: ReadonlyMap<string, Uint8Array>, responseIn: Header[], responseOut: Header[]): string | null {
  const rh = cfg.routing_header ?? "x-asm-prefer-tag";
  const tags = output.filter(([k]) => k === rh).map(([, v]) => v);
  const lane = state.get("wasm.lane_tag.lane");
  const source = state.get("wasm.lane_tag.source");
  const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString("latin1"));
  if (!cfg.filter_state) {
    if (state.size > 0) return `filter state set with filter_state off: ${[...state.keys()].join(", ")}`;
  } else if (tags.length === 1) {
    if (text(lane) !== tags[0]) return `filter state lane ${JSON.stringify(text(lane))}, the request leaves with ${JSON.stringify(tags[0])}`;
    if (!SOURCE_NAMES.includes(text(source) ?? "")) return `filter state source ${JSON.stringify(text(source))}`;
  } else if (lane !== undefined) {
    return `filter state lane ${JSON.stringify(text(lane))} on a request that leaves without a lane`;
  }
  if (!cfg.hop_trace && JSON.stringify(responseIn) !== JSON.stringify(responseOut)) return `response changed without hop_trace: ${JSON.stringify(responseOut)}`;
  return null;
}

/** The fuzz host's node metadata: what local_lane reads. */
export const NODE_METADATA = { LABELS: { ASM_TRAFFIC_TAG: "v2", lane: "s3", odd: "-x" } };
const TRACE_HEADERS = ["traceparent", "x-b3-traceid", "x-request-id"];

/** The trace id a header value yields for the filter (kinds as docs/configuration.md says), or null. */
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
  if (name === "x-amzn-trace-id") {
    // Fields split at ";" and trimmed of SP/HTAB; the last whose key is "root" (any case) followed by "="
    // holds the id, which must be the root format, not all zero. Bytes, as the module reads them.
    const roots = Buffer.from(v, "utf8").toString("latin1").split(";").map((f) => f.replace(/^[ \t]+|[ \t]+$/g, "")).filter((f) => /^root=/i.test(f));
    const id = roots.length === 0 ? "" : roots[roots.length - 1].slice(5);
    return /^1-[0-9A-Fa-f]{8}-[0-9A-Fa-f]{24}$/.test(id) && !/^1-0{8}-0{24}$/.test(id) ? id : null;
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

const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** A member whose key a lenient reader could take for `key`: as written or percent-decoded, non-token bytes left out, ASCII case ignored. */
export function looseKey(member: string, key: string): boolean {
  const eq = member.indexOf("=");
  const semi = member.indexOf(";");
  if (eq < 0 || (semi >= 0 && semi < eq)) return false;
  const written = member.slice(0, eq);
  const decoded = written.replace(/%([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
  // ASCII case ignored: an app may re-send the member as a header name (uberctx-<key>), which Envoy lowercases.
  return [written, decoded].some((k) => asciiLower(k.replace(/[^!#$%&'*+\-.^_`|~0-9A-Za-z]/g, "")) === asciiLower(key));
}

// A member per W3C Baggage's grammar (trimmed): token key, "=", baggage-octets, properties ("%" any octet).
const PROPERTY_OCTETS = "[\\x21\\x23-\\x2b\\x2d-\\x3a\\x3c-\\x5b\\x5d-\\x7e]*";
const WELL_FORMED = new RegExp(`^[!#$%&'*+\\-.^_\`|~0-9A-Za-z]+[ \\t]*=[ \\t]*${PROPERTY_OCTETS}(?:[ \\t]*;[ \\t]*[!#$%&'*+\\-.^_\`|~0-9A-Za-z]+(?:[ \\t]*=[ \\t]*${PROPERTY_OCTETS})?)*$`);
export const wellFormed = (m: string) => WELL_FORMED.test(m);

/**
 * baggage_limits: the baggage leaves (in one header, if rewritten) within 64 members and 8192 bytes, every member well
 * formed, its other members a prefix of the well-formed ones sent (after a client's lane is stripped), all
 * of them when they fit beside a lane member.
 */
function judgeLimited(inJoined: string, bagOut: string[], key: string, trusted: boolean, rewritten: boolean): string | null {
  if (bagOut.length > 1 && rewritten) return `${bagOut.length} baggage headers after a rewrite`;
  const out = bagOut.join(",");
  const ms = out.split(",").map(trimOws).filter((m) => m !== "");
  if (byteLength(out) > 8192 || ms.length > 64) return `baggage past the limits: ${ms.length} members, ${byteLength(out)} bytes`;
  const bad = ms.find((m) => !wellFormed(m));
  if (bad !== undefined) return `a malformed member left with baggage_limits: ${JSON.stringify(bad)}`;
  const others = ms.filter((m) => memberValue(m, key) === null);
  const sent = keptMembers(inJoined, key, !trusted).filter(wellFormed);
  if (others.some((m, i) => m !== sent[i])) return `baggage_limits kept members that are not the first sent: ${JSON.stringify(others.slice(0, 3))}`;
  // Room for every well-formed member (lane-key ones too, kept when no lane is written) beside a lane member.
  const all = inJoined.split(",").map(trimOws).filter((m) => m !== "" && wellFormed(m) && (trusted || !looseKey(m, key)));
  const fits = all.length <= 63 && byteLength(all.join(",")) + key.length + 66 <= 8192;
  if (fits && others.length !== sent.length) return `baggage_limits dropped members that fit: ${sent.length} sent, ${others.length} kept`;
  return null;
}

// ---- oracles ---------------------------------------------------------------------------------------------

export const DIRECTIONS = [undefined, 0, 1, 2, 3, 99];

export function effectiveDirection(cfg: Cfg, listener: number | undefined): "inbound" | "outbound" | "both" {
  if (cfg.direction && cfg.direction !== "auto") return cfg.direction as any;
  return listener === 1 ? "inbound" : listener === 2 ? "outbound" : "both";
}

/** Checks one request's outcome; returns what is wrong, or null. */
/**
 * Trace correlation's shared data, modelled exactly: sets of slots by hash, entries (hash, expiry, lane), the
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
  // The keys of a trace's set: WAYS (4) consecutive slots from its own, fewer in a smaller table.
  private set(cfg: Cfg, h: bigint): string[] {
    const capacity = cfg.correlation?.capacity ?? 8192;
    const first = Number((h >> 32n) % BigInt(capacity));
    return Array.from({ length: Math.min(4, capacity) }, (_, j) => ((first + j) % capacity).toString(16));
  }
  record(cfg: Cfg, input: Header[], lane: string | null, dir: string): void {
    if (lane === null || dir === "outbound") return;
    const ttl = cfg.correlation?.ttl_ms ?? 60000;
    for (const h of this.ids(cfg, input)) {
      // Its own entry, else the first empty slot, else the entry that expires first.
      let pick: string | null = null;
      let oldest: { k: string; expires: number } | null = null;
      let skip = false;
      for (const k of this.set(cfg, h)) {
        const e = this.slots.get(k);
        if (!e) { pick = k; break; }
        if (e.hash === h) {
          skip = e.lane === lane && e.expires - this.nowMs > Math.trunc(ttl / 2);
          pick = k;
          break;
        }
        if (!oldest || e.expires < oldest.expires) oldest = { k, expires: e.expires };
      }
      if (!skip) this.slots.set(pick ?? oldest!.k, { hash: h, expires: this.nowMs + ttl, lane });
    }
  }
  traceLane(cfg: Cfg, input: Header[]): string | null {
    for (const h of this.ids(cfg, input)) {
      for (const k of this.set(cfg, h)) {
        const e = this.slots.get(k);
        if (!e) break;
        if (e.hash !== h) continue;
        if (e.expires > this.nowMs && validLane(e.lane, cfg)) return e.lane;
        break;
      }
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
  if (cfg.baggage_limits) {
    const wrong = judgeLimited(inJoined, bagOut, key, trusted, rewritten);
    if (wrong !== null) return wrong;
  }
  if (rewritten && !cfg.baggage_limits) {
    if (bagOut.length > 1) return `${bagOut.length} baggage headers after a rewrite`;
    const a = keptMembers(inJoined, key, !trusted), b = keptMembers(bagOut.join(","), key, !trusted);
    if (a.join("\n") !== b.join("\n")) return `other baggage members changed: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`;
    if (byteLength(inJoined) > 8192 && trusted) return "oversize baggage was rewritten";
    // The filter writes its lane member first, so SDKs that keep only the first 64 members never drop it.
    const outMembers = bagOut.join(",").split(",").map(trimOws);
    if (outMembers.some((m) => memberValue(m, key) !== null) && memberValue(outMembers[0], key) === null) {
      return `the lane member is not first in rewritten baggage: ${JSON.stringify(bagOut)}`;
    }
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
  // (With baggage_limits the whole baggage is read, whatever its size, then cut down.)
  const oversize = !cfg.baggage_limits && byteLength(stripped ? keptMembers(inJoined, key, true).join(",") : inJoined) > 8192;
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

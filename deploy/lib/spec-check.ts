// The checks parseSpec and its parts share (spec.ts, spec-parts.ts): the filter's limits, the name grammars,
// and a context that records each problem with the file, the path in it, its line, and what is wrong.
import { printable, quote } from "./text-file.ts";
import { pathText, type Path, type YamlSpec } from "./spec-yaml.ts";

export type { Path } from "./spec-yaml.ts";

/**
 * The limits the filter enforces when it is configured (assembly/config/config.ts, assembly/bytes/lane.ts,
 * assembly/config/config-parse.ts): a spec within them generates filter configurations the filter takes.
 */
export const FILTER_LIMITS = {
  /** MAX_LANES: lanes, and so assign.weights; also lane_from.values. */
  lanes: 256,
  /** MAX_LANE: a lane name. */
  lane: 63,
  /** MAX_NAME: header names, the baggage key, cookie and query names, lane_from values. */
  name: 256,
  /** MAX_TRACE_HEADERS: correlation.headers. */
  traceHeaders: 8,
  /** MAX_CAPACITY and MAX_TTL_MS: correlation. */
  capacity: 1048576,
  ttlMs: 86400000,
  /** A node metadata label key (local_lane.label, hop_trace.label): a Kubernetes label key fits. */
  labelKey: 317,
} as const;

/** Kubernetes' limits: a DNS-1123 label (names, lane names) and a label value; a label key's name and prefix. */
export const K8S = { label: 63, labelValue: 63, keyName: 63, keyPrefix: 253 } as const;

// Grammars without their lengths: the lengths are checked first, with their own message.
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
export const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
const KEY_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const KEY_PREFIX = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export class SpecError extends Error {
  constructor(public readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

export interface SpecContext {
  fail(path: Path, msg: string): void;
  /** The spec's routing header (the one that carries the lane), as given. */
  routingHeader(): string;
  /** A string field: "" (and a problem when required) if absent, empty or not a string. */
  str(path: Path, value: unknown, required: boolean, def?: string): string;
  /** `value` against a grammar; over `max` characters it is refused for its length, naming the limit. */
  check(path: Path, value: string, re: RegExp, what: string, max?: number): void;
  /** A request header name the filter reads or writes: a lowercase token, not one that carries the lane. */
  headerName(path: Path, v: string): void;
  /** A Kubernetes label key (prefix/name). */
  labelKey(path: Path, v: string): void;
  /**
   * Refuses the fields of `obj` not in `known`, suggesting the nearest. A misspelt field whose known
   * spelling is absent is read under it (reported once, as unknown), so that it causes no further errors.
   */
  fields(path: Path, obj: Record<string, any>, known: readonly string[]): Record<string, any>;
}

export function isObject(v: unknown): v is Record<string, any> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return `string ${quote(v)}`;
  return `${typeof v} ${String(v)}`;
}

/** A value where a number belongs: the number itself, else what it is. */
export function number(v: unknown): string {
  return typeof v === "number" ? String(v) : describe(v);
}

/** A long value shown by its start and length, so that one message stays one line. */
export function shown(v: string): string {
  return v.length <= 64 ? quote(v) : `${quote(v.slice(0, 32))}... (${v.length} characters)`;
}

/** Optimal string alignment distance, case-insensitive. */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The known name nearest to `name`, when it is near enough to be a misspelling of it. */
export function nearest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestD) { best = k; bestD = d; }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(best.length / 4)) + (best.length >= 8 ? 1 : 0) ? best : undefined;
}

/** SpecContext.fields, recording in `spelled` each misspelt field read under its known name. */
function knownFields(fail: SpecContext["fail"], spelled: Map<string, string>): SpecContext["fields"] {
  return (path, obj, known) => {
    const out = { ...obj };
    for (const k of Object.keys(obj)) {
      if (known.includes(k)) continue;
      const near = nearest(k, known);
      const absent = near !== undefined && !(near in obj) && !(near in out);
      if (absent) {
        out[near] = obj[k];
        delete out[k];
        spelled.set(JSON.stringify([...path, near]), k);
      }
      fail(absent ? [...path, near] : [...path, k], `unknown field${near ? `: did you mean ${near}?` : ""} (known: ${known.join(", ")})`);
    }
    return out;
  };
}

/** A context for one spec file; `problems` collects what it finds. */
export function specContext(file: string, yaml: YamlSpec, problems: string[], routingHeader: () => string): SpecContext {
  // Misspelt fields read under their known names: parent path + known name -> the spelling in the file.
  const spelled = new Map<string, string>();
  const inFile = (path: Path): Path => path.map((p, i) => spelled.get(JSON.stringify([...path.slice(0, i), p])) ?? p);
  const where = (path: Path) => pathText(inFile(path));
  const fail = (path: Path, msg: string) => {
    const line = yaml.line(inFile(path));
    // Values in messages are quoted already; this keeps any other text taken from the file harmless too.
    problems.push(printable(`${file}: ${where(path)}: ${msg}${line === undefined ? "" : ` (line ${line})`}`));
  };
  const tooLong = (path: Path, v: string, max: number, what: string) => {
    if (v.length <= max) return false;
    fail(path, `${shown(v)} is too long: ${what} has at most ${max} characters, this one has ${v.length}`);
    return true;
  };
  const ctx: SpecContext = {
    fail,
    routingHeader,
    str(path, value, required, def = "") {
      if (value === undefined || value === null) {
        if (required) fail(path, "is required");
        return def;
      }
      if (value === "") { fail(path, "must not be empty"); return def; }
      if (typeof value !== "string") { fail(path, `must be a string, got ${describe(value)}`); return def; }
      return value;
    },
    check(path, value, re, what, max) {
      if (value === "") return;
      if (max !== undefined && tooLong(path, value, max, what)) return;
      if (!re.test(value)) fail(path, `${shown(value)} is not ${what}`);
    },
    headerName(path, v) {
      if (tooLong(path, v, FILTER_LIMITS.name, "an HTTP header name")) return;
      if (!TOKEN.test(v)) fail(path, `${shown(v)} is not an HTTP header name (an RFC 9110 token)`);
      else if (v !== v.toLowerCase()) fail(path, `${shown(v)} must be lowercase`);
      else if (v === "baggage" || v === routingHeader()) fail(path, `${shown(v)} is not allowed here (it carries the lane)`);
    },
    labelKey(path, v) {
      const slash = v.lastIndexOf("/");
      const [prefix, name] = slash < 0 ? ["", v] : [v.slice(0, slash), v.slice(slash + 1)];
      if (tooLong(path, name, K8S.keyName, "the name part of a Kubernetes label key")) return;
      if (slash >= 0 && tooLong(path, prefix, K8S.keyPrefix, "the prefix of a Kubernetes label key (before \"/\")")) return;
      if (!KEY_NAME.test(name) || (slash >= 0 && !KEY_PREFIX.test(prefix))) fail(path, `${shown(v)} is not a Kubernetes label key ([prefix/]name)`);
    },
    fields: knownFields(fail, spelled),
  };
  return ctx;
}

// Shared by the route interpreters: request headers and query, full-string regular expressions, weighted
// picks, resource names and the error a malformed resource gets.

/** Request headers as the demo holds them: any name case, a repeated header as an array. */
export type Headers = Record<string, string | string[] | undefined>;

/** A resource the interpreters cannot read: names the resource and the field, says what is wrong. */
export class RouteConfigError extends Error {
  constructor(where: string, message: string) {
    super(`${where}: ${message}`);
    this.name = "RouteConfigError";
  }
}

/** `Kind namespace/name`, for messages and results. */
export function resourceName(r: any): string {
  return `${r?.kind ?? "resource"} ${r?.metadata?.namespace ?? "default"}/${r?.metadata?.name ?? "(unnamed)"}`;
}

/**
 * The value of header `name` (any case), or undefined when absent. A repeated header is one value joined
 * with "," as RFC 9110 folds it (what Envoy matches against).
 */
export function header(headers: Headers | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const want = name.toLowerCase();
  const found: string[] = [];
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== want || v === undefined) continue;
    found.push(...(Array.isArray(v) ? v : [v]));
  }
  return found.length ? found.join(",") : undefined;
}

/** The path without its query string or fragment. */
export function pathOnly(path: string): string {
  const i = path.search(/[?#]/);
  return i < 0 ? path : path.slice(0, i);
}

/** The first value of each query parameter of `path` (names exact, values decoded). */
export function queryOf(path: string): Record<string, string> {
  const q = path.indexOf("?");
  const out: Record<string, string> = {};
  if (q < 0) return out;
  const end = path.indexOf("#", q);
  for (const [k, v] of new URLSearchParams(path.slice(q + 1, end < 0 ? undefined : end))) if (!(k in out)) out[k] = v;
  return out;
}

const regexes = new Map<string, RegExp>();

/**
 * Whether `value` matches `pattern` as a whole (RE2 semantics as Envoy uses them: the full string, not a
 * substring). JavaScript's dialect stands in for RE2; a pattern it cannot compile is a config error.
 */
export function fullMatch(pattern: string, value: string, where: string): boolean {
  let re = regexes.get(pattern);
  if (!re) {
    try {
      re = new RegExp(`^(?:${pattern})$`, "u");
    } catch (e) {
      throw new RouteConfigError(where, `${JSON.stringify(pattern)} is not a regular expression (${(e as Error).message})`);
    }
    regexes.set(pattern, re);
  }
  return re.test(value);
}

/**
 * Pick one of `items` by weight with `random` (a number in [0, 1)): each gets weight/sum of the draws; weight
 * 0 is never picked. Undefined when no weight is above 0.
 */
export function pickWeighted<T>(items: T[], weightOf: (t: T) => number, random: () => number): T | undefined {
  const live = items.filter((t) => weightOf(t) > 0);
  const total = live.reduce((s, t) => s + weightOf(t), 0);
  if (total <= 0) return undefined;
  const r = Math.min(Math.max(random(), 0), 1 - Number.EPSILON) * total;
  let acc = 0;
  for (const t of live) {
    acc += weightOf(t);
    if (r < acc) return t;
  }
  return live[live.length - 1];
}

/** Creation time in ms for ordering; a resource without one (not applied yet) counts as the newest. */
export function createdAt(r: any): number {
  const t = r?.metadata?.creationTimestamp;
  if (t === undefined || t === null) return Number.POSITIVE_INFINITY;
  const ms = t instanceof Date ? t.getTime() : Date.parse(String(t));
  if (Number.isNaN(ms)) throw new RouteConfigError(resourceName(r), `metadata.creationTimestamp: ${JSON.stringify(t)} is not a timestamp`);
  return ms;
}

/** Oldest first, then "{namespace}/{name}" alphabetically: the order both APIs give conflicting resources. */
export function byAge(a: any, b: any): number {
  const d = createdAt(a) - createdAt(b);
  if (d !== 0 && !Number.isNaN(d)) return d < 0 ? -1 : 1;
  const ka = `${a.metadata?.namespace ?? ""}/${a.metadata?.name ?? ""}`;
  const kb = `${b.metadata?.namespace ?? ""}/${b.metadata?.name ?? ""}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

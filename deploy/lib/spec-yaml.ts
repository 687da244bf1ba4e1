// The one YAML reader of lanes specs. Anchors, aliases and merge keys (`<<: *defaults`) are read, within a
// bound on what aliases expand to; everything the spec cannot mean is refused with its line and column:
// tags other than YAML's plain ones, keys that are not strings, aliases without an anchor or inside it,
// and documents that declare another YAML version.
import { LineCounter, parseDocument, isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node } from "yaml";
import { quote } from "./text-file.ts";

export type Path = (string | number)[];

const PLAIN_SEGMENT = /^[A-Za-z0-9_.\-/]+$/;

/** A path as messages write it: lanes.s1.services[0], gateway.labels."odd key". */
export function pathText(path: Path): string {
  if (path.length === 0) return "(top level)";
  return path.map((p, i) => typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${PLAIN_SEGMENT.test(p) ? p : quote(p)}`).join("");
}

/** How many nodes aliases may add to the spec, all together: far above any real spec, far below a "billion laughs". */
export const MAX_ALIAS_NODES = 100_000;

// The tags of YAML 1.2's core schema: writing one changes nothing the spec can not say without it.
const PLAIN_TAGS = ["str", "int", "float", "bool", "null", "map", "seq"].map((t) => `tag:yaml.org,2002:${t}`);

export interface YamlSpec {
  /** The document as plain data: mappings, lists, strings, numbers, booleans, null (merges applied, aliases copied). */
  root: unknown;
  /** The line of the key (or list item) at `path`, or of the nearest enclosing one the document has. */
  line(path: Path): number | undefined;
}

/** Reads `text` as one YAML document; `problems` gets each reason it cannot be a spec (then root is undefined). */
export function readYaml(text: string, file: string, problems: string[]): YamlSpec {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, merge: true });
  const pos = (offset: number | undefined) => {
    if (offset === undefined) return "";
    const p = lc.linePos(offset);
    return ` (line ${p.line}, column ${p.col})`;
  };
  const line = (path: Path) => {
    const offset = locate(doc, path);
    return offset === undefined ? undefined : lc.linePos(offset).line;
  };
  for (const e of doc.errors) problems.push(`${file}: not valid YAML: ${e.message.split("\n")[0]}${pos(e.pos[0])}`);
  for (const w of doc.warnings) {
    problems.push(w.code === "TAG_RESOLVE_FAILED"
      ? `${file}: unknown tag ${w.message.replace(/^Unresolved tag: /, "").split("\n")[0]}${pos(w.pos[0])}: the spec takes plain YAML (strings, numbers, booleans, lists, mappings)`
      : `${file}: YAML: ${w.message.split("\n")[0]}${pos(w.pos[0])}`);
  }
  if (problems.length) return { root: undefined, line };
  const version = doc.directives?.yaml.version;
  if (doc.directives?.yaml.explicit && version !== "1.2") {
    problems.push(`${file}: %YAML ${version}: the spec is YAML 1.2 (1.1 reads yes/no/on/off as booleans and 012 as octal); remove the directive`);
    return { root: undefined, line };
  }
  checkNodes(doc, (offset, msg) => problems.push(`${file}: ${msg}${pos(offset)}`));
  if (problems.length) return { root: undefined, line };
  let root: unknown;
  try {
    // Aliases are bounded above, by what they expand to; yaml's own count would refuse a spec that uses an
    // anchor a hundred times.
    root = copy(doc.toJS({ maxAliasCount: -1 }));
  } catch (e) {
    problems.push(`${file}: cannot read the YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  return { root, line };
}

/** A fresh tree: aliases become copies, so that no check sees one value at two places. */
function copy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copy);
  if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x)]));
  return v;
}

type Report = (offset: number | undefined, msg: string) => void;

/** Tags, keys, merges and aliases of every node; the size aliases add, against MAX_ALIAS_NODES. */
function checkNodes(doc: Document, report: Report): void {
  const sizes = new Map<unknown, number>();
  const open = new Set<unknown>();
  let added = 0;
  let over = false;
  // The number of nodes `n` stands for, its aliases expanded (memoised: "billion laughs" is counted, not built).
  const size = (n: unknown, top: boolean, path: Path = []): number => {
    if (isAlias(n)) {
      const target = n.resolve(doc);
      if (target === undefined) { report(n.range?.[0], `alias *${n.source} has no anchor &${n.source} before it`); return 1; }
      if (open.has(target)) { report(n.range?.[0], `alias *${n.source} is inside the node it names: it would never end`); return 1; }
      const s = size(target, false);
      if (top) {
        added += s;
        if (added > MAX_ALIAS_NODES && !over) {
          over = true;
          report(n.range?.[0], `aliases expand to more than ${MAX_ALIAS_NODES} values by alias *${n.source}: a bound that keeps a small file from standing for a huge one`);
        }
      }
      return s;
    }
    const memo = sizes.get(n);
    if (memo !== undefined && !top) return memo;
    open.add(n);
    let s = 1;
    const node = n as Node;
    if (top && node?.tag && !PLAIN_TAGS.includes(node.tag)) {
      report(node.range?.[0], `tag ${node.tag.replace("tag:yaml.org,2002:", "!!")} is not supported: the spec takes plain YAML (strings, numbers, booleans, lists, mappings)`);
    }
    if (isMap(n)) {
      for (const pair of n.items) {
        const k = pair.key;
        if (top) checkKey(doc, path, k, pair.value, report);
        s += size(k, top, path) + size(pair.value, top, isScalar(k) && typeof k.value !== "symbol" ? [...path, String(k.value)] : path);
      }
    } else if (isSeq(n)) {
      n.items.forEach((item, i) => { s += size(item, top, [...path, i]); });
    }
    open.delete(n);
    sizes.set(n, s);
    return s;
  };
  size(doc.contents, true);
}

function checkKey(doc: Document, path: Path, k: unknown, value: unknown, report: Report): void {
  if (isScalar(k) && typeof k.value === "symbol") {
    // A merge key: its value must be a mapping, an alias of one, or a list of those.
    const ok = (v: unknown) => isMap(isAlias(v) ? v.resolve(doc) : v);
    if (!(ok(value) || (isSeq(value) && value.items.every(ok)))) {
      report(k.range?.[0], `${pathText(path)}: <<: a merge key takes a mapping, an alias of one (*name) or a list of them`);
    }
    return;
  }
  if (isScalar(k) && typeof k.value === "string") return;
  if (isScalar(k)) {
    const src = (k as { source?: string }).source ?? String(k.value);
    report(k.range?.[0], `${pathText(path)}: key ${src} must be a string: quote it (${quote(src)})`);
  } else if (k === null || k === undefined) {
    report((value as Node | null)?.range?.[0], `${pathText(path)}: a key is missing: every entry of a mapping needs a name`);
  } else {
    report((k as Node).range?.[0], `${pathText(path)}: a key must be a plain string, not a list, mapping or alias`);
  }
}

/** The source offset of the key or item at `path`, following aliases and merge keys; else of its nearest parent. */
function locate(doc: Document, path: Path): number | undefined {
  let node: unknown = doc.contents;
  let at: number | undefined;
  for (const seg of path) {
    while (isAlias(node)) node = node.resolve(doc);
    const found = child(doc, node, seg);
    if (!found) break;
    at = found.at ?? at;
    node = found.node;
  }
  return at;
}

function child(doc: Document, node: unknown, seg: string | number): { node: unknown; at?: number } | undefined {
  if (isSeq(node) && typeof seg === "number") {
    const item = node.items[seg] as Node | undefined;
    return item ? { node: item, at: item.range?.[0] } : undefined;
  }
  if (!isMap(node)) return undefined;
  for (const pair of node.items) {
    if (isScalar(pair.key) && String(pair.key.value) === String(seg)) return { node: pair.value, at: pair.key.range?.[0] };
  }
  // Not its own: perhaps merged in from a `<<` source.
  for (const pair of node.items) {
    if (!(isPair(pair) && isScalar(pair.key) && typeof pair.key.value === "symbol")) continue;
    const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
    for (let src of sources) {
      while (isAlias(src)) src = src.resolve(doc);
      const found = child(doc, src, seg);
      if (found) return found;
    }
  }
  return undefined;
}

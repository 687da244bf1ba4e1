// Markdown link checking for the project's own docs: headings turned into GitHub's anchors, relative links
// and #anchors resolved against the files they name. Pure functions over text, so the checker itself is
// tested on small documents before it is trusted with the real ones.
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";

/** GitHub's anchor for a heading: lowercase, punctuation dropped (letters, digits, `-`, `_` kept), spaces -> `-`. */
export function slug(heading: string): string {
  return heading.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "").replace(/ /g, "-");
}

/** Lines outside fenced code blocks, with their line numbers (1-based). */
function prose(text: string): [number, string][] {
  const out: [number, string][] = [];
  let fence = false;
  text.split("\n").forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) { fence = !fence; return; }
    if (!fence) out.push([i + 1, line]);
  });
  return out;
}

/** The anchors a document's headings get on GitHub, repeats numbered `-1`, `-2` as GitHub does. */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, line] of prose(text)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

export interface Link { line: number; target: string }

/** Inline links `[text](target)` outside code (fenced blocks and code spans). */
export function links(text: string): Link[] {
  const out: Link[] = [];
  for (const [line, raw] of prose(text)) {
    // A code span's text is not a link, but a link's text may be a code span: drop only spans that
    // are not a link text's whole content.
    const s = raw.replace(/\[`[^`]*`\]/g, "[code]").replace(/`[^`]*`/g, "");
    for (const m of s.matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) out.push({ line, target: m[1] });
  }
  return out;
}

/** Every relative link of `file` (a path inside `root`) that does not resolve, as "file:line: target: why". */
export function brokenLinks(root: string, file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  const broken: string[] = [];
  for (const { line, target } of links(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: ...: not this project's files
    const [path, anchor] = target.split("#", 2) as [string, string | undefined];
    const abs = path === "" ? join(root, file) : join(root, dirname(file), decodeURIComponent(path));
    const where = `${file}:${line}: ${target}`;
    if (relative(root, abs).startsWith("..")) { broken.push(`${where}: leaves the repository`); continue; }
    if (!existsSync(abs)) { broken.push(`${where}: no such file`); continue; }
    if (anchor === undefined) continue;
    if (statSync(abs).isDirectory() || !abs.endsWith(".md")) { broken.push(`${where}: an anchor into a file that is not Markdown`); continue; }
    if (!anchors(readFileSync(abs, "utf8")).has(anchor)) broken.push(`${where}: no heading with anchor #${anchor} in ${relative(root, abs)}`);
  }
  return broken;
}

/** `npm run <script> --flag` without the `--` that passes the flag on: npm takes such flags for itself. */
export function swallowedFlags(text: string): string[] {
  return [...text.matchAll(/npm run [a-z0-9:-]+ --[a-z]/g)].map((m) => m[0]);
}

// The digest file `npm run push -- <ref> --digest-file F` writes and `npm run manifests -- <spec> --digests F` reads: per layout, the
// reference pushed and the manifest digest the registry gave it. Pinning by digest makes the generated
// resources name one immutable artifact instead of a tag someone may push over.
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, basename } from "node:path";
import type { LanesSpec } from "./spec-types.ts";
import { printable, quote, readTextFile, TextFileError } from "./text-file.ts";

export type Layout = "asm" | "istio";
export const LAYOUTS: readonly Layout[] = ["asm", "istio"];
export interface DigestEntry { ref: string; digest: string }
export type DigestFile = Partial<Record<Layout, DigestEntry>>;

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export class DigestError extends Error {}

/** Writes the file whole or not at all: a temp file beside it, then a rename (atomic on one filesystem). */
export function writeDigestFile(file: string, entries: DigestFile): void {
  const tmp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}`);
  try {
    writeFileSync(tmp, `${JSON.stringify(entries, null, 2)}\n`);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** The repository of an image reference: without its tag and digest. */
export function repositoryOf(ref: string): string {
  const bare = ref.split("@")[0];
  const slash = bare.lastIndexOf("/");
  const colon = bare.lastIndexOf(":");
  return colon > slash ? bare.slice(0, colon) : bare;
}

/** Reads and checks a digest file against the spec; both layouts are needed, as manifests writes both. */
export function loadDigests(file: string, spec: LanesSpec): Record<Layout, DigestEntry> {
  let text: string;
  try {
    // A binary file is described, never echoed: its bytes could drive the terminal.
    text = readTextFile(file, "the digest file");
  } catch (e) {
    if (e instanceof TextFileError) throw new DigestError(e.message);
    throw e;
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw new DigestError(`${file}: not JSON: ${printable((e as Error).message)}`);
  }
  if (typeof root !== "object" || root === null || Array.isArray(root)) {
    throw new DigestError(`${file}: must be a JSON object {"asm": {ref, digest}, "istio": {ref, digest}} (as npm run push -- <ref> --layout both --digest-file F writes)`);
  }
  const problems: string[] = [];
  for (const k of Object.keys(root)) if (!LAYOUTS.includes(k as Layout)) problems.push(`${file}: ${/^[A-Za-z0-9_.-]+$/.test(k) ? k : quote(k)}: unknown layout (known: ${LAYOUTS.join(", ")})`);
  const out = {} as Record<Layout, DigestEntry>;
  for (const layout of LAYOUTS) {
    const e = (root as Record<string, any>)[layout];
    const image = layout === "asm" ? spec.image : spec.istioImage;
    const field = layout === "asm" ? "image" : "istioImage";
    if (e === undefined) { problems.push(`${file}: missing the ${layout} layout: the manifests need both (push with --layout both)`); continue; }
    if (typeof e !== "object" || e === null || Array.isArray(e)) { problems.push(`${file}: ${layout}: must be an object {ref, digest}`); continue; }
    if (typeof e.ref !== "string" || e.ref === "") problems.push(`${file}: ${layout}.ref: must be the pushed image reference, got ${typeof e.ref === "string" ? quote(e.ref) : printable(JSON.stringify(e.ref) ?? "undefined")}`);
    else if (repositoryOf(e.ref) !== repositoryOf(image)) {
      problems.push(`${file}: ${layout}.ref: ${quote(e.ref)} is in repository ${printable(repositoryOf(e.ref))}, but the spec's ${field} is in ${repositoryOf(image)} (${image})`);
    }
    if (typeof e.digest !== "string" || !DIGEST.test(e.digest)) problems.push(`${file}: ${layout}.digest: ${typeof e.digest === "string" ? quote(e.digest) : printable(JSON.stringify(e.digest) ?? "undefined")} is not a digest sha256:<64 lowercase hex>`);
    else {
      // A spec that pins its own digest must agree with the file, or one of them is stale.
      const own = image.split("@")[1];
      if (own && own !== e.digest) problems.push(`${file}: ${layout}.digest: ${e.digest} differs from the digest the spec's ${field} pins (${own})`);
    }
    out[layout] = { ref: e.ref, digest: e.digest };
  }
  if (problems.length) throw new DigestError(problems.join("\n"));
  return out;
}

/**
 * The spec with its images pinned: `<repository>@<digest>` per layout, and the Istio layout's digest as the
 * WasmPlugin's sha256. For oci:// URLs Istio compares that field with the image's manifest digest (its image
 * fetcher's img.Digest()); only for http(s) URLs is it the module's own checksum.
 */
export function pinSpec(spec: LanesSpec, digests: Record<Layout, DigestEntry>): LanesSpec {
  return {
    ...spec,
    image: `${repositoryOf(spec.image)}@${digests.asm.digest}`,
    istioImage: `${repositoryOf(spec.istioImage)}@${digests.istio.digest}`,
    istioSha256: digests.istio.digest.slice("sha256:".length),
  };
}

/** Whether the spec's images are both given by digest already. */
export function isPinned(spec: LanesSpec): boolean {
  return spec.image.includes("@") && spec.istioImage.includes("@");
}

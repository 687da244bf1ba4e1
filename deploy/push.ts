// npm run push -- <registry>/<repo>:<tag> [--layout asm|istio|both] [--plain-http] [--digest-file F]
// Pushes build/lane-tag.wasm as an OCI artifact with the real `oras` CLI:
//  asm    runtime-config.json as the manifest config, one Wasm layer (ASM's documented push);
//  istio  two layers, runtime-config.json and the module (what Istio's image fetcher requires);
//  both   asm at <tag>, istio at <tag>-istio.
// Reproducible: the creation annotation comes from SOURCE_DATE_EPOCH or the last commit's time, so the same
// build pushed twice has one digest. --digest-file records the digests for `npm run manifests -- <spec> --digests F`.
import { spawnSync } from "node:child_process";
import { ensureBuilt } from "./lib/build.ts";
import { readCommand, oneOf, UsageError } from "./lib/cli.ts";
import { writeDigestFile, type DigestFile } from "./lib/digests.ts";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const CONFIG_MEDIA_TYPE = "application/vnd.module.wasm.config.v1+json";
export const WASM_MEDIA_TYPE = "application/vnd.module.wasm.content.layer.v1+wasm";
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const WASM = join(ROOT, "build/lane-tag.wasm");
const RUNTIME_CONFIG = join(ROOT, "runtime-config.json");
// registry[:port]/path:tag (a digest cannot be pushed to; the tag names the artifact).
const REF = /^([a-z0-9.-]+(?::[0-9]+)?)\/([a-z0-9]+(?:[._/-][a-z0-9]+)*):([A-Za-z0-9_][A-Za-z0-9._-]{0,127})$/;

export type Layout = "asm" | "istio";
export interface Pushed { ref: string; layout: Layout; digest: string }

class PushError extends Error {
  constructor(message: string, public readonly code = 1) { super(message); }
}

const oras = () => process.env.ORAS ?? "oras";

/** RFC 3339 creation time: SOURCE_DATE_EPOCH, else the last commit's time, else the epoch. */
export function createdAt(): string {
  let epoch = Number(process.env.SOURCE_DATE_EPOCH);
  if (!Number.isInteger(epoch) || epoch < 0) {
    const git = spawnSync("git", ["log", "-1", "--format=%ct"], { cwd: ROOT, encoding: "utf8" });
    epoch = git.status === 0 && /^\d+$/.test(git.stdout.trim()) ? Number(git.stdout.trim()) : 0;
  }
  return new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function checkOras(): void {
  const r = spawnSync(oras(), ["version"], { encoding: "utf8" });
  if (r.error) {
    throw new PushError(
      `the oras CLI was not found (${oras()}): install it from https://oras.land/docs/installation ` +
      "(macOS: brew install oras; Debian 13: apt-get install oras; Debian 12 has no package, trixie's static binary runs there)", 127);
  }
}

/** Pushes one layout with oras; returns the manifest digest. */
export function pushLayout(ref: string, layout: Layout, plainHttp: boolean, created = createdAt()): Pushed {
  // Push from a scratch folder so the file names oras records (org.opencontainers.image.title) are fixed.
  const dir = mkdtempSync(join(tmpdir(), "lane-tag-push-"));
  try {
    copyFileSync(WASM, join(dir, "lane-tag.wasm"));
    copyFileSync(RUNTIME_CONFIG, join(dir, "runtime-config.json"));
    const args = ["push", ref, "--annotation", `org.opencontainers.image.created=${created}`];
    if (plainHttp) args.push("--plain-http");
    if (layout === "asm") args.push("--config", `runtime-config.json:${CONFIG_MEDIA_TYPE}`, `lane-tag.wasm:${WASM_MEDIA_TYPE}`);
    else args.push(`runtime-config.json:${CONFIG_MEDIA_TYPE}`, `lane-tag.wasm:${WASM_MEDIA_TYPE}`);
    const r = spawnSync(oras(), args, { cwd: dir, encoding: "utf8" });
    if (r.error) throw new PushError(`cannot run ${oras()}: ${r.error.message}`);
    if (r.status !== 0) {
      throw new PushError(`oras push ${ref} failed (exit ${r.status}):\n${(r.stderr || r.stdout).trim()}`);
    }
    const digest = /^Digest:\s*(sha256:[a-f0-9]{64})/m.exec(r.stdout)?.[1];
    if (!digest) throw new PushError(`oras push ${ref} reported no digest:\n${r.stdout.trim()}`);
    return { ref, layout, digest };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const PUSH = {
  usage: "npm run push -- <registry>/<repo>:<tag> [--layout asm|istio|both] [--plain-http] [--digest-file F]",
  description: `Pushes build/lane-tag.wasm (built first when stale) as an OCI artifact with the oras CLI.
  --layout asm    runtime-config.json as the manifest config, one Wasm layer (ASM's documented push; the default)
  --layout istio  two layers, runtime-config.json and the module (what Istio's image fetcher requires)
  --layout both   asm at <tag>, istio at <tag>-istio
  --plain-http    talk HTTP to the registry (a local one)
  --digest-file F after every push succeeded, write the pushed digests to F (JSON, per layout {ref, digest});
                  npm run manifests -- <lanes.yaml> --digests F pins the manifests with it`,
  options: { layout: { type: "string", default: "asm" }, "plain-http": { type: "boolean", default: false }, "digest-file": { type: "string" } },
  positionals: ["the image reference"],
} as const;

export function main(argv: string[]): number {
  const { ref, layout, plainHttp, digestFile } = readCommand(PUSH, argv, ({ values, positionals: [ref] }) => {
    if (!REF.test(ref)) throw new UsageError(`${JSON.stringify(ref)} is not <registry>/<repository>:<tag>`);
    const layout = oneOf("layout", values.layout, ["asm", "istio", "both"] as const)!;
    if (layout === "both" && ref.length - ref.lastIndexOf(":") - 1 + 6 > 128) throw new UsageError(`the tag of ${ref} is too long to add "-istio"`);
    if (values["digest-file"] === "") throw new UsageError("--digest-file needs a file");
    return { ref, layout, plainHttp: values["plain-http"], digestFile: values["digest-file"] };
  });

  const pushed: Pushed[] = [];
  try {
    checkOras();
    if (!ensureBuilt()) throw new PushError("the build failed: nothing was pushed");
    const plan: [string, Layout][] = layout === "both" ? [[ref, "asm"], [`${ref}-istio`, "istio"]] : [[ref, layout]];
    const created = createdAt();
    for (const [r, l] of plan) {
      const p = pushLayout(r, l, plainHttp, created);
      pushed.push(p);
      console.log(`pushed ${p.ref}@${p.digest} (${l} layout)`);
    }
    if (digestFile) {
      const entries: DigestFile = {};
      for (const p of pushed) entries[p.layout] = { ref: p.ref, digest: p.digest };
      try {
        writeDigestFile(digestFile, entries);
      } catch (e) {
        // The pushes stand; only the record of them is missing.
        console.error(`cannot write the digest file ${digestFile}: ${(e as Error).message}`);
        return 1;
      }
      console.log(`wrote the digests to ${digestFile}`);
    }
    return 0;
  } catch (e) {
    if (!(e instanceof PushError)) throw e;
    console.error(e.message);
    console.error(pushed.length ? `pushed before the failure: ${pushed.map((p) => `${p.ref}@${p.digest}`).join(", ")}` : "nothing was pushed");
    return e.code;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit(main(process.argv.slice(2)));

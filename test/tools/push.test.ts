// npm run push with the real oras CLI against a real OCI registry (Debian's docker-registry on loopback).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry, have } from "../support/registry.ts";
import { ROOT, wasmBytes } from "../support/helpers.ts";
import { parse } from "yaml";

const CONFIG_TYPE = "application/vnd.module.wasm.config.v1+json";
const WASM_TYPE = "application/vnd.module.wasm.content.layer.v1+wasm";

function push(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "deploy/push.ts", ...args], {
    cwd: ROOT, encoding: "utf8", env: { ...process.env, SOURCE_DATE_EPOCH: "1767225600", ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function oras(args: string[]) {
  const r = spawnSync("oras", args, { encoding: "utf8" });
  assert.equal(r.status, 0, `oras ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

const missing = [!have("oras", ["version"]) && "oras", !have("docker-registry", ["--version"]) && "docker-registry"].filter(Boolean);
const skip = missing.length ? `${missing.join(" and ")} not installed (run ../shared/tools/install-oras.sh --registry)` : false;

describe("npm run push (real oras, real registry)", { skip }, () => {
  let registry: Registry;
  before(async () => { registry = await Registry.start(); });
  after(async () => { await registry?.stop(); });

  it("pushes both layouts with the media types ASM and Istio expect", () => {
    const ref = `${registry.host}/mesh/lane-tag:0.1.0`;
    const r = push([ref, "--layout", "both", "--plain-http"]);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split("\n");
    assert.equal(lines.length, 2);
    assert.match(lines[0], new RegExp(`^pushed ${ref}@sha256:[a-f0-9]{64} \\(asm layout\\)$`));
    assert.match(lines[1], new RegExp(`^pushed ${ref}-istio@sha256:[a-f0-9]{64} \\(istio layout\\)$`));

    // ASM: runtime-config.json is the manifest config, one Wasm layer.
    const asm = JSON.parse(oras(["manifest", "fetch", "--plain-http", ref]));
    assert.equal(asm.config.mediaType, CONFIG_TYPE);
    assert.deepEqual(asm.layers.map((l: any) => l.mediaType), [WASM_TYPE]);
    assert.equal(oras(["manifest", "fetch-config", "--plain-http", ref]), readFileSync(join(ROOT, "runtime-config.json"), "utf8"));
    assert.equal(asm.annotations["org.opencontainers.image.created"], "2026-01-01T00:00:00Z");

    // Istio: exactly 2 layers, one of them the Wasm layer (the rule of Istio's image fetcher).
    const istio = JSON.parse(oras(["manifest", "fetch", "--plain-http", `${ref}-istio`]));
    assert.equal(istio.layers.length, 2);
    assert.deepEqual(istio.layers.map((l: any) => l.mediaType).sort(), [CONFIG_TYPE, WASM_TYPE].sort());
    assert.equal(istio.layers.filter((l: any) => l.mediaType === WASM_TYPE).length, 1);
    // ... which the ASM layout would not pass, hence two layouts.
    assert.notEqual(asm.layers.length, 2);
  });

  it("pulls back a module byte-identical to build/lane-tag.wasm, from both layouts", () => {
    const ref = `${registry.host}/mesh/lane-tag:pull`;
    assert.equal(push([ref, "--layout", "both", "--plain-http"]).code, 0);
    for (const r of [ref, `${ref}-istio`]) {
      const dir = mkdtempSync(join(tmpdir(), "lane-tag-pull-"));
      try {
        oras(["pull", "--plain-http", "-o", dir, r]);
        assert.deepEqual(readFileSync(join(dir, "lane-tag.wasm")), Buffer.from(wasmBytes()), r);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it("is reproducible: the same build pushed twice has one digest", () => {
    const a = push([`${registry.host}/mesh/lane-tag:a`, "--layout", "istio", "--plain-http"]);
    const b = push([`${registry.host}/other/lane-tag:b`, "--layout", "istio", "--plain-http"]);
    assert.equal(a.code, 0, a.err);
    assert.equal(b.code, 0, b.err);
    const digest = (s: string) => /@(sha256:[a-f0-9]{64})/.exec(s)![1];
    assert.equal(digest(a.out), digest(b.out));
  });

  it("a registry error exits non-zero with oras's message and claims nothing", async () => {
    const { freePort } = await import("../support/registry.ts");
    const dir = mkdtempSync(join(tmpdir(), "lane-tag-digests-"));
    try {
      const r = push([`127.0.0.1:${await freePort()}/mesh/lane-tag:x`, "--plain-http", "--digest-file", join(dir, "pushed.json")]);
      assert.notEqual(r.code, 0);
      assert.equal(r.out, "");
      assert.match(r.err, /oras push .* failed/);
      assert.match(r.err, /connection refused/i);
      assert.match(r.err, /nothing was pushed/);
      assert.deepEqual(readdirSync(dir), [], "no digest file, not even a temp file");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--digest-file records the digests the registry serves, and manifests --digests pins them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lane-tag-pin-"));
    try {
      const ref = `${registry.host}/mesh/lane-tag:pin`;
      const r = push([ref, "--layout", "both", "--plain-http", "--digest-file", join(dir, "pushed.json")]);
      assert.equal(r.code, 0, r.err);
      const file = JSON.parse(readFileSync(join(dir, "pushed.json"), "utf8"));
      assert.deepEqual(Object.keys(file).sort(), ["asm", "istio"]);
      assert.equal(file.asm.ref, ref);
      assert.equal(file.istio.ref, `${ref}-istio`);
      assert.deepEqual(readdirSync(dir), ["pushed.json"], "the temp file is gone");
      // What the registry itself says each tag is (its Docker-Content-Digest), not what push printed.
      for (const [layout, tag] of [["asm", "pin"], ["istio", "pin-istio"]]) {
        const head = await fetch(`http://${registry.host}/v2/mesh/lane-tag/manifests/${tag}`, {
          method: "HEAD", headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
        });
        assert.equal(head.status, 200);
        assert.equal(file[layout].digest, head.headers.get("docker-content-digest"), layout);
        assert.match(r.out, new RegExp(`@${file[layout].digest} \\(${layout} layout\\)`));
      }

      const spec = readFileSync(join(ROOT, "deploy/lanes.example.yaml"), "utf8").replace(/^image: .*$/m, `image: ${ref}`);
      writeFileSync(join(dir, "lanes.yaml"), spec);
      const m = spawnSync(process.execPath, ["--import", "tsx", "deploy/manifests.ts", join(dir, "lanes.yaml"), "--out", join(dir, "out"), "--digests", join(dir, "pushed.json")], { cwd: ROOT, encoding: "utf8" });
      assert.equal(m.status, 0, m.stderr);
      assert.doesNotMatch(m.stderr, /unpinned/);
      const asm = parse(readFileSync(join(dir, "out/asm/filter-mocka-inbound.yaml"), "utf8"));
      assert.equal(asm.spec.filter.image, `${registry.host}/mesh/lane-tag@${file.asm.digest}`);
      const istio = parse(readFileSync(join(dir, "out/istio/filter-gateway.yaml"), "utf8"));
      assert.equal(istio.spec.url, `oci://${registry.host}/mesh/lane-tag@${file.istio.digest}`);
      // Istio compares sha256 with the pulled image's manifest digest on oci:// URLs.
      assert.equal(istio.spec.sha256, file.istio.digest.slice("sha256:".length));
      assert.ok(existsSync(join(dir, "out/istio/filter-mocka-outbound.yaml")));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("npm run push: errors before any push", () => {
  it("missing oras: says how to install it, exits non-zero", () => {
    const r = push(["127.0.0.1:5000/lane-tag:x"], { ORAS: "/nonexistent/oras" });
    assert.equal(r.code, 127);
    assert.match(r.err, /oras CLI was not found .* install it from https:\/\/oras\.land/);
    assert.match(r.err, /nothing was pushed/);
  });
  it("bad arguments: usage, exit 2", () => {
    for (const args of [[], ["no-registry"], ["r.io/x:t", "--layout", "docker"], ["r.io/x@sha256:" + "a".repeat(64)], ["r.io/x:t", "--force"], ["r.io/x:t", "--digest-file="], ["r.io/x:t", "--digest-file"]]) {
      const r = push(args);
      assert.equal(r.code, 2, args.join(" "));
      assert.match(r.err, /usage: npm run push/);
    }
  });
});

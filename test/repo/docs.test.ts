// The docs hold together: every relative link and #anchor in README.md, docs/*.md and demo/README.md
// resolves (GitHub's anchor rules); every doc is reachable from the README; commands are written so npm passes
// their flags on; the docs a tool's messages point to have the section they name; and the docs speak of the
// project only (no developer-only folder beside the clone).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../support/helpers.ts";
import { anchors, brokenLinks, links, slug, swallowedFlags } from "./doc-links.ts";

const DOCS = ["README.md", "demo/README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const read = (f: string) => readFileSync(join(ROOT, f), "utf8");

/** deploy/**.ts and demo/**.ts: the tools, whose help texts and messages are docs too. */
function toolSources(dir = "deploy"): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? (e.name === "generated" ? [] : toolSources(`${dir}/${e.name}`)) : e.name.endsWith(".ts") ? [`${dir}/${e.name}`] : []);
}

describe("the link checker", () => {
  it("makes GitHub's anchors", () => {
    assert.equal(slug("Status: who drops the lane"), "status-who-drops-the-lane");
    assert.equal(slug("gRPC: `npm run demo -- --mode grpc`"), "grpc-npm-run-demo------mode-grpc");
    assert.equal(slug("1. Push"), "1-push");
    assert.equal(slug("Stacked lanes (`stacked/`, from `../lanes.stacked.yaml`)"), "stacked-lanes-stacked-from-lanesstackedyaml");
    assert.equal(slug("Lanes named by the client: `lane_from`"), "lanes-named-by-the-client-lane_from");
    assert.deepEqual([...anchors("# A\n## A\n```\n# not a heading\n```\n### A b\n")], ["a", "a-1", "a-b"]);
  });
  it("finds links outside code only, code-span link texts included", () => {
    const text = "see [x](a.md#b) and `[y](c.md)`\n```\n[z](d.md)\n```\n[`oras`](https://oras.land) [w](#here \"title\")\n";
    assert.deepEqual(links(text).map((l) => l.target), ["a.md#b", "https://oras.land", "#here"]);
  });
  it("reports a missing file, a missing anchor and a link out of the repository", () => {
    const dir = mkdtempSync(join(tmpdir(), "lane-tag-links-"));
    try {
      writeFileSync(join(dir, "a.md"), "# Top\n## Two words\n[ok](#two-words) [ok](b.md#b) [bad](#two_words)\n[bad](c.md) [bad](b.md#nope) [bad](../x.md)\n");
      writeFileSync(join(dir, "b.md"), "# B\n");
      assert.deepEqual(brokenLinks(dir, "a.md"), [
        "a.md:3: #two_words: no heading with anchor #two_words in a.md",
        "a.md:4: c.md: no such file",
        "a.md:4: b.md#nope: no heading with anchor #nope in b.md",
        "a.md:4: ../x.md: leaves the repository",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("spots flags npm would take for itself", () => {
    assert.deepEqual(swallowedFlags("npm run push --digest-file F; npm run push -- r --digest-file F; npm run e2e:envoy --variant x"),
      ["npm run push --d", "npm run e2e:envoy --v"]);
  });
});

describe("the docs", () => {
  it("have docs/ to read", () => assert.ok(DOCS.length > 3, DOCS.join(", ")));
  for (const f of DOCS) {
    it(`${f}: every relative link and #anchor resolves`, () => assert.deepEqual(brokenLinks(ROOT, f), []));
  }
  it("every file in docs/ is linked from README.md", () => {
    const linked = new Set(links(read("README.md")).map((l) => l.target.split("#")[0]));
    assert.deepEqual(DOCS.filter((f) => f.startsWith("docs/") && !linked.has(f)), []);
  });
  it("write npm run commands with -- before their flags (README, docs, help texts)", () => {
    const bad = [...DOCS, ...toolSources(), ...toolSources("demo")].flatMap((f) => swallowedFlags(read(f)).map((m) => `${f}: ${m}`));
    assert.deepEqual(bad, []);
  });
  it("have the sections the tools' messages point to", () => {
    const pointers = [...toolSources(), ...toolSources("demo")].flatMap((f) => [...read(f).matchAll(/((?:README|docs\/[a-z-]+)\.md), section "([^"]+)"/g)].map((m) => [f, m[1], m[2]]));
    assert.ok(pointers.length > 0, "no doc pointers found in deploy/: the check looks for none");
    for (const [f, doc, section] of pointers) assert.ok(anchors(read(doc)).has(slug(section)), `${f} points to ${doc}, section "${section}": not there`);
  });
  it("never mention the developer-only folder beside a checkout", () => {
    assert.deepEqual(DOCS.filter((f) => read(f).includes("../shared")), []);
  });
});

// A real OCI registry for tests: Debian's docker-registry (the CNCF distribution registry) on 127.0.0.1, a
// free port, storage in a temp dir; stopped afterwards.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function have(cmd: string, args = ["--version"]): boolean {
  return !spawnSync(cmd, args, { stdio: "ignore" }).error;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export class Registry {
  private constructor(private proc: ChildProcess, private dir: string, readonly host: string, private log: () => string) {}

  static async start(): Promise<Registry> {
    const dir = mkdtempSync(join(tmpdir(), "lane-tag-registry-"));
    const port = await freePort();
    writeFileSync(join(dir, "config.yml"), [
      "version: 0.1", "log:", "  level: warn", "storage:", "  filesystem:", `    rootdirectory: ${join(dir, "data")}`,
      "  delete:", "    enabled: true", "http:", `  addr: 127.0.0.1:${port}`, "",
    ].join("\n"));
    const proc = spawn("docker-registry", ["serve", join(dir, "config.yml")], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    proc.stdout!.on("data", (d) => (output += d));
    proc.stderr!.on("data", (d) => (output += d));
    const host = `127.0.0.1:${port}`;
    const reg = new Registry(proc, dir, host, () => output);
    for (let i = 0; i < 100; i++) {
      if (proc.exitCode !== null) break;
      try {
        const r = await fetch(`http://${host}/v2/`);
        if (r.ok) return reg;
      } catch { /* not up yet */ }
      await new Promise((r) => setTimeout(r, 50));
    }
    await reg.stop();
    throw new Error(`docker-registry did not come up on ${host}:\n${output}`);
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc.once("exit", r));
      this.proc.kill("SIGTERM");
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  get output(): string { return this.log(); }
}

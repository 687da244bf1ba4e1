// The emulated proxies' filter: the built module in the project's host emulator, one VM per proxy (one
// vm_id, as correlation needs: shared data is kept per vm_id), configured as the generated manifests say;
// and the admin-like endpoint a proxy serves for `lanes status`.
import http from "node:http";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Host, prometheusText, type Plugin } from "../../emulator/index.ts";
import type { FilterRole, RoutingPlan } from "../../deploy/lib/plan.ts";
import { LANE_STATS_TAGS } from "../../deploy/lib/observe.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const WASM = join(ROOT, "build/lane-tag.wasm");

/** The built module, or an error that says how to build it. */
export function readWasm(): Uint8Array {
  if (!existsSync(WASM)) throw new Error(`${WASM} is missing: run npm run build`);
  return readFileSync(WASM);
}

/** A sidecar's (or the gateway's) VM with one plugin per role, configured with the plan's filters. */
export async function plugins(wasm: Uint8Array, plan: RoutingPlan, roles: FilterRole[], labels?: Record<string, string>, workload?: string) {
  // Istio puts the pod's labels in node.metadata.LABELS and its workload in WORKLOAD_NAME; one VM serves
  // both listeners (one vm_id). Header values come from and go back to Node's http as byte strings:
  // "bytes" passes them on exactly.
  const nodeMetadata = { ...(labels ? { LABELS: labels } : {}), ...(workload ? { WORKLOAD_NAME: workload } : {}) };
  const host = await Host.load(wasm, { vmId: "lane-tag", headerStrings: "bytes", nodeMetadata });
  const out: Partial<Record<FilterRole, Plugin>> = {};
  for (const role of roles) {
    const config = plan.filters[role];
    // Fail closed where the filter does not trust client lanes (the gateway), as the generated WasmPlugin does.
    const p = host.configure({ configuration: JSON.stringify(config), failOpen: (config as { trust_client_lane?: boolean }).trust_client_lane !== false });
    if (p.failed) throw new Error(`the ${role} filter failed to configure: ${host.logs.map((l) => l.message).join("; ")}`);
    out[role] = p;
  }
  return { host, ...out };
}

const GATEWAY_GROUP = "gateway.networking.k8s.io";

/** The WasmPlugin that targets Gateway `name` in `namespace`: its filter configuration and failure policy. */
export function wasmPluginFor(resources: any[], namespace: string, name: string): { config: unknown; failOpen: boolean } | undefined {
  const p = resources.find((r) => r?.kind === "WasmPlugin" && (r.metadata?.namespace ?? "default") === namespace
    && (r.spec?.targetRefs ?? []).some((t: any) => t?.group === GATEWAY_GROUP && t?.kind === "Gateway" && t?.name === name));
  return p && { config: p.spec?.pluginConfig ?? {}, failOpen: p.spec?.failStrategy !== "FAIL_CLOSE" };
}

/** A proxy's filter: the built module configured with the generated pluginConfig (one VM per proxy). */
export async function loadFilter(wasm: Uint8Array, what: string, found: { config: unknown; failOpen: boolean } | undefined): Promise<Plugin | null> {
  if (!found) return null;
  const host = await Host.load(wasm, { vmId: "lane-tag", headerStrings: "bytes", nodeMetadata: { WORKLOAD_NAME: what } });
  const p = host.configure({ configuration: JSON.stringify(found.config), failOpen: found.failOpen });
  if (p.failed) throw new Error(`${what}'s filter failed to configure: ${host.logs.map((l) => l.message).join("; ")}`);
  return p;
}

/** An Envoy-like admin endpoint for one proxy's VM: its stats as Prometheus text, with the lane tags. */
export function adminServer(host: Host, workload: string, labels: Record<string, string>): http.Server {
  return http.createServer((req, res) => {
    req.resume();
    if (req.url === "/stats/prometheus") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      res.end(prometheusText(host.envoyStats(), LANE_STATS_TAGS));
    } else if (req.url === "/server_info") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ state: "LIVE", node: { id: `sidecar~127.0.0.1~${workload}.demo~demo.svc.cluster.local`, metadata: { WORKLOAD_NAME: workload, LABELS: labels } } }));
    } else {
      res.writeHead(404);
      res.end("not found");
    }
  });
}

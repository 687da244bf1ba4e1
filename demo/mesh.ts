// The Docker-less meshes of `npm run demo`, one cell of the matrix at a time: a protocol (HTTP/1.1, HTTP/2 +
// gRPC, WebSocket) × a lane feature (baggage, correlation, strict, sticky, stacked) × a mesh (sidecars, or
// Istio's ambient mode). Every proxy runs the real build/lane-tag.wasm in the project's host emulator, each
// request and its response through the filter as Envoy runs them, with the filter configurations of the
// routing plan (lib/plan.ts), as in the manifests; every hop is routed by the resources a user applies
// (applied.ts, read by core/router.ts and core/router-http.ts). The spec, its plan and those resources are
// computed here once and handed to the one starter (mesh/start.ts) with the protocol's transport and the
// mesh's proxy shape.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Plugin } from "../emulator/index.ts";
import type { LanesSpec } from "../deploy/lib/spec.ts";
import type { FilterRole } from "../deploy/lib/plan.ts";
import { chain, gatewayWeights } from "./core/topology.ts";
import type { RouteSet } from "./core/router.ts";
import { planOf } from "./core/plan.ts";
import { plugins as vmPlugins, readWasm } from "./core/proxy.ts";
import { splitMode, runSpec, propagation, gatewayTracer, type Feature, type Mode, type Protocol, type RunFeatures } from "./core/features.ts";
import { refusal, type MeshKind } from "./core/combinations.ts";
import type { AppRunner } from "./core/transport.ts";
import type { FilterTap, Mesh, MeshSetup, Transport } from "./core/transport.ts";
import { ambientResources, gatewayHost, sidecarResources, withWeights } from "./applied.ts";
import { launchMesh } from "./mesh/start.ts";
import { sidecars } from "./mesh/sidecar.ts";
import { ambient } from "./mesh/ambient.ts";
import { httpTransport } from "./http/transport.ts";
import { grpcTransport } from "./grpc/transport.ts";
import { websocketTransport } from "./websocket/transport.ts";

export { pairs, outgoing, forward, listen, filter, filterStream } from "./core/http.ts";
export { WASM } from "./core/proxy.ts";
export { MODES, PROTOCOLS, FEATURES, USER_HEADER, PROPAGATE, specForMode, splitMode, startsTrace, gatewayTracer, type Mode, type Protocol, type Feature } from "./core/features.ts";
export { traceparents } from "./core/gateway-trace.ts";
export type { AppSpec, AppRunner } from "./core/transport.ts";
export type { Mesh } from "./core/transport.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const SPEC = join(ROOT, "deploy/lanes.example.yaml");

export interface MeshOptions extends RunFeatures {
  withFilter?: boolean; weights?: number[]; seed?: number;
  /** The command line's mode (a protocol or a feature); `protocol` and `feature` say either axis directly. */
  mode?: Mode; protocol?: Protocol; feature?: Feature;
  /** Sidecars (the default) or Istio's ambient mode: waypoints routing by the generated HTTPRoutes. */
  mesh?: MeshKind;
  /** The apps behind the proxies on HTTP/1.1 (the mock apps, in this process, by default). */
  apps?: AppRunner;
  /** Serve admin-like endpoints for each proxy. */
  admin?: boolean;
  /** The generated routes the sidecars route by: istio/ (default) or asm/ (ASM's fallback). */
  routes?: RouteSet;
  /** A folder as `npm run manifests` writes it, routed by instead of the spec's manifests generated now. */
  manifests?: string;
  /** gRPC and WebSocket: sees what each listener's filter was handed and let through. */
  tap?: FilterTap;
  /** WebSocket: wsk's broadcast period (300 ms). */
  broadcastMs?: number;
}

/** The cell of the matrix the options name. */
export function meshAxes(opts: MeshOptions): { protocol: Protocol; feature: Feature; mesh: MeshKind } {
  const fromMode = splitMode(opts.mode);
  return { protocol: opts.protocol ?? fromMode.protocol, feature: opts.feature ?? fromMode.feature, mesh: opts.mesh ?? "sidecar" };
}

/** The spec the mesh runs: the mode's, with the options' observability, propagators and correlation (for --drop). */
export function meshSpec(base: LanesSpec, mode: Mode, opts: MeshOptions = {}): LanesSpec {
  return runSpec(base, splitMode(mode).feature, opts);
}

/** A sidecar's (or the gateway's) VM with the spec's filters for `roles`. */
export function plugins(wasm: Uint8Array, spec: LanesSpec, roles: FilterRole[], labels?: Record<string, string>, workload?: string): Promise<{ host: Awaited<ReturnType<typeof vmPlugins>>["host"] } & Partial<Record<FilterRole, Plugin>>> {
  return vmPlugins(wasm, planOf(spec), roles, labels, workload);
}

function transportFor(protocol: Protocol, opts: MeshOptions): Transport {
  if (protocol === "grpc") return grpcTransport(opts.tap);
  if (protocol === "websocket") return websocketTransport({ broadcastMs: opts.broadcastMs, tap: opts.tap });
  return httpTransport(opts.apps);
}

/** Everything the mesh is started from, computed once: the spec, its plan, the resources its hops route by. */
export function meshSetup(base: LanesSpec, opts: MeshOptions = {}): MeshSetup {
  const { protocol, feature, mesh } = meshAxes(opts);
  const why = refusal(protocol, feature, mesh);
  if (why) throw new Error(why);
  const spec = runSpec(base, feature, opts);
  if (opts.drop && !chain(spec).includes(opts.drop)) throw new Error(`--drop ${opts.drop}: not a service of the chain (${chain(spec).join(", ")})`);
  // The gateway route is generated with the run's --weights (the spec's without them).
  const weighted = withWeights(spec, gatewayWeights(spec, opts.weights).filter((w) => w.weight > 0));
  return {
    spec, plan: planOf(spec),
    resources: mesh === "ambient" ? ambientResources(weighted, opts.manifests) : sidecarResources(weighted, opts.routes ?? "istio", opts.manifests),
    gatewayHost: gatewayHost(spec),
    wasm: opts.withFilter === false ? null : readWasm(),
    seed: opts.seed ?? 7,
    gatewayDraws: feature !== "sticky" && protocol !== "websocket",
    trace: gatewayTracer({ ...opts, feature }),
    propagate: propagation(feature, opts.drop),
    admin: opts.admin ?? false,
  };
}

/** Starts the mesh on 127.0.0.1; `withFilter: false` runs the same mesh without lane-tag. */
export async function startMesh(base: LanesSpec, opts: MeshOptions = {}): Promise<Mesh> {
  const { protocol, mesh } = meshAxes(opts);
  return launchMesh(meshSetup(base, opts), transportFor(protocol, opts), mesh === "ambient" ? ambient : sidecars);
}

// What a mesh of the demo is built from: a transport (how the listeners and apps of one protocol move bytes)
// and a proxy shape (which proxies stand where: sidecars, or ambient's ztunnel and waypoints), over one setup
// computed once for the run: the spec, its routing plan, the resources a user applies.
import type { IncomingHttpHeaders } from "node:http";
import type { Header, Plugin } from "../../emulator/index.ts";
import type { LanesSpec } from "../../deploy/lib/spec.ts";
import type { RoutingPlan } from "../../deploy/lib/plan.ts";
import type { Workload } from "./topology.ts";
import type { Protocol } from "./axes.ts";

/** Where a listener sends a request (the filtered headers unless `headers`; as `authority` when given), or its local reply. */
export type Route = { port: number; headers?: Header[]; authority?: string; responseHeaders?: Record<string, string> } | { status: number; message: string };

export interface ListenerSpec {
  /** The listener's name, for a transport's tap (e.g. `mockb-v2 outbound`, `gateway`). */
  name: string;
  /** The filter (null without lane-tag) and the listener direction the host reports to it. */
  plugin: Plugin | null;
  direction: number;
  route: (headers: Header[]) => Route;
  /** Headers the proxy's tracer adds to a request before the filter (the gateway's). */
  trace?: (request: IncomingHttpHeaders) => Header[];
}

/** Called with what a listener's filter was handed and what it let through (null: refused); `upgrade`: a WebSocket upgrade. */
export type FilterTap = (listener: string, input: Header[], output: Header[] | null, upgrade: boolean) => void;

/** Listeners of one protocol on 127.0.0.1; `close` ends them all. */
export interface Listeners { listen(l: ListenerSpec): Promise<number>; close(): Promise<void> }

// The apps behind the proxies, whatever runs them: what each one is told (its upstream, the listener it
// calls through, what it forwards).
/** One workload's app: its upstream (when it has one), the listener it calls through, and what the mock app
 *  forwards (the mock kind only: other kinds forward what their own tracing forwards). */
export interface AppSpec {
  workload: string; service: string; version: string; upstreamUrl?: string; proxy: string; propagate: string;
  /** Whether any lane routes to it: a workload of a lane that does not list its service never gets a request. */
  routed: boolean;
}
/** Starts the apps (a kind may skip those not routed); resolves once each listens, with its port per workload. */
export type AppRunner = (apps: AppSpec[]) => Promise<{ ports: Map<string, number>; close(): Promise<void> }>;

export interface RunningApps {
  ports: Map<string, number>;
  close(): Promise<void>;
  /** WebSocket: the `hello` messages wsk's clients acknowledged so far. */
  acks?(): number;
}

export interface Transport {
  protocol: Protocol;
  /** The port of every Service. */
  servicePort: number;
  /** The pods the mesh runs for `spec`. */
  pods(spec: LanesSpec): Workload[];
  listeners(): Listeners;
  /** Starts the apps, each calling its upstream through its `proxy`. */
  startApps(apps: AppSpec[]): Promise<RunningApps>;
  /** What a client dials, from the entry listener's port. */
  gatewayUrl(port: number): string;
}

/** Everything a mesh is started from, computed once: the shapes and transports only read it. */
export interface MeshSetup {
  spec: LanesSpec;
  plan: RoutingPlan;
  /** What every hop routes by: istio/ or asm/ (sidecars), ambient/ (ambient), as a user applies them. */
  resources: any[];
  /** A host the gateway serves, for its route's host match. */
  gatewayHost: string;
  /** The built module, or null: the same mesh without lane-tag. */
  wasm: Uint8Array | null;
  /** The seed of the gateway's weighted draw when a request has no x-lane-random. */
  seed: number;
  /** Whether the gateway's route draws the lane by weight (else lane-tag chose it: sticky, lane_from). */
  gatewayDraws: boolean;
  /** What the gateway's tracer adds to a request. */
  trace: (request: IncomingHttpHeaders) => Header[];
  /** What each service's mock app forwards. */
  propagate: (service: string) => string;
  /** Serve admin-like endpoints for each sidecar (and the gateway). */
  admin: boolean;
}

export interface Mesh {
  gatewayUrl: string;
  /** Admin-like endpoints per proxy (with `admin`): /stats/prometheus and /server_info. */
  admins?: { workload: string; url: string }[];
  /** Per workload (with the filter), the live trace records its sidecar's full trace table gave up (trace_evicted). */
  traceEvicted?(): Map<string, number>;
  /** WebSocket: the `hello` messages wsk's clients acknowledged so far. */
  acks?(): number;
  close(): Promise<void>;
}

/** A proxy shape: starts its proxies and the apps on `listen`, returns the entry's port and what it started. */
export type ProxyShape = (setup: MeshSetup, transport: Transport, listen: Listeners["listen"]) => Promise<Omit<Mesh, "gatewayUrl" | "close"> & { entry: number; apps: RunningApps }>;

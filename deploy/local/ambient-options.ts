// Which demo options the ambient mesh runs, and why it refuses the others: each refusal names what
// ambient mode (or this demo of it) cannot do. Shared by the command line (demo.ts) and the mesh itself.
import { UsageError } from "../lib/cli.ts";

export const MESHES = ["sidecar", "ambient"] as const;
export type MeshKind = (typeof MESHES)[number];

/** The modes the ambient mesh runs: the HTTP chain (with --apps otel, baggage and correlation: demo.ts checkOtelOptions). */
export const AMBIENT_MODES = ["baggage", "stacked", "correlation", "sticky"] as const;

const REFUSED: Record<string, string> = {
  strict: "strict mode cannot work in Istio ambient mode: no proxy there knows the pod's own lane (ztunnel carries L4 only; a waypoint serves every pod of its namespace or service)",
  grpc: "the gRPC demo's ambient mesh is its own (grpc/ambient-mesh.ts: HTTP/2 waypoints), not the HTTP chain's",
  websocket: "the WebSocket demo's ambient mesh is its own (websocket/ambient-mesh.ts, with its spec), not the HTTP chain's",
};

/** The modes with an ambient mesh of their own (grpc/, websocket/): the command line runs them, the HTTP mesh does not. */
export const OWN_AMBIENT_MESH = ["grpc", "websocket"] as const;

/** Why the ambient mesh does not run `mode`, or undefined when it does. */
export function ambientRefusal(mode: string): string | undefined {
  if ((AMBIENT_MODES as readonly string[]).includes(mode)) return undefined;
  return `--mesh ambient --mode ${mode}: ${REFUSED[mode] ?? `not one of ${AMBIENT_MODES.join(", ")}`}`;
}

interface Options {
  mesh?: MeshKind; mode?: string; routes?: string; trace?: boolean; status?: boolean;
}

/** The command line's checks for --mesh ambient; a UsageError names what does not apply. */
export function checkAmbientOptions(o: Options): void {
  if (o.mesh !== "ambient") return;
  const mode = o.mode ?? "baggage";
  const why = (OWN_AMBIENT_MESH as readonly string[]).includes(mode) ? undefined : ambientRefusal(mode);
  if (why) throw new UsageError(why);
  if (o.routes !== undefined) throw new UsageError("--routes picks the sidecar routes (istio/ or asm/): --mesh ambient routes by ambient/'s HTTPRoutes");
  if (o.trace) throw new UsageError("--trace does not apply to --mesh ambient: the hop trace names each hop by its sidecar's lane label, and a waypoint has none");
  if (o.status) throw new UsageError("--status does not apply to --mesh ambient: the demo's waypoints serve no admin endpoints");
}

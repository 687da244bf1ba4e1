// Which cells of the demo's matrix (protocol × lane feature × mesh) run, and why the others cannot: each
// refusal is one line naming what the protocol, or ambient mode, cannot do. Shared by the command line
// (demo.ts) and the mesh starter, so a combination given in code is refused the same way.
import { UsageError } from "../../deploy/lib/cli.ts";
import type { Feature, Protocol } from "./features.ts";

export const MESHES = ["sidecar", "ambient"] as const;
export type MeshKind = (typeof MESHES)[number];

/** Why `protocol` with `feature` on `mesh` cannot run, or undefined when it runs. */
export function refusal(protocol: Protocol, feature: Feature, mesh: MeshKind = "sidecar"): string | undefined {
  if (protocol === "grpc" && feature !== "baggage") return `gRPC with ${feature}: the gRPC apps forward only the baggage metadata, and the gRPC demo runs the baggage lanes only`;
  if (protocol === "websocket" && feature !== "baggage") return `WebSocket with ${feature}: the WebSocket demo runs its own spec (deploy/lanes.websocket.yaml), whose clients name their lane on the handshake`;
  if (mesh === "ambient" && feature === "strict") return "--mesh ambient --mode strict: strict mode cannot work in Istio ambient mode: no proxy there knows the pod's own lane (ztunnel carries L4 only; a waypoint serves every pod of its namespace or service)";
  return undefined;
}

interface Options {
  mesh?: MeshKind; routes?: string; trace?: boolean; status?: boolean;
}

/** The command line's checks for --mesh ambient beyond the matrix; a UsageError names what does not apply. */
export function checkAmbientOptions(o: Options, protocol: Protocol, feature: Feature): void {
  if (o.mesh !== "ambient") return;
  const why = refusal(protocol, feature, "ambient");
  if (why) throw new UsageError(why);
  if (o.routes !== undefined) throw new UsageError("--routes picks the sidecar routes (istio/ or asm/): --mesh ambient routes by ambient/'s HTTPRoutes");
  if (o.trace) throw new UsageError("--trace does not apply to --mesh ambient: the hop trace names each hop by its sidecar's lane label, and a waypoint has none");
  if (o.status) throw new UsageError("--status does not apply to --mesh ambient: the demo's waypoints serve no admin endpoints");
}

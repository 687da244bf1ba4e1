// What both proxy shapes share: the ingress hop (the gateway's route draws the lane by weight, Envoy's
// WeightedCluster.header_name value, else the seeded draw, unless lane-tag chose it, and answers with the
// lane it sent the request in), a hop inside the mesh, and what each app is told.
import type { Header } from "../../emulator/index.ts";
import type { LanesSpec } from "../../deploy/lib/spec.ts";
import { upstreamOf, weightedValue, RANDOM_HEADER, LANE_HEADER, type Workload } from "../core/topology.ts";
import { prng } from "../core/random.ts";
import type { Hop, HeaderMap } from "../core/router.ts";
import type { AppSpec, MeshSetup, Transport } from "../core/transport.ts";

export const first = (headers: Header[], name: string) => headers.find(([k]) => k === name)?.[1];

/** Per request at the gateway: the hop its route takes, and the headers passed on (without the test hook). */
export function gatewayHops(setup: MeshSetup): (headers: Header[]) => { hop: Hop; rest: Header[] } {
  const rand = prng(setup.seed);
  return (headers) => {
    // x-lane-random is a test hook: its value is the draw, and the route removes it, as the Envoy route does.
    const draw = setup.gatewayDraws ? weightedValue(first(headers, RANDOM_HEADER), rand) : undefined;
    const rest = headers.filter(([k]) => k !== RANDOM_HEADER);
    return { hop: { host: setup.gatewayHost, port: 80, path: first(rest, ":path") ?? "/", method: first(rest, ":method"), atGateway: true, draw }, rest };
  };
}

/** The response header naming the lane the gateway's route sent the request in. */
export const laneHeader = (spec: LanesSpec, routed: HeaderMap) => ({ [LANE_HEADER]: routed[spec.routingHeader]?.[0] ?? spec.baseline });

/** The hop of a request inside the mesh, to `host` on the port its authority names (else the Service port). */
export function meshHop(headers: Header[], host: string, port: number): Hop {
  return { host, port, path: first(headers, ":path") ?? "/", method: first(headers, ":method") };
}

/** The app of workload `w`, calling its upstream through the listener on `proxyPort`. */
export function appSpec(setup: MeshSetup, transport: Transport, w: Workload, proxyPort: number, routed: Set<string>): AppSpec {
  const up = upstreamOf(setup.spec, w.service);
  return { workload: w.name, service: w.service, version: w.version, upstreamUrl: up ? `http://${up}:${transport.servicePort}/` : undefined, proxy: `http://127.0.0.1:${proxyPort}`, propagate: setup.propagate(w.service), routed: routed.has(w.name) };
}

// The demo's matrix, one axis at a time: the protocol every hop speaks and the lane feature the run shows.
// The command line's --mode names either (grpc and websocket are protocols, the rest features), so a mode
// splits into the two here.
export const PROTOCOLS = ["http", "grpc", "websocket"] as const;
/** HTTP/1.1, HTTP/2 with gRPC over h2c, or WebSocket upgrades. */
export type Protocol = (typeof PROTOCOLS)[number];
export const FEATURES = ["baggage", "correlation", "strict", "sticky", "stacked"] as const;
export type Feature = (typeof FEATURES)[number];
/** The command line's --mode: a feature on HTTP/1.1, or a protocol with the baggage feature. */
export const MODES = ["baggage", "correlation", "strict", "sticky", "grpc", "websocket", "stacked"] as const;
export type Mode = (typeof MODES)[number];

/** A mode's protocol and feature. */
export function splitMode(mode: Mode = "baggage"): { protocol: Protocol; feature: Feature } {
  if (mode === "grpc" || mode === "websocket") return { protocol: mode, feature: "baggage" };
  return { protocol: "http", feature: mode };
}

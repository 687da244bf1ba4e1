// The bench's requests, shared with the tests that check the reference filter does the floor's job on them.
import type { Header } from "../../emulator/index.ts";

/** What every bench request carries: a client's request as a sidecar sees it. */
export const common: Header[] = [
  [":authority", "mockb.default.svc.cluster.local:8000"], [":path", "/api/v1/items?id=42"], [":method", "GET"],
  [":scheme", "http"], ["user-agent", "python-requests/2.31.0"], ["accept", "*/*"],
  ["x-request-id", "5f1c6f0e-8a4b-4c3e-9f7d-2b1a0c9e8d7f"],
  ["traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
];

/** A baggage value of `members` members of ~40 bytes, the lane member last (a scan reads everything). */
export function sizedBaggage(members: number, width = 37): string {
  const m = Array.from({ length: members - 1 }, (_, i) => `k${i}=${"v".repeat(width - String(i).length)}`);
  m.push("x-asm-prefer-tag=s2");
  return m.join(",");
}

/** The large-baggage scenario: 180 members, 7.2 KB. */
export const big = sizedBaggage(180, 38);
export const lane3: Header[] = [...common, ["baggage", "userId=alice,x-asm-prefer-tag=s2,sessionId=8f2a"]];
export const inHdr: Header[] = [...common, ["x-asm-prefer-tag", "s2"], ["baggage", "userId=alice,sessionId=8f2a"]];
/** The baggage sizes of the cost-vs-size table, in members. */
export const SIZES = [1, 8, 64, 180];

/** Outbound requests where a lane filter's whole job is the floor's: the routing header from baggage, or
 *  nothing to do. On these lane-tag, the reference and the floor must leave the same headers. */
export const outboundJobs: [string, Header[]][] = [
  ["3-member baggage with lane", lane3],
  ["no baggage", [...common]],
  ["180-member baggage", [...common, ["baggage", big]]],
  ...SIZES.map((m): [string, Header[]] => [`${m}-member baggage, lane last`, [...common, ["baggage", sizedBaggage(m)]]]),
];

// --apps otel with the propagators that carry no baggage at all (b3, b3multi, xray): the lane needs trace
// correlation on a trace the first app continues. A W3C trace from the gateway (correlation mode's default)
// is one a B3-only SDK does not extract; a B3 trace (--gateway-trace b3, as Envoy's Zipkin tracer starts)
// keeps the lanes of b3 and b3multi; xray extracts neither, but an X-Ray trace (--gateway-trace xray, as
// Envoy's X-Ray tracer starts) keeps its lanes: correlation keys on the Root= field, the same every hop.
import { describeSets } from "./otel-sets.ts";

describeSets("--apps otel: propagators without baggage end as the expectations table says", [
  ...[["b3"], ["b3multi"], ["xray"]].map((propagators) => ({ propagators, mode: "baggage" as const })),
  { propagators: ["b3multi"], mode: "correlation" },
  { propagators: ["b3", "baggage"], mode: "baggage" },
  ...[["b3"], ["b3multi"], ["xray"], ["b3", "ottrace"]].map((propagators) => ({ propagators, mode: "correlation" as const, gatewayTrace: "b3" as const })),
  { propagators: ["xray"], mode: "correlation", gatewayTrace: "xray" },
  { propagators: ["xray"], mode: "correlation" },
  { propagators: ["xray", "b3multi"], mode: "correlation", gatewayTrace: "xray" },
]);

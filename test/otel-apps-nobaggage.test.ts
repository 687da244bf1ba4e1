// --apps otel with the propagators that carry no baggage at all (b3, b3multi, xray): the lane needs trace
// correlation, which keys on W3C traceparent, so it is lost with them alone, in either mode.
import { describeSets } from "./otel-sets.ts";

describeSets("--apps otel: propagators without baggage end as the expectations table says", [
  ...[["b3"], ["b3multi"], ["xray"]].map((propagators) => ({ propagators, mode: "baggage" as const })),
  { propagators: ["b3multi"], mode: "correlation" },
  { propagators: ["b3", "baggage"], mode: "baggage" },
]);

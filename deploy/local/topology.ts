// otel/expectations.ts (kept as it is here) imports this path; the module is core/topology.ts.
export * from "./core/topology.ts";

// otel/expectations.ts (kept as it is here) imports this path; the module is core/client.ts.
export * from "./core/client.ts";

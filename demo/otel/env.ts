// The environment the OpenTelemetry Operator's Node.js injection gives an app container, for one workload:
// shared by the Docker-less demo's app processes (apps.ts) and the docker-compose apps (generate.ts), so both
// run app.cjs the same way. No imports: the compose generator loads it without the SDK packages.

/** The Operator's default Instrumentation propagators (the spec's otel.propagators when it has none). */
export const DEFAULT_PROPAGATORS = ["tracecontext", "baggage"];

export interface InstrumentedApp {
  service: string; version: string; propagators: readonly string[];
  /** The preload's path as the app's node sees it (the Operator's is its autoinstrumentation.js). */
  preload: string;
}

/** NODE_OPTIONS=--require of the preload and the OTEL_* the Operator sets; app and version for app.cjs's chain line. */
export function instrumentationEnv({ service, version, propagators, preload }: InstrumentedApp): Record<string, string> {
  return {
    // Quoted: a path with a space is still one argument.
    NODE_OPTIONS: `--require ${JSON.stringify(preload)}`,
    OTEL_SERVICE_NAME: service,
    OTEL_PROPAGATORS: propagators.join(","),
    OTEL_TRACES_SAMPLER: "parentbased_always_on",
    // Nothing listens there: no exporter runs (OTEL_TRACES_EXPORTER=none, metrics and logs off).
    OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4317",
    OTEL_TRACES_EXPORTER: "none", OTEL_METRICS_EXPORTER: "none", OTEL_LOGS_EXPORTER: "none",
    OTEL_RESOURCE_ATTRIBUTES: `service.version=${version}`,
    app: service, version,
  };
}

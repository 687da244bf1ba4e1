// The lanes spec's larger optional parts, parsed with the checks parseSpec hands over (spec.ts).
import { otelPropagators } from "./validate.ts";
import {
  DNS_LABEL, TOKEN, LABEL_VALUE, LABEL_KEY, OTEL_REQUIRED_PROPAGATORS, isObject, describe,
  type SpecContext, type Path, type Lane, type GatewaySpec, type LaneFromSpec, type OtelSpec, type ObserveSpec,
} from "./spec.ts";

/** `gateway`: the ingress gateway, its entry, weights, sticky header and the lanes clients may name. */
export function parseGateway(ctx: SpecContext, g: unknown, lanes: Lane[], services: string[]): GatewaySpec | undefined {
  const { fail, str, check, headerName } = ctx;
  let gateway: GatewaySpec | undefined;
  if (!isObject(g)) fail(["gateway"], `must be a mapping, got ${describe(g)}`);
  else {
    const gknown = ["name", "namespace", "workloadNamespace", "labels", "hosts", "entry", "weights", "stickyHeader", "laneFrom"];
    for (const k of Object.keys(g)) if (!gknown.includes(k)) fail(["gateway", k], `unknown field (known: ${gknown.join(", ")})`);
    const name = str(["gateway", "name"], g.name, true);
    check(["gateway", "name"], name, DNS_LABEL, "a Kubernetes name");
    const gns = str(["gateway", "namespace"], g.namespace, false, "istio-system");
    check(["gateway", "namespace"], gns, DNS_LABEL, "a Kubernetes namespace name");
    const workloadNamespace = str(["gateway", "workloadNamespace"], g.workloadNamespace, false, "istio-system");
    check(["gateway", "workloadNamespace"], workloadNamespace, DNS_LABEL, "a Kubernetes namespace name");
    const labels: Record<string, string> = {};
    if (!isObject(g.labels) || Object.keys(g.labels).length === 0) fail(["gateway", "labels"], "must be a non-empty mapping of the gateway workload's labels");
    else for (const [k, v] of Object.entries(g.labels)) {
      if (!LABEL_KEY.test(k)) fail(["gateway", "labels", k], `${JSON.stringify(k)} is not a Kubernetes label key`);
      if (typeof v !== "string" || v === "" || !LABEL_VALUE.test(v)) fail(["gateway", "labels", k], `must be a non-empty label value, got ${JSON.stringify(v)}`);
      labels[k] = String(v);
    }
    const hosts: string[] = [];
    const rawHosts = g.hosts ?? ["*"];
    if (!Array.isArray(rawHosts) || rawHosts.length === 0) fail(["gateway", "hosts"], "must be a non-empty list of host names");
    else rawHosts.forEach((h: unknown, i: number) => {
      if (typeof h !== "string" || !/^(\*|(\*\.)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.test(h)) fail(["gateway", "hosts", i], `${JSON.stringify(h)} is not a host name or "*"`);
      else hosts.push(h);
    });
    let entry: GatewaySpec["entry"] = { service: "", prefix: "/" };
    if (!isObject(g.entry)) fail(["gateway", "entry"], "must be a mapping {service, port, prefix}");
    else {
      for (const k of Object.keys(g.entry)) if (!["service", "port", "prefix"].includes(k)) fail(["gateway", "entry", k], "unknown field (known: service, port, prefix)");
      const service = str(["gateway", "entry", "service"], g.entry.service, true);
      if (service && !services.includes(service)) fail(["gateway", "entry", "service"], `${JSON.stringify(service)} is not a service of any lane`);
      const port = g.entry.port;
      if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) fail(["gateway", "entry", "port"], `must be a port number 1-65535, got ${JSON.stringify(port)}`);
      const prefix = str(["gateway", "entry", "prefix"], g.entry.prefix, false, "/");
      if (!prefix.startsWith("/")) fail(["gateway", "entry", "prefix"], `${JSON.stringify(prefix)} must start with "/"`);
      entry = { service, prefix, ...(port !== undefined ? { port } : {}) };
    }
    let laneFrom: LaneFromSpec | undefined;
    if (g.laneFrom !== undefined) {
      const lf = g.laneFrom;
      if (!isObject(lf)) fail(["gateway", "laneFrom"], `must be a mapping {header, cookie, query, values}, got ${describe(lf)}`);
      else {
        laneFrom = {};
        for (const k of Object.keys(lf)) if (!["header", "cookie", "query", "values"].includes(k)) fail(["gateway", "laneFrom", k], "unknown field (known: header, cookie, query, values)");
        if (lf.header !== undefined) {
          laneFrom.header = str(["gateway", "laneFrom", "header"], lf.header, true);
          if (laneFrom.header && !TOKEN.test(laneFrom.header)) fail(["gateway", "laneFrom", "header"], `${JSON.stringify(laneFrom.header)} is not an HTTP header name`);
          else if (laneFrom.header !== laneFrom.header.toLowerCase()) fail(["gateway", "laneFrom", "header"], `${JSON.stringify(laneFrom.header)} must be lowercase`);
          else if (laneFrom.header === "baggage") fail(["gateway", "laneFrom", "header"], `must not be "baggage", the header that carries the lane`);
        }
        for (const k of ["cookie", "query"] as const) {
          if (lf[k] === undefined) continue;
          laneFrom[k] = str(["gateway", "laneFrom", k], lf[k], true);
          check(["gateway", "laneFrom", k], laneFrom[k]!, TOKEN, `a ${k} name (a token)`);
        }
        if (lf.values !== undefined) {
          if (!isObject(lf.values) || Object.keys(lf.values).length === 0) fail(["gateway", "laneFrom", "values"], "must be a mapping of client value to lane name");
          else {
            laneFrom.values = {};
            for (const [v, lane] of Object.entries(lf.values)) {
              if (typeof lane !== "string" || !lanes.some((l) => l.name === lane)) fail(["gateway", "laneFrom", "values", v], `${JSON.stringify(lane)} is not one of the lanes`);
              else laneFrom.values[v] = lane;
            }
          }
        }
        if (!laneFrom.header && !laneFrom.cookie && !laneFrom.query) fail(["gateway", "laneFrom"], "needs a header, cookie or query to take the lane from");
      }
    }
    const weights: Record<string, number> = {};
    if (g.weights === undefined && laneFrom) {
      // Clients name their lanes; requests that name none go to the baseline.
    } else if (!isObject(g.weights) || Object.keys(g.weights).length === 0) fail(["gateway", "weights"], "must be a mapping of lane name to weight");
    else {
      for (const [lane, w] of Object.entries(g.weights)) {
        if (!lanes.some((l) => l.name === lane)) fail(["gateway", "weights", lane], `${JSON.stringify(lane)} is not one of the lanes`);
        if (!(Number.isInteger(w) && (w as number) >= 0 && (w as number) <= 100)) fail(["gateway", "weights", lane], `must be an integer 0-100, got ${JSON.stringify(w)}`);
        else weights[lane] = w as number;
      }
      const sum = Object.values(weights).reduce((a, b) => a + b, 0);
      if (Object.keys(weights).length === Object.keys(g.weights).length && sum !== 100) fail(["gateway", "weights"], `weights must add up to 100, they add up to ${sum}`);
    }
    let stickyHeader: string | undefined;
    if (g.stickyHeader !== undefined) {
      stickyHeader = str(["gateway", "stickyHeader"], g.stickyHeader, true);
      if (stickyHeader) headerName(["gateway", "stickyHeader"], stickyHeader);
      if (g.weights === undefined) fail(["gateway", "stickyHeader"], "needs gateway.weights: it assigns lanes by them");
    }
    gateway = { name, namespace: gns, workloadNamespace, labels, hosts, entry, weights, ...(stickyHeader ? { stickyHeader } : {}), ...(laneFrom ? { laneFrom } : {}) };
  }
  return gateway;
}

/** `otel`: the OpenTelemetry Operator Instrumentation for the zero-code path. */
export function parseOtel(ctx: SpecContext, o: unknown, group: string): OtelSpec | undefined {
  const { fail, str, check } = ctx;
  let otel: OtelSpec | undefined;
  const otelName = `lane-tag-${group}`;
  if (o === true) otel = { name: otelName, propagators: [...OTEL_REQUIRED_PROPAGATORS] };
  else if (o !== undefined && o !== false) {
    if (!isObject(o)) fail(["otel"], `must be true, false or a mapping {name, propagators, endpoint}, got ${describe(o)}`);
    else {
      otel = { name: otelName, propagators: [...OTEL_REQUIRED_PROPAGATORS] };
      for (const k of Object.keys(o)) if (!["name", "propagators", "endpoint"].includes(k)) fail(["otel", k], "unknown field (known: name, propagators, endpoint)");
      if (o.name !== undefined) {
        otel.name = str(["otel", "name"], o.name, true, otelName);
        check(["otel", "name"], otel.name, DNS_LABEL, "a Kubernetes name");
      }
      if (o.propagators !== undefined) {
        // Checked against the operator's own list (its CRD's enum), so the spec fails where the cluster would.
        const allowed = otelPropagators();
        if (!Array.isArray(o.propagators) || o.propagators.length === 0) fail(["otel", "propagators"], `must be a non-empty list of ${allowed.join(", ")}`);
        else {
          const list: string[] = [];
          o.propagators.forEach((v: unknown, i: number) => {
            const p: Path = ["otel", "propagators", i];
            if (typeof v !== "string") return void fail(p, `must be a string, got ${describe(v)}`);
            if (allowed.length && !allowed.includes(v)) return void fail(p, `${JSON.stringify(v)} is not a propagator the operator knows (${allowed.join(", ")})`);
            // "none" turns propagation off: the lane would stop at the first instrumented app.
            if (v === "none") return void fail(p, `"none" turns propagation off: the lane would not survive an instrumented app`);
            if (list.includes(v)) return void fail(p, `${JSON.stringify(v)} is listed twice`);
            list.push(v);
          });
          const missing = OTEL_REQUIRED_PROPAGATORS.filter((r) => !o.propagators.includes(r));
          if (missing.length) fail(["otel", "propagators"], `must include ${missing.join(" and ")} (baggage carries the lane, tracecontext the trace)`);
          otel.propagators = list;
        }
      }
      if (o.endpoint !== undefined) {
        const e = str(["otel", "endpoint"], o.endpoint, true);
        if (e && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(e)) fail(["otel", "endpoint"], `${JSON.stringify(e)} is not an http(s):// URL of an OTLP collector`);
        else if (e) otel.endpoint = e;
      }
    }
  }
  return otel;
}

/** `observe`: the filter's lane observability, each off unless listed true. */
export function parseObserve(ctx: SpecContext, o: unknown): ObserveSpec {
  const out: ObserveSpec = { laneMetrics: false, filterState: false, hopTrace: false };
  if (o === undefined) return out;
  if (!isObject(o)) {
    ctx.fail(["observe"], `must be a mapping {laneMetrics, filterState, hopTrace}, got ${describe(o)}`);
    return out;
  }
  for (const [k, v] of Object.entries(o)) {
    if (!(k in out)) ctx.fail(["observe", k], "unknown field (known: laneMetrics, filterState, hopTrace)");
    else if (typeof v !== "boolean") ctx.fail(["observe", k], `must be true or false, got ${describe(v)}`);
    else out[k as keyof ObserveSpec] = v;
  }
  return out;
}

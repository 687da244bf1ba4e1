// The lanes spec's larger optional parts, parsed with the checks parseSpec hands over (spec.ts).
import { otelPropagators } from "./validate.ts";
import { DNS_LABEL, FILTER_LIMITS, K8S, TOKEN, LABEL_VALUE, isObject, describe, number, shown, type SpecContext, type Path } from "./spec-check.ts";
import { LANE_PROPAGATORS, carriesLane } from "./carriers.ts";
import { defaultInstrumentationName } from "./names.ts";
import { OTEL_REQUIRED_PROPAGATORS, type CorrelationSpec, type Lane, type GatewaySpec, type LaneFromSpec, type OtelSpec, type ObserveSpec } from "./spec-types.ts";

/** `gateway`: the ingress gateway, its entry, weights, sticky header and the lanes clients may name. */
export function parseGateway(ctx: SpecContext, raw: unknown, lanes: Lane[], services: string[]): GatewaySpec | undefined {
  const { fail, str, check } = ctx;
  if (!isObject(raw)) { fail(["gateway"], `must be a mapping, got ${describe(raw)}`); return undefined; }
  const g = ctx.fields(["gateway"], raw, ["name", "namespace", "workloadNamespace", "labels", "hosts", "entry", "weights", "stickyHeader", "laneFrom", "baggageLimits"]);
  const name = str(["gateway", "name"], g.name, true);
  check(["gateway", "name"], name, DNS_LABEL, "a Kubernetes name", K8S.label);
  const gns = str(["gateway", "namespace"], g.namespace, false, "istio-system");
  check(["gateway", "namespace"], gns, DNS_LABEL, "a Kubernetes namespace name", K8S.label);
  const workloadNamespace = str(["gateway", "workloadNamespace"], g.workloadNamespace, false, "istio-system");
  check(["gateway", "workloadNamespace"], workloadNamespace, DNS_LABEL, "a Kubernetes namespace name", K8S.label);
  // The steps run in the order of the fields, so problems are reported in that order.
  const labels = gatewayLabels(ctx, g.labels);
  const hosts = gatewayHosts(ctx, g.hosts);
  const entry = gatewayEntry(ctx, g.entry, services);
  const laneFrom = g.laneFrom === undefined ? undefined : parseLaneFrom(ctx, g.laneFrom, lanes);
  const weights = gatewayWeights(ctx, g.weights, lanes, laneFrom !== undefined);
  const stickyHeader = gatewayStickyHeader(ctx, g.stickyHeader, g.weights !== undefined);
  const baggageLimits = g.baggageLimits ?? false;
  if (typeof baggageLimits !== "boolean") fail(["gateway", "baggageLimits"], `must be true or false, got ${describe(baggageLimits)}`);
  return { name, namespace: gns, workloadNamespace, labels, hosts, entry, weights, ...(stickyHeader ? { stickyHeader } : {}), ...(laneFrom ? { laneFrom } : {}), ...(baggageLimits === true ? { baggageLimits: true } : {}) };
}

/** `gateway.labels`: the gateway workload's labels, which select it. */
function gatewayLabels(ctx: SpecContext, raw: unknown): Record<string, string> {
  const { fail, check } = ctx;
  const labels: Record<string, string> = {};
  if (!isObject(raw) || Object.keys(raw).length === 0) fail(["gateway", "labels"], "must be a non-empty mapping of the gateway workload's labels");
  else for (const [k, v] of Object.entries(raw)) {
    ctx.labelKey(["gateway", "labels", k], k);
    if (typeof v !== "string" || v === "") fail(["gateway", "labels", k], `must be a non-empty label value, got ${describe(v)}`);
    else check(["gateway", "labels", k], v, LABEL_VALUE, "a Kubernetes label value", K8S.labelValue);
    labels[k] = String(v);
  }
  return labels;
}

/** `gateway.hosts`: the host names it serves, "*" when absent. */
function gatewayHosts(ctx: SpecContext, raw: unknown): string[] {
  const hosts: string[] = [];
  const rawHosts = raw ?? ["*"];
  if (!Array.isArray(rawHosts) || rawHosts.length === 0) ctx.fail(["gateway", "hosts"], "must be a non-empty list of host names");
  else rawHosts.forEach((h: unknown, i: number) => {
    if (typeof h !== "string" || !/^(\*|(\*\.)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.test(h)) ctx.fail(["gateway", "hosts", i], `${typeof h === "string" ? shown(h) : describe(h)} is not a host name or "*"`);
    else hosts.push(h);
  });
  return hosts;
}

/** `gateway.entry`: the lanes' service the gateway routes to, its port and path prefix. */
function gatewayEntry(ctx: SpecContext, raw: unknown, services: string[]): GatewaySpec["entry"] {
  const { fail, str } = ctx;
  if (!isObject(raw)) { fail(["gateway", "entry"], "must be a mapping {service, port, prefix}"); return { service: "", prefix: "/" }; }
  const e = ctx.fields(["gateway", "entry"], raw, ["service", "port", "prefix"]);
  const service = str(["gateway", "entry", "service"], e.service, true);
  if (service && !services.includes(service)) fail(["gateway", "entry", "service"], `${shown(service)} is not a service of any lane`);
  const port = e.port;
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) fail(["gateway", "entry", "port"], `must be a port number 1-65535, got ${number(port)}`);
  const prefix = str(["gateway", "entry", "prefix"], e.prefix, false, "/");
  if (!prefix.startsWith("/")) fail(["gateway", "entry", "prefix"], `${shown(prefix)} must start with "/"`);
  return { service, prefix, ...(port !== undefined ? { port } : {}) };
}

/** `gateway.weights`: lane -> weight, adding up to 100; optional when clients name their lanes (laneFrom). */
function gatewayWeights(ctx: SpecContext, raw: unknown, lanes: Lane[], hasLaneFrom: boolean): Record<string, number> {
  const { fail } = ctx;
  const weights: Record<string, number> = {};
  // Clients name their lanes; requests that name none go to the baseline.
  if (raw === undefined && hasLaneFrom) return weights;
  if (!isObject(raw) || Object.keys(raw).length === 0) { fail(["gateway", "weights"], "must be a mapping of lane name to weight"); return weights; }
  for (const [lane, w] of Object.entries(raw)) {
    if (!lanes.some((l) => l.name === lane)) fail(["gateway", "weights", lane], `${shown(lane)} is not one of the lanes`);
    if (!(Number.isInteger(w) && (w as number) >= 0 && (w as number) <= 100)) fail(["gateway", "weights", lane], `must be an integer 0-100, got ${number(w)}`);
    else weights[lane] = w as number;
  }
  // Summed only when every weight is an integer 0-100: a sum without the refused ones would mislead.
  const sum = Object.values(weights).reduce((a, b) => a + b, 0);
  if (Object.keys(weights).length === Object.keys(raw).length && sum !== 100) fail(["gateway", "weights"], `weights must add up to 100, they add up to ${sum}`);
  return weights;
}

/** `gateway.stickyHeader`: the header whose value keeps a client in its weighted lane. */
function gatewayStickyHeader(ctx: SpecContext, raw: unknown, hasWeights: boolean): string | undefined {
  if (raw === undefined) return undefined;
  const stickyHeader = ctx.str(["gateway", "stickyHeader"], raw, true);
  if (stickyHeader) ctx.headerName(["gateway", "stickyHeader"], stickyHeader);
  if (!hasWeights) ctx.fail(["gateway", "stickyHeader"], "needs gateway.weights: it assigns lanes by them");
  return stickyHeader;
}

/** `gateway.laneFrom`: where clients name their lane, and the values they may use (the filter's lane_from). */
function parseLaneFrom(ctx: SpecContext, raw: unknown, lanes: Lane[]): LaneFromSpec | undefined {
  const { fail, str, check, headerName } = ctx;
  const p: Path = ["gateway", "laneFrom"];
  if (!isObject(raw)) { fail(p, `must be a mapping {header, cookie, query, values}, got ${describe(raw)}`); return undefined; }
  const lf = ctx.fields(p, raw, ["header", "cookie", "query", "values"]);
  const laneFrom: LaneFromSpec = {};
  if (lf.header !== undefined) {
    laneFrom.header = str([...p, "header"], lf.header, true);
    // Its own header, not the one that carries the lane: the routing header may name a lane as it is.
    if (laneFrom.header && laneFrom.header !== ctx.routingHeader()) headerName([...p, "header"], laneFrom.header);
  }
  for (const k of ["cookie", "query"] as const) {
    if (lf[k] === undefined) continue;
    laneFrom[k] = str([...p, k], lf[k], true);
    check([...p, k], laneFrom[k]!, TOKEN, `a ${k} name (a token)`, FILTER_LIMITS.name);
  }
  if (lf.values !== undefined) {
    const count = isObject(lf.values) ? Object.keys(lf.values).length : 0;
    if (count === 0) fail([...p, "values"], "must be a mapping of client value to lane name");
    else if (count > FILTER_LIMITS.lanes) fail([...p, "values"], `has ${count} values: the filter takes at most ${FILTER_LIMITS.lanes}`);
    else {
      const values: [string, string][] = [];
      for (const [v, lane] of Object.entries(lf.values)) {
        const vp: Path = [...p, "values", v];
        if (v === "") fail(vp, "a client value must not be empty");
        else if (v.length > FILTER_LIMITS.name) fail(vp, `the client value ${shown(v)} is too long: the filter takes at most ${FILTER_LIMITS.name} characters, this one has ${v.length}`);
        else if (typeof lane !== "string" || !lanes.some((l) => l.name === lane)) fail(vp, `${typeof lane === "string" ? shown(lane) : describe(lane)} is not one of the lanes`);
        else values.push([v, lane]);
      }
      // Built whole: a client value may be any text, "__proto__" too, which an assignment would drop.
      laneFrom.values = Object.fromEntries(values);
    }
  }
  if (!laneFrom.header && !laneFrom.cookie && !laneFrom.query) fail(p, "needs a header, cookie or query to take the lane from");
  return laneFrom;
}

/** `otel`: the OpenTelemetry Operator Instrumentation for the zero-code path. */
export function parseOtel(ctx: SpecContext, raw: unknown, group: string, correlation = false): OtelSpec | undefined {
  const { fail, str, check } = ctx;
  let otel: OtelSpec | undefined;
  const otelName = defaultInstrumentationName(group);
  if (raw === true) otel = { name: otelName, propagators: [...OTEL_REQUIRED_PROPAGATORS] };
  else if (raw !== undefined && raw !== false) {
    if (!isObject(raw)) fail(["otel"], `must be true, false or a mapping {name, propagators, endpoint}, got ${describe(raw)}`);
    else {
      otel = { name: otelName, propagators: [...OTEL_REQUIRED_PROPAGATORS] };
      const o = ctx.fields(["otel"], raw, ["name", "propagators", "endpoint"]);
      if (o.name !== undefined) {
        otel.name = str(["otel", "name"], o.name, true, otelName);
        check(["otel", "name"], otel.name, DNS_LABEL, "a Kubernetes name", K8S.label);
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
            if (allowed.length && !allowed.includes(v)) return void fail(p, `${shown(v)} is not a propagator the operator knows (${allowed.join(", ")})`);
            // "none" turns propagation off: the lane would stop at the first instrumented app.
            if (v === "none") return void fail(p, `"none" turns propagation off: the lane would not survive an instrumented app`);
            if (list.includes(v)) return void fail(p, `${shown(v)} is listed twice`);
            list.push(v);
          });
          // b3, b3multi and xray carry no baggage: with only those the lane rides on trace correlation alone.
          if (list.length && !list.some(carriesLane) && !correlation) {
            fail(["otel", "propagators"], `${list.join(", ")} carry no lane (b3, b3multi and xray forward no baggage): list ${LANE_PROPAGATORS}, or set correlation so the lane follows the trace id`);
          }
          otel.propagators = list;
        }
      }
      if (o.endpoint !== undefined) {
        const e = str(["otel", "endpoint"], o.endpoint, true);
        if (e && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(e)) fail(["otel", "endpoint"], `${shown(e)} is not an http(s):// URL of an OTLP collector`);
        else if (e) otel.endpoint = e;
      }
    }
  }
  return otel;
}

/** `observe`: the filter's lane observability, each off unless listed true. */
export function parseObserve(ctx: SpecContext, raw: unknown): ObserveSpec {
  const out: ObserveSpec = { laneMetrics: false, filterState: false, hopTrace: false };
  if (raw === undefined) return out;
  if (!isObject(raw)) {
    ctx.fail(["observe"], `must be a mapping {laneMetrics, filterState, hopTrace}, got ${describe(raw)}`);
    return out;
  }
  for (const [k, v] of Object.entries(ctx.fields(["observe"], raw, Object.keys(out)))) {
    if (!(k in out)) continue;
    if (typeof v !== "boolean") ctx.fail(["observe", k], `must be true or false, got ${describe(v)}`);
    else out[k as keyof ObserveSpec] = v;
  }
  return out;
}

/** `correlation`: trace-correlated lanes, within the filter's limits on headers, capacity and ttl. */
export function parseCorrelation(ctx: SpecContext, raw: unknown): CorrelationSpec | undefined {
  const { fail } = ctx;
  if (raw === true) return {};
  if (raw === undefined || raw === false) return undefined;
  if (!isObject(raw)) { fail(["correlation"], `must be true, false or a mapping {headers, capacity, ttlMs}, got ${describe(raw)}`); return undefined; }
  const c = ctx.fields(["correlation"], raw, ["headers", "capacity", "ttlMs"]);
  const correlation: CorrelationSpec = {};
  if (c.headers !== undefined) {
    const max = FILTER_LIMITS.traceHeaders;
    if (!Array.isArray(c.headers) || c.headers.length === 0) fail(["correlation", "headers"], `must be a list of 1-${max} header names, got ${describe(c.headers)}`);
    else if (c.headers.length > max) fail(["correlation", "headers"], `has ${c.headers.length} header names: the filter takes at most ${max}`);
    else {
      c.headers.forEach((h: unknown, i: number) => {
        const p: Path = ["correlation", "headers", i];
        if (typeof h !== "string") fail(p, `must be a string, got ${describe(h)}`);
        else if (c.headers.indexOf(h) < i) fail(p, `${shown(h)} is listed twice`);
        else ctx.headerName(p, h);
      });
      correlation.headers = c.headers;
    }
  }
  const int = (k: "capacity" | "ttlMs", max: number) => {
    const v = c[k];
    if (v === undefined) return;
    if (!(Number.isInteger(v) && v >= 1 && v <= max)) fail(["correlation", k], `must be an integer 1-${max}, got ${number(v)}`);
    else correlation[k] = v;
  };
  int("capacity", FILTER_LIMITS.capacity);
  int("ttlMs", FILTER_LIMITS.ttlMs);
  return correlation;
}

/** `workloads`: service -> the `workloadLabel` value of its pods, where that is not the service name. */
export function parseWorkloads(ctx: SpecContext, raw: unknown, services: string[], workloadLabel: string): Record<string, string> {
  const workloads: Record<string, string> = {};
  if (raw === undefined) return workloads;
  if (!isObject(raw)) {
    ctx.fail(["workloads"], `must be a mapping of service name to the ${shown(workloadLabel)} label of its pods, got ${describe(raw)}`);
    return workloads;
  }
  for (const [svc, app] of Object.entries(raw)) {
    const p: Path = ["workloads", svc];
    if (!services.includes(svc)) ctx.fail(p, `${shown(svc)} is not a service of any lane`);
    else if (typeof app !== "string" || app === "") ctx.fail(p, `must be a Kubernetes label value, got ${describe(app)}`);
    else if (app.length > K8S.labelValue) ctx.fail(p, `${shown(app)} is too long: a Kubernetes label value has at most ${K8S.labelValue} characters, this one has ${app.length}`);
    else if (!LABEL_VALUE.test(app)) ctx.fail(p, `must be a Kubernetes label value, got ${shown(app)}`);
    else workloads[svc] = app;
  }
  return workloads;
}

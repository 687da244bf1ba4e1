// Which HTTPRoutes a request's parent has: parentRefs against a Service port (mesh, GAMMA) or a Gateway
// listener (ingress), the listener's allowedRoutes and hostnames, producer and consumer routes.
import { RouteConfigError, resourceName } from "./common.ts";
import { effectiveHostnames, hostnameMatches, hostOnly } from "./gateway-api-match.ts";

export const GATEWAY_GROUP = "gateway.networking.k8s.io";

/** A request sent to a Service's frontend in the mesh (its cluster IP or name), on one of its ports. */
export interface ServiceParent {
  kind: "Service";
  name: string;
  namespace: string;
  port: number;
  /** The port's name: what a parentRef's sectionName names. */
  portName?: string;
  /** The client's namespace: routes there to another namespace's Service (consumer routes) are its own. */
  sourceNamespace?: string;
}

/** A request arriving at a Gateway (one of the resources) on listener `sectionName`, for Host `hostname`. */
export interface GatewayParent {
  kind: "Gateway";
  name: string;
  namespace: string;
  sectionName: string;
  hostname: string;
}

export type Parent = ServiceParent | GatewayParent;

export interface Listener {
  name: string;
  port: number;
  protocol: string;
  hostname?: string;
  allowedRoutes?: any;
}

/** An attached route, with its hostnames on this parent (undefined: any host). */
export interface Attached {
  route: any;
  hostnames: string[] | undefined;
}

export const isKind = (r: any, kind: string) => r?.kind === kind && typeof r?.apiVersion === "string" && r.apiVersion.startsWith(`${GATEWAY_GROUP}/`);

/** The listener a Gateway parent names, from the Gateway resource among `resources`. */
export function findListener(resources: any[], p: GatewayParent): Listener {
  const gw = resources.find((r) => isKind(r, "Gateway") && r.metadata?.name === p.name && (r.metadata?.namespace ?? "default") === p.namespace);
  if (!gw) throw new RouteConfigError(`Gateway ${p.namespace}/${p.name}`, "is not among the resources (a request through a Gateway needs it for its listeners)");
  const l = (gw.spec?.listeners ?? []).find((x: any) => x?.name === p.sectionName);
  if (!l) throw new RouteConfigError(resourceName(gw), `has no listener ${JSON.stringify(p.sectionName)}`);
  return l;
}

/** Routes attached to `parent`; `notes` gets why a route naming the parent is not attached. */
export function attachedRoutes(resources: any[], parent: Parent, notes: string[], namespaceLabels?: Record<string, Record<string, string>>): Attached[] {
  const routes = resources.filter((r) => isKind(r, "HTTPRoute"));
  if (parent.kind === "Service") return meshRoutes(routes, parent, notes);
  const listener = findListener(resources, parent);
  const out: Attached[] = [];
  for (const route of routes) {
    const ns = route.metadata?.namespace ?? "default";
    if (!(route.spec?.parentRefs ?? []).some((ref: any) => refersToListener(ref, ns, parent, listener))) continue;
    const why = refusal(route, listener, parent, namespaceLabels);
    const hostnames = effectiveHostnames(route.spec?.hostnames ?? [], listener.hostname);
    if (why) notes.push(`${resourceName(route)} not attached to listener ${parent.sectionName}: ${why}`);
    else if (hostnames && !hostnames.length) notes.push(`${resourceName(route)} not attached to listener ${parent.sectionName}: none of its hostnames intersects the listener's ${listener.hostname}`);
    else out.push({ route, hostnames });
  }
  return out;
}

function refersToListener(ref: any, routeNs: string, p: GatewayParent, l: Listener): boolean {
  if ((ref?.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (ref?.kind ?? "Gateway") !== "Gateway") return false;
  if (ref.name !== p.name || (ref.namespace ?? routeNs) !== p.namespace) return false;
  if (ref.sectionName !== undefined && ref.sectionName !== l.name) return false;
  return ref.port === undefined || ref.port === l.port;
}

/** Why the listener refuses the route (allowedRoutes), or undefined. */
function refusal(route: any, l: Listener, p: GatewayParent, namespaceLabels?: Record<string, Record<string, string>>): string | undefined {
  const kinds = l.allowedRoutes?.kinds;
  if (Array.isArray(kinds) && kinds.length) {
    if (!kinds.some((k: any) => (k?.group ?? GATEWAY_GROUP) === GATEWAY_GROUP && k?.kind === "HTTPRoute")) return "its allowedRoutes.kinds has no HTTPRoute";
  } else if (!["HTTP", "HTTPS"].includes(l.protocol)) return `protocol ${l.protocol} takes no HTTPRoute`;
  const ns = route.metadata?.namespace ?? "default";
  const from = l.allowedRoutes?.namespaces?.from ?? "Same";
  if (from === "All") return undefined;
  if (from === "Same") return ns === p.namespace ? undefined : `routes from namespace ${ns} are not allowed (allowedRoutes.namespaces.from: Same)`;
  if (from !== "Selector") throw new RouteConfigError(`listener ${l.name}`, `allowedRoutes.namespaces.from: ${JSON.stringify(from)} is not one of All, Same, Selector`);
  const sel = l.allowedRoutes.namespaces.selector ?? {};
  if (sel.matchExpressions?.length) throw new RouteConfigError(`listener ${l.name}`, "allowedRoutes.namespaces.selector.matchExpressions is not interpreted; use matchLabels");
  if (!namespaceLabels) throw new RouteConfigError(`listener ${l.name}`, "allowedRoutes.namespaces.from: Selector needs the namespaces' labels (option namespaceLabels)");
  const labels = namespaceLabels[ns] ?? {};
  const ok = Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return ok ? undefined : `namespace ${ns} does not match allowedRoutes.namespaces.selector`;
}

function refersToService(ref: any, routeNs: string, p: ServiceParent): boolean {
  // A Service parentRef sets group "" explicitly: the default group is the Gateway API's.
  if ((ref?.group ?? GATEWAY_GROUP) !== "" || ref?.kind !== "Service") return false;
  if (ref.name !== p.name || (ref.namespace ?? routeNs) !== p.namespace) return false;
  if (ref.sectionName !== undefined && ref.sectionName !== p.portName) return false;
  return ref.port === undefined || ref.port === p.port;
}

/**
 * GAMMA: a route in the Service's namespace (producer) applies to every client; one in another namespace
 * (consumer) only to clients in its own namespace, and those clients then use their consumer routes only.
 * Hostnames are not used for Service parents.
 */
function meshRoutes(routes: any[], p: ServiceParent, notes: string[]): Attached[] {
  const producer: Attached[] = [];
  const consumer: Attached[] = [];
  for (const route of routes) {
    const ns = route.metadata?.namespace ?? "default";
    if (!(route.spec?.parentRefs ?? []).some((ref: any) => refersToService(ref, ns, p))) continue;
    if (ns === p.namespace) producer.push({ route, hostnames: undefined });
    else if (ns === p.sourceNamespace) consumer.push({ route, hostnames: undefined });
    else notes.push(`${resourceName(route)} is a consumer route of namespace ${ns}: not for clients in ${p.sourceNamespace ?? "an unstated namespace"}`);
  }
  if (consumer.length && producer.length) notes.push(`consumer routes of ${p.sourceNamespace} replace the producer routes of ${p.namespace}`);
  return consumer.length ? consumer : producer;
}

/** The request's host, checked against the listener's hostname; a reason when the listener does not take it. */
export function listenerRefusesHost(resources: any[], p: GatewayParent): string | undefined {
  const l = findListener(resources, p);
  const host = hostOnly(p.hostname);
  return l.hostname === undefined || hostnameMatches(l.hostname, host) ? undefined : `host ${host} does not match listener ${l.name}'s hostname ${l.hostname}`;
}

// The lifecycle Envoy drives: contexts, configuration, and the request callback handing each request to the
// pipeline (pipeline/filter.ts). Configure-time work only: parsing, logging, property reads and counter definitions.
import { quote } from "./config/json";
import { Config, DIR_AUTO, MAX_CONFIG_BYTES } from "./config/config";
import { parseConfig } from "./config/config-parse";
import { VERSION, ROOT_ID } from "./version";
import { StreamTable } from "./abi/streams";
import { Root } from "./pipeline/root";
import { onRequest } from "./pipeline/filter";
import { defineMetrics } from "./observe/metrics";
import { defineLaneMetrics } from "./observe/lane-metrics";
import { hopResponse, endHop } from "./observe/hop-trace";
import { isTraceWorkload } from "./config/config-observe";
import {
  arenaReset, log, getProperty, readString, readPluginConfiguration, PROP_DIRECTION_LEGACY, PROP_DIRECTION_XDS,
  NODE_META_XDS, NODE_META_LEGACY, PROP_ROOT_ID, RESULT_OK, RESULT_NOT_FOUND, LOG_INFO, LOG_WARN, LOG_ERROR,
  LOG_CRITICAL, HEADERS_CONTINUE,
} from "./abi/host";

export { malloc } from "./abi/host";

// ---- contexts -----------------------------------------------------------------------------------------

const roots: Root[] = [];
const streams = new StreamTable();

function findRoot(id: u32): Root | null {
  for (let i = 0, n = roots.length; i < n; i++) {
    const r = unchecked(roots[i]);
    if (r.id == id) return r;
  }
  return null;
}

// The minimal runtime never collects by itself. Managed objects are made only outside the request path
// (configure, root contexts), so we collect right after those, when no managed reference is on the stack.
function collect(): void {
  __collect();
}

export function proxy_abi_version_0_2_0(): void {}

export function proxy_on_context_create(contextId: u32, rootContextId: u32): void {
  if (rootContextId == 0) {
    if (findRoot(contextId) === null) roots.push(new Root(contextId));
  } else {
    streams.set(contextId, rootContextId);
  }
}

export function proxy_on_delete(contextId: u32): void {
  if (streams.delete(contextId)) {
    endHop(contextId);
    return;
  }
  for (let i = 0; i < roots.length; i++) {
    if (roots[i].id == contextId) {
      roots.splice(i, 1);
      collect();
      return;
    }
  }
}

export function proxy_on_vm_start(rootContextId: u32, vmConfigurationSize: u32): u32 {
  return 1; // the VM configuration is not used
}

// ---- configure ----------------------------------------------------------------------------------------

export function proxy_on_configure(rootContextId: u32, configurationSize: u32): u32 {
  arenaReset();
  const ok = configure(rootContextId, configurationSize);
  arenaReset();
  collect();
  return ok ? 1 : 0;
}

function configure(rootContextId: u32, configurationSize: u32): bool {
  let root = findRoot(rootContextId);
  if (root === null) {
    root = new Root(rootContextId);
    roots.push(root);
  }
  root.config = null;
  const rr = getProperty(PROP_ROOT_ID);
  if (rr == RESULT_OK) {
    const rootId = readString();
    if (rootId.length > 0 && rootId != ROOT_ID) {
      log(LOG_CRITICAL, "lane-tag: root id " + quote(rootId) + " is not served by this module (its root id is \"" + ROOT_ID + "\")");
      return false;
    }
  } else if (rr != RESULT_NOT_FOUND) {
    log(LOG_WARN, "lane-tag: plugin_root_id could not be read (status " + rr.toString() + "): not checked");
  }
  if (configurationSize > MAX_CONFIG_BYTES) {
    log(LOG_CRITICAL, "lane-tag: invalid configuration: configuration is " + configurationSize.toString() + " bytes, at most " +
      MAX_CONFIG_BYTES.toString() + " are allowed");
    return false;
  }
  const text = readPluginConfiguration(configurationSize);
  if (text === null) {
    log(LOG_CRITICAL, "lane-tag: cannot read the plugin configuration (" + configurationSize.toString() + " bytes)");
    return false;
  }
  const result = parseConfig(text);
  const config = result.config;
  if (config === null) {
    log(LOG_CRITICAL, "lane-tag: invalid configuration: " + result.error);
    return false;
  }
  defineMetrics();
  root.config = config;
  log(LOG_INFO, "lane-tag " + VERSION + " configured: " + config.toJSON());
  // Envoy ≤ 1.32 answers the legacy name here (it is the plugin's direction); 1.33+ answers only `xds.*`,
  // and only during a request.
  if (config.direction == DIR_AUTO) {
    root.directionPath = getProperty(PROP_DIRECTION_LEGACY) == RESULT_OK ? PROP_DIRECTION_LEGACY : PROP_DIRECTION_XDS;
  }
  root.localLane = config.localLabel.length > 0 ? readLocalLane(config) : new ArrayBuffer(0);
  root.laneMetrics = config.laneMetrics ? defineLaneMetrics(config, String.UTF8.decode(root.localLane)) : null;
  if (config.hopTrace) readHopIdentity(root, config);
  return true;
}

/** Reads node metadata `xds.node.metadata.<path>`, else Envoy ≤ 1.32's `node.…`: the status; readString() has it. */
function readNodeMetadata(path: string): u32 {
  const r = getProperty(String.UTF8.encode(NODE_META_XDS + path));
  return r == RESULT_NOT_FOUND ? getProperty(String.UTF8.encode(NODE_META_LEGACY + path)) : r;
}

/** A node metadata string, or null when it is absent or unreadable. */
function nodeMetadata(path: string): string | null {
  return readNodeMetadata(path) == RESULT_OK ? readString() : null;
}

/** hop_trace: this workload's name (WORKLOAD_NAME unless configured) and lane (its label), for its entries. */
function readHopIdentity(root: Root, config: Config): void {
  let workload = config.traceWorkload;
  if (workload.length == 0) {
    const w = nodeMetadata("WORKLOAD_NAME");
    if (w !== null && isTraceWorkload(w)) workload = w;
    else {
      workload = "unknown";
      log(LOG_WARN, "lane-tag: hop_trace: node.metadata.WORKLOAD_NAME is " + (w === null ? "not set" : quote(w) + ", not a workload name") +
        ": trace entries say \"unknown\" (set hop_trace.workload)");
    }
  }
  let lane = "";
  const label = config.hopLabel();
  if (label.length > 0) {
    const v = nodeMetadata("LABELS\0" + label);
    if (v !== null) lane = config.hopLaneForLabel(v);
    if (lane.length == 0) log(LOG_WARN, "lane-tag: hop_trace: node.metadata.LABELS." + label + " names no lane: trace entries say \"" + workload + "@?\"");
  }
  root.hopLane = String.UTF8.encode(lane);
  root.hopPrefix = String.UTF8.encode(workload + "@" + (lane.length > 0 ? lane : "?"));
}

/**
 * local_lane: the node metadata label (`xds.node`, else Envoy ≤ 1.32's `node`) mapped to a lane. Not set, or
 * unreadable: a log line, and outbound requests get no lane from it until the next configure reads it again.
 */
function readLocalLane(config: Config): ArrayBuffer {
  const label = config.localLabel;
  const what = "lane-tag: local_lane: node.metadata.LABELS." + label;
  const r = readNodeMetadata("LABELS\0" + label);
  if (r == RESULT_NOT_FOUND) {
    log(LOG_WARN, what + " is not set: outbound requests get no lane from it");
    return new ArrayBuffer(0);
  }
  if (r != RESULT_OK) {
    log(LOG_ERROR, what + " could not be read (status " + r.toString() + "): outbound requests get no lane from it until the next configure");
    return new ArrayBuffer(0);
  }
  const value = readString();
  const lane = config.laneForLabel(value);
  if (lane.length == 0) {
    log(LOG_WARN, what + " is " + quote(value) + ", which is no lane: outbound requests get no lane from it");
  } else {
    log(LOG_INFO, what + " is " + quote(value) + ": local lane " + quote(lane));
  }
  return String.UTF8.encode(lane);
}

// ---- request path -------------------------------------------------------------------------------------

export function proxy_on_request_headers(contextId: u32, headers: u32, endOfStream: u32): u32 {
  const root = findRoot(streams.get(contextId));
  if (root === null) return HEADERS_CONTINUE;
  const config = root.config;
  if (config === null) return HEADERS_CONTINUE;
  arenaReset();
  onRequest(root, config, contextId);
  arenaReset();
  return HEADERS_CONTINUE;
}

// Only hop_trace works on responses; without it this returns at once.
export function proxy_on_response_headers(contextId: u32, headers: u32, endOfStream: u32): u32 {
  const root = findRoot(streams.get(contextId));
  if (root === null) return HEADERS_CONTINUE;
  const config = root.config;
  if (config === null || !config.hopTrace) return HEADERS_CONTINUE;
  arenaReset();
  hopResponse(contextId, !config.trustClientLane, root.hopPrefix, root.hopLane);
  arenaReset();
  return HEADERS_CONTINUE;
}

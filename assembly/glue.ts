// The thin glue between Envoy and the pure modules: lifecycle, host reads and writes, metrics.
// Request path rules: no logging, no strings, no GC allocation; host data is read in place from an arena
// that is reset per callback; every failure of a host call leaves the request untouched (fail open).
import * as abi from "./sdk";
import { quote } from "./json";
import { Config, parseConfig, DIR_AUTO, DIR_INBOUND, DIR_OUTBOUND, DIR_BOTH, directionName } from "./config";
import { LaneScan, MAX_BAGGAGE, rewriteBound, writeBaggage, countLooseLaneMembers, stripLaneMembers } from "./baggage";
import { isLaneRaw, bytesEqual } from "./lane";
import { LaneState, Decision, decide, SRC_BAGGAGE, SRC_HEADER, SRC_DEFAULT, SRC_NONE, SRC_TRACE, SRC_LOCAL, SRC_ASSIGN, SRC_CLIENT, BAG_KEEP, BAG_REPLACE } from "./decide";
import { cookieValue, queryValue } from "./entry";
import { traceIdSpan, hash64, mix64, slotOf, writeSlotKey, writeEntry, entryIsFor, entryExpires, ENTRY_HEADER, MAX_ENTRY } from "./trace";
import { pickLane } from "./assign";
import { VERSION, ROOT_ID } from "./version";
import { StreamTable } from "./streams";

// ---- memory ---------------------------------------------------------------------------------------------

// Envoy copies returned data (header pairs, properties, shared data) into memory it gets from `malloc`; the
// module's own buffers (joined, stripped and rewritten baggage) come from `scratch`. Each has its own bump
// arena, reset at every callback, so host reads can never starve the writes that the trust rules depend on.
// Past an arena, blocks come from the heap, listed and freed at the next reset; the number of blocks per
// callback is bounded by the calls the code makes. A block above the cap is refused (0), never a trap:
// the host then fails the call (a read fails open), and the module fails closed where trust depends on it.
class Arena {
  base: usize = 0;
  top: usize = 0;
  constructor(public size: usize, public max: usize) {}
}
// The host's cap is above Envoy's largest header map (max_request_headers_kb ≤ 8192); the module's own
// buffers never exceed the baggage they hold, and baggage over 1 MiB reaches them only at an untrusted gateway.
const hostArena = new Arena(16384, 16 << 20);
const ownArena = new Arena(16384, 1 << 20);
let blocks: usize = 0; // heap blocks of this callback, linked through their first word

function take(a: Arena, size: usize): usize {
  if (a.base == 0) a.base = heap.alloc(a.size);
  const p = (a.top + 7) & ~(<usize>7);
  if (p + size <= a.size) {
    a.top = p + size;
    return a.base + p;
  }
  if (size > a.max) return 0;
  const b = heap.alloc(size + 8);
  store<usize>(b, blocks);
  blocks = b;
  return b + 8;
}

export function malloc(size: usize): usize {
  return take(hostArena, size);
}

/** The module's own per-callback buffer of `size` bytes; 0 when it is over the cap. */
function scratch(size: i32): usize {
  return take(ownArena, <usize>size);
}

function arenaReset(): void {
  hostArena.top = 0;
  ownArena.top = 0;
  while (blocks != 0) {
    const next = load<usize>(blocks);
    heap.free(blocks);
    blocks = next;
  }
}

// Out-parameters of host calls (pointer, size, cas) and scratch for shared-data keys and values.
const OUT = memory.data(24, 8);
const OUT_PTR = OUT;
const OUT_SIZE = OUT + 8;
const OUT_CAS = OUT + 16;
const KEY_BUF = memory.data(32, 8);
const ENTRY_BUF = memory.data(MAX_ENTRY, 8);

// ---- constants as bytes -------------------------------------------------------------------------------

const BAGGAGE = memory.data<u8>([0x62, 0x61, 0x67, 0x67, 0x61, 0x67, 0x65]); // "baggage"
const BAGGAGE_LEN: i32 = 7;
// Envoy ≤ 1.32 names xDS attributes at the top level; 1.33 removed those names for `xds.*` (changelog:
// "Remove previously deprecated xDS attributes from get_property").
const PROP_DIRECTION_LEGACY = String.UTF8.encode("listener_direction");
const PROP_DIRECTION_XDS = String.UTF8.encode("xds\0listener_direction");
const NODE_LABELS_XDS = "xds\0node\0metadata\0LABELS\0";
const NODE_LABELS_LEGACY = "node\0metadata\0LABELS\0";
const PROP_ROOT_ID = String.UTF8.encode("plugin_root_id");

// ---- metrics ------------------------------------------------------------------------------------------

// Counters, per direction: lane_tag.<inbound|outbound|both>.<name>. Defined once per VM at the first
// configure; Envoy shows them as wasmcustom.lane_tag.* in /stats and lane_tag_* in Prometheus.
const M_FROM_BAGGAGE = 0;
const M_FROM_HEADER = 1;
const M_FROM_DEFAULT = 2;
const M_NO_LANE = 3;
const M_INVALID = 4;
const M_BAGGAGE_ADDED = 5;
const M_BAGGAGE_REPLACED = 6;
const M_OVERSIZE = 7;
const M_CLIENT_LANE_REMOVED = 8;
const M_FROM_TRACE = 9;
const M_FROM_LOCAL = 10;
const M_FROM_ASSIGN = 11;
const M_TRACE_RECORDED = 12;
const M_BAGGAGE_DROPPED = 13;
const M_HOST_ERROR = 14;
const M_FROM_CLIENT = 15;
const METRICS_PER_DIR = 16;
const METRIC_NAMES: string[] = ["lane_from_baggage", "lane_from_header", "lane_from_default", "no_lane",
  "invalid_lane", "baggage_added", "baggage_replaced", "baggage_oversize", "client_lane_removed",
  "lane_from_trace", "lane_from_local", "lane_from_assign", "trace_recorded", "client_baggage_dropped",
  "host_error", "lane_from_client"];
// Envoy's metric ids carry the type in their low two bits, and 3 is no type: never an id Envoy gives.
const NO_METRIC: u32 = 0xffffffff;
const metricIds = new StaticArray<u32>(3 * METRICS_PER_DIR);
for (let i = 0; i < 3 * METRICS_PER_DIR; i++) unchecked(metricIds[i] = NO_METRIC);
let metricsMissing = true;

/** Defines the counters not defined yet; a refused one is logged and skipped, and tried again at the next configure. */
function defineMetrics(): void {
  if (!metricsMissing) return;
  let failed = "";
  for (let d = 0; d < 3; d++) {
    const dir = directionName(d + 1);
    for (let m = 0; m < METRICS_PER_DIR; m++) {
      const i = d * METRICS_PER_DIR + m;
      if (unchecked(metricIds[i]) != NO_METRIC) continue;
      const text = "lane_tag." + dir + "." + METRIC_NAMES[m];
      const name = String.UTF8.encode(text);
      const r = abi.proxy_define_metric(abi.METRIC_COUNTER, changetype<usize>(name), name.byteLength, OUT_PTR);
      if (r == abi.RESULT_OK) unchecked(metricIds[i] = load<u32>(OUT_PTR));
      else failed += (failed.length > 0 ? ", " : "") + text + " (status " + r.toString() + ")";
    }
  }
  metricsMissing = failed.length > 0;
  if (metricsMissing) log(abi.LOG_WARN, "lane-tag: counters not defined, not counted until the next configure: " + failed);
}

function count(dir: i32, m: i32, n: i64 = 1): void {
  countInline(dir, m, n);
}

// The one count every request makes, inlined there (a call costs about 3% of the typical request).
// @ts-ignore: decorator
@inline function countInline(dir: i32, m: i32, n: i64 = 1): void {
  const id = unchecked(metricIds[(dir - 1) * METRICS_PER_DIR + m]);
  if (id != NO_METRIC) abi.proxy_increment_metric(id, n);
}

// ---- contexts -----------------------------------------------------------------------------------------

// One root context per plugin configuration; several can share this VM (e.g. inbound and outbound
// listeners with the same vm_id, or several Istio/ASM plugins), so each HTTP context remembers its root.
class Root {
  id: u32;
  config: Config | null = null;
  /** local_lane: this workload's lane, read from node metadata at configure (empty: none). */
  localLane: ArrayBuffer = new ArrayBuffer(0);
  /** direction: auto: the property that names the listener direction on this Envoy (see resolveDirection). */
  directionPath: ArrayBuffer = PROP_DIRECTION_XDS;
  constructor(id: u32) { this.id = id; }
}
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
  if (streams.delete(contextId)) return;
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

function log(level: usize, msg: string): void {
  const b = String.UTF8.encode(msg);
  abi.proxy_log(level, changetype<usize>(b), b.byteLength);
}

/** get_property; the value is at OUT_PTR/OUT_SIZE when the result is OK. */
function getProperty(path: ArrayBuffer): u32 {
  return abi.proxy_get_property(changetype<usize>(path), path.byteLength, OUT_PTR, OUT_SIZE);
}

function propertyString(): string {
  return String.UTF8.decodeUnsafe(load<usize>(OUT_PTR), load<usize>(OUT_SIZE));
}

/** Reads the plugin configuration with real out-pointers (see sdk.ts, defect 1); "" when empty. */
function readPluginConfiguration(size: u32): string | null {
  if (size == 0) return ""; // Envoy would write pointer 0, size 0: nothing to read (sdk.ts, defect 2)
  if (abi.proxy_get_buffer_bytes(abi.BUFFER_PLUGIN_CONFIGURATION, 0, size, OUT_PTR, OUT_SIZE) != abi.RESULT_OK) return null;
  return String.UTF8.decodeUnsafe(load<usize>(OUT_PTR), load<usize>(OUT_SIZE));
}

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
  if (rr == abi.RESULT_OK) {
    const rootId = propertyString();
    if (rootId.length > 0 && rootId != ROOT_ID) {
      log(abi.LOG_CRITICAL, "lane-tag: root id \"" + rootId + "\" is not served by this module (its root id is \"" + ROOT_ID + "\")");
      return false;
    }
  } else if (rr != abi.RESULT_NOT_FOUND) {
    log(abi.LOG_WARN, "lane-tag: plugin_root_id could not be read (status " + rr.toString() + "): not checked");
  }
  const text = readPluginConfiguration(configurationSize);
  if (text === null) {
    log(abi.LOG_CRITICAL, "lane-tag: cannot read the plugin configuration (" + configurationSize.toString() + " bytes)");
    return false;
  }
  const result = parseConfig(text);
  const config = result.config;
  if (config === null) {
    log(abi.LOG_CRITICAL, "lane-tag: invalid configuration: " + result.error);
    return false;
  }
  defineMetrics();
  root.config = config;
  log(abi.LOG_INFO, "lane-tag " + VERSION + " configured: " + config.toJSON());
  // Envoy ≤ 1.32 answers the legacy name here (it is the plugin's direction); 1.33+ answers only `xds.*`,
  // and only during a request.
  if (config.direction == DIR_AUTO) {
    root.directionPath = getProperty(PROP_DIRECTION_LEGACY) == abi.RESULT_OK ? PROP_DIRECTION_LEGACY : PROP_DIRECTION_XDS;
  }
  root.localLane = config.localLabel.length > 0 ? readLocalLane(config) : new ArrayBuffer(0);
  return true;
}

/**
 * local_lane: the node metadata label (`xds.node`, else Envoy ≤ 1.32's `node`) mapped to a lane. Not set, or
 * unreadable: a log line, and outbound requests get no lane from it until the next configure reads it again.
 */
function readLocalLane(config: Config): ArrayBuffer {
  const label = config.localLabel;
  const what = "lane-tag: local_lane: node.metadata.LABELS." + label;
  let r = getProperty(String.UTF8.encode(NODE_LABELS_XDS + label));
  if (r == abi.RESULT_NOT_FOUND) r = getProperty(String.UTF8.encode(NODE_LABELS_LEGACY + label));
  if (r == abi.RESULT_NOT_FOUND) {
    log(abi.LOG_WARN, what + " is not set: outbound requests get no lane from it");
    return new ArrayBuffer(0);
  }
  if (r != abi.RESULT_OK) {
    log(abi.LOG_ERROR, what + " could not be read (status " + r.toString() + "): outbound requests get no lane from it until the next configure");
    return new ArrayBuffer(0);
  }
  const value = propertyString();
  const lane = config.laneForLabel(value);
  if (lane.length == 0) {
    log(abi.LOG_WARN, what + " is " + quote(value) + ", which is no lane: outbound requests get no lane from it");
  } else {
    log(abi.LOG_INFO, what + " is " + quote(value) + ": local lane " + quote(lane));
  }
  return String.UTF8.encode(lane);
}

// ---- request path -------------------------------------------------------------------------------------

const scan = new LaneScan();
const state = new LaneState();
const decision = new Decision();

export function proxy_on_request_headers(contextId: u32, headers: u32, endOfStream: u32): u32 {
  const root = findRoot(streams.get(contextId));
  if (root === null) return abi.HEADERS_CONTINUE;
  const config = root.config;
  if (config === null) return abi.HEADERS_CONTINUE;
  arenaReset();
  onRequest(root, config);
  arenaReset();
  return abi.HEADERS_CONTINUE;
}

function resolveDirection(root: Root, config: Config): i32 {
  if (config.direction != DIR_AUTO) return config.direction;
  // The listener direction: 8-byte little-endian int, 1 inbound, 2 outbound (gateways are 2 too); 0 (plain
  // Envoy) or unreadable means we cannot tell, so apply both rule sets. Configure picked the name this Envoy
  // answers; if it does not here, the other name is tried, and kept when it answers.
  let r = getProperty(root.directionPath);
  if (r == abi.RESULT_NOT_FOUND) {
    const other = root.directionPath === PROP_DIRECTION_XDS ? PROP_DIRECTION_LEGACY : PROP_DIRECTION_XDS;
    r = getProperty(other);
    if (r == abi.RESULT_OK) root.directionPath = other;
  }
  if (r != abi.RESULT_OK || load<usize>(OUT_SIZE) != 8) return DIR_BOTH;
  const d = load<i64>(load<usize>(OUT_PTR));
  return d == 1 ? DIR_INBOUND : d == 2 ? DIR_OUTBOUND : DIR_BOTH;
}

// The lane a fallback source found (trace, local, assign, default).
let fbPtr: usize = 0;
let fbLen: i32 = 0;
// Header writes and reads of this request that the host refused.
let hostErrors = 0;

function replaceHeader(name: usize, nameLen: i32, value: usize, valueLen: i32): bool {
  if (abi.proxy_replace_header_map_value(abi.HEADERS_REQUEST, name, nameLen, value, valueLen) == abi.RESULT_OK) return true;
  hostErrors++;
  return false;
}

function removeHeader(name: usize, nameLen: i32): bool {
  if (abi.proxy_remove_header_map_value(abi.HEADERS_REQUEST, name, nameLen) == abi.RESULT_OK) return true;
  hostErrors++;
  return false;
}

/**
 * Where the request cannot be read or its baggage cannot be checked, an untrusted gateway removes what a
 * client could have chosen a lane with: the routing header and the whole baggage.
 */
function failClosed(dir: i32, config: Config): void {
  removeHeader(changetype<usize>(config.routingHeaderBytes), config.routingHeaderBytes.byteLength);
  removeHeader(BAGGAGE, BAGGAGE_LEN);
  count(dir, M_BAGGAGE_DROPPED);
}

function onRequest(root: Root, config: Config): void {
  hostErrors = 0;
  const dir = resolveDirection(root, config);
  // An operator who does not trust clients (a gateway) has their lane removed in every direction: Istio and
  // ASM report gateways as outbound listeners.
  const untrusted = !config.trustClientLane;
  let buf: usize = 0;
  let size: usize = 0;
  if (abi.proxy_get_header_map_pairs(abi.HEADERS_REQUEST, OUT_PTR, OUT_SIZE) == abi.RESULT_OK) {
    buf = load<usize>(OUT_PTR);
    size = load<usize>(OUT_SIZE);
  } else {
    hostErrors++;
    size = 1; // unreadable, like a malformed map
  }
  let n: u32 = 0;
  if (size > 0) { // an empty map is empty data (pointer 0, size 0): no headers
    n = size >= 4 ? load<u32>(buf) : 0xffffffff;
    if (<u64>n * 8 + 4 > <u64>size) { // unreadable or malformed: leave the request alone, or fail closed
      if (untrusted) failClosed(dir, config);
      count(dir, M_HOST_ERROR, hostErrors > 0 ? hostErrors : 1);
      return;
    }
  }
  const end = buf + size;

  const rh = changetype<usize>(config.routingHeaderBytes);
  const rhLen = config.routingHeaderBytes.byteLength;
  state.reset();
  let invalid = 0;
  let hdr: usize = 0;
  let hdrLen = 0;
  let bags = 0;
  let bag: usize = 0;
  let bagLen = 0;
  let p = buf + 4 + (<usize>n << 3);
  for (let i: u32 = 0; i < n; i++) {
    const kl = load<u32>(buf + 4 + (<usize>i << 3));
    const vl = load<u32>(buf + 8 + (<usize>i << 3));
    if (<u64>p + kl + vl + 2 > <u64>end) { // malformed map
      if (untrusted) failClosed(dir, config);
      count(dir, M_HOST_ERROR);
      return;
    }
    const v = p + kl + 1;
    if (kl == BAGGAGE_LEN && bytesEqual(p, kl, BAGGAGE, BAGGAGE_LEN)) {
      if (bags++ == 0) bag = v;
      bagLen += (bags > 1 ? 1 : 0) + vl;
    } else if (kl == <u32>rhLen && bytesEqual(p, kl, rh, rhLen)) {
      state.headerCount++;
      if (isLaneRaw(v, vl) && config.allows(v, vl)) {
        if (!state.headerValid) { state.headerValid = true; hdr = v; hdrLen = vl; }
      } else invalid++;
    }
    p = v + vl + 1;
  }

  const key = changetype<usize>(config.baggageKeyBytes);
  const keyLen = config.baggageKeyBytes.byteLength;
  // Baggage that an untrusted gateway cannot check (no memory to join or strip it) is removed whole.
  let dropped = false;
  if (bags > 1 && (bagLen <= MAX_BAGGAGE || untrusted)) {
    const joined = joinBaggage(buf, n, bagLen);
    if (joined != 0) bag = joined;
    else if (untrusted) dropped = true;
    else return; // cannot happen below the cap: trusted baggage this size is at most MAX_BAGGAGE
  }
  let stripHeader = false;
  let stripped = false;
  if (untrusted) {
    // The client's lane is removed before lane assignment, from baggage of any size and in any spelling an
    // application's baggage reader would accept as the lane key.
    stripHeader = state.headerCount > 0;
    if (!dropped && bags > 0 && countLooseLaneMembers(bag, bagLen, key, keyLen) > 0) {
      const dst = scratch(bagLen);
      if (dst != 0) {
        bagLen = stripLaneMembers(bag, bagLen, key, keyLen, dst);
        bag = dst;
        stripped = true;
      } else dropped = true;
    }
    if (dropped) {
      bag = 0;
      bagLen = 0;
    }
    if (stripHeader || stripped) {
      state.headerCount = 0;
      state.headerValid = false;
      invalid = 0;
      count(dir, M_CLIENT_LANE_REMOVED);
    }
  }

  if (bagLen > MAX_BAGGAGE) {
    state.oversize = true;
    scan.reset();
  } else {
    scan.scan(bag, bagLen, key, keyLen, config);
  }
  invalid += scan.invalid;
  state.baggageValid = scan.found;
  state.baggageHasKey = scan.keyMembers > 0;
  state.same = state.headerValid && scan.laneIs(hdr, hdrLen);
  // Outbound rules give a lane-less request one from a fallback source; look only when they will need it.
  if (dir != DIR_INBOUND && !state.baggageValid && !state.headerValid) {
    clientInvalid = 0;
    state.fallback = fallback(root, config, buf, n);
    invalid += clientInvalid;
  }

  decide(dir, state, decision);

  // Writes, ordered so that a refused one leaves a valid request: a routing header that cannot be set is
  // removed (never an invalid or a client's lane left there), and baggage an untrusted gateway cannot
  // rewrite is removed whole.
  if (decision.setHeader) {
    const src = state.headerSrc;
    const lp = src == SRC_HEADER ? hdr : src == SRC_BAGGAGE ? scan.lane : fbPtr;
    const ll = src == SRC_HEADER ? hdrLen : src == SRC_BAGGAGE ? scan.laneLen : fbLen;
    if (!replaceHeader(rh, rhLen, lp, ll)) removeHeader(rh, rhLen);
    hdr = lp;
    hdrLen = ll;
  } else if (decision.removeHeader || stripHeader) {
    removeHeader(rh, rhLen);
  }
  let bagClean = !(stripped || dropped); // the client's lane members are gone from the request's baggage
  if (decision.baggage != BAG_KEEP) {
    const src = state.baggageSrc;
    const lp = src == SRC_HEADER ? hdr : fbPtr;
    const ll = src == SRC_HEADER ? hdrLen : fbLen;
    const dst = scratch(rewriteBound(bagLen, keyLen));
    if (dst != 0) {
      const out = writeBaggage(bag, bagLen, key, keyLen, lp, ll, scan.anchor, dst);
      if (replaceHeader(BAGGAGE, BAGGAGE_LEN, dst, out)) {
        bagClean = true;
        count(dir, decision.baggage == BAG_REPLACE ? M_BAGGAGE_REPLACED : M_BAGGAGE_ADDED);
      }
    }
  }
  if (!bagClean) {
    bagClean = bagLen > 0 ? replaceHeader(BAGGAGE, BAGGAGE_LEN, bag, bagLen) : removeHeader(BAGGAGE, BAGGAGE_LEN);
    if (!bagClean) { // fail closed: no client lane may leave an untrusted gateway
      removeHeader(BAGGAGE, BAGGAGE_LEN);
      dropped = true;
    }
  }
  if (dropped) count(dir, M_BAGGAGE_DROPPED);

  // correlation: an arriving request with a lane records it under its trace ids for the app's calls.
  if (config.correlation && dir != DIR_OUTBOUND && state.headerValid) recordTrace(dir, config, buf, n, hdr, hdrLen);

  const f = decision.found;
  countInline(dir, f == SRC_BAGGAGE ? M_FROM_BAGGAGE : f == SRC_HEADER ? M_FROM_HEADER : f == SRC_DEFAULT ? M_FROM_DEFAULT :
    f == SRC_TRACE ? M_FROM_TRACE : f == SRC_LOCAL ? M_FROM_LOCAL : f == SRC_ASSIGN ? M_FROM_ASSIGN : f == SRC_CLIENT ? M_FROM_CLIENT : M_NO_LANE);
  if (invalid > 0) count(dir, M_INVALID, invalid);
  if (state.oversize) count(dir, M_OVERSIZE);
  if (hostErrors > 0) count(dir, M_HOST_ERROR, hostErrors);
}

/** Joins every `baggage` header value with "," into the arena (Envoy lists repeated headers in order). */
function joinBaggage(buf: usize, n: u32, total: i32): usize {
  const dst = scratch(total);
  if (dst == 0) return 0;
  let out = 0;
  let first = true;
  let p = buf + 4 + (<usize>n << 3);
  for (let i: u32 = 0; i < n; i++) {
    const kl = load<u32>(buf + 4 + (<usize>i << 3));
    const vl = load<u32>(buf + 8 + (<usize>i << 3));
    const v = p + kl + 1;
    if (kl == BAGGAGE_LEN && bytesEqual(p, kl, BAGGAGE, BAGGAGE_LEN)) {
      // One separator per header after the first, even around empty values: `total` counts them so.
      if (!first) store<u8>(dst + out++, 0x2c);
      first = false;
      memory.copy(dst + out, v, vl);
      out += vl;
    }
    p = v + vl + 1;
  }
  return dst;
}

// ---- fallback sources: trace correlation, local lane, weighted choice, default ---------------------------

// Value of the first header named `name` in the pairs, at hvPtr/hvLen; false when absent. Only called
// after onRequest's first pass has checked that every pair lies within the buffer.
let hvPtr: usize = 0;
let hvLen: i32 = 0;
function findHeader(buf: usize, n: u32, name: ArrayBuffer): bool {
  const np = changetype<usize>(name);
  const nl = name.byteLength;
  let p = buf + 4 + (<usize>n << 3);
  for (let i: u32 = 0; i < n; i++) {
    const kl = load<u32>(buf + 4 + (<usize>i << 3));
    const vl = load<u32>(buf + 8 + (<usize>i << 3));
    const v = p + kl + 1;
    if (kl == <u32>nl && bytesEqual(p, kl, np, nl)) {
      hvPtr = v;
      hvLen = vl;
      return true;
    }
    p = v + vl + 1;
  }
  return false;
}

function nowMs(): i64 {
  if (abi.proxy_get_current_time_nanoseconds(OUT_PTR) != abi.RESULT_OK) return 0;
  return <i64>(load<u64>(OUT_PTR) / 1000000);
}

// Hash of the trace id in configured header i, or 0 when the request has no usable id there.
function traceHash(config: Config, buf: usize, n: u32, i: i32): u64 {
  if (!findHeader(buf, n, unchecked(config.traceHeaderBytes[i]))) return 0;
  const span = traceIdSpan(unchecked(config.traceKinds[i]), hvPtr, hvLen);
  if (span < 0) return 0;
  return hash64(hvPtr + <usize>(span >> 32), <i32>span) | 1; // never 0
}

// Reads the slot of `hash`; true with the value at OUT_PTR/OUT_SIZE and its cas at OUT_CAS when present.
function readSlot(config: Config, hash: u64): bool {
  const kl = writeSlotKey(KEY_BUF, slotOf(hash, config.capacity));
  store<u32>(OUT_CAS, 0);
  return abi.proxy_get_shared_data(KEY_BUF, kl, OUT_PTR, OUT_SIZE, OUT_CAS) == abi.RESULT_OK;
}

// Varies the weighted draw of requests without a sticky value that arrive within one clock tick.
let requestCounter: u64 = 0;

// ---- lane_from: the lane a client names in a header, a cookie or a query parameter ---------------------

const COOKIE = String.UTF8.encode("cookie");
const PATH = String.UTF8.encode(":path");
const QUERY_CAP: i32 = 256;
const QUERY_BUF = memory.data(QUERY_CAP);
// Values the client named that are no (allowed) lane, for invalid_lane.
let clientInvalid = 0;

/** The lane value v[0..len) names (through lane_from.values when given), at fbPtr/fbLen; false when none. */
function clientLane(config: Config, v: usize, len: i32): bool {
  const values = config.fromValueBytes;
  const k = values.length;
  if (k > 0) {
    for (let i = 0; i < k; i++) {
      const b = unchecked(values[i]);
      if (bytesEqual(changetype<usize>(b), b.byteLength, v, len)) {
        const lane = unchecked(config.fromLaneBytes[i]);
        fbPtr = changetype<usize>(lane);
        fbLen = lane.byteLength;
        return true;
      }
    }
  } else if (isLaneRaw(v, len) && config.allows(v, len)) {
    fbPtr = v; // in the header pairs or QUERY_BUF: valid until the end of this callback
    fbLen = len;
    return true;
  }
  clientInvalid++;
  return false;
}

/** lane_from's sources in order (header, cookie, query); each takes the first occurrence of its name. */
function fromClient(config: Config, buf: usize, n: u32): bool {
  if (config.fromHeaderBytes.byteLength > 0 && findHeader(buf, n, config.fromHeaderBytes) && clientLane(config, hvPtr, hvLen)) return true;
  const cookie = config.fromCookieBytes;
  if (cookie.byteLength > 0) {
    let p = buf + 4 + (<usize>n << 3);
    for (let i: u32 = 0; i < n; i++) {
      const kl = load<u32>(buf + 4 + (<usize>i << 3));
      const vl = load<u32>(buf + 8 + (<usize>i << 3));
      const v = p + kl + 1;
      if (kl == 6 && bytesEqual(p, 6, changetype<usize>(COOKIE), 6)) {
        const r = cookieValue(v, vl, changetype<usize>(cookie), cookie.byteLength);
        if (r >= 0) {
          if (clientLane(config, v + <usize>(r >> 32), <i32>r)) return true;
          break;
        }
      }
      p = v + vl + 1;
    }
  }
  const query = config.fromQueryBytes;
  if (query.byteLength > 0 && findHeader(buf, n, PATH)) {
    const r = queryValue(hvPtr, hvLen, changetype<usize>(query), query.byteLength, QUERY_BUF, QUERY_CAP);
    if (r >= 0) return clientLane(config, QUERY_BUF, r);
    if (r == -2) clientInvalid++;
  }
  return false;
}

function fallback(root: Root, config: Config, buf: usize, n: u32): u8 {
  if (config.hasLaneFrom && fromClient(config, buf, n)) return SRC_CLIENT;
  if (config.correlation) {
    const now = nowMs();
    for (let i = 0, k = config.traceHeaderBytes.length; i < k; i++) {
      const h = traceHash(config, buf, n, i);
      if (h == 0 || !readSlot(config, h)) continue;
      const v = load<usize>(OUT_PTR);
      const vl = <i32>load<usize>(OUT_SIZE);
      if (entryIsFor(v, vl, h) && entryExpires(v) > now && config.allows(v + ENTRY_HEADER, vl - ENTRY_HEADER)) {
        fbPtr = v + ENTRY_HEADER; // in the arena until the end of this callback
        fbLen = vl - ENTRY_HEADER;
        return SRC_TRACE;
      }
    }
  }
  if (root.localLane.byteLength > 0) {
    fbPtr = changetype<usize>(root.localLane);
    fbLen = root.localLane.byteLength;
    return SRC_LOCAL;
  }
  const lanes = config.assignLaneBytes.length;
  if (lanes > 0) {
    let key: u64;
    if (config.stickyHeaderBytes.byteLength > 0 && findHeader(buf, n, config.stickyHeaderBytes) && hvLen > 0) {
      key = hash64(hvPtr, hvLen);
    } else {
      // No user to stick to: any request-unique value will do.
      if (abi.proxy_get_current_time_nanoseconds(OUT_PTR) != abi.RESULT_OK) store<u64>(OUT_PTR, 0);
      key = mix64(load<u64>(OUT_PTR) ^ (++requestCounter * 0x9e3779b97f4a7c15));
    }
    const i = pickLane(key, config.assignSeeds, config.assignWeightsF);
    if (i >= 0) {
      const b = unchecked(config.assignLaneBytes[i]);
      fbPtr = changetype<usize>(b);
      fbLen = b.byteLength;
      return SRC_ASSIGN;
    }
  }
  if (config.defaultLaneBytes.byteLength > 0) {
    fbPtr = changetype<usize>(config.defaultLaneBytes);
    fbLen = config.defaultLaneBytes.byteLength;
    return SRC_DEFAULT;
  }
  return SRC_NONE;
}

/**
 * Records trace id -> lane in the slot of each trace id the request carries. A compare-and-swap write:
 * another worker may have written the slot since we read it, and then we read again (at most twice).
 * A slot that already holds this trace and lane for more than half the TTL is left alone.
 */
function recordTrace(dir: i32, config: Config, buf: usize, n: u32, lane: usize, laneLen: i32): void {
  const now = nowMs();
  const ttl = <i64>config.ttlMs;
  for (let i = 0, k = config.traceHeaderBytes.length; i < k; i++) {
    const h = traceHash(config, buf, n, i);
    if (h == 0) continue;
    for (let attempt = 0; attempt < 2; attempt++) {
      let cas: u32 = 0;
      if (readSlot(config, h)) {
        cas = load<u32>(OUT_CAS);
        const v = load<usize>(OUT_PTR);
        const vl = <i32>load<usize>(OUT_SIZE);
        if (entryIsFor(v, vl, h) && bytesEqual(v + ENTRY_HEADER, vl - ENTRY_HEADER, lane, laneLen) &&
          entryExpires(v) - now > ttl / 2) break;
      }
      const el = writeEntry(ENTRY_BUF, h, now + ttl, lane, laneLen);
      const r = abi.proxy_set_shared_data(KEY_BUF, writeSlotKey(KEY_BUF, slotOf(h, config.capacity)), ENTRY_BUF, el, cas);
      if (r == abi.RESULT_CAS_MISMATCH) continue;
      if (r == abi.RESULT_OK) count(dir, M_TRACE_RECORDED);
      break;
    }
  }
}

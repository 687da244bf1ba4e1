// The host room: the only module that calls Envoy (the proxy-wasm ABI, through sdk.ts). Each wrapper
// returns the host's status or a plain result, never traps; what the callers make of a failure is theirs.
import * as abi from "./sdk";

export {
  RESULT_OK, RESULT_NOT_FOUND, RESULT_CAS_MISMATCH, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_CRITICAL, HEADERS_CONTINUE,
} from "./sdk";

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
export function scratch(size: i32): usize {
  return take(ownArena, <usize>size);
}

/** Frees everything of the callback: called at the start and the end of each one. */
export function arenaReset(): void {
  hostArena.top = 0;
  ownArena.top = 0;
  while (blocks != 0) {
    const next = load<usize>(blocks);
    heap.free(blocks);
    blocks = next;
  }
}

// Out-parameters of host calls: pointer, size, cas. What a read returned stays there until the next read.
const OUT = memory.data(24, 8);
const OUT_PTR = OUT;
const OUT_SIZE = OUT + 8;
const OUT_CAS = OUT + 16;

/** The data of the last successful read: its pointer (in the host arena), size and (shared data) cas. */
// @ts-ignore: decorator
@inline export function readPtr(): usize { return load<usize>(OUT_PTR); }
// @ts-ignore: decorator
@inline export function readSize(): usize { return load<usize>(OUT_SIZE); }
// @ts-ignore: decorator
@inline export function readCas(): u32 { return load<u32>(OUT_CAS); }

// ---- names Envoy answers --------------------------------------------------------------------------------

// Envoy ≤ 1.32 names xDS attributes at the top level; 1.33 removed those names for `xds.*` (changelog:
// "Remove previously deprecated xDS attributes from get_property").
export const PROP_DIRECTION_LEGACY = String.UTF8.encode("listener_direction");
export const PROP_DIRECTION_XDS = String.UTF8.encode("xds\0listener_direction");
export const PROP_ROOT_ID = String.UTF8.encode("plugin_root_id");
export const NODE_META_XDS = "xds\0node\0metadata\0";
export const NODE_META_LEGACY = "node\0metadata\0";

// ---- configure-time calls ---------------------------------------------------------------------------------

export function log(level: usize, msg: string): void {
  const b = String.UTF8.encode(msg);
  abi.proxy_log(level, changetype<usize>(b), b.byteLength);
}

/** get_property; the value is at readPtr()/readSize() when the result is OK. */
export function getProperty(path: ArrayBuffer): u32 {
  return abi.proxy_get_property(changetype<usize>(path), path.byteLength, OUT_PTR, OUT_SIZE);
}

/** The value of the last read, as text. */
export function readString(): string {
  return String.UTF8.decodeUnsafe(readPtr(), readSize());
}

/** Reads the plugin configuration with real out-pointers (see sdk.ts, defect 1); "" when empty. */
export function readPluginConfiguration(size: u32): string | null {
  if (size == 0) return ""; // Envoy would write pointer 0, size 0: nothing to read (sdk.ts, defect 2)
  if (abi.proxy_get_buffer_bytes(abi.BUFFER_PLUGIN_CONFIGURATION, 0, size, OUT_PTR, OUT_SIZE) != abi.RESULT_OK) return null;
  return readString();
}

/** Defines a counter: its id, or -status when the host refuses. */
export function defineCounter(name: ArrayBuffer): i64 {
  const r = abi.proxy_define_metric(abi.METRIC_COUNTER, changetype<usize>(name), name.byteLength, OUT_PTR);
  return r == abi.RESULT_OK ? <i64>load<u32>(OUT_PTR) : -<i64>r;
}

// ---- request-path calls -----------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline export function incrementCounter(id: u32, n: i64): void {
  abi.proxy_increment_metric(id, n);
}

// Header reads and writes of this request that the host refused.
let hostErrors = 0;
// @ts-ignore: decorator
@inline export function hostErrorCount(): i32 { return hostErrors; }
// @ts-ignore: decorator
@inline export function resetHostErrors(): void { hostErrors = 0; }

/** The request's header pairs, at readPtr()/readSize(); false (counted) when the host refuses. */
export function readRequestHeaders(): bool {
  if (abi.proxy_get_header_map_pairs(abi.HEADERS_REQUEST, OUT_PTR, OUT_SIZE) == abi.RESULT_OK) return true;
  hostErrors++;
  return false;
}

export function replaceHeader(name: usize, nameLen: i32, value: usize, valueLen: i32): bool {
  if (abi.proxy_replace_header_map_value(abi.HEADERS_REQUEST, name, nameLen, value, valueLen) == abi.RESULT_OK) return true;
  hostErrors++;
  return false;
}

export function removeHeader(name: usize, nameLen: i32): bool {
  if (abi.proxy_remove_header_map_value(abi.HEADERS_REQUEST, name, nameLen) == abi.RESULT_OK) return true;
  hostErrors++;
  return false;
}

// ---- observability: filter state and response headers (only when those features are on) ---------------

/** set_property: Envoy keeps it as this stream's filter state `wasm.<path>`. */
export function setProperty(path: ArrayBuffer, value: usize, valueLen: i32): bool {
  if (abi.proxy_set_property(changetype<usize>(path), path.byteLength, value, valueLen) == abi.RESULT_OK) return true;
  hostErrors++;
  return false;
}

/** The first value of a response header, at readPtr()/readSize(); false when absent or unreadable. */
export function readResponseHeader(name: ArrayBuffer): bool {
  return abi.proxy_get_header_map_value(abi.HEADERS_RESPONSE, changetype<usize>(name), name.byteLength, OUT_PTR, OUT_SIZE) == abi.RESULT_OK;
}

export function replaceResponseHeader(name: ArrayBuffer, value: usize, valueLen: i32): bool {
  return abi.proxy_replace_header_map_value(abi.HEADERS_RESPONSE, changetype<usize>(name), name.byteLength, value, valueLen) == abi.RESULT_OK;
}

export function removeResponseHeader(name: ArrayBuffer): bool {
  return abi.proxy_remove_header_map_value(abi.HEADERS_RESPONSE, changetype<usize>(name), name.byteLength) == abi.RESULT_OK;
}

/** Reads shared data `key`; true with the value at readPtr()/readSize() and its cas at readCas(). */
export function readShared(key: usize, keyLen: i32): bool {
  store<u32>(OUT_CAS, 0);
  return abi.proxy_get_shared_data(key, keyLen, OUT_PTR, OUT_SIZE, OUT_CAS) == abi.RESULT_OK;
}

/** Writes shared data `key` (a compare-and-swap when cas is not 0): the host's status. */
export function writeShared(key: usize, keyLen: i32, value: usize, valueLen: i32, cas: u32): u32 {
  return abi.proxy_set_shared_data(key, keyLen, value, valueLen, cas);
}

/** The host's clock in nanoseconds since the epoch; 0 when it cannot be read. */
const CLOCK = memory.data(8, 8);
export function nowNs(): u64 {
  if (abi.proxy_get_current_time_nanoseconds(CLOCK) != abi.RESULT_OK) return 0;
  return load<u64>(CLOCK);
}

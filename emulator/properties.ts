// Envoy's properties (get_property): paths with "\0" separators, Int64 values 8 bytes little-endian.
// Envoy ≥ 1.33 answers xds\0listener_direction (only during a stream) and xds\0node...; ≤1.32 answered
// listener_direction (the plugin's, also at configure) and node... instead. plugin_root_id, plugin_name,
// plugin_vm_id in both. A listener without traffic_direction gives 0 (8 zero bytes), not NotFound (1.38,
// ≤1.32).
import { enc, utf8Exact } from "./bytes.ts";
import type { HostOptions, PluginOptions, StreamOptions } from "./types.ts";

function parseEnvoyVersion(v: unknown): number {
  const m = typeof v === "string" ? /^1\.(0|[1-9]\d{0,2})(?:\.(0|[1-9]\d{0,2}))?$/.exec(v) : null;
  if (!m) throw new Error(`HostOptions.envoy must be an Envoy version such as "1.32" or "1.38.0", not ${JSON.stringify(v)}`);
  return Number(m[1]);
}

const directionCache = new Map<number, Uint8Array>();
function directionBytes(d: number): Uint8Array {
  let b = directionCache.get(d);
  if (!b) {
    b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, BigInt(d), true);
    directionCache.set(d, b);
  }
  return b;
}

/** The properties a Host answers, per the Envoy version it mimics. */
export class Properties {
  private readonly legacy: boolean;

  /** `envoy` is HostOptions.envoy, checked here; vmId and nodeMetadata are read from `opts` when asked. */
  constructor(envoy: string, private readonly opts: HostOptions) {
    this.legacy = parseEnvoyVersion(envoy) <= 32;
  }

  /** A property's value, or null for NotFound. `plugin` is the calling plugin's, `stream` the request's. */
  get(path: string, plugin: PluginOptions | undefined, stream: StreamOptions | undefined): Uint8Array | null {
    // Envoy reads parts up to each NUL and stops at the end: one trailing NUL adds no part.
    const parts = (path.endsWith("\0") ? path.slice(0, -1) : path).split("\0");
    const leaf = parts.length === 1;
    switch (parts[0]) {
      case "plugin_root_id": return leaf && plugin ? enc.encode(plugin.rootId ?? "") : null;
      case "plugin_name": return leaf && plugin ? enc.encode(plugin.name ?? "") : null;
      case "plugin_vm_id": return leaf ? enc.encode(this.opts.vmId ?? "") : null;
      case "listener_direction": {
        // ≤ 1.32: the plugin's listener (at configure too); here a stream's own direction comes first.
        if (!this.legacy || !leaf || !plugin) return null;
        return directionBytes(stream?.listenerDirection ?? plugin.listenerDirection ?? 0);
      }
      case "node": return this.legacy ? this.node(parts.slice(1)) : null;
      case "xds": {
        if (this.legacy || parts.length < 2) return null;
        if (parts[1] === "node") return this.node(parts.slice(2));
        // From the stream's listener info: a root context (on_configure) has none.
        if (parts[1] === "listener_direction" && parts.length === 2) {
          return stream ? directionBytes(stream.listenerDirection ?? 0) : null;
        }
        return null;
      }
      default: return null;
    }
  }

  /** The Node proto below `node`: only metadata is emulated, a protobuf Struct walked field by field; a
   *  string leaf comes back as its UTF-8 bytes, a number as an 8-byte double; anything else NotFound. */
  private node(parts: string[]): Uint8Array | null {
    if (parts.length < 2 || parts[0] !== "metadata") return null;
    let v: unknown = this.opts.nodeMetadata;
    for (const raw of parts.slice(1)) {
      let part: string;
      try { part = utf8Exact.decode(Buffer.from(raw, "latin1")); } catch { return null; } // keys are UTF-8
      if (v === null || typeof v !== "object" || !Object.hasOwn(v as object, part)) return null;
      v = (v as Record<string, unknown>)[part];
    }
    if (typeof v === "string") return enc.encode(v);
    if (typeof v === "number") {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, v, true);
      return b;
    }
    return null;
  }
}

// Shared data (get/set_shared_data) is one store per vm_id shared by every VM (worker) of the process
// that is handed the same SharedData: no expiry, no delete, cas numbers from one counter, a set with a
// stale non-zero cas fails with CasMismatch; the clock (get_current_time_nanoseconds) is settable
// (Host.now).
import { WasmResult } from "./abi.ts";

/**
 * Envoy's process-wide shared data (proxy-wasm-cpp-host SharedData): key -> (value, cas) per vm_id. Hand
 * one instance to several Hosts to emulate the workers of one sidecar. Keys are byte strings (one char
 * per byte, as the module wrote them; an ASCII key is itself).
 */
export class SharedData {
  private data = new Map<string, Map<string, { value: Uint8Array; cas: number }>>();
  private nextCasValue = 1;

  private nextCas(): number {
    const c = this.nextCasValue;
    this.nextCasValue = (this.nextCasValue + 1) >>> 0 || 1; // wraps, skipping 0 (0 means "no cas")
    return c;
  }

  get(vmId: string, key: string): { value: Uint8Array; cas: number } | undefined {
    return this.data.get(vmId)?.get(key);
  }

  set(vmId: string, key: string, value: Uint8Array, cas: number): number {
    let map = this.data.get(vmId);
    if (!map) this.data.set(vmId, (map = new Map()));
    const cur = map.get(key);
    if (cur && cas !== 0 && cas !== cur.cas) return WasmResult.CasMismatch;
    map.set(key, { value: value.slice(), cas: this.nextCas() });
    return WasmResult.Ok;
  }

  /** Number of keys and bytes (keys + values) held for a vm_id. */
  usage(vmId = ""): { keys: number; bytes: number } {
    const map = this.data.get(vmId);
    let bytes = 0;
    for (const [k, v] of map ?? []) bytes += k.length + v.value.length;
    return { keys: map?.size ?? 0, bytes };
  }

  keys(vmId = ""): string[] { return [...(this.data.get(vmId)?.keys() ?? [])]; }
}

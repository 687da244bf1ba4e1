// Metrics. define_metric gives a new id on every call, even for a name already defined: type + 4·n, n
// counting defines of that type from 1 (proxy-wasm-cpp-host pre-increments); ids defined with one name
// share the stat, shown as wasmcustom.<name>; counters take only offsets > 0; record on a counter adds
// (1.38).
import { WasmResult } from "./abi.ts";

/** A stat: one per type and name; every id defined with that name and type points at it. */
export interface Metric {
  name: string;
  /** The first id defined for it. */
  id: number;
  /** 0 counter, 1 gauge, 2 histogram. */
  type: number;
  /** Counter or gauge value; for a histogram the last recorded value (Envoy keeps a distribution). */
  value: bigint;
  /** Every id defined for it, in order. */
  ids: number[];
}

/** A Host's stats; the methods return WasmResult statuses as the host calls do. */
export class Metrics {
  /** Stats by name; a name defined with several types maps to the first one's stat (Host.metrics). */
  readonly byName = new Map<string, Metric>();
  private stats = new Map<string, Metric>(); // by type and name
  private byId = new Map<number, Metric>();
  private defined = [0, 0, 0]; // per type: ids are type + 4 * n

  /** A new id for the name; `type` is 0, 1 or 2 (the caller answers BadArgument to others). */
  define(type: number, name: string): number {
    // No de-duplication: every define takes the type's next id (pre-incremented: the first is type + 4).
    const id = (type + 4 * ++this.defined[type]) >>> 0;
    const key = `${type}\0${name}`;
    let m = this.stats.get(key);
    if (!m) {
      m = { name, id, type, value: 0n, ids: [] };
      this.stats.set(key, m);
      if (!this.byName.has(name)) this.byName.set(name, m);
    }
    m.ids.push(id);
    this.byId.set(id, m);
    return id;
  }

  /** The counter or gauge an id names (get_metric, increment_metric), or the status refusing it. */
  get(id: number): Metric | number {
    if ((id & 3) > 1) return WasmResult.BadArgument; // histograms are recorded, not incremented or read
    return this.byId.get(id) ?? WasmResult.NotFound;
  }

  increment(id: number, offset: bigint): number {
    const m = this.get(id);
    if (typeof m === "number") return m;
    if (m.type === 0 && offset <= 0n) return WasmResult.BadArgument; // counters only go up
    m.value = BigInt.asUintN(64, m.value + offset); // a gauge subtracts a negative offset
    return WasmResult.Ok;
  }

  record(id: number, value: bigint): number {
    const m = this.byId.get(id);
    if (m === undefined) return WasmResult.NotFound;
    const v = BigInt.asUintN(64, value);
    m.value = m.type === 0 ? BigInt.asUintN(64, m.value + v) : v; // a counter adds it
    return WasmResult.Ok;
  }

  /** Counter value by name, as Envoy would show it (without the wasmcustom. prefix). */
  counter(name: string): number {
    return Number(this.stats.get(`0\0${name}`)?.value ?? 0n);
  }

  /** Every stat under the name Envoy gives it (wasmcustom.<name>), with its value. */
  envoyStats(): Map<string, bigint> {
    return new Map([...this.stats.values()].map((m) => [`wasmcustom.${m.name}`, m.value]));
  }
}

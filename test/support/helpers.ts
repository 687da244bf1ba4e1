// Shared by the integration tests: where the built module is, and small header helpers.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Host, type Header, type HostOptions, type Plugin, type PluginOptions, type StreamOptions } from "../../emulator/index.ts";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const WASM = `${ROOT}build/lane-tag.wasm`;
export const SHARED = `${ROOT}../shared`;

export function wasmBytes(): Uint8Array<ArrayBuffer> {
  if (!existsSync(WASM)) throw new Error(`${WASM} is missing: run npm run build first (npm test does)`);
  return new Uint8Array(readFileSync(WASM));
}

/** A fresh VM with the built module and one plugin configured with `configuration`. */
export async function filter(configuration: string | object = "", plugin: PluginOptions = {}, host: HostOptions = {}) {
  const h = await Host.load(wasmBytes(), host);
  const text = typeof configuration === "string" ? configuration : JSON.stringify(configuration);
  const p = h.configure({ configuration: text, ...plugin });
  return { host: h, plugin: p };
}

export const IN: StreamOptions = { listenerDirection: 1 };
export const OUT: StreamOptions = { listenerDirection: 2 };
export const UNSET: StreamOptions = {};

/** All values of header `name`, in order. */
export function values(headers: Header[], name: string): string[] {
  return headers.filter(([k]) => k === name).map(([, v]) => v);
}

export function send(p: Plugin, headers: Header[], stream: StreamOptions = OUT) {
  const r = p.request(headers, stream);
  return { ...r, tag: values(r.headers, "x-asm-prefer-tag"), baggage: values(r.headers, "baggage") };
}

export const base: Header[] = [[":authority", "mockb:8000"], [":path", "/"], [":method", "GET"]];

const M64 = (1n << 64n) - 1n;
/** The module's hash64 (FNV-1a 64, then splitmix64's finalizer), written independently for tests. */
export function hash64(s: string): bigint {
  let x = 0xcbf29ce484222325n;
  for (const c of Buffer.from(s)) x = ((x ^ BigInt(c)) * 0x100000001b3n) & M64;
  x = ((x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  x = ((x ^ (x >> 27n)) * 0x94d049bb133111ebn) & M64;
  return x ^ (x >> 31n);
}

/** The shared-data key of a trace id's slot, as the module names it. */
export function slotKey(traceId: string, capacity: number): string {
  const h = hash64(traceId) | 1n;
  return `lane-tag.trace.${((h >> 32n) % BigInt(capacity)).toString(16).padStart(8, "0")}`;
}

/** A W3C traceparent for a 32-hex trace id. */
export const traceparent = (traceId: string) => `00-${traceId}-00f067aa0ba902b7-01`;

// Header maps and buffers: the host functions that read and change what the stream carries.
import { WasmResult } from "./abi.ts";
import { firstValue, readKey, readValue, removeAll, type HeldHeader } from "./headers.ts";
import type { CountCall, HostContext, HostTable } from "./host-context.ts";

function headerMap(ctx: HostContext, type: number): HeldHeader[] | null {
  // 0 request headers, 2 response headers, each only in its own callback; others are not available to
  // this emulator's streams (Envoy: NotFound/BadArgument).
  if (type > 7) return null;
  if (type === 0 && ctx.cur.headers) return ctx.cur.headers;
  if (type === 2 && ctx.cur.responseHeaders) return ctx.cur.responseHeaders;
  return null;
}

// Buffer 6 is the VM configuration (only during on_vm_start), 7 the plugin configuration (only during
// on_configure).
function buffer(ctx: HostContext, type: number): Uint8Array | null | undefined {
  return type === 6 ? ctx.cur.vmConfiguration : type === 7 ? ctx.cur.pluginConfiguration : undefined;
}

/** proxy_get/add/replace/remove_header_map_value, proxy_get_header_map_pairs and _size. */
export function headerFunctions(ctx: HostContext, count: CountCall): HostTable {
  const { mem, headers } = ctx;
  return {
    proxy_get_header_map_pairs: (type: number, ptrPtr: number, sizePtr: number) => {
      count("proxy_get_header_map_pairs");
      const map = headerMap(ctx, type);
      if (map === null) return WasmResult.BadArgument;
      if (map.length === 0) return mem.copyToPointerSize(new Uint8Array(0), ptrPtr, sizePtr);
      return headers.writePairs(mem, map, ptrPtr, sizePtr);
    },
    proxy_get_header_map_value: (type: number, kp: number, ks: number, ptrPtr: number, sizePtr: number) => {
      count("proxy_get_header_map_value");
      const map = headerMap(ctx, type);
      const key = readKey(mem, ctx.cur, kp, ks);
      if (map === null) return WasmResult.BadArgument;
      if (key === null) return WasmResult.InvalidMemoryAccess;
      const v = firstValue(map, key);
      if (v === undefined) return WasmResult.NotFound;
      return mem.copyToPointerSize(headers.bytes(v), ptrPtr, sizePtr);
    },
    proxy_get_header_map_size: (type: number, sizePtr: number) => {
      count("proxy_get_header_map_size");
      const map = headerMap(ctx, type);
      if (map === null) return WasmResult.BadArgument;
      return mem.setWord(sizePtr, headers.byteSize(map)) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_add_header_map_value: (type: number, kp: number, ks: number, vp: number, vs: number) => {
      count("proxy_add_header_map_value");
      return setHeader(ctx, type, kp, ks, vp, vs, false);
    },
    proxy_replace_header_map_value: (type: number, kp: number, ks: number, vp: number, vs: number) => {
      count("proxy_replace_header_map_value");
      return setHeader(ctx, type, kp, ks, vp, vs, true);
    },
    proxy_remove_header_map_value: (type: number, kp: number, ks: number) => {
      count("proxy_remove_header_map_value");
      const map = headerMap(ctx, type);
      const key = readKey(mem, ctx.cur, kp, ks);
      if (map === null) return WasmResult.BadArgument;
      if (key === null) return WasmResult.InvalidMemoryAccess;
      removeAll(map, key);
      ctx.cur.mutations++;
      return WasmResult.Ok;
    },
  };
}

/** add_header_map_value appends; replace_header_map_value first removes every value of the key. */
function setHeader(ctx: HostContext, type: number, kp: number, ks: number, vp: number, vs: number, replace: boolean): number {
  const map = headerMap(ctx, type);
  const key = readKey(ctx.mem, ctx.cur, kp, ks);
  const value = readValue(ctx.mem, ctx.cur, vp, vs);
  if (map === null) return WasmResult.BadArgument;
  if (key === null || value === null) return WasmResult.InvalidMemoryAccess;
  if (replace) removeAll(map, key);
  map.push([key, value]);
  ctx.cur.mutations++;
  return WasmResult.Ok;
}

/** proxy_get_buffer_bytes and proxy_get_buffer_status (the configuration buffers only). */
export function bufferFunctions(ctx: HostContext, count: CountCall): HostTable {
  const { mem } = ctx;
  return {
    proxy_get_buffer_bytes: (type: number, start: number, length: number, ptrPtr: number, sizePtr: number) => {
      count("proxy_get_buffer_bytes");
      if (type > 8) return WasmResult.BadArgument;
      const buf = buffer(ctx, type);
      if (buf === undefined || buf === null) return WasmResult.NotFound;
      start >>>= 0; length >>>= 0;
      if (start > start + length) return WasmResult.BadArgument;
      if (start > buf.length) length = 0;
      else if (start + length > buf.length) length = buf.length - start;
      return mem.copyToPointerSize(buf.subarray(start, start + length), ptrPtr, sizePtr);
    },
    proxy_get_buffer_status: (type: number, lengthPtr: number, flagsPtr: number) => {
      count("proxy_get_buffer_status");
      const buf = buffer(ctx, type);
      if (!buf) return WasmResult.NotFound;
      if (!mem.setWord(lengthPtr, buf.length) || !mem.setWord(flagsPtr, 0)) return WasmResult.InvalidMemoryAccess;
      return WasmResult.Ok;
    },
  };
}

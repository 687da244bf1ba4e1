// The module's linear memory as the host functions use it (proxy-wasm-cpp-host's getMemory, setWord,
// copyToPointerSize). Data returned to the module goes through its exported `malloc`; empty data is
// written as pointer 0, size 0 without calling malloc; a bad out-pointer yields InvalidMemoryAccess (1.38).
import { isAscii } from "node:buffer";
import { WasmResult } from "./abi.ts";
import { utf8 } from "./bytes.ts";

export class ModuleMemory {
  /** Set by readBytes: whether the bytes it read were all ASCII. */
  readAscii = true;
  private memory!: WebAssembly.Memory;
  // Views are cached and remade when memory grows (growth detaches the old ArrayBuffer).
  private viewBuf: ArrayBuffer | null = null;
  private dv!: DataView;
  private bytes!: Uint8Array;
  private buf!: Buffer;

  /** `malloc` is the module's allocator; a trap in it propagates out of the host call, as in Envoy. */
  constructor(private readonly malloc: (size: number) => number) {}

  /** The instantiated module's memory: no host function runs before this is set. */
  attach(memory: WebAssembly.Memory): void { this.memory = memory; }

  get byteLength(): number { return this.memory.buffer.byteLength; }

  private refresh(): void {
    if (this.viewBuf !== this.memory.buffer) {
      this.viewBuf = this.memory.buffer;
      this.dv = new DataView(this.viewBuf);
      this.bytes = new Uint8Array(this.viewBuf);
      this.buf = Buffer.from(this.viewBuf);
    }
  }
  view(): DataView { this.refresh(); return this.dv; }
  u8(): Uint8Array { this.refresh(); return this.bytes; }

  read(ptr: number, size: number): Uint8Array | null {
    ptr >>>= 0; size >>>= 0;
    if (ptr + size > this.memory.buffer.byteLength) return null;
    return this.u8().slice(ptr, ptr + size);
  }

  /** Module memory as a byte string, exactly (header values and keys, property paths, shared-data keys). */
  readBytes(ptr: number, size: number): string | null {
    ptr >>>= 0; size >>>= 0;
    if (ptr + size > this.memory.buffer.byteLength) return null;
    const u8 = this.u8();
    if (size <= 64) {
      let out = "";
      let or = 0;
      for (let i = 0; i < size; i++) {
        const c = u8[ptr + i];
        or |= c;
        out += String.fromCharCode(c);
      }
      this.readAscii = or < 0x80;
      return out;
    }
    this.readAscii = isAscii(u8.subarray(ptr, ptr + size));
    return this.buf.toString("latin1", ptr, ptr + size);
  }

  /** Module memory as text: UTF-8, a BOM kept, invalid sequences U+FFFD (log messages, metric names). */
  readText(ptr: number, size: number): string | null {
    const s = this.readBytes(ptr, size);
    if (s === null || this.readAscii) return s;
    return utf8.decode(this.u8().subarray(ptr >>> 0, (ptr >>> 0) + (size >>> 0)));
  }

  setWord(ptr: number, value: number): boolean {
    ptr >>>= 0;
    if (ptr + 4 > this.memory.buffer.byteLength) return false;
    this.view().setUint32(ptr, value >>> 0, true);
    return true;
  }

  /** Writes a u64 result (metric values, the clock). */
  setU64(ptr: number, value: bigint): number {
    if ((ptr >>> 0) + 8 > this.memory.buffer.byteLength) return WasmResult.InvalidMemoryAccess;
    this.view().setBigUint64(ptr >>> 0, value, true);
    return WasmResult.Ok;
  }

  copyToPointerSize(data: Uint8Array, ptrPtr: number, sizePtr: number): number {
    let ptr = 0;
    if (data.length > 0) {
      ptr = this.alloc(data.length);
      if (ptr === 0) return WasmResult.InvalidMemoryAccess;
      this.u8().set(data, ptr);
    }
    return this.setPointerSize(ptrPtr, ptr, sizePtr, data.length);
  }

  setPointerSize(ptrPtr: number, ptr: number, sizePtr: number, size: number): number {
    if (!this.setWord(ptrPtr, ptr) || !this.setWord(sizePtr, size)) return WasmResult.InvalidMemoryAccess;
    return WasmResult.Ok;
  }

  /** Memory from the module's malloc; 0 when it gave none or a block past the end. */
  alloc(size: number): number {
    const p = this.malloc(size) >>> 0;
    if (p === 0 || p + size > this.memory.buffer.byteLength) return 0;
    return p;
  }
}

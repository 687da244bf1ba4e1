import { CARRIER_OT_BAGGAGE, CARRIER_UBERCTX, laneFromHeaders } from "../grammar/headers";
import { LANE_BUF, laneResult, ptr, raw } from "./carriers-util";

const KEY = raw("x-asm-prefer-tag");

/** Envoy's pairs buffer for headers given as [name, value, name, value, ...]. */
function pairs(h: string[]): ArrayBuffer {
  const n = h.length / 2;
  let size = 4 + n * 8;
  for (let i = 0; i < h.length; i++) size += h[i].length + 1;
  const b = new ArrayBuffer(size);
  const p = ptr(b);
  store<u32>(p, n);
  let o = 4 + n * 8;
  for (let i = 0; i < n; i++) {
    store<u32>(p + 4 + i * 8, h[2 * i].length);
    store<u32>(p + 8 + i * 8, h[2 * i + 1].length);
    for (let k = 0; k < 2; k++) {
      const s = h[2 * i + k];
      for (let c = 0; c < s.length; c++) store<u8>(p + o + c, <u8>s.charCodeAt(c));
      store<u8>(p + o + s.length, 0);
      o += s.length + 1;
    }
  }
  return b;
}

function lane(h: string[], carrier: i32): string {
  const b = pairs(h);
  const n = load<u32>(ptr(b));
  return laneResult(laneFromHeaders(ptr(b), n, carrier, ptr(KEY), KEY.byteLength, LANE_BUF), LANE_BUF);
}

describe("the lane from header-name carriers", () => {
  it("finds uberctx-<key> and decodes it", () => {
    expect(lane([":path", "/", "uberctx-x-asm-prefer-tag", "s%32"], CARRIER_UBERCTX)).toBe("s2");
    expect(lane(["uberctx-x-asm-prefer-tag", "s%zz"], CARRIER_UBERCTX)).toBe("-");
    expect(lane(["uberctx-other", "s2", "ot-baggage-x-asm-prefer-tag", "s2"], CARRIER_UBERCTX)).toBe("");
    expect(lane([], CARRIER_UBERCTX)).toBe("");
  });
  it("finds ot-baggage-<key> as written", () => {
    expect(lane(["a", "b", "ot-baggage-x-asm-prefer-tag", "s2"], CARRIER_OT_BAGGAGE)).toBe("s2");
    expect(lane(["ot-baggage-x-asm-prefer-tag", "s%32"], CARRIER_OT_BAGGAGE)).toBe("-");
    expect(lane(["uberctx-x-asm-prefer-tag", "s2"], CARRIER_OT_BAGGAGE)).toBe("");
  });
  it("takes a repeated header for no lane, as a Node app sees it joined", () => {
    expect(lane(["uberctx-x-asm-prefer-tag", "s2", "uberctx-x-asm-prefer-tag", "s2"], CARRIER_UBERCTX)).toBe("-");
    expect(lane(["ot-baggage-x-asm-prefer-tag", "s1", "x", "y", "ot-baggage-x-asm-prefer-tag", "s2"],
      CARRIER_OT_BAGGAGE)).toBe("-");
  });
});

import { CARRIER_OT_BAGGAGE, CARRIER_UBERCTX, laneFromHeaders } from "../grammar/headers";
import { LANE_BUF, laneResult, pairs, ptr, raw } from "./carriers-util";

const KEY = raw("x-asm-prefer-tag");

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

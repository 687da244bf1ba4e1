import { LaneState, Decision, decide, SRC_NONE, SRC_BAGGAGE, SRC_HEADER, SRC_DEFAULT, SRC_TRACE, SRC_LOCAL, SRC_ASSIGN, BAG_KEEP, BAG_ADD, BAG_REPLACE } from "../lane/decide";
import { DIR_INBOUND, DIR_OUTBOUND, DIR_BOTH } from "../config/config";

// A request, described compactly: header count/validity, baggage validity/key presence, same lane, default.
class Case {
  constructor(
    public name: string, public dir: i32,
    public headers: i32, public headerValid: bool, public bagValid: bool, public bagKey: bool, public same: bool,
    public hasDefault: bool, public oversize: bool,
    // expected
    public found: u8, public setHeader: bool, public headerSrc: u8, public removeHeader: bool, public baggage: u8, public baggageSrc: u8) {}
}

const I = DIR_INBOUND, O = DIR_OUTBOUND, B = DIR_BOTH;
const N = SRC_NONE, BG = SRC_BAGGAGE, H = SRC_HEADER, D = SRC_DEFAULT;
const K = BAG_KEEP, A = BAG_ADD, R = BAG_REPLACE;

//                     name                                   dir hdrs hv     bv     bkey   same   dflt   over   found set   hsrc remove bag bsrc
const CASES: Case[] = [
  // Outbound rule 1: baggage lane -> header
  new Case("out: baggage lane, no header",                 O, 0, false, true,  true,  false, false, false, BG, true,  BG, false, K, BG),
  new Case("out: baggage lane, same header",               O, 1, true,  true,  true,  true,  false, false, BG, false, H,  false, K, BG),
  new Case("out: baggage lane beats a different header",   O, 1, true,  true,  true,  false, false, false, BG, true,  BG, false, K, BG),
  new Case("out: baggage lane, invalid header replaced",   O, 1, false, true,  true,  false, false, false, BG, true,  BG, false, K, BG),
  new Case("out: baggage lane, duplicate same headers",    O, 2, true,  true,  true,  true,  false, false, BG, true,  BG, false, K, BG),
  // Outbound rule 2: header lane kept, added to baggage
  new Case("out: header lane, no lane member",             O, 1, true,  false, false, false, false, false, H,  false, H,  false, A, H),
  new Case("out: header lane, invalid lane member",        O, 1, true,  false, true,  false, false, false, H,  false, H,  false, R, H),
  new Case("out: header lane, duplicates collapsed",       O, 3, true,  false, false, false, false, false, H,  true,  H,  false, A, H),
  new Case("out: header lane, oversize baggage untouched", O, 1, true,  false, false, false, false, true,  H,  false, H,  false, K, BG),
  // Outbound rule 3: default lane
  new Case("out: default lane",                            O, 0, false, false, false, false, true,  false, D,  true,  D,  false, A, D),
  new Case("out: default lane replaces invalid member",    O, 0, false, false, true,  false, true,  false, D,  true,  D,  false, R, D),
  new Case("out: default lane replaces invalid header",    O, 1, false, false, false, false, true,  false, D,  true,  D,  false, A, D),
  // Outbound rule 4: nothing
  new Case("out: no lane",                                 O, 0, false, false, false, false, false, false, N,  false, H,  false, K, BG),
  new Case("out: invalid header removed",                  O, 2, false, false, false, false, false, false, N,  false, H,  true,  K, BG),
  // Inbound
  new Case("in: header lane added to baggage",             I, 1, true,  false, false, false, false, false, H,  false, H,  false, A, H),
  new Case("in: header lane replaces other lane member",   I, 1, true,  true,  true,  false, false, false, H,  false, H,  false, R, H),
  new Case("in: header and baggage agree",                 I, 1, true,  true,  true,  true,  false, false, H,  false, H,  false, K, BG),
  new Case("in: header lane replaces invalid member",      I, 1, true,  false, true,  false, false, false, H,  false, H,  false, R, H),
  new Case("in: duplicate headers collapsed",              I, 2, true,  true,  true,  true,  false, false, H,  true,  H,  false, K, BG),
  new Case("in: only baggage -> header set",               I, 0, false, true,  true,  false, false, false, BG, true,  BG, false, K, BG),
  new Case("in: only baggage, invalid header replaced",    I, 1, false, true,  true,  false, false, false, BG, true,  BG, false, K, BG),
  new Case("in: no lane, default not applied inbound",     I, 0, false, false, false, false, true,  false, N,  false, H,  false, K, BG),
  new Case("in: invalid header removed",                   I, 1, false, false, false, false, false, false, N,  false, H,  true,  K, BG),
  new Case("in: oversize baggage untouched",               I, 1, true,  false, false, false, false, true,  H,  false, H,  false, K, BG),
  // Both: inbound rules, then outbound rules
  new Case("both: header wins over baggage",               B, 1, true,  true,  true,  false, false, false, H,  false, H,  false, R, H),
  new Case("both: only baggage -> header",                 B, 0, false, true,  true,  false, false, false, BG, true,  BG, false, K, BG),
  new Case("both: only header -> baggage",                 B, 1, true,  false, false, false, false, false, H,  false, H,  false, A, H),
  new Case("both: default lane applies",                   B, 0, false, false, false, false, true,  false, D,  true,  D,  false, A, D),
  new Case("both: nothing",                                B, 0, false, false, false, false, false, false, N,  false, H,  false, K, BG),
  new Case("both: agree",                                  B, 1, true,  true,  true,  true,  false, false, H,  false, H,  false, K, BG),
];

describe("lane decision", () => {
  it("follows the behaviour table for every direction", () => {
    const st = new LaneState();
    const d = new Decision();
    for (let i = 0; i < CASES.length; i++) {
      const c = CASES[i];
      st.reset();
      st.headerCount = c.headers;
      st.headerValid = c.headerValid;
      st.baggageValid = c.bagValid;
      st.baggageHasKey = c.bagKey;
      st.same = c.same;
      st.fallback = c.hasDefault ? SRC_DEFAULT : SRC_NONE;
      st.oversize = c.oversize;
      decide(c.dir, st, d);
      expect(d.found).toBe(c.found, c.name + ": found");
      expect(d.setHeader).toBe(c.setHeader, c.name + ": setHeader");
      if (d.setHeader) expect(st.headerSrc).toBe(c.headerSrc, c.name + ": header source");
      expect(d.removeHeader).toBe(c.removeHeader, c.name + ": removeHeader");
      expect(d.baggage).toBe(c.baggage, c.name + ": baggage");
      if (d.baggage != BAG_KEEP) expect(st.baggageSrc).toBe(c.baggageSrc, c.name + ": baggage source");
      // The other carriers take the lane baggage takes, and where baggage is oversize the lane it would have.
      if (d.baggage != BAG_KEEP) expect(d.carry).toBe(c.baggageSrc, c.name + ": carriers' source");
      else if (c.oversize && c.headerValid) expect(d.carry).toBe(SRC_HEADER, c.name + ": carriers' source (oversize)");
      else expect(d.carry).toBe(SRC_NONE, c.name + ": carriers left alone");
      // After applying, a request that has a lane carries it in both places (unless baggage is oversize).
      if (d.found != SRC_NONE) {
        expect(st.headerValid).toBe(true, c.name + ": header holds the lane");
        if (!c.oversize) expect(st.same).toBe(true, c.name + ": header and baggage agree");
      }
    }
  });
});

describe("fallback sources", () => {
  it("a lane-less outbound request takes the fallback's lane and source, in header and baggage", () => {
    const srcs: u8[] = [SRC_TRACE, SRC_LOCAL, SRC_ASSIGN, SRC_DEFAULT];
    for (let i = 0; i < srcs.length; i++) {
      const st = new LaneState();
      const d = new Decision();
      st.fallback = srcs[i];
      decide(DIR_OUTBOUND, st, d);
      expect(d.found).toBe(srcs[i]);
      expect(d.setHeader).toBe(true);
      expect(st.headerSrc).toBe(srcs[i]);
      expect(d.baggage).toBe(BAG_ADD);
      expect(st.baggageSrc).toBe(srcs[i]);
    }
  });
  it("never applies on inbound rules, nor over a lane the request carries", () => {
    const st = new LaneState();
    const d = new Decision();
    st.fallback = SRC_TRACE;
    decide(DIR_INBOUND, st, d);
    expect(d.found).toBe(SRC_NONE);
    expect(d.setHeader).toBe(false);
    st.reset();
    st.fallback = SRC_LOCAL;
    st.headerCount = 1;
    st.headerValid = true;
    decide(DIR_OUTBOUND, st, d);
    expect(d.found).toBe(SRC_HEADER);
  });
});

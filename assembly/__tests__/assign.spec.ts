import { pickLane } from "../lane/assign";
import { hash64, mix64 } from "../bytes/hash";

function seedsOf(names: string[]): StaticArray<u64> {
  const s = new StaticArray<u64>(names.length);
  for (let i = 0; i < names.length; i++) {
    const b = String.UTF8.encode(names[i]);
    s[i] = hash64(changetype<usize>(b), b.byteLength);
  }
  return s;
}
function weightsOf(w: f64[]): StaticArray<f64> {
  const s = new StaticArray<f64>(w.length);
  for (let i = 0; i < w.length; i++) s[i] = w[i];
  return s;
}

const seeds = seedsOf(["s1", "s2", "s3"]);

describe("weighted rendezvous", () => {
  it("follows the weights", () => {
    const w = weightsOf([60, 20, 20]);
    const counts = [0, 0, 0];
    const N = 60000;
    for (let i = 0; i < N; i++) counts[pickLane(mix64(<u64>i + 1), seeds, w)]++;
    expect(Math.abs(<f64>counts[0] / N - 0.6) < 0.015).toBe(true);
    expect(Math.abs(<f64>counts[1] / N - 0.2) < 0.015).toBe(true);
    expect(Math.abs(<f64>counts[2] / N - 0.2) < 0.015).toBe(true);
  });
  it("never picks a zero weight, and -1 when none is positive", () => {
    const w = weightsOf([0, 1, 0]);
    for (let i = 0; i < 1000; i++) expect(pickLane(<u64>i, seeds, w)).toBe(1);
    expect(pickLane(7, seeds, weightsOf([0, 0, 0]))).toBe(-1);
  });
  it("moves keys only into a lane whose weight grows", () => {
    const before = weightsOf([60, 20, 20]);
    const after = weightsOf([60, 30, 20]);
    for (let i = 0; i < 20000; i++) {
      const k = mix64(<u64>i * 7 + 3);
      const a = pickLane(k, seeds, before);
      const b = pickLane(k, seeds, after);
      if (a != b) expect(b).toBe(1);
    }
  });
});

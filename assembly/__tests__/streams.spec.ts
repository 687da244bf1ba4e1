import { StreamTable } from "../abi/streams";

describe("stream table", () => {
  it("maps, overwrites and deletes", () => {
    const t = new StreamTable();
    expect(t.get(7)).toBe(0);
    t.set(7, 1);
    t.set(8, 2);
    expect(t.get(7)).toBe(1);
    expect(t.get(8)).toBe(2);
    t.set(7, 3);
    expect(t.get(7)).toBe(3);
    expect(t.size).toBe(2);
    expect(t.delete(7)).toBe(true);
    expect(t.delete(7)).toBe(false);
    expect(t.get(7)).toBe(0);
    expect(t.get(8)).toBe(2);
    expect(t.size).toBe(1);
  });
  it("keeps every key reachable across growth and deletions (backward shift)", () => {
    const t = new StreamTable();
    // Envoy's ids grow by one; keep ~1000 live while creating and deleting 100k, as a busy worker does.
    let deleted = 0;
    for (let id: u32 = 1; id <= 100000; id++) {
      t.set(id, id % 7 + 1);
      if (id > 1000 && t.delete(id - 1000)) deleted++;
    }
    expect(deleted).toBe(99000);
    expect(t.size).toBe(1000);
    let live = 0, gone = 0;
    for (let id: u32 = 99001; id <= 100000; id++) if (t.get(id) == id % 7 + 1) live++;
    for (let id: u32 = 1; id <= 99000; id++) if (t.get(id) == 0) gone++;
    expect(live).toBe(1000);
    expect(gone).toBe(99000);
  });
  it("handles colliding keys", () => {
    const t = new StreamTable();
    // Keys spaced by a multiple of the capacity land on the same home slot more often than not.
    for (let k: u32 = 1; k < 40; k++) t.set(k << 16, k);
    for (let k: u32 = 1; k < 40; k += 2) t.delete(k << 16);
    for (let k: u32 = 2; k < 40; k += 2) expect(t.get(k << 16)).toBe(k);
    for (let k: u32 = 1; k < 40; k += 2) expect(t.get(k << 16)).toBe(0);
  });
});

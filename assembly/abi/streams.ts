// Which root context each HTTP context belongs to. Envoy creates and deletes one context per request, so
// this is an open-addressing table (linear probing, backward-shift deletion) in unmanaged memory: the
// request path never allocates a GC object and the table never needs the collector.
// Keys are context ids, which Envoy never makes 0; 0 marks an empty slot.

const MIN_CAPACITY: u32 = 64;

export class StreamTable {
  private slots: usize; // capacity × (key u32, value u32)
  private capacity: u32;
  private used: u32 = 0;

  constructor() {
    this.capacity = MIN_CAPACITY;
    this.slots = StreamTable.alloc(MIN_CAPACITY);
  }

  private static alloc(capacity: u32): usize {
    const p = heap.alloc(<usize>capacity << 3);
    memory.fill(p, 0, <usize>capacity << 3);
    return p;
  }

  // @ts-ignore: decorator
  @inline private home(key: u32): u32 {
    return (key * 0x9e3779b1) & (this.capacity - 1);
  }

  get size(): u32 { return this.used; }

  /** The value for key, or 0 when absent. */
  get(key: u32): u32 {
    const mask = this.capacity - 1;
    let i = this.home(key);
    while (true) {
      const k = load<u32>(this.slots + (<usize>i << 3));
      if (k == key) return load<u32>(this.slots + (<usize>i << 3), 4);
      if (k == 0) return 0;
      i = (i + 1) & mask;
    }
  }

  set(key: u32, value: u32): void {
    if (key == 0) return;
    if ((this.used + 1) * 2 > this.capacity) this.grow();
    const mask = this.capacity - 1;
    let i = this.home(key);
    while (true) {
      const at = this.slots + (<usize>i << 3);
      const k = load<u32>(at);
      if (k == key) { store<u32>(at, value, 4); return; }
      if (k == 0) {
        store<u32>(at, key);
        store<u32>(at, value, 4);
        this.used++;
        return;
      }
      i = (i + 1) & mask;
    }
  }

  delete(key: u32): bool {
    const mask = this.capacity - 1;
    let i = this.home(key);
    while (true) {
      const k = load<u32>(this.slots + (<usize>i << 3));
      if (k == 0) return false;
      if (k == key) break;
      i = (i + 1) & mask;
    }
    // Shift back later entries of the probe run so lookups never stop at the hole.
    let hole = i;
    let j = (i + 1) & mask;
    while (true) {
      const at = this.slots + (<usize>j << 3);
      const k = load<u32>(at);
      if (k == 0) break;
      const h = this.home(k);
      // Move k into the hole when its home is not within (hole, j] cyclically.
      const inRange = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j);
      if (!inRange) {
        store<u64>(this.slots + (<usize>hole << 3), load<u64>(at));
        hole = j;
      }
      j = (j + 1) & mask;
    }
    store<u64>(this.slots + (<usize>hole << 3), 0);
    this.used--;
    return true;
  }

  private grow(): void {
    const old = this.slots;
    const oldCap = this.capacity;
    this.capacity = oldCap << 1;
    this.slots = StreamTable.alloc(this.capacity);
    this.used = 0;
    for (let i: u32 = 0; i < oldCap; i++) {
      const k = load<u32>(old + (<usize>i << 3));
      if (k != 0) this.set(k, load<u32>(old + (<usize>i << 3), 4));
    }
    heap.free(old);
  }
}

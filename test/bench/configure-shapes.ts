// The configurations of the bench's configure-time table: N KiB of configuration (exactly N × 1024 bytes,
// or just under for the lanes list), the bulk of it in one of three places. 1024 KiB is the filter's
// largest accepted configuration, so every size is read, not refused unread.
export interface Shape { name: string; config(kib: number): string }

const filler = (bytes: number) => "a".repeat(Math.max(0, bytes));
/** `around(s)` is the JSON text with an empty string where the bulk goes: the bulk takes what is left. */
const sized = (kib: number, around: (s: string) => string) => around(filler(kib * 1024 - around("").length));
/** Valid 63-character lane names (the longest a lane may be): 66 bytes each with quotes and separator. */
const lanes = (kib: number) => {
  const n = Math.floor((kib * 1024 - JSON.stringify({ direction: "outbound", lanes: [] }).length + 1) / 66);
  return Array.from({ length: n }, (_, i) => `l${String(i).padStart(62, "0")}`);
};

export const SHAPES: Shape[] = [
  { name: "default_lane", config: (kib) => sized(kib, (s) => JSON.stringify({ direction: "outbound", default_lane: s })) },
  { name: "assign.weights key", config: (kib) => sized(kib, (s) => JSON.stringify({ direction: "both", assign: { weights: { [s]: 1 } } })) },
  { name: "lanes, 64-byte members", config: (kib) => JSON.stringify({ direction: "outbound", lanes: lanes(kib) }) },
];

// The configurations of the bench's configure-time table: N KiB of string values, in three places.
export interface Shape { name: string; config(kib: number): string }

const filler = (bytes: number) => "a".repeat(bytes);
/** Valid 63-character lane names (the longest a lane may be): 64 bytes each with its separator. */
const lanes = (kib: number) => Array.from({ length: kib * 16 }, (_, i) => `l${String(i).padStart(62, "0")}`);

export const SHAPES: Shape[] = [
  { name: "default_lane", config: (kib) => JSON.stringify({ direction: "outbound", default_lane: filler(kib * 1024) }) },
  { name: "assign.weights key", config: (kib) => JSON.stringify({ direction: "both", assign: { weights: { [filler(kib * 1024)]: 1 } } }) },
  { name: "lanes, 64-byte members", config: (kib) => JSON.stringify({ direction: "outbound", lanes: lanes(kib) }) },
];

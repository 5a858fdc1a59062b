/**
 * The small ground-truth set used by SCAAT's effect test and its benchmark (not part of the
 * public API): 16×16×1 images, background U(0, 0.5); a 4×4 class pattern (4 fixed random binary
 * patterns, on-pixels U(0.8, 1), off-pixels U(0, 0.1)) at one of 4 positions; the object's 4×4 box
 * is the relevance mask (16 of 256 pixels, 6.25 %). Deterministic in `seed`.
 */
import { Rng } from '../engine/random.js';

/** Image side. */
export const OBJECTS_SIZE = 16;
/** Classes. */
export const OBJECTS_CLASSES = 4;
const P = 4;
const POSITIONS = [[2, 2], [2, 10], [10, 2], [10, 10]] as const;

export interface ObjectsData {
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly mask: Uint8Array;
  readonly n: number;
  readonly shape: readonly [number, number, number];
}

/** `n` images of the set, with labels and relevance masks. */
export function objectsDataset(n: number, seed: number): ObjectsData {
  const H = OBJECTS_SIZE;
  const rng = new Rng(seed);
  const patterns = Array.from({ length: OBJECTS_CLASSES }, (_, k) => {
    const r = new Rng(`pattern/${k}`);
    return Array.from({ length: P * P }, () => r.next() < 0.5);
  });
  const x = new Float32Array(n * H * H);
  const y = new Int32Array(n);
  const mask = new Uint8Array(n * H * H);
  for (let i = 0; i < n; i++) {
    const k = rng.nextInt(OBJECTS_CLASSES);
    y[i] = k;
    for (let p = 0; p < H * H; p++) x[i * H * H + p] = rng.uniform(0, 0.5);
    const [r0, c0] = POSITIONS[rng.nextInt(POSITIONS.length)]!;
    for (let a = 0; a < P; a++) {
      for (let b = 0; b < P; b++) {
        const p = i * H * H + (r0 + a) * H + c0 + b;
        x[p] = patterns[k]![a * P + b] ? rng.uniform(0.8, 1) : rng.uniform(0, 0.1);
        mask[p] = 1;
      }
    }
  }
  return { x, y, mask, n, shape: [H, H, 1] };
}

/**
 * Saliency entropy (method.md §4; lower is better): the base-2 Shannon entropy of the 256-bin
 * histogram of the 8-bit map U8 (see uint8-map.ts),
 *
 *   H = −Σ_v p_v log2 p_v,   p_v = #{pixels with U8 = v} / #pixels,   0 ≤ H ≤ 8 bits.
 *
 * @example
 * saliencyEntropy(new Uint8Array([0, 0, 255, 255]))   // 1 (two equal halves)
 */
import { entropyHistogram, meanSummary, sparsityAccumulator } from './_summary.js';
import type { MetricCompute } from './types.js';

/** Counts of each value 0..255. */
export function histogram256(u8: ArrayLike<number>): Float64Array {
  const h = new Float64Array(256);
  for (let i = 0; i < u8.length; i++) h[u8[i]!]! += 1;
  return h;
}

/** Base-2 entropy of the value histogram of an 8-bit map, in bits. An empty map has entropy 0. */
export function saliencyEntropy(u8: ArrayLike<number>): number {
  const n = u8.length;
  if (n === 0) return 0;
  const h = histogram256(u8);
  let e = 0;
  for (let v = 0; v < 256; v++) {
    const c = h[v]!;
    if (c > 0) {
      const p = c / n;
      e -= p * Math.log2(p);
    }
  }
  return e === 0 ? 0 : e; // no −0
}

/**
 * The 'entropy' row: per-image entropy of each method's 8-bit map (null for a constant map: every
 * score equal, no pixel ranked, e.g. a zero gradient; a warning counts them), and their histogram.
 */
export const ENTROPY: MetricCompute<Array<Array<number | null>>> = {
  accumulator: sparsityAccumulator('entropy', (u8) => saliencyEntropy(u8), (values) => ({ entropyHistogram: entropyHistogram(values) })),
  summarise: (state, at) => meanSummary(at, state[at.method]!),
};

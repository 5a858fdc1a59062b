/**
 * The post-processing shared by the image-based metrics (method.md §4), in float64:
 *
 *   S  ← per-pixel scores (Σ_c |A|, see saliency/postprocess.ts)
 *   S  ← clip((S − min S) / (P99(S) − min S), 0, 1)     P99: NumPy's default 'linear' percentile
 *   U8 = floor(255·S + 0.5)                             an H×W 8-bit image
 *
 * Where P99(S) = min S (a nearly constant map), pixels above the minimum become 255, the rest 0.
 */
import { ConfigError } from '../errors.js';

/**
 * The q-th percentile (q in [0, 100]) of `values` with linear interpolation between order
 * statistics, as `numpy.percentile(values, q)` (method 'linear', including NumPy's lerp form).
 * NaN values are not allowed (the result would be NaN, as in NumPy).
 * @example percentile([1, 2, 3, 4], 50)   // 2.5
 */
export function percentile(values: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 100)) throw new ConfigError(`percentile: expected q in [0, 100], got ${q}`);
  const n = values.length;
  if (n === 0) throw new ConfigError('percentile: expected at least one value');
  const a = Float64Array.from(values).sort();
  const index = (q / 100) * (n - 1);
  const lo = Math.floor(index);
  const hi = Math.min(lo + 1, n - 1);
  const t = index - lo;
  const x = a[lo]!;
  const y = a[hi]!;
  const d = y - x;
  // numpy _lerp: a + d·t, computed from the upper end when t ≥ 0.5 (keeps monotonicity)
  return t >= 0.5 ? y - d * (1 - t) : x + d * t;
}

/** Options of {@link toUint8Map}. */
export interface Uint8MapOptions {
  /** Upper clipping percentile. @default 99 (method.md §4) */
  clipPercentile?: number;
}

/**
 * The 8-bit saliency map U8 of method.md §4 from per-pixel scores of one image (row-major H·W).
 * Pure; does not modify `scores`.
 * @example toUint8Map([0, 0, 1, 1])   // Uint8Array [0, 0, 255, 255]
 */
export function toUint8Map(scores: ArrayLike<number>, { clipPercentile = 99 }: Uint8MapOptions = {}): Uint8Array {
  const n = scores.length;
  const out = new Uint8Array(n);
  if (n === 0) return out;
  let min = Infinity;
  for (let i = 0; i < n; i++) min = Math.min(min, scores[i]!);
  const top = percentile(scores, clipPercentile);
  const range = top - min;
  if (!(range > 0)) {
    for (let i = 0; i < n; i++) out[i] = scores[i]! > min ? 255 : 0;
    return out;
  }
  for (let i = 0; i < n; i++) {
    const s = Math.min(Math.max((scores[i]! - min) / range, 0), 1);
    out[i] = Math.floor(255 * s + 0.5);
  }
  return out;
}

/**
 * Whether an 8-bit map is constant: every score of the image was equal (toUint8Map maps them all to
 * 0), e.g. a gradient that is zero everywhere. Such a map ranks no pixel above another, so its
 * entropy and size (method.md §4.2–4.3) are undefined, not "as sparse as can be".
 * @example isConstantMap(toUint8Map([0, 0, 0]))   // true
 */
export function isConstantMap(u8: ArrayLike<number>): boolean {
  for (let i = 1; i < u8.length; i++) if (u8[i] !== u8[0]) return false;
  return true;
}

/**
 * Localisation of saliency on ground-truth relevance masks (datasets with masks, e.g. the
 * synthetic one). Inputs are per-pixel scores S ≥ 0 (Σ_c|A|) and a {0, 1} mask of one image,
 * both row-major H·W. Higher is better for both.
 *
 * - Relevance mass accuracy (Arras, Osman & Samek, 2022, https://arxiv.org/abs/2003.07258):
 *   Σ_{p ∈ GT} S_p / Σ_p S_p, the share of saliency inside the mask.
 * - Pointing game (Zhang et al., 2018, https://arxiv.org/abs/1608.00507): 1 if the most salient
 *   pixel (first in row-major order on ties) lies within `tolerance` pixels (Euclidean) of a mask
 *   pixel, else 0. tolerance 0 = inside the mask (the paper used 15 px on full-size images).
 *
 * Both are null (undefined) for an empty mask; relevance mass is null for an all-zero map.
 *
 * @example
 * relevanceMassAccuracy([3, 1, 0, 0], [1, 0, 0, 0])   // 0.75
 * pointingGame([0, 5, 1, 0], [0, 1, 0, 0], 2, 2)       // 1
 */
import { DataError, ShapeError } from '../errors.js';
import { meanSummary, perImageAccumulator } from './_summary.js';
import type { Accumulator, MethodBatch, MetricCompute } from './types.js';

/** Share of the (non-negative) saliency mass inside the mask; null if the map or mask is empty. */
export function relevanceMassAccuracy(scores: ArrayLike<number>, mask: ArrayLike<number>): number | null {
  if (scores.length !== mask.length) throw new ShapeError(`relevanceMassAccuracy: ${scores.length} scores but ${mask.length} mask pixels`);
  let inside = 0;
  let total = 0;
  let any = false;
  for (let i = 0; i < scores.length; i++) {
    const s = Math.abs(scores[i]!);
    total += s;
    if (mask[i]) {
      inside += s;
      any = true;
    }
  }
  return any && total > 0 ? inside / total : null;
}

/** 1 if the arg-max pixel hits the mask (within `tolerance` px), 0 if not, null if the mask is empty. */
export function pointingGame(
  scores: ArrayLike<number>,
  mask: ArrayLike<number>,
  height: number,
  width: number,
  { tolerance = 0 }: { tolerance?: number } = {},
): number | null {
  if (scores.length !== height * width || mask.length !== height * width) {
    throw new ShapeError(`pointingGame: expected ${height}·${width} scores and mask pixels, got ${scores.length} and ${mask.length}`);
  }
  let best = 0;
  let any = false;
  for (let i = 0; i < scores.length; i++) {
    if (scores[i]! > scores[best]!) best = i;
    if (mask[i]) any = true;
  }
  if (!any) return null;
  const by = Math.floor(best / width);
  const bx = best % width;
  const r = Math.floor(tolerance);
  for (let y = Math.max(0, by - r); y <= Math.min(height - 1, by + r); y++) {
    for (let x = Math.max(0, bx - r); x <= Math.min(width - 1, bx + r); x++) {
      if (mask[y * width + x] && (y - by) ** 2 + (x - bx) ** 2 <= tolerance ** 2) return 1;
    }
  }
  return 0;
}

/** A localisation row's accumulator: `score` of each image's scores and mask. */
function localisation(name: string, score: (scores: Float32Array, mask: Uint8Array, b: MethodBatch) => number | null): Accumulator<Array<Array<number | null>>> {
  return perImageAccumulator(name, (b) => {
    const [n, h, w] = b.shape;
    const px = h * w;
    return Array.from({ length: n }, (_, i) => {
      const mask = b.mask?.subarray(i * px, (i + 1) * px);
      if (!mask) throw new DataError(`evaluate: dataset '${b.source}' declares masks but batch has none`);
      return score(b.scores.subarray(i * px, (i + 1) * px), mask, b);
    });
  });
}

/** The 'relevance-mass-accuracy' row. */
export const RELEVANCE_MASS_ACCURACY: MetricCompute<Array<Array<number | null>>> = {
  accumulator: localisation('relevance-mass-accuracy', (s, mask) => relevanceMassAccuracy(s, mask)),
  summarise: (state, at) => meanSummary(at, state[at.method]!),
};

/** The 'pointing-game' row (config.localization's tolerance). */
export const POINTING_GAME: MetricCompute<Array<Array<number | null>>> = {
  accumulator: localisation('pointing-game', (s, mask, b) => pointingGame(s, mask, b.shape[1], b.shape[2], b.config.localization)),
  summarise: (state, at) => meanSummary(at, state[at.method]!, { params: { ...at.config.localization } }),
};

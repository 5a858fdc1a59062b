/**
 * _carry-ranks.ts: cached ranks follow the image from one augmentation draw to the next. Oracle:
 * the ranks attacks/masks.ts `saliencyRanks` gives a map whose scores moved with the image, with
 * −∞ where the score is unknown (zero padding now, or outside the old view); the same draw twice
 * reuses the ranks as they are.
 */
import { describe, expect, it } from 'vitest';
import { saliencyRanks } from '../attacks/masks.js';
import { Rng } from '../engine/random.js';
import { augmentationSource, drawAugmentation } from '../datasets/transforms.js';
import type { AugmentDraw } from '../datasets/transforms.js';
import { RankCarrier } from './_carry-ranks.js';

const [H, W] = [6, 7];
const N = H * W;

/** Distinct scores of the original (un-augmented) image. */
function originalScores(seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: N }, () => rng.next());
}

/** The scores of the view drawn by `d`: the original's, moved; the padding gets arbitrary scores. */
function viewScores(original: Float64Array, d: AugmentDraw, rng: Rng): Float64Array {
  const src = augmentationSource(d, H, W);
  return Float64Array.from(src, (o) => (o >= 0 ? original[o]! : 100 * rng.next() - 50));
}

describe('RankCarrier', () => {
  it('re-indexes ranks from one view to another = saliencyRanks of the moved map with −∞ where unknown (200 draw pairs)', () => {
    const carrier = new RankCarrier(H, W);
    const aug = { padding: 2, flip: true };
    const rng = new Rng(3);
    let moved = 0;
    for (let i = 0; i < 200; i++) {
      const original = originalScores(i);
      const from = drawAugmentation(aug, 1, 0, i);
      const to = drawAugmentation(aug, 1, 1 + (i % 3), i);
      if (JSON.stringify(from) !== JSON.stringify(to)) moved++;
      const old = saliencyRanks(viewScores(original, from, rng), 1, N);
      const out = new Uint16Array(N);
      carrier.carry(old, from, to, out);
      // oracle: the old view's scores moved to the new view; unknown → −∞ (ties by flat index)
      const srcFrom = augmentationSource(from, H, W);
      const srcTo = augmentationSource(to, H, W);
      const seen = new Set(Array.from(srcFrom).filter((o) => o >= 0));
      const moved2 = Float64Array.from(srcTo, (o) => (o >= 0 && seen.has(o) ? original[o]! : -Infinity));
      // the same draw twice is the same view: the map is reused as made (its padding scores too)
      const expected = JSON.stringify(from) === JSON.stringify(to) ? old : saliencyRanks(moved2, 1, N);
      expect(Array.from(out), `draws ${JSON.stringify(from)} → ${JSON.stringify(to)}`).toEqual(Array.from(expected));
    }
    expect(moved).toBeGreaterThan(150);
  });

  it('keeps the old order among known pixels even where scores tie (ties by the old flat index)', () => {
    const carrier = new RankCarrier(H, W);
    const flat = new Float64Array(N); // every score 0: the old ranks are the old flat indices
    const from = { dy: 1, dx: 0, flip: false };
    const to = { dy: 0, dx: 0, flip: true };
    const out = new Uint16Array(N);
    carrier.carry(saliencyRanks(flat, 1, N), from, to, out);
    // new pixel (y, x) shows original (y, W−1−x), which the old view showed at (y − 1, W−1−x);
    // row 0 of the original was not in the old view: unknown, first, by new flat index
    const expectedOrder = [
      ...Array.from({ length: W }, (_, x) => x), // row 0: unknown
      ...Array.from({ length: (H - 1) * W }, (_, k) => {
        const oldPixel = k; // old ranks = old flat indices, in order
        const [oy, ox] = [Math.floor(oldPixel / W) + 1, oldPixel % W]; // the original pixel it showed
        return oy * W + (W - 1 - ox); // where the new view shows it
      }),
    ];
    const order = Array.from({ length: N }, (_, r) => out.indexOf(r));
    expect(order).toEqual(expectedOrder);
  });

  it('copies the ranks for identical draws and always returns a permutation', () => {
    const carrier = new RankCarrier(H, W);
    const rng = new Rng(5);
    const old = saliencyRanks(Float64Array.from({ length: N }, () => rng.next()), 1, N);
    const same = new Uint32Array(N);
    carrier.carry(old, { dy: 2, dx: -1, flip: true }, { dy: 2, dx: -1, flip: true }, same);
    expect(Array.from(same)).toEqual(Array.from(old));
    const out = new Uint32Array(N);
    carrier.carry(old, { dy: -2, dx: 2, flip: false }, { dy: 2, dx: -2, flip: true }, out);
    expect(Array.from(out).sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, r) => r));
  });
});

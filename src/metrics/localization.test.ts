import { describe, expect, it } from 'vitest';
import { pointingGame, relevanceMassAccuracy } from './localization.js';

describe('localisation', () => {
  it('relevance mass accuracy is the share of saliency inside the mask', () => {
    expect(relevanceMassAccuracy([3, 1, 0, 0], [1, 0, 0, 0])).toBe(0.75);
    expect(relevanceMassAccuracy([1, 1, 1, 1], [1, 1, 0, 0])).toBe(0.5);
    expect(relevanceMassAccuracy([0, 0], [1, 0])).toBeNull(); // no saliency mass
    expect(relevanceMassAccuracy([1, 2], [0, 0])).toBeNull(); // empty mask
  });
  it('pointing game hits when the arg-max pixel is in the mask (or within tolerance)', () => {
    // 3×3, max at (1, 1); mask at (0, 0) only
    const s = [0, 0, 0, 0, 9, 0, 0, 0, 0];
    const m = [1, 0, 0, 0, 0, 0, 0, 0, 0];
    expect(pointingGame(s, m, 3, 3)).toBe(0);
    expect(pointingGame(s, m, 3, 3, { tolerance: 1 })).toBe(0); // diagonal distance √2 > 1
    expect(pointingGame(s, m, 3, 3, { tolerance: 1.5 })).toBe(1);
    expect(pointingGame([0, 5, 1, 0], [0, 1, 0, 0], 2, 2)).toBe(1);
    expect(pointingGame([5, 5, 0, 0], [0, 1, 0, 0], 2, 2)).toBe(0); // tie → first pixel
    expect(pointingGame([1, 2, 3, 4], [0, 0, 0, 0], 2, 2)).toBeNull();
  });
});

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeak, linearClassifier, useBackend } from '../../test/helpers/index.js';
import { disposeRandomWeights, drawRandomWeights, pearson, randomizationSimilarity, spearman, withWeights } from './randomization.js';
import { vanillaGradient } from '../saliency/vanilla-gradient.js';
import { randomImages, tinyCnn } from '../saliency/_testing.js';
import type { SaliencyFn } from '../saliency/types.js';

beforeAll(() => useBackend('cpu'));

describe('pearson', () => {
  it('is the closed form Σ(a−ā)(b−b̄) / √(Σ(a−ā)² Σ(b−b̄)²), null for a constant side', () => {
    // ā = 2, b̄ = 13/3: Σ da·db = 5, Σ da² = 2, Σ db² = 38/3
    expect(pearson([1, 2, 3], [2, 4, 7])).toBeCloseTo(5 / Math.sqrt(2 * (38 / 3)), 14);
    expect(pearson([1, 2, 3], [-3, -6, -9])).toBeCloseTo(-1, 14);
    expect(pearson([1, 2, 3], [5, 5, 5])).toBeNull();
  });
});

describe('spearman', () => {
  it('matches hand-computed rank correlations, ties by average rank', () => {
    expect(spearman([1, 2, 3], [10, 20, 30])).toBe(1);
    expect(spearman([1, 2, 3], [3, 2, 1])).toBe(-1);
    // ranks (0.5, 0.5, 2) vs (0, 1, 2): 1.5 / √(1.5·2) = √3/2
    expect(spearman([1, 1, 2], [1, 2, 3])).toBeCloseTo(Math.sqrt(3) / 2, 14);
    expect(spearman([4, 4, 4], [1, 2, 3])).toBeNull();
  });
});

describe('model-parameter randomisation (Adebayo et al. 2018)', () => {
  it('swaps the weights only inside withWeights and restores them exactly', async () => {
    const net = tinyCnn([6, 6, 1], 2);
    const before = net.model.getWeights().map((w) => Array.from(w.dataSync()));
    const x = randomImages([2, 6, 6, 1], 50);
    const ref = tf.tidy(() => Array.from(net.logits(x).dataSync()));
    const start = tf.memory().numTensors;
    const rnd = drawRandomWeights(net, { seed: 1 });
    const weightCount = net.model.layers.reduce((n, l) => n + l.trainableWeights.length, 0);
    expect(tf.memory().numTensors - start, 'drawRandomWeights holds one tensor per weight of the drawn layers').toBe(weightCount);
    const inside = await expectNoLeak(() => withWeights(rnd, () => tf.tidy(() => Array.from(net.logits(x).dataSync()))), 'withWeights');
    expect(inside).not.toEqual(ref);
    expect(net.model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
    expect(tf.tidy(() => Array.from(net.logits(x).dataSync()))).toEqual(ref);
    expect(rnd.layers.length).toBe(3);
    disposeRandomWeights(rnd);
    expect(tf.memory().numTensors, 'disposeRandomWeights frees what drawRandomWeights held').toBe(start);
    const top = drawRandomWeights(net, { seed: 1, layers: 1 });
    expect(top.layers).toEqual([net.model.layers.at(-1)!.name]);
    disposeRandomWeights(top);
    x.dispose();
    net.model.dispose();
  });

  it('gives ρ = 1 for a map that ignores the model, and |ρ| small for the gradient of a linear model', async () => {
    const lin = linearClassifier([8, 8, 1], 3, { seed: 4 });
    const x = randomImages([3, 8, 8, 1], 51);
    const t = tf.tensor1d([0, 1, 2], 'int32');
    const rnd = drawRandomWeights(lin, { seed: 2 });
    const edge: SaliencyFn = (_c, xi) => tf.clone(xi); // "explains" with the input itself
    expect(await expectNoLeak(() => randomizationSimilarity(lin, x, t, edge, rnd), 'randomizationSimilarity')).toEqual([1, 1, 1]);
    // |W[:, c]| of independent Gaussian weights: ρ ≈ N(0, 1/63); 0.5 is 4 standard deviations
    const rho = randomizationSimilarity(lin, x, t, vanillaGradient(), rnd);
    for (const r of rho) expect(Math.abs(r!)).toBeLessThan(0.5);
    disposeRandomWeights(rnd);
    tf.dispose([x, t]);
  });
});

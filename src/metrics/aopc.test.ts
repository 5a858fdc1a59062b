import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, useBackend } from '../../test/helpers/index.js';
import { aopc, patchOrder, defaultPatchSize, stepsForFraction, DEFAULT_AOPC_FRACTION } from './aopc.js';
import { asClassifier, randomImages, tinyCnn } from '../saliency/_testing.js';
import { ConfigError } from '../errors.js';

beforeAll(() => useBackend('cpu'));

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** logits = [Σ_p w_p·x_p, 0] on 2×2×1 images: p_0 = σ(Σ w x). */
function linear2x2(w: number[]): ReturnType<typeof asClassifier> {
  const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [2, 2, 1] }), tf.layers.dense({ units: 2, useBias: false })] });
  model.setWeights([tf.tensor2d(w.map((v) => [v, 0]))]);
  return asClassifier(model, 2);
}

describe('patchOrder', () => {
  it('orders patches by summed score, ties to the lower index, edge patches included', () => {
    expect(Array.from(patchOrder([1, 0, 0, 2], 2, 2, 1, 'morf'))).toEqual([3, 0, 1, 2]);
    expect(Array.from(patchOrder([1, 0, 0, 2], 2, 2, 1, 'lerf'))).toEqual([1, 2, 0, 3]);
    // 3×3 image, P = 2: patches {0: (0..1, 0..1), 1: col 2 rows 0..1, 2: row 2 cols 0..1, 3: (2, 2)}
    const s = [1, 1, 5, 1, 1, 0, 0, 0, 9];
    expect(Array.from(patchOrder(s, 3, 3, 2, 'morf'))).toEqual([3, 1, 0, 2]); // sums 4, 5, 0, 9
  });
  it('treats every image size alike: a grid of about 28 × 28 patches, 10 % of it removed (method.md §4)', () => {
    expect(DEFAULT_AOPC_FRACTION).toBe(0.1);
    const cases: Array<[number, number, number]> = [
      // side, P, L
      [28, 1, 78],
      [32, 1, 102],
      [96, 3, 102],
      [224, 8, 78],
    ];
    for (const [side, p, l] of cases) {
      expect(defaultPatchSize(side, side), `P at ${side} px`).toBe(p);
      const patches = Math.ceil(side / p) ** 2;
      expect(stepsForFraction(patches, DEFAULT_AOPC_FRACTION), `L at ${side} px`).toBe(l);
      // the removed area is 10 % of the image within one patch's rounding
      expect(Math.abs((l * p * p) / (side * side) - 0.1)).toBeLessThan((p * p) / (side * side));
    }
    expect(defaultPatchSize(8, 8)).toBe(1);
    expect(stepsForFraction(4, 0.1)).toBe(1); // at least one step
    expect(stepsForFraction(64, 1)).toBe(64); // the whole-image curve
    expect(() => stepsForFraction(64, 0)).toThrow(ConfigError);
    expect(() => stepsForFraction(64, 1.5)).toThrow(ConfigError);
  });
});

describe('aopc', () => {
  it('matches the hand-computed curves of a linear model with black fill', () => {
    const clf = linear2x2([3, 2, 1, 0]);
    const x = tf.ones([1, 2, 2, 1]) as tf.Tensor4D;
    const t = tf.tensor1d([0], 'int32');
    const scores = [3, 2, 1, 0]; // = gradient × input
    const morf = aopc(clf, x, t, scores, { order: 'morf', patchSize: 1, fill: 'black', fraction: 1 });
    const lerf = aopc(clf, x, t, scores, { order: 'lerf', patchSize: 1, fill: 'black', fraction: 1 });
    expect(morf.steps).toBe(4);
    // MoRF removes w = 3, 2, 1, 0 in turn: Σwx = 6, 3, 1, 0, 0; LeRF removes 0, 1, 2, 3: 6, 6, 5, 3, 0
    const curve = (z: number[]): number[] => z.map((v) => sigmoid(6) - sigmoid(v));
    expectClose(morf.curves, curve([6, 3, 1, 0, 0]), { atol: 1e-6 });
    expectClose(lerf.curves, curve([6, 6, 5, 3, 0]), { atol: 1e-6 });
    const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
    expect(morf.values[0]).toBeCloseTo(mean(curve([6, 3, 1, 0, 0])), 6);
    expect(lerf.values[0]).toBeCloseTo(mean(curve([6, 6, 5, 3, 0])), 6);
    expect(morf.values[0]!).toBeGreaterThan(lerf.values[0]!);
    tf.dispose([x, t]);
    clf.model.dispose();
  });

  it('is 0 for a model that ignores its input, whatever the map and fill', () => {
    const model = tf.sequential({
      layers: [tf.layers.flatten({ inputShape: [8, 8, 3] }), tf.layers.dense({ units: 3, kernelInitializer: 'zeros', biasInitializer: tf.initializers.constant({ value: 0.7 }) })],
    });
    const clf = asClassifier(model, 3);
    const x = randomImages([3, 8, 8, 3], 30);
    const t = tf.tensor1d([0, 1, 2], 'int32');
    const scores = Float32Array.from({ length: 3 * 64 }, (_, i) => (i * 37) % 11);
    for (const fill of ['uniform', 'black', 0.5] as const) {
      for (const order of ['morf', 'lerf'] as const) {
        const r = aopc(clf, x, t, scores, { order, fill, patchSize: 2 });
        expect(Array.from(r.values)).toEqual([0, 0, 0]);
      }
    }
    tf.dispose([x, t]);
    model.dispose();
  });

  it('is deterministic under per-image seeds, independent of internalBatchSize, and leaks nothing', async () => {
    const net = tinyCnn([8, 8, 2], 3);
    const x = randomImages([3, 8, 8, 2], 31);
    const t = tf.tensor1d([2, 0, 1], 'int32');
    const scores = Float32Array.from({ length: 3 * 64 }, (_, i) => Math.sin(i));
    const run = (rows: number): Float64Array =>
      aopc(net, x, t, scores, { order: 'morf', seeds: [5, 6, 7], internalBatchSize: rows, steps: 3 }).curves;
    const a = await expectNoLeak(() => run(256), 'aopc');
    expectClose(run(2), a, { atol: 1e-7, label: 'rows=2' });
    expectClose(run(7), a, { atol: 1e-7, label: 'rows=7' });
    // image 1 alone with its own seed gives its row of the batched result
    const alone = aopc(net, tf.slice(x, [1], [1]) as tf.Tensor4D, tf.slice(t, [1], [1]) as tf.Tensor1D, scores.subarray(64, 128), { order: 'morf', seeds: [6], steps: 3 });
    expectClose(alone.curves, a.subarray(4, 8), { atol: 1e-7, label: 'alone' });
    const other = aopc(net, x, t, scores, { order: 'morf', seeds: [1, 2, 3], steps: 3 }).curves;
    expect(Array.from(other)).not.toEqual(Array.from(a));
    tf.dispose([x, t]);
    net.model.dispose();
  });

  it('by default stops after 10 % of the patches: the prefix of the whole-image curves', () => {
    // 10×10 image, P = 1 by default → 100 patches, L = 10; the fraction-1 curve's first 11 points
    const net = tinyCnn([10, 10, 1], 2);
    const x = randomImages([2, 10, 10, 1], 32);
    const t = tf.tensor1d([1, 0], 'int32');
    const scores = Float32Array.from({ length: 2 * 100 }, (_, i) => Math.cos(i * 0.7));
    for (const order of ['morf', 'lerf'] as const) {
      const part = aopc(net, x, t, scores, { order, seeds: [3, 4] });
      const whole = aopc(net, x, t, scores, { order, seeds: [3, 4], fraction: 1 });
      expect([part.patchSize, part.steps, whole.steps]).toEqual([1, 10, 100]);
      for (let i = 0; i < 2; i++) {
        const prefix = whole.curves.subarray(i * 101, i * 101 + 11);
        expectClose(part.curves.subarray(i * 11, (i + 1) * 11), prefix, { atol: 1e-7, label: `${order} image ${i}` });
        expect(part.values[i]).toBeCloseTo(prefix.reduce((s, v) => s + v, 0) / 11, 7);
      }
    }
    tf.dispose([x, t]);
    net.model.dispose();
  });

  it('rejects more steps than patches', () => {
    const clf = linear2x2([1, 1, 1, 1]);
    const x = tf.ones([1, 2, 2, 1]) as tf.Tensor4D;
    const t = tf.tensor1d([0], 'int32');
    expect(() => aopc(clf, x, t, [0, 0, 0, 0], { order: 'morf', patchSize: 1, steps: 5 })).toThrow(ConfigError);
    tf.dispose([x, t]);
    clf.model.dispose();
  });
});

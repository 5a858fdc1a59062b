import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeak, useBackend } from '../../test/helpers/index.js';
import { lowSaliencyRobustness } from './robustness.js';
import { correctPredictions } from './accuracy.js';
import { asClassifier, randomImages, tinyCnn } from '../saliency/_testing.js';
import { pgd } from '../attacks/pgd.js';
import type { AttackFn } from '../attacks/types.js';

beforeAll(() => useBackend('cpu'));

/** Predicts class 1 iff pixel (0, 0) > 0.5: logits = 10·[0.5 − x₀₀, x₀₀ − 0.5]. */
function pixelModel(): ReturnType<typeof asClassifier> {
  const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [2, 2, 1] }), tf.layers.dense({ units: 2 })] });
  model.setWeights([tf.tensor2d([[-10, 10], [0, 0], [0, 0], [0, 0]]), tf.tensor1d([5, -5])]);
  return asClassifier(model, 2);
}

/** An "attack" that zeroes the masked pixels. */
const zeroMasked: AttackFn = (_c, x, _y, { mask } = {}) => tf.tidy(() => tf.mul(x, tf.sub(1, mask!)) as tf.Tensor4D);

describe('lowSaliencyRobustness', () => {
  const ratios = [0, 0.25, 0.5, 0.75, 1];

  it('flips exactly when the decisive pixel enters the low-saliency mask (hand-computed)', () => {
    const clf = pixelModel();
    const x = tf.ones([2, 2, 2, 1]) as tf.Tensor4D;
    const y = tf.tensor1d([1, 1], 'int32');
    // image 0: pixel (0,0) is the least salient → masked from q = 0.25 (k = 1 of 4);
    // image 1: it is the most salient → masked only at q = 1.
    const scores = [0, 1, 2, 3, 9, 1, 2, 3];
    const flags = lowSaliencyRobustness(clf, x, y, scores, { kind: 'attack', attack: zeroMasked, ratios });
    expect(flags.map((f) => Array.from(f))).toEqual([[1, 1], [0, 1], [0, 1], [0, 1], [0, 0]]);
    // the real masked PGD, unbounded inside the mask, flips the same way
    const real = lowSaliencyRobustness(clf, x, y, scores, { kind: 'attack', attack: pgd({ epsilon: 1, alpha: 1, steps: 1, randomStart: false }), ratios });
    expect(real.map((f) => Array.from(f))).toEqual([[1, 1], [0, 1], [0, 1], [0, 1], [0, 0]]);
    tf.dispose([x, y]);
    clf.model.dispose();
  });

  it('replaces masked pixels by noise in [0, 1]: with the whole image masked, about half flip', () => {
    const clf = pixelModel();
    const x = tf.ones([400, 2, 2, 1]) as tf.Tensor4D;
    const y = tf.fill([400], 1, 'int32') as tf.Tensor1D;
    const scores = new Float32Array(400 * 4);
    const [q0, q1] = lowSaliencyRobustness(clf, x, y, scores, { kind: 'noise', ratios: [0, 1], seed: 3 });
    expect(q0!.every((v) => v === 1)).toBe(true);
    const acc = q1!.reduce((s, v) => s + v, 0) / 400; // P(U > 0.5) = 1/2, sd 0.025
    expect(Math.abs(acc - 0.5)).toBeLessThan(0.1);
    // additive noise of ε = 0.1 around 1 keeps x₀₀ ≥ 0.9 > 0.5: nothing flips
    const [, add] = lowSaliencyRobustness(clf, x, y, scores, { kind: 'noise', noise: 'additive', epsilon: 0.1, ratios: [0, 1] });
    expect(add!.every((v) => v === 1)).toBe(true);
    tf.dispose([x, y]);
    clf.model.dispose();
  });

  it('equals clean correctness at q = 0 and leaks nothing (attack and both noises)', async () => {
    const net = tinyCnn([6, 6, 1], 3);
    const x = randomImages([5, 6, 6, 1], 40);
    const y = tf.tensor1d([0, 1, 2, 0, 1], 'int32');
    // clean correctness by hand: argmax of the logits against the label
    const logits = tf.tidy(() => net.logits(x).arraySync() as number[][]);
    const labels = y.arraySync() as number[];
    const clean = Uint8Array.from(logits, (l, i) => (l.indexOf(Math.max(...l)) === labels[i] ? 1 : 0));
    const scores = Float32Array.from({ length: 5 * 36 }, (_, i) => Math.cos(i));
    const flags = await expectNoLeak(
      () => lowSaliencyRobustness(net, x, y, scores, { kind: 'attack', attack: pgd({ steps: 2 }), ratios: [0, 0.5], seed: 1 }),
      'robustness',
    );
    expect(Array.from(flags[0]!)).toEqual(Array.from(clean));
    for (const noise of ['replace', 'additive'] as const) {
      const noisy = await expectNoLeak(
        () => lowSaliencyRobustness(net, x, y, scores, { kind: 'noise', noise, epsilon: 0.1, ratios: [0, 0.5], seed: 1 }),
        `robustness (noise '${noise}')`,
      );
      expect(Array.from(noisy[0]!)).toEqual(Array.from(clean));
    }
    const correct = await expectNoLeak(() => correctPredictions(net, x, y), 'correctPredictions');
    expect(Array.from(correct)).toEqual(Array.from(clean));
    tf.dispose([x, y]);
    net.model.dispose();
  });
});

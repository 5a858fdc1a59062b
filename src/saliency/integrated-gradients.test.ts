import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, linearClassifier, useBackend } from '../../test/helpers/index.js';
import { integratedGradients, integratedGradientsGap, riemannNodes } from './integrated-gradients.js';
import { randomImages, tinyCnn } from './_testing.js';

beforeAll(() => useBackend('cpu'));

describe('integratedGradients', () => {
  it('equals (x − x′) ⊙ W[:, c] for a linear model, for every rule and baseline', () => {
    const shape = [3, 3, 2] as const;
    const lin = linearClassifier(shape, 4);
    const x = randomImages([2, ...shape], 8);
    const y = tf.tensor1d([3, 1], 'int32');
    const W = lin.W.arraySync();
    const xs = x.reshape([2, -1]).arraySync() as number[][];
    for (const [rule, baseline, x0] of [['midpoint', 'black', 0], ['trapezoid', 'white', 1], ['left', 0.25, 0.25]] as const) {
      const a = integratedGradients({ steps: 3, rule, baseline })(lin, x, y);
      const got = a.reshape([2, -1]).arraySync() as number[][];
      [3, 1].forEach((c, b) =>
        expectClose(got[b]!, xs[b]!.map((v, i) => (v - x0) * W[i]![c]!), { rtol: 1e-5, label: `${rule} image ${b}` }),
      );
      a.dispose();
    }
    tf.dispose([x, y]);
  });

  it('has quadrature weights that sum to 1 and nodes inside [0, 1]', () => {
    for (const rule of ['midpoint', 'left', 'right', 'trapezoid'] as const) {
      const { alphas, weights } = riemannNodes(7, rule);
      expect(weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 12);
      expect(alphas.every((a) => a >= 0 && a <= 1)).toBe(true);
    }
  });

  it('satisfies completeness with an error that shrinks as the steps grow (small CNN)', () => {
    const net = tinyCnn([6, 6, 2], 3, { seed: 11, filters: 6 });
    const x = tf.tidy(() => tf.mul(randomImages([2, 6, 6, 2], 9), 3) as tf.Tensor4D); // far from the baseline: curved path
    const y = tf.tensor1d([0, 2], 'int32');
    const gapAt = (steps: number, rule: 'midpoint' | 'trapezoid'): number =>
      tf.tidy(() => {
        const a = integratedGradients({ steps, rule })(net, x, y);
        return tf.max(tf.abs(integratedGradientsGap(net, x, y, a))).dataSync()[0]!;
      });
    const scale = tf.tidy(() => tf.max(tf.abs(net.logits(x))).dataSync()[0]!);
    for (const rule of ['midpoint', 'trapezoid'] as const) {
      const g2 = gapAt(2, rule);
      const g8 = gapAt(8, rule);
      const g32 = gapAt(32, rule);
      // O(1/m²): 4× more steps → ~16× smaller error; demand at least 4× (float32 floor aside)
      expect(g2, `${rule}: the 2-step gap must be visible for this test to mean anything`).toBeGreaterThan(1e-3 * scale);
      expect(g8).toBeLessThan(g2 / 4);
      expect(g32).toBeLessThan(Math.max(g8 / 4, 2e-5 * scale));
      expect(g32).toBeLessThan(1e-3 * scale);
    }
    tf.dispose([x, y]);
    net.model.dispose();
  });

  it('gives the same result whatever internalBatchSize, and leaks nothing', async () => {
    const net = tinyCnn([4, 4, 1], 2);
    const x = randomImages([3, 4, 4, 1], 10);
    const y = tf.tensor1d([0, 1, 1], 'int32');
    const ref = integratedGradients({ steps: 7, internalBatchSize: 1000 })(net, x, y);
    for (const rows of [1, 2, 5]) {
      const v = await expectNoLeak(() => {
        const a = integratedGradients({ steps: 7, internalBatchSize: rows })(net, x, y);
        const d = a.dataSync().slice();
        a.dispose();
        return d;
      }, `ig rows=${rows}`);
      expectClose(v, ref.dataSync(), { rtol: 1e-5, atol: 1e-7, label: `rows=${rows}` });
    }
    tf.dispose([x, y, ref]);
    net.model.dispose();
  });
});

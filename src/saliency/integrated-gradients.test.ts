import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, linearClassifier, useBackend } from '../../test/helpers/index.js';
import type { Classifier } from '../models/classifier.js';
import { integratedGradients, integratedGradientsGap, riemannNodes } from './integrated-gradients.js';
import type { RiemannRule } from './integrated-gradients.js';
import { randomImages, tinyCnn } from './_testing.js';

beforeAll(() => useBackend('cpu'));

/** logit_c = v_c · Σ_p x_p²: ∂logit_c/∂x_p = 2·v_c·x_p, a gradient that changes along the path. */
const V = [1, -2];
function quadraticModel(inputShape: readonly [number, number, number]): Classifier {
  return {
    inputShape,
    numClasses: V.length,
    model: undefined as unknown as tf.LayersModel,
    logits: (x) => tf.tidy(() => tf.mul(tf.reshape(tf.sum(tf.square(x), [1, 2, 3]), [-1, 1]), tf.tensor2d([V])) as tf.Tensor2D),
    trainableVariables: () => [],
  };
}

/**
 * S = Σ_j w_j·α_j of a rule with m intervals, by hand: midpoint (1/m)·Σ_{j<m} (j + ½)/m = ½;
 * trapezoid (1/m)·Σ_{0<j<m} j/m + (1/2m)·(0 + 1) = (m − 1)/2m + 1/2m = ½; left (1/m)·Σ_{j<m} j/m
 * = (m − 1)/2m; right (1/m)·Σ_{j<m} (j + 1)/m = (m + 1)/2m.
 */
const nodeMean = (rule: RiemannRule, m: number): number =>
  ({ midpoint: 0.5, trapezoid: 0.5, left: (m - 1) / (2 * m), right: (m + 1) / (2 * m) })[rule];

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

  it('uses the documented nodes and weights of every rule, exactly (m = 4, and m = 1)', () => {
    const q = 1 / 4;
    expect(riemannNodes(4, 'left')).toEqual({ alphas: [0, q, 2 * q, 3 * q], weights: [q, q, q, q] });
    expect(riemannNodes(4, 'right')).toEqual({ alphas: [q, 2 * q, 3 * q, 1], weights: [q, q, q, q] });
    expect(riemannNodes(4, 'midpoint')).toEqual({ alphas: [1 / 8, 3 / 8, 5 / 8, 7 / 8], weights: [q, q, q, q] });
    expect(riemannNodes(4, 'trapezoid')).toEqual({ alphas: [0, q, 2 * q, 3 * q, 1], weights: [1 / 8, q, q, q, 1 / 8] });
    expect(riemannNodes(1, 'left')).toEqual({ alphas: [0], weights: [1] });
    expect(riemannNodes(1, 'right')).toEqual({ alphas: [1], weights: [1] });
    expect(riemannNodes(1, 'midpoint')).toEqual({ alphas: [0.5], weights: [1] });
    expect(riemannNodes(1, 'trapezoid')).toEqual({ alphas: [0, 1], weights: [0.5, 0.5] });
  });

  /** Two images of the quadratic model's input shape, with their targets, and the images as rows. */
  const quadraticCase = (seed: number, classes: number[]) => {
    const shape = [3, 3, 2] as const;
    const x = randomImages([2, ...shape], seed);
    const xs = tf.tidy(() => x.reshape([2, -1]).arraySync() as number[][]);
    return { net: quadraticModel(shape), x, classes, y: tf.tensor1d(classes, 'int32'), xs };
  };

  it('integrates a non-constant gradient as each rule’s closed form (logit = v_c·Σ x², m = 4)', () => {
    // Along x′ + α(x − x′) the gradient is 2v_c(x′ + α(x_p − x′)), so with S = Σ_j w_j α_j and Σ_j w_j = 1:
    //   A_p = v_c (x_p − x′)(2x′ + 2S (x_p − x′)).
    // Black baseline: A_p = 2S·v_c·x_p², i.e. v_c·x_p² for midpoint and trapezoid (exact), and
    // v_c·x_p²·(1 ∓ 1/m) for left/right: the rules give different answers here, unlike on a linear model.
    const m = 4;
    const { net, x, classes, y, xs } = quadraticCase(30, [0, 1]);
    for (const rule of ['midpoint', 'left', 'right', 'trapezoid'] as const) {
      const S = nodeMean(rule, m);
      for (const [baseline, x0] of [['black', 0], ['white', 1], [0.25, 0.25]] as const) {
        const a = integratedGradients({ steps: m, rule, baseline })(net, x, y);
        const got = tf.tidy(() => a.reshape([2, -1]).arraySync() as number[][]);
        classes.forEach((c, b) => {
          const want = xs[b]!.map((v) => V[c]! * (v - x0) * (2 * x0 + 2 * S * (v - x0)));
          expectClose(got[b]!, want, { rtol: 1e-5, atol: 1e-6, label: `${rule}, baseline ${baseline}, image ${b}` });
        });
        a.dispose();
      }
    }
    // the black-baseline special cases, written out
    const black = (rule: RiemannRule): number[] => tf.tidy(() => Array.from(integratedGradients({ steps: m, rule })(net, x, y).dataSync()));
    const d = xs[0]!.length;
    const sq = Array.from(x.dataSync(), (v, i) => V[classes[Math.floor(i / d)]!]! * v * v);
    expectClose(black('midpoint'), sq, { label: 'midpoint: v·x²' });
    expectClose(black('trapezoid'), sq, { label: 'trapezoid: v·x²' });
    expectClose(black('left'), sq.map((v) => v * (1 - 1 / m)), { label: 'left: v·x²·(1 − 1/m)' });
    expectClose(black('right'), sq.map((v) => v * (1 + 1 / m)), { label: 'right: v·x²·(1 + 1/m)' });
    tf.dispose([x, y]);
  });

  it('measures the completeness gap Σ A − (logit_c(x) − logit_c(x′)), and leaks nothing', async () => {
    // On v_c·Σ x²: logit_c(x) − logit_c(x′) = v_c Σ_p (x_p² − x′²), and Σ_p A_p = v_c Σ_p [(x_p² − x′²)
    // + (2S − 1)(x_p − x′)²], so the gap is v_c (2S − 1) Σ_p (x_p − x′)²: 0 for midpoint and
    // trapezoid, ∓v_c Σ_p (x_p − x′)²/m for left/right.
    const m = 4;
    const { net, x, classes, y, xs } = quadraticCase(31, [1, 0]);
    for (const [baseline, x0] of [['black', 0], ['white', 1], [0.25, 0.25]] as const) {
      const dist2 = xs.map((row) => row.reduce((s, v) => s + (v - x0) ** 2, 0));
      const rise = xs.map((row, b) => V[classes[b]!]! * row.reduce((s, v) => s + v * v - x0 * x0, 0));
      // the gap's values, read back inside the leak check (no tidy around the call: it would hide a leak)
      const gapOf = (a: tf.Tensor4D, what: string): Promise<number[]> =>
        expectNoLeak(() => {
          const g = integratedGradientsGap(net, x, y, a, baseline);
          const v = Array.from(g.dataSync());
          g.dispose();
          return v;
        }, `integratedGradientsGap ${what}, baseline ${baseline}`);
      // a zero attribution: the gap is minus the rise of the target logit
      const zero = tf.zerosLike(x);
      expectClose(await gapOf(zero, 'zero'), rise.map((r) => -r), { label: `gap of a zero attribution, baseline ${baseline}` });
      zero.dispose();
      for (const rule of ['midpoint', 'left', 'right', 'trapezoid'] as const) {
        const a = integratedGradients({ steps: m, rule, baseline })(net, x, y);
        const want = dist2.map((d, b) => V[classes[b]!]! * (2 * nodeMean(rule, m) - 1) * d);
        expectClose(await gapOf(a, rule), want, { rtol: 1e-5, atol: 2e-5, label: `${rule} gap, baseline ${baseline}` });
        a.dispose();
      }
    }
    tf.dispose([x, y]);
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

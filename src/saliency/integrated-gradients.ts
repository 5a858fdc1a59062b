/**
 * Integrated gradients (Sundararajan, Taly & Yan, 2017, https://arxiv.org/abs/1703.01365):
 *
 *   A(x)_b = (x_b − x'_b) ⊙ Σ_j w_j · ∇ logit_{target_b}( x'_b + α_j (x_b − x'_b) )
 *
 * a Riemann sum of the path integral along the straight line from the baseline x' to x.
 * Rules with m = `steps`:
 *   'midpoint'  α_j = (j + ½)/m, w_j = 1/m, j < m            (default, method.md §3)
 *   'left'      α_j = j/m;   'right' α_j = (j + 1)/m;  w_j = 1/m
 *   'trapezoid' α_j = j/m, j ≤ m, w_0 = w_m = 1/(2m), else 1/m (m + 1 gradient evaluations)
 * Completeness: Σ A(x)_b ≈ logit_c(x_b) − logit_c(x'_b), with an error that shrinks as O(1/m²)
 * for midpoint and trapezoid ({@link integratedGradientsGap} measures it).
 *
 * Defaults (method.md §3): m = 50, black baseline (x' = 0), midpoint rule.
 * Memory: at most `internalBatchSize` interpolated images per backward pass (⌊rows/B⌋ steps at
 * once, or sub-batches when B is larger), so memory does not grow with the number of steps.
 *
 * @example
 * const ig = integratedGradients({ steps: 50, baseline: 0, rule: 'midpoint' });
 * const a = ig(classifier, x, y);                                // [B, H, W, C]; caller disposes
 * const gap = integratedGradientsGap(classifier, x, y, a, 0);    // [B] completeness error
 */
import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../models/classifier.js';
import { ConfigError } from '../errors.js';
import type { SaliencyFn } from './types.js';
import { checkPositiveInt, mapBatchChunks, targetLogitGradient, validateSaliencyInputs } from './_gradient.js';

/** Riemann rule of the path integral. */
export type RiemannRule = 'midpoint' | 'left' | 'right' | 'trapezoid';
export const RIEMANN_RULES: readonly RiemannRule[] = ['midpoint', 'left', 'right', 'trapezoid'];

/** The baseline x': 'black' (0), 'white' (1) or a constant pixel value in [0, 1]. */
export type Baseline = 'black' | 'white' | number;

export interface IntegratedGradientsOptions {
  /** Number of Riemann intervals m. @default 50 (method.md §3) */
  steps?: number;
  /** Baseline x'. @default 'black' (x' = 0, method.md §3) */
  baseline?: Baseline;
  /** Riemann rule. @default 'midpoint' */
  rule?: RiemannRule;
  /** Most interpolated images per backward pass. @default 64 */
  internalBatchSize?: number;
}

/** Quadrature nodes α_j and weights w_j of a rule; Σ w_j = 1. */
export function riemannNodes(steps: number, rule: RiemannRule): { alphas: number[]; weights: number[] } {
  const m = steps;
  switch (rule) {
    case 'midpoint':
      return { alphas: Array.from({ length: m }, (_, j) => (j + 0.5) / m), weights: new Array<number>(m).fill(1 / m) };
    case 'left':
      return { alphas: Array.from({ length: m }, (_, j) => j / m), weights: new Array<number>(m).fill(1 / m) };
    case 'right':
      return { alphas: Array.from({ length: m }, (_, j) => (j + 1) / m), weights: new Array<number>(m).fill(1 / m) };
    case 'trapezoid':
      return {
        alphas: Array.from({ length: m + 1 }, (_, j) => j / m),
        weights: Array.from({ length: m + 1 }, (_, j) => (j === 0 || j === m ? 0.5 / m : 1 / m)),
      };
    default:
      throw new ConfigError(`integratedGradients: expected rule in ${RIEMANN_RULES.join(', ')}, got '${String(rule)}'`);
  }
}

/** The constant pixel value of a baseline. */
export function baselineValue(baseline: Baseline): number {
  if (baseline === 'black') return 0;
  if (baseline === 'white') return 1;
  if (typeof baseline === 'number' && Number.isFinite(baseline)) return baseline;
  throw new ConfigError(`integratedGradients: expected baseline 'black', 'white' or a number, got ${JSON.stringify(baseline)}`);
}

/** Builds the integrated-gradients {@link SaliencyFn}. Deterministic (ignores the seed). */
export function integratedGradients(options: IntegratedGradientsOptions = {}): SaliencyFn {
  const { steps = 50, baseline = 'black', rule = 'midpoint', internalBatchSize = 64 } = options;
  checkPositiveInt(steps, 'steps', 'integratedGradients');
  checkPositiveInt(internalBatchSize, 'internalBatchSize', 'integratedGradients');
  const x0 = baselineValue(baseline);
  const { alphas, weights } = riemannNodes(steps, rule);
  return (classifier, x, target) => {
    validateSaliencyInputs(x, target, 'integratedGradients');
    return mapBatchChunks(x, target, internalBatchSize, (xs, ts) => {
      const [b, h, w, c] = xs.shape;
      const perPass = Math.max(1, Math.floor(internalBatchSize / b));
      const diff = tf.sub(xs, x0) as tf.Tensor4D; // x − x'
      let total: tf.Tensor4D = tf.zerosLike(xs);
      try {
        for (let j0 = 0; j0 < alphas.length; j0 += perPass) {
          const k = Math.min(perPass, alphas.length - j0);
          const next = tf.tidy(() => {
            // 1) k points on the path, stacked step-major: rows [j·B + b] = x' + α_j (x_b − x')
            const a = tf.tensor4d(alphas.slice(j0, j0 + k), [k, 1, 1, 1]);
            const wt = tf.tensor4d(weights.slice(j0, j0 + k), [k, 1, 1, 1]);
            const path = tf.add(tf.reshape(tf.mul(tf.expandDims(diff, 0), tf.expandDims(a, 1)), [k * b, h, w, c]), x0);
            // 2) gradients at those points, weighted and summed over the k steps
            const g = tf.reshape(targetLogitGradient(classifier, path as tf.Tensor4D, tf.tile(ts, [k]) as tf.Tensor1D), [k, b, h, w, c]);
            return tf.add(total, tf.sum(tf.mul(g, tf.expandDims(wt, 1)), 0)) as tf.Tensor4D;
          });
          total.dispose();
          total = next;
        }
        // 3) times (x − x')
        return tf.mul(total, diff) as tf.Tensor4D;
      } finally {
        total.dispose();
        diff.dispose();
      }
    });
  };
}

/**
 * Completeness error per image: Σ_pixels A_b − (logit_c(x_b) − logit_c(x'_b)), [B] float32.
 * Caller owns the result; nothing is disposed.
 */
export function integratedGradientsGap(
  classifier: Classifier,
  x: tf.Tensor4D,
  target: tf.Tensor1D,
  attribution: tf.Tensor4D,
  baseline: Baseline = 'black',
): tf.Tensor1D {
  return tf.tidy(() => {
    const pick = tf.oneHot(target.toInt(), classifier.numClasses).toFloat();
    const f = (z: tf.Tensor4D): tf.Tensor1D => tf.sum(tf.mul(classifier.logits(z), pick), 1) as tf.Tensor1D;
    const base = tf.fill(x.shape, baselineValue(baseline)) as tf.Tensor4D;
    return tf.sub(tf.sum(attribution, [1, 2, 3]), tf.sub(f(x), f(base))) as tf.Tensor1D;
  });
}

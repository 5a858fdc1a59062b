/**
 * SmoothGrad (Smilkov et al., 2017, https://arxiv.org/abs/1706.03825), as a wrapper around any
 * {@link SaliencyFn} (captum's NoiseTunnel design):
 *
 *   σ_b     = noiseLevel · (max x_b − min x_b)        (per image, over all pixels and channels)
 *   A(x)_b  = 1/n Σ_{j<n} base(x_b + ε_{j,b}),        ε_{j,b} ~ N(0, σ_b² I), not clipped
 *   squared: 1/n Σ_{j<n} base(x_b + ε_{j,b})²          (SmoothGrad-Squared, Hooker et al. 2019)
 *
 * Defaults (method.md §3): n = 50, noiseLevel = 0.15, plain (not squared).
 * Memory: the base method sees at most `internalBatchSize` rows per call (⌊internalBatchSize/B⌋
 * noisy copies of the batch, or sub-batches when B is larger), so memory does not grow with n.
 * Randomness: the noise of sample j for batch position b is drawn with the seed
 * deriveSeed(seed, j, b), so the result does not depend on `internalBatchSize`; the seed is the
 * call's `options.seed` if given, else the factory's.
 *
 * @example
 * const sg = smoothGrad(vanillaGradient(), { samples: 50, noiseLevel: 0.15, seed: 1 });
 * const a = sg(classifier, x, y);     // [B, H, W, C]; caller disposes
 */
import * as tf from '@tensorflow/tfjs';
import { deriveSeed } from '../engine/random.js';
import { ConfigError } from '../errors.js';
import type { SaliencyFn } from './types.js';
import { checkPositiveInt, validateSaliencyInputs } from './_gradient.js';

export interface SmoothGradOptions {
  /** Number of noisy samples n. @default 50 (method.md §3) */
  samples?: number;
  /** σ as a fraction of each image's value range (max − min). @default 0.15 (method.md §3, PAIR) */
  noiseLevel?: number;
  /** Average the squared attributions instead (SmoothGrad-Squared). @default false */
  squared?: boolean;
  /** Seed of the noise when the call gives none. @default 0 */
  seed?: number;
  /** Most rows (noisy images) per call of the base method. @default 64 */
  internalBatchSize?: number;
}

/** Wraps `base` in SmoothGrad. Deterministic for a given seed. */
export function smoothGrad(base: SaliencyFn, options: SmoothGradOptions = {}): SaliencyFn {
  const { samples = 50, noiseLevel = 0.15, squared = false, seed: defaultSeed = 0, internalBatchSize = 64 } = options;
  checkPositiveInt(samples, 'samples', 'smoothGrad');
  checkPositiveInt(internalBatchSize, 'internalBatchSize', 'smoothGrad');
  if (!(noiseLevel >= 0 && Number.isFinite(noiseLevel))) {
    throw new ConfigError(`smoothGrad: expected noiseLevel ≥ 0 (a fraction of the input range), got ${noiseLevel}`);
  }
  return (classifier, x, target, callOptions = {}) => {
    validateSaliencyInputs(x, target, 'smoothGrad');
    const seed = callOptions.seed ?? defaultSeed;
    const [b, h, w, c] = x.shape;
    // 1) per-image σ_b, [B, 1, 1, 1]
    const sigma = tf.tidy(() => tf.mul(tf.sub(tf.max(x, [1, 2, 3], true), tf.min(x, [1, 2, 3], true)), noiseLevel));
    // 2) split into chunks of `rows` rows: either several noisy copies of the whole batch, or sub-batches
    const copies = Math.max(1, Math.floor(internalBatchSize / b));
    const sub = Math.min(b, internalBatchSize);
    let total: tf.Tensor4D = tf.zerosLike(x);
    try {
      for (let j0 = 0; j0 < samples; j0 += copies) {
        const k = Math.min(copies, samples - j0);
        for (let s = 0; s < b; s += sub) {
          const n = Math.min(sub, b - s);
          const next = tf.tidy(() => {
            const xs = n === b ? x : tf.slice(x, [s, 0, 0, 0], [n, -1, -1, -1]);
            const ts = n === b ? target : tf.slice(target, [s], [n]);
            const sg = n === b ? sigma : tf.slice(sigma, [s, 0, 0, 0], [n, -1, -1, -1]);
            // 3) noise ε_{j,i} for samples j0..j0+k-1 and images s..s+n-1, seeded per (j, b)
            const noise: tf.Tensor4D[] = [];
            for (let j = j0; j < j0 + k; j++) {
              for (let i = s; i < s + n; i++) {
                noise.push(tf.randomNormal([1, h, w, c], 0, 1, 'float32', deriveSeed(seed, j, i)) as tf.Tensor4D);
              }
            }
            const eps = tf.mul(tf.concat(noise, 0), tf.tile(sg, [k, 1, 1, 1]));
            const noisy = tf.add(tf.tile(xs, [k, 1, 1, 1]), eps) as tf.Tensor4D;
            // 4) base attribution of every noisy copy, summed over the k copies
            const g = base(classifier, noisy, tf.tile(ts, [k]) as tf.Tensor1D, { seed: deriveSeed(seed, 'base', j0, s) });
            const sum = tf.sum(tf.reshape(squared ? tf.square(g) : g, [k, n, h, w, c]), 0) as tf.Tensor4D;
            const full = n === b ? sum : tf.pad(sum, [[s, b - s - n], [0, 0], [0, 0], [0, 0]]);
            return tf.add(total, full) as tf.Tensor4D;
          });
          total.dispose();
          total = next;
        }
      }
      // 5) mean over the n samples
      return tf.tidy(() => tf.div(total, samples) as tf.Tensor4D);
    } finally {
      total.dispose();
      sigma.dispose();
    }
  };
}

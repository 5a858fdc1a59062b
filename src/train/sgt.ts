/**
 * Saliency guided training (Ismail et al., NeurIPS 2021, https://arxiv.org/abs/2111.14338):
 *
 *   1. S = Σ_c |∂ logit_y(x) / ∂x|                    (vanilla gradient, inference mode)
 *   2. x̃ = x with the k·H·W lowest-S pixels of each image (all channels; ties by flat index)
 *      replaced by uniform random values in each channel's range
 *   3. L = CE(f(x), y) + λ·KL(softmax f(x) ‖ softmax f(x̃))   (training mode; gradients through both)
 *
 * "Each channel's range" is [min_c, max_c] of that image's channel c by default ('channel-range'),
 * or [0, 1] ('unit'). Defaults k = 0.5, λ = 1 (method.md §2, baselines).
 */
import * as tf from '@tensorflow/tfjs';
import { lowSaliencyMask } from '../attacks/masks.js';
import { toSaliencyMap } from '../saliency/postprocess.js';
import { vanillaGradient } from '../saliency/vanilla-gradient.js';
import { z } from 'zod';
import { amount, choice, defaultsOf, resolveLayers, setting } from '../io/config-schema.js';
import type { Trainer } from './types.js';
import { accuracy, crossEntropy, klDivergence, minimizeKeeping, oneHot } from './_loss.js';

/** The sgt trainer's options, each declared once: check, default, description. */
export const SGT_SCHEMA = z.strictObject({
  /** k, fraction of pixels masked per image. @default 0.5 (Ismail et al.) */
  k: setting(amount({ min: 0, max: 1 }), 0.5, 'k, fraction of pixels masked per image'),
  /** λ, weight of the KL term. @default 1 */
  lambda: setting(amount({ min: 0 }), 1, 'λ, weight of the KL term'),
  /** Fill range: 'channel-range' (per image and channel [min, max]) or 'unit' ([0, 1]). @default 'channel-range' */
  fill: setting(choice(['channel-range', 'unit']), 'channel-range', "fill range: each image's channel 'channel-range' or 'unit' [0, 1]"),
});

export type SgtOptions = z.output<typeof SGT_SCHEMA>;

export const SGT_DEFAULTS: Readonly<SgtOptions> = Object.freeze(defaultsOf(SGT_SCHEMA));

export function resolveSgtOptions(raw: Readonly<Record<string, unknown>>): SgtOptions {
  return resolveLayers(SGT_SCHEMA, [{ source: 'trainerOptions.sgt', values: raw }], { where: 'trainerOptions.sgt', noun: 'option' });
}

/**
 * x̃ = M ⊙ U + (1 − M) ⊙ x with U uniform in each image's channel range (or [0, 1]).
 * `mask` [B, H, W, 1] of {0, 1}; caller owns the result.
 */
export function maskedFill(x: tf.Tensor4D, mask: tf.Tensor4D, fill: string, seed: number): tf.Tensor4D {
  return tf.tidy(() => {
    const u = tf.randomUniform(x.shape, 0, 1, 'float32', seed);
    let noise: tf.Tensor = u;
    if (fill === 'channel-range') {
      const lo = tf.min(x, [1, 2], true);
      const hi = tf.max(x, [1, 2], true);
      noise = tf.add(lo, tf.mul(u, tf.sub(hi, lo)));
    }
    return tf.add(tf.mul(mask, noise), tf.mul(tf.sub(1, mask), x)) as tf.Tensor4D;
  });
}

export function sgtTrainer(options: SgtOptions): Trainer {
  const saliency = vanillaGradient();
  return {
    name: 'sgt',
    step({ x, y }, { classifier, optimizer, rng }) {
      const batch = x.shape[0];
      // 1–2) saliency → lowest-k mask → masked copy
      const scores = tf.tidy(() => toSaliencyMap(saliency(classifier, x, y), 'sum-abs'));
      const mask = lowSaliencyMask(scores, new Float32Array(batch).fill(options.k));
      const xMasked = maskedFill(x, mask, options.fill, rng.nextSeed());
      tf.dispose([scores, mask]);
      // 3) CE on x + λ·KL(f(x) ‖ f(x̃)), training mode
      const onehot = oneHot(y, classifier.numClasses);
      const { loss, kept } = minimizeKeeping(optimizer, classifier.trainableVariables(), (keep) => {
        const z = keep(classifier.logits(x, { training: true }));
        const zm = keep(classifier.logits(xMasked, { training: true }));
        return tf.add(crossEntropy(onehot, z), tf.mul(options.lambda, klDivergence(z, zm)));
      });
      const acc = accuracy(kept[0]!, y);
      const maskedAcc = accuracy(kept[1]!, y);
      tf.dispose([xMasked, onehot, ...kept]);
      return { loss, acc, maskedAcc };
    },
  };
}

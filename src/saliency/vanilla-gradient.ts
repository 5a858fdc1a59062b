/**
 * Vanilla gradient (Simonyan, Vedaldi & Zisserman, 2013, https://arxiv.org/abs/1312.6034):
 *
 *   A(x)_b = ∂ logit_{target_b}(x_b) / ∂ x_b
 *
 * Shapes and ownership: see {@link SaliencyFn}. The classifier runs in inference mode (batch
 * norm with moving statistics), as method.md §2.1 requires for the SCAAT training mask.
 *
 * @example
 * const vg = vanillaGradient();
 * const a = vg(classifier, x, y);          // [B, H, W, C]; caller disposes a
 * const t = predictedClass(classifier, x); // explain the predicted class instead of the label
 */
import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../models/classifier.js';
import type { SaliencyFn, TargetMode } from './types.js';
import { checkPositiveInt, mapBatchChunks, targetLogitGradient, validateSaliencyInputs } from './_gradient.js';

export interface VanillaGradientOptions {
  /**
   * Most images per backward pass; larger batches are split and the results concatenated
   * (bounds peak memory). @default Infinity (the whole batch in one pass)
   */
  internalBatchSize?: number;
}

/** Builds the vanilla-gradient {@link SaliencyFn}. Deterministic (ignores the seed). */
export function vanillaGradient({ internalBatchSize = Infinity }: VanillaGradientOptions = {}): SaliencyFn {
  checkPositiveInt(internalBatchSize, 'internalBatchSize', 'vanillaGradient', true);
  return (classifier, x, target) => {
    validateSaliencyInputs(x, target, 'vanillaGradient');
    return mapBatchChunks(x, target, internalBatchSize, (xs, ts) => targetLogitGradient(classifier, xs, ts));
  };
}

/** The predicted class argmax_k logits[b, k] for each image, [B] int32 (inference mode). Caller owns it. */
export function predictedClass(classifier: Classifier, x: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => tf.argMax(classifier.logits(x, { training: false }), 1).toInt() as tf.Tensor1D);
}

/**
 * The class to explain: `y` itself for 'label' (a new reference the caller owns, y is not
 * disposed), or the predicted class for 'predicted'.
 */
export function resolveTarget(classifier: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, mode: TargetMode = 'label'): tf.Tensor1D {
  return mode === 'predicted' ? predictedClass(classifier, x) : tf.clone(y);
}

/**
 * Gradient × input (Shrikumar et al., 2016, https://arxiv.org/abs/1605.01713; Ancona et al., 2018):
 *
 *   A(x)_b = x_b ⊙ ∂ logit_{target_b}(x_b) / ∂ x_b
 *
 * For a linear model without bias it equals integrated gradients with a black baseline exactly.
 *
 * @example
 * const a = gradientXInput()(classifier, x, y);   // [B, H, W, C]; caller disposes
 */
import * as tf from '@tensorflow/tfjs';
import type { SaliencyFn } from './types.js';
import { checkPositiveInt, mapBatchChunks, targetLogitGradient, validateSaliencyInputs } from './_gradient.js';

export interface GradientXInputOptions {
  /** Most images per backward pass. @default Infinity (the whole batch) */
  internalBatchSize?: number;
}

/** Builds the gradient × input {@link SaliencyFn}. Deterministic (ignores the seed). */
export function gradientXInput({ internalBatchSize = Infinity }: GradientXInputOptions = {}): SaliencyFn {
  checkPositiveInt(internalBatchSize, 'internalBatchSize', 'gradientXInput', true);
  return (classifier, x, target) => {
    validateSaliencyInputs(x, target, 'gradientXInput');
    return mapBatchChunks(x, target, internalBatchSize, (xs, ts) =>
      tf.tidy(() => tf.mul(targetLogitGradient(classifier, xs, ts), xs) as tf.Tensor4D),
    );
  };
}

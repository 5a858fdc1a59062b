/**
 * The `Classifier` contract: everything in scaat (saliency, attacks, trainers, metrics) sees a
 * model only through it, so any TF.js `LayersModel` fits (built in code or loaded from model.json).
 *
 * Contract:
 * - input: images NHWC float32 in [0, 1] of shape [B, ...inputShape]; any normalisation is part
 *   of the model;
 * - `logits(x, {training})` returns pre-softmax scores [B, numClasses]. For a model whose last
 *   layer ends in a softmax, the adapter returns the pre-softmax values (method.md §3);
 * - `training: true` runs layers in training mode (dropout on, batch norm with batch statistics
 *   and moving-average updates); the default is inference mode;
 * - pure with respect to tensors: the caller owns the returned tensor; inputs are not disposed.
 */
import type * as tf from '@tensorflow/tfjs';

export interface Classifier {
  /** [H, W, C] of one input image. */
  readonly inputShape: readonly [number, number, number];
  /** Number of classes K. */
  readonly numClasses: number;
  /** Pre-softmax logits [B, K]. Caller owns the result. */
  logits(x: tf.Tensor4D, options?: { training?: boolean }): tf.Tensor2D;
  /** The variables an optimizer updates. */
  trainableVariables(): tf.Variable[];
  /** The underlying LayersModel, for saving and loading in the standard TF.js format. */
  readonly model: tf.LayersModel;
}

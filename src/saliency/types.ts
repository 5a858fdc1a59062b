/**
 * The saliency contract, shared by every method, the SCAAT training mask and the metrics.
 *
 *   saliency(classifier, x, target, {seed}) → attribution
 *
 * Shapes: x [B, H, W, C] float32 (pixels in [0, 1]); target [B] int32 class ids in [0, K);
 * the attribution has exactly x's shape ([B, H, W, C]), as captum's. The classifier runs in
 * inference mode ({@link Classifier.logits} with `training: false`); "logit" is the pre-softmax
 * score of the target class (method.md §3). Samples do not interact: attribution b depends only on
 * x[b] and target[b] (and the seed for the stochastic methods).
 *
 * Memory: the caller owns (must dispose) the returned tensor; `x` and `target` are not disposed.
 * Multi-sample methods (SmoothGrad samples, integrated-gradients steps) evaluate the model on at
 * most `internalBatchSize` rows at once, so peak memory does not grow with the number of samples
 * or steps. A target outside [0, K) gives a zero attribution (one-hot of nothing).
 *
 * Use `toSaliencyMap()` (postprocess.ts) for a per-pixel [B, H, W] map.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../models/classifier.js';

/** Per-call options of a {@link SaliencyFn}. */
export interface SaliencyCallOptions {
  /**
   * Seed of the method's randomness (SmoothGrad noise). Absent: the seed bound at construction.
   * Deterministic methods ignore it.
   */
  readonly seed?: number;
}

/**
 * An attribution method: (classifier, x [B,H,W,C], target [B] int32) → attribution [B,H,W,C].
 * The caller owns the result; inputs are not disposed. See the module header for the contract.
 */
export type SaliencyFn = (
  classifier: Classifier,
  x: tf.Tensor4D,
  target: tf.Tensor1D,
  options?: SaliencyCallOptions,
) => tf.Tensor4D;

/** Which class a saliency map explains: the true label (default, method.md §3) or the predicted class. */
export type TargetMode = 'label' | 'predicted';
export const TARGET_MODES: readonly TargetMode[] = ['label', 'predicted'];

/** A registry entry (see registry.ts): how to display and build one method. */
export interface SaliencySpec {
  /** Display name, e.g. 'Integrated Gradients'. */
  readonly label: string;
  /** One-line description with the paper reference. */
  readonly description: string;
  /** Option names the factory accepts (others are a ConfigError). */
  readonly optionKeys: readonly string[];
  /**
   * Builds the method from plain options (from a config file or the CLI).
   * @throws ConfigError for an unknown key or a value of the wrong type or range.
   */
  create(options?: Readonly<Record<string, unknown>>): SaliencyFn;
  /** The resolved hyperparameters (defaults filled in) for results files and the report. */
  describe(options?: Readonly<Record<string, unknown>>): Record<string, unknown>;
}

/**
 * Internal helpers shared by the gradient-based methods: input validation and the batched
 * gradient of the target logits. Not part of the public API.
 */
import * as tf from '@tensorflow/tfjs';
import { inputGradientOnly } from '../engine/grad-scope.js';
import type { Classifier } from '../models/classifier.js';
import { ShapeError, ConfigError } from '../errors.js';

/**
 * ∂ logit_target / ∂ x for every sample, in one backward pass: the gradient of
 * Σ_b logits[b, target[b]] w.r.t. x equals the per-sample gradients because samples do not
 * interact in inference mode. Inside a tidy of the caller's choosing; returns a new tensor.
 * Runs in the engine's `inputGradientOnly` scope: only ∂/∂x is taken, so the conv filter gradients
 * TF.js's fused convolutions would compute eagerly are skipped (exact ∂x, ~30 % less work).
 */
export function targetLogitGradient(classifier: Classifier, x: tf.Tensor4D, target: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => {
    const labels = target.dtype === 'int32' ? target : tf.cast(target, 'int32');
    const pick = tf.oneHot(labels as tf.Tensor1D, classifier.numClasses).toFloat(); // [B, K]
    const score = (xi: tf.Tensor): tf.Scalar =>
      tf.sum(tf.mul(classifier.logits(xi as tf.Tensor4D, { training: false }), pick));
    return inputGradientOnly(() => tf.grad(score)(x) as tf.Tensor4D);
  });
}

/** Throws ShapeError unless x is [B, H, W, C] float and target is [B]. */
export function validateSaliencyInputs(x: tf.Tensor, target: tf.Tensor, where: string): void {
  if (x.rank !== 4) {
    throw new ShapeError(`${where}: expected x of rank 4 [B, H, W, C], got shape [${x.shape.join(', ')}]`);
  }
  if (x.dtype !== 'float32') {
    throw new ShapeError(`${where}: expected x of dtype float32, got ${x.dtype}`);
  }
  if (target.rank !== 1 || target.shape[0] !== x.shape[0]) {
    throw new ShapeError(
      `${where}: expected target of shape [${x.shape[0]}] (one class id per image), got [${target.shape.join(', ')}]`,
    );
  }
}

/** Checks a positive integer option (Infinity allowed when `allowInfinity`). */
export function checkPositiveInt(value: number, name: string, where: string, allowInfinity = false): void {
  const ok = (allowInfinity && value === Infinity) || (Number.isInteger(value) && value >= 1);
  if (!ok) throw new ConfigError(`${where}: expected ${name} to be a positive integer, got ${value}`);
}

/**
 * Applies `fn` to consecutive slices of at most `rows` samples of x (and target) and concatenates
 * the results along the batch axis. With rows ≥ B it is a single call.
 */
export function mapBatchChunks(
  x: tf.Tensor4D,
  target: tf.Tensor1D,
  rows: number,
  fn: (xs: tf.Tensor4D, ts: tf.Tensor1D, start: number) => tf.Tensor4D,
): tf.Tensor4D {
  const b = x.shape[0];
  if (rows >= b) return fn(x, target, 0);
  const parts: tf.Tensor4D[] = [];
  try {
    for (let s = 0; s < b; s += rows) {
      const n = Math.min(rows, b - s);
      parts.push(
        tf.tidy(() => fn(tf.slice(x, [s, 0, 0, 0], [n, -1, -1, -1]), tf.slice(target, [s], [n]), s)),
      );
    }
    return tf.concat(parts, 0);
  } finally {
    tf.dispose(parts);
  }
}

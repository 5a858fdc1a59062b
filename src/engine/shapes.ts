/**
 * Shape checks and the named tensor aliases used across scaat's signatures.
 */
import type * as tf from '@tensorflow/tfjs';
import { ShapeError } from '../errors.js';

/** Images NHWC float32 in [0, 1]. */
export type Images = tf.Tensor4D;
/** Integer class labels [B] (int32). */
export type Labels = tf.Tensor1D;
/** Pixel mask [B, H, W, 1] of {0, 1}; 1 = may be perturbed. */
export type Mask = tf.Tensor4D;
/** Logits [B, K] (pre-softmax). */
export type Logits = tf.Tensor2D;

/**
 * Throws ShapeError unless `shape` matches `expected` (null = any size).
 * @example assertShape(x.shape, [null, 32, 32, 3], 'x', 'pgd')
 */
export function assertShape(
  shape: readonly number[],
  expected: ReadonlyArray<number | null>,
  name: string,
  where: string,
): void {
  const ok = shape.length === expected.length && expected.every((e, i) => e === null || e === shape[i]);
  if (!ok) {
    const exp = `[${expected.map((e) => (e === null ? '?' : e)).join(', ')}]`;
    throw new ShapeError(`${where}: expected ${name} of shape ${exp}, got [${shape.join(', ')}]`);
  }
}

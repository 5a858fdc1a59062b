/**
 * Internal projections shared by the attacks (not exported from the room).
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '../errors.js';
import type { ValidBox } from './types.js';

/** clip(x, 0, 1): the valid pixel range. */
export function clip01<T extends tf.Tensor>(x: T): T {
  return tf.clipByValue(x, 0, 1);
}

/** How an attack on x keeps x + δ valid (see {@link validBoxOf}). */
export interface ValidBoxOps {
  /** The input the classifier sees for δ: x + δ ('project') or clip01(x + δ) ('clip'). */
  input(delta: tf.Tensor4D): tf.Tensor4D;
  /** Π(δ): clip(δ, −x, 1 − x) ('project'), or δ itself ('clip'). */
  project(delta: tf.Tensor4D): tf.Tensor4D;
  /** Disposes the bounds (not needed inside a tf.tidy, which disposes them). */
  dispose(): void;
}

/**
 * The valid-box handling of `mode` for the clean input x (in [0, 1]). With 'project', the forward
 * pass needs no clip: δ ∈ [−x, 1 − x] keeps x + δ in [0, 1] (to float rounding), and no pixel's
 * gradient is cut off at the boundary. The bounds are made in the caller's scope: inside a tf.tidy,
 * or disposed with `dispose()`.
 */
export function validBoxOf(x: tf.Tensor4D, mode: ValidBox): ValidBoxOps {
  if (mode === 'clip') return { input: (d) => clip01(tf.add(x, d)), project: (d) => d, dispose: () => undefined };
  const lo = tf.neg(x);
  const hi = tf.sub(1, x);
  return {
    input: (d) => tf.add(x, d),
    project: (d) => tf.minimum(tf.maximum(d, lo), hi),
    dispose: () => tf.dispose([lo, hi]),
  };
}

/**
 * Validates x/y/mask shapes for an attack and returns the mask as float32 (owned by the caller,
 * undefined when absent). Mask [B, H, W, 1] broadcasts over channels; [B, H, W, C] is also accepted.
 */
export function checkAttackInputs(
  where: string,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  mask: tf.Tensor4D | undefined,
): void {
  if (x.rank !== 4) throw new ShapeError(`${where}: expected x of rank 4 [B, H, W, C], got [${x.shape.join(', ')}]`);
  if (x.dtype !== 'float32') throw new ShapeError(`${where}: expected x float32, got ${x.dtype}`);
  const [b, h, w, c] = x.shape;
  if (y.rank !== 1 || y.shape[0] !== b) {
    throw new ShapeError(`${where}: expected y of shape [${b}] to match x [${x.shape.join(', ')}], got [${y.shape.join(', ')}]`);
  }
  if (y.dtype !== 'int32') throw new ShapeError(`${where}: expected y int32, got ${y.dtype}`);
  if (mask) {
    const ok = mask.rank === 4 && mask.shape[0] === b && mask.shape[1] === h && mask.shape[2] === w && (mask.shape[3] === 1 || mask.shape[3] === c);
    if (!ok) {
      throw new ShapeError(
        `${where}: expected mask [${b}, ${h}, ${w}, 1] (or [${b}, ${h}, ${w}, ${c}]) to match x [${x.shape.join(', ')}], got [${mask.shape.join(', ')}]`,
      );
    }
  }
}

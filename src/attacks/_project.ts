/**
 * Internal projections shared by the attacks (not exported from the room).
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '../errors.js';

/** clip(x, 0, 1): the valid pixel range. */
export function clip01<T extends tf.Tensor>(x: T): T {
  return tf.clipByValue(x, 0, 1);
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

/**
 * The attack contract, shared by SCAAT (masked PGD inside the irrelevant pixels), PGD adversarial
 * training (whole image) and the evaluation's low-saliency robustness curves.
 *
 *   attack(classifier, x, y, {mask, seed}) → x_adv
 *
 * Shapes: x [B, H, W, C] in [0, 1]; y [B] int32; mask [B, H, W, 1] (or [B, H, W, C]) of {0, 1}, 1 = may
 * perturb, absent = whole image. The result satisfies ‖x_adv − x‖∞ ≤ ε, x_adv ∈ [0, 1], and
 * x_adv = x where mask = 0. The classifier runs in inference mode. Caller owns x_adv; x, y and mask
 * are not disposed. Deterministic for a given seed.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../models/classifier.js';

/**
 * How an attack keeps x + δ in [0, 1]: 'project' δ into the valid box [−x, 1 − x] (Madry et al.,
 * Wong et al.; every pixel keeps its gradient) or 'clip' x + δ in the forward pass only (pixels
 * pushed outside [0, 1] get a zero gradient and stay at the boundary). method.md §2.3.
 */
export type ValidBox = 'project' | 'clip';

/** The {@link ValidBox} modes, the default first. */
export const VALID_BOX_MODES: readonly ValidBox[] = ['project', 'clip'];

export interface AttackCallOptions {
  /** Pixels that may be perturbed (1) or not (0), [B, H, W, 1] broadcast over channels. */
  mask?: tf.Tensor4D;
  /** Seed of the random start. */
  seed?: number;
}

export type AttackFn = (
  classifier: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  options?: AttackCallOptions,
) => tf.Tensor4D;

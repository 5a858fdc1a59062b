/**
 * FGSM with random start ("Fast is better than free", Wong et al., 2020,
 * https://arxiv.org/abs/2001.03994): one PGD step from δ ~ U(−ε, ε) ⊙ M with α = 1.25ε, with the
 * projections of {@link pgd} (onto the ε-ball and, by default, the valid box [−x, 1 − x], at the
 * random start too, as Wong et al. do). The cheap variant of method.md §2.3. Contract: {@link AttackFn}.
 * @example
 * const attack = fgsm({epsilon: 8 / 255});
 * const xAdv = attack(classifier, x, y, {mask});   // caller disposes xAdv
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '../errors.js';
import { clip01, validBoxOf } from './_project.js';
import { pgd } from './pgd.js';
import type { AttackFn, ValidBox } from './types.js';

/** Options of {@link fgsm}. */
export interface FgsmOptions {
  /** L∞ budget ε in [0, 1] pixel units. @default 8/255 */
  epsilon?: number;
  /** Step size α. @default 1.25·ε (Wong et al.) */
  alpha?: number;
  /** Random start δ ~ U(−ε, ε). @default true (without it, α = ε is plain FGSM) */
  randomStart?: boolean;
  /** 'project' δ into [−x, 1 − x] or only 'clip' x + δ (see {@link pgd}). @default 'project' */
  validBox?: ValidBox;
  /** Seed of the attack's generator for calls without a seed. @default 0 */
  seed?: number;
}

/** One-step L∞ attack with random start; see the module header. */
export function fgsm({ epsilon = 8 / 255, alpha, randomStart = true, validBox = 'project', seed = 0 }: FgsmOptions = {}): AttackFn {
  return pgd({ epsilon, alpha: alpha ?? 1.25 * epsilon, steps: 1, randomStart, validBox, seed });
}

/** Options of {@link fgsmFromGradient}: those of {@link fgsm}, resolved, plus the call's mask and seed. */
export interface FgsmFromGradientOptions {
  readonly epsilon: number;
  readonly alpha: number;
  readonly randomStart: boolean;
  readonly validBox: ValidBox;
  /** Pixel mask M [B, H, W, 1] (or [B, H, W, C]), 1 = may be perturbed; absent: the whole image. */
  readonly mask?: tf.Tensor4D;
  /** Seed of the random start (the same draw {@link fgsm} makes with this seed). */
  readonly seed: number;
}

/**
 * FGSM-RS whose step direction is a gradient the caller already has: x_adv = clip01(x + δ_1) with
 *
 *   δ_0 = Π(U(−ε, ε)) ⊙ M,   δ_1 = Π(clip(δ_0 + α · sign(g), −ε, ε)) ⊙ M
 *
 * where g = ∂L/∂x taken at the clean x (e.g. from a training backward pass that computed it anyway:
 * SCAAT's and pgd-at's `sharedBackward`), whereas {@link fgsm} takes it at x + δ_0 in inference
 * mode at the cost of one more forward and backward pass. Where the sign of g does not depend on
 * where it is taken (a two-class linear model), the two give the same x_adv for the same seed.
 * Validation of x and the mask as {@link AttackFn}'s; the caller disposes the result.
 */
export function fgsmFromGradient(x: tf.Tensor4D, gradient: tf.Tensor4D, options: FgsmFromGradientOptions): tf.Tensor4D {
  const { epsilon, alpha, randomStart, validBox, mask, seed } = options;
  if (gradient.shape.join() !== x.shape.join()) {
    throw new ShapeError(`fgsmFromGradient: expected a gradient of x's shape [${x.shape.join(', ')}], got [${gradient.shape.join(', ')}]`);
  }
  return tf.tidy(() => {
    const m = mask ? tf.cast(mask, 'float32') : undefined;
    const box = validBoxOf(x, validBox);
    const project = (d: tf.Tensor4D): tf.Tensor4D => (m ? tf.mul(box.project(d), m) : box.project(d));
    const d0 = randomStart ? project(tf.randomUniform(x.shape, -epsilon, epsilon, 'float32', seed)) : tf.zerosLike(x);
    const d1 = project(tf.clipByValue(tf.add(d0, tf.mul(alpha, tf.sign(gradient))), -epsilon, epsilon));
    return clip01(tf.add(x, d1));
  });
}

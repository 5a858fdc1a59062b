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
import { pgd } from './pgd.js';
import { clip01, validBoxOf } from './_project.js';
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

/** FGSM-RS's step size as a multiple of ε when none is given: α = 1.25ε (Wong et al. 2020). */
export const FGSM_RS_ALPHA_FACTOR = 1.25;

/** One-step L∞ attack with random start; see the module header. */
export function fgsm({ epsilon = 8 / 255, alpha, randomStart = true, validBox = 'project', seed = 0 }: FgsmOptions = {}): AttackFn {
  return pgd({ epsilon, alpha: alpha ?? FGSM_RS_ALPHA_FACTOR * epsilon, steps: 1, randomStart, validBox, seed });
}

/** Options of {@link fgsmFromGradient}: those of {@link fgsm}, resolved, plus the call's mask and seed. */
export interface FgsmFromGradientOptions {
  readonly epsilon: number;
  readonly alpha: number;
  readonly randomStart: boolean;
  readonly validBox: ValidBox;
  /** Pixel mask M [B·H·W] (1 = may be perturbed, all channels of the pixel); absent: the whole image. */
  readonly mask?: Uint8Array;
  /** Seed of the random start (the draw {@link fgsm} makes with this seed). */
  readonly seed: number;
}

/**
 * FGSM-RS whose step direction is a gradient the caller already has: x_adv = clip01(x + δ_1) with
 *
 *   δ_0 = Π(U(−ε, ε)) ⊙ M,   δ_1 = Π(clip(δ_0 + α · sign(g), −ε, ε)) ⊙ M
 *
 * where g = ∂L/∂x taken at the clean x (e.g. from a training backward pass that computed it anyway:
 * SCAAT's and pgd-at's `sharedBackward`), whereas {@link fgsm} takes it at x + δ_0 in inference
 * mode at the cost of one more forward and backward pass. Given the gradient fgsm takes, the result
 * is fgsm's bit for bit (the same float32 operations, in one pass over the host arrays instead of a
 * dozen backend kernels; tested). The caller disposes the result.
 * @throws ShapeError when the gradient's or the mask's size does not match x.
 */
export function fgsmFromGradient(x: tf.Tensor4D, gradient: tf.Tensor4D, options: FgsmFromGradientOptions): tf.Tensor4D {
  const { epsilon, alpha, randomStart, validBox, mask, seed } = options;
  if (gradient.shape.join() !== x.shape.join()) {
    throw new ShapeError(`fgsmFromGradient: expected a gradient of x's shape [${x.shape.join(', ')}], got [${gradient.shape.join(', ')}]`);
  }
  const [b, h, w, c] = x.shape;
  if (mask && mask.length !== b * h * w) throw new ShapeError(`fgsmFromGradient: expected a mask of ${b * h * w} pixels (B·H·W), got ${mask.length}`);
  const xs = x.dataSync();
  const g = gradient.dataSync();
  let u: Float32Array | undefined;
  if (randomStart) {
    const t = tf.randomUniform(x.shape, -epsilon, epsilon, 'float32', seed);
    u = t.dataSync() as Float32Array;
    t.dispose();
  }
  const f = Math.fround;
  const [eps, a] = [f(epsilon), f(alpha)];
  const project = validBox === 'project';
  const out = new Float32Array(xs.length);
  for (let p = 0, i = 0; p < b * h * w; p++) {
    if (mask && mask[p] === 0) {
      for (let ch = 0; ch < c; ch++, i++) {
        const xi = xs[i]!;
        out[i] = xi < 0 ? 0 : xi > 1 ? 1 : xi;
      }
      continue;
    }
    for (let ch = 0; ch < c; ch++, i++) {
      const xi = xs[i]!;
      const lo = -xi;
      const hi = f(1 - xi);
      let d = u ? u[i]! : 0;
      if (project) d = d < lo ? lo : d > hi ? hi : d;
      const gi = g[i]!;
      d = f(d + (gi > 0 ? a : gi < 0 ? -a : 0));
      d = d < -eps ? -eps : d > eps ? eps : d;
      if (project) d = d < lo ? lo : d > hi ? hi : d;
      const v = f(xi + d);
      out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return tf.tensor4d(out, [b, h, w, c], 'float32');
}

/** Options of {@link fgsmAlong}: those of {@link fgsmFromGradient}, with the mask as a tensor. */
export interface FgsmAlongOptions {
  readonly epsilon: number;
  readonly alpha: number;
  readonly randomStart: boolean;
  readonly validBox: ValidBox;
  /** Pixel mask [B, H, W, 1] (or [B, H, W, C]), 1 = may be perturbed; absent: the whole image. */
  readonly mask?: tf.Tensor4D;
  /** Seed of the random start (the draw {@link fgsm} makes with this seed). */
  readonly seed: number;
}

/**
 * FGSM-RS along a direction the caller has, on the backend: x_adv = clip01(x + δ_1) with δ_0 and δ_1
 * as in {@link fgsmFromGradient}, computed with the kernels {@link pgd} runs (so, given the
 * gradient fgsm takes, fgsm's result bit for bit; tested), without a round trip through the host.
 * For a direction already on the backend (e.g. kept signs uploaded once per step). The caller
 * disposes the result; `direction` and `mask` are not disposed.
 * @throws ShapeError when the direction's shape does not match x.
 */
export function fgsmAlong(x: tf.Tensor4D, direction: tf.Tensor4D, options: FgsmAlongOptions): tf.Tensor4D {
  const { epsilon, alpha, randomStart, validBox, mask, seed } = options;
  if (direction.shape.join() !== x.shape.join()) {
    throw new ShapeError(`fgsmAlong: expected a direction of x's shape [${x.shape.join(', ')}], got [${direction.shape.join(', ')}]`);
  }
  return tf.tidy(() => {
    const m = mask ? tf.cast(mask, 'float32') : undefined;
    const box = validBoxOf(x, validBox);
    const project = (d: tf.Tensor4D): tf.Tensor4D => (m ? tf.mul(box.project(d), m) : box.project(d));
    const delta0: tf.Tensor4D = randomStart ? project(tf.randomUniform(x.shape, -epsilon, epsilon, 'float32', seed)) : tf.zerosLike(x);
    const delta1 = project(tf.clipByValue(tf.add(delta0, tf.mul(alpha, tf.sign(direction))), -epsilon, epsilon));
    return clip01(tf.add(x, delta1));
  });
}

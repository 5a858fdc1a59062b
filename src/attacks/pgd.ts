/**
 * Projected Gradient Descent, L∞ (Madry et al., 2018, https://arxiv.org/abs/1706.06083), with an
 * optional pixel mask (captum PGD `mask`), as method.md §2.3 states it:
 *
 *   δ_0 = Π(U(−ε, ε)) ⊙ M          (random start; 0 without it)
 *   δ_{t+1} = Π(clip(δ_t + α · sign(∇_δ CE(f(x + M ⊙ δ_t), y)), −ε, ε)) ⊙ M
 *   x_adv = clip01(x + M ⊙ δ_T)
 *
 * Π keeps x + δ a valid image (`validBox`):
 * - 'project' (default, Madry et al., Wong et al.): Π(δ) = clip(δ, −x, 1 − x), the projection onto
 *   the valid box, at the random start and after every step. x + δ never leaves [0, 1], so every
 *   pixel of the mask keeps its gradient: a black pixel can still be pushed up.
 * - 'clip' (the previous behaviour): Π is the identity and the forward pass sees clip01(x + M ⊙ δ).
 *   Where x + δ lies outside [0, 1] the gradient is 0, sign(0) = 0, and the pixel stays stuck at
 *   the boundary for the rest of the attack (about half of a black background at the random start).
 *
 * M is 1 everywhere when no mask is given (whole-image PGD). The classifier runs in inference mode;
 * the loss is the batch sum of per-sample cross-entropies (samples do not interact, and the sign
 * step does not depend on the scale). Contract: {@link AttackFn}.
 *
 * Defaults: ε = 8/255, α = 2/255, steps = 7, random start, 'project' (method.md §2.3, Madry's CIFAR
 * setting).
 * @example
 * const attack = pgd({epsilon: 8 / 255, alpha: 2 / 255, steps: 7});
 * const xAdv = attack(classifier, x, y, {mask, seed: 3});   // caller disposes xAdv
 */
import * as tf from '@tensorflow/tfjs';
import { inputGradientOnly } from '../engine/grad-scope.js';
import { Rng } from '../engine/random.js';
import { ConfigError } from '../errors.js';
import type { Classifier } from '../models/classifier.js';
import { checkAttackInputs, clip01, validBoxOf } from './_project.js';
import { VALID_BOX_MODES } from './types.js';
import type { AttackFn, ValidBox } from './types.js';

/** Options of {@link pgd}. */
export interface PgdOptions {
  /** L∞ budget ε in [0, 1] pixel units (8/255 ≈ 0.031; 1 = unbounded inside the mask). @default 8/255 */
  epsilon?: number;
  /** Step size α in pixel units. @default 2/255 */
  alpha?: number;
  /** Number of gradient steps (K). @default 7 */
  steps?: number;
  /** Start from δ ~ U(−ε, ε) ⊙ M instead of 0. @default true */
  randomStart?: boolean;
  /**
   * How x + δ is kept in [0, 1]: 'project' δ into the valid box [−x, 1 − x] at the random start and
   * after every step (Madry et al., Wong et al.), or only 'clip' x + δ in the forward pass (pixels
   * pushed outside [0, 1] lose their gradient and stay at the boundary). @default 'project'
   */
  validBox?: ValidBox;
  /**
   * Seed of the attack's own generator, used for calls that pass no `seed`; each such call draws
   * the next seed from it (so repeated calls get fresh starts, reproducibly). @default 0
   */
  seed?: number;
}

/** The resolved hyperparameters, as reported by `describe`. */
export interface PgdConfig {
  readonly epsilon: number;
  readonly alpha: number;
  readonly steps: number;
  readonly randomStart: boolean;
  readonly validBox: ValidBox;
}

/** Validates PGD hyperparameters; ConfigError names the offending option. */
export function resolvePgdOptions(
  where: string,
  { epsilon = 8 / 255, alpha = 2 / 255, steps = 7, randomStart = true, validBox = 'project' }: PgdOptions,
): PgdConfig {
  if (!(Number.isFinite(epsilon) && epsilon >= 0)) throw new ConfigError(`${where}: epsilon must be a number ≥ 0 (pixel units in [0, 1]), got ${epsilon}`);
  if (!(Number.isFinite(alpha) && alpha >= 0)) throw new ConfigError(`${where}: alpha must be a number ≥ 0, got ${alpha}`);
  if (!(Number.isInteger(steps) && steps >= 0)) throw new ConfigError(`${where}: steps must be an integer ≥ 0, got ${steps}`);
  if (!VALID_BOX_MODES.includes(validBox)) {
    throw new ConfigError(`${where}: validBox must be one of ${VALID_BOX_MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(validBox)}`);
  }
  return { epsilon, alpha, steps, randomStart, validBox };
}

/** L∞ PGD with optional mask; returns an {@link AttackFn}. See the module header. */
export function pgd(options: PgdOptions = {}): AttackFn {
  const { epsilon, alpha, steps, randomStart, validBox } = resolvePgdOptions('pgd', options);
  const rng = new Rng(options.seed ?? 0);
  return (classifier, x, y, { mask, seed } = {}) => {
    checkAttackInputs('pgd', x, y, mask);
    const startSeed = seed ?? rng.nextSeed();
    return tf.tidy(() => {
      const m = mask ? tf.cast(mask, 'float32') : undefined;
      const onehot = tf.oneHot(y, classifier.numClasses).toFloat();
      const box = validBoxOf(x, validBox);
      const loss = (d: tf.Tensor): tf.Scalar => batchCrossEntropy(classifier, box.input(d as tf.Tensor4D), onehot);
      const gradOf = tf.grad(loss);
      // Π, then the mask: δ stays masked after every update, so x + δ equals x + M ⊙ δ.
      const project = (d: tf.Tensor4D): tf.Tensor4D => applyMask(box.project(d), m);
      let delta: tf.Tensor4D = randomStart
        ? project(tf.randomUniform(x.shape, -epsilon, epsilon, 'float32', startSeed))
        : tf.zerosLike(x);
      for (let t = 0; t < steps; t++) {
        const next = tf.tidy(() => {
          // ∂loss/∂δ only: conv filter gradients are skipped (engine/grad-scope.ts).
          const g = inputGradientOnly(() => gradOf(delta));
          return project(tf.clipByValue(tf.add(delta, tf.mul(alpha, tf.sign(g))), -epsilon, epsilon));
        });
        delta.dispose();
        delta = next;
      }
      return clip01(tf.add(x, delta));
    });
  };
}

function applyMask(d: tf.Tensor4D, m: tf.Tensor | undefined): tf.Tensor4D {
  return m ? tf.mul(d, m) : d;
}

/** Σ_b CE(f(x_b), y_b) with f in inference mode. */
export function batchCrossEntropy(classifier: Classifier, x: tf.Tensor4D, onehot: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(classifier.logits(x))))));
}

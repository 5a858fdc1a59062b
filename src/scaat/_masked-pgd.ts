/**
 * The masked L∞ attack of SCAAT, written out exactly as method.md §2.3 (internal to scaat/):
 *
 *   δ_0 = Π(U(−ε, ε)) ⊙ M        (randomStart; else 0)
 *   for t = 1 … steps:
 *     M_t = M                    (or, with `remask`, the mask of the current clip01(x + M_{t−1}⊙δ))
 *     δ ← Π(clip(δ + α · sign(∇_δ CE(f(x + M_t⊙δ), y)), −ε, ε)) ⊙ M_t
 *   x_adv = clip01(x + M⊙δ)
 *
 * Π is the valid-box handling of attacks/pgd.ts (`validBox`): 'project' clips δ to [−x, 1 − x]
 * (x + δ stays in [0, 1], every pixel keeps its gradient); 'clip' leaves δ and the forward pass sees
 * clip01(x + M_t⊙δ), whose gradient is zero where x + δ lies outside [0, 1]. The classifier runs in
 * inference mode. FGSM with random start (Wong et al. 2020) is the same loop with steps = 1 and
 * α = 1.25ε.
 *
 * The trainer uses this loop when `remaskEveryAttackStep` is on (no attack of attacks/ takes a
 * mask that changes per iteration); otherwise the attacks room's `pgd`. Both follow the same
 * formula, which a test checks (without random start they agree exactly).
 */
import * as tf from '@tensorflow/tfjs';
import { batchCrossEntropy } from '../attacks/pgd.js';
import { validBoxOf } from '../attacks/_project.js';
import type { ValidBox } from '../attacks/types.js';
import { inputGradientOnly } from '../engine/grad-scope.js';
import type { Classifier } from '../models/classifier.js';

export interface MaskedPgdOptions {
  /** ε in pixel units. */
  readonly epsilon: number;
  /** α in pixel units. */
  readonly alpha: number;
  /** Iterations (1 with α = 1.25ε: FGSM-RS). */
  readonly steps: number;
  /** δ_0 ~ U(−ε, ε) ⊙ M. */
  readonly randomStart: boolean;
  /** 'project' δ into [−x, 1 − x], or only 'clip' x + δ in the forward pass (attacks/pgd.ts). */
  readonly validBox: ValidBox;
  /** Seed of the random start. */
  readonly seed?: number;
  /**
   * Recomputes the mask before iteration t ≥ 1 from the current adversarial input; returns a new
   * [B, H, W, 1] mask the loop owns and disposes. Absent: the mask is fixed.
   */
  readonly remask?: (xAdv: tf.Tensor4D, iteration: number) => tf.Tensor4D;
}

/**
 * x_adv for `mask` ([B, H, W, 1], 1 = may perturb). Does not take ownership of x, y or mask;
 * the caller owns the result.
 */
export function maskedPgd(
  classifier: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  mask: tf.Tensor4D,
  { epsilon, alpha, steps, randomStart, validBox, seed, remask }: MaskedPgdOptions,
): tf.Tensor4D {
  const onehot = tf.tidy(() => tf.oneHot(y.toInt(), classifier.numClasses).toFloat());
  const box = validBoxOf(x, validBox); // its bounds (−x, 1 − x) live until the end of the attack
  let m: tf.Tensor4D = mask.clone();
  let delta: tf.Tensor4D = tf.tidy(() =>
    randomStart ? tf.mul(box.project(tf.randomUniform(x.shape, -epsilon, epsilon, 'float32', seed)), m) : tf.zerosLike(x),
  );
  try {
    for (let t = 0; t < steps; t++) {
      if (remask && t > 0) {
        const xt = tf.tidy(() => tf.clipByValue(tf.add(x, tf.mul(m, delta)), 0, 1));
        const next = remask(xt as tf.Tensor4D, t);
        xt.dispose();
        m.dispose();
        m = next;
      }
      const mt = m;
      // Σ_b CE(f(x + M_t⊙δ), y_b) (x + δ clipped for 'clip'), inference mode (the same loss as attacks/pgd.ts)
      const loss = (d: tf.Tensor): tf.Scalar => batchCrossEntropy(classifier, box.input(tf.mul(mt, d) as tf.Tensor4D), onehot);
      const next = tf.tidy(() => {
        // ∂loss/∂δ only: conv filter gradients are skipped (engine/grad-scope.ts).
        const g = inputGradientOnly(() => tf.grad(loss)(delta));
        return tf.mul(box.project(tf.clipByValue(tf.add(delta, tf.mul(alpha, tf.sign(g))), -epsilon, epsilon)), mt) as tf.Tensor4D;
      });
      delta.dispose();
      delta = next;
    }
    return tf.tidy(() => tf.clipByValue(tf.add(x, tf.mul(m, delta)), 0, 1) as tf.Tensor4D);
  } finally {
    tf.dispose([onehot, m, delta]);
    box.dispose();
  }
}

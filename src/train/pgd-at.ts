/**
 * PGD adversarial training (Madry et al., 2018, https://arxiv.org/abs/1706.06083) as SCAAT's
 * whole-image control: the attack of method.md §2.3 on every pixel (no mask), then the loss of
 * method.md §2.4, the same definition SCAAT uses (train/_loss.ts `adversarialLoss`):
 *
 *   L = CE(f(x), y) + λ·CE(f(x_adv), y)      (loss 'clean+adv', λ = 1: the default, = SCAAT's)
 *   L = CE(f(x_adv), y)                      (loss 'adv-only': Madry's original objective)
 *   L = CE(f(x), y) + λ·KL(softmax f(x) ‖ softmax f(x_adv))   (loss 'clean+kl')
 *
 * So a pgd-at run with the SCAAT run's ε, α, steps, attack, random start, valid-box mode, loss and
 * λ (scaat/config.ts `pgdAtControlOptions`) differs from it only in the mask: SCAAT with q_i ≡ 1
 * takes the same step (tested). x_adv is computed in inference mode and is a constant for the
 * update; the loss forwards run in training mode (x_adv first, then x). Clean accuracy `acc` comes
 * from the clean training forward, or for 'adv-only' from an inference forward after the update.
 */
import * as tf from '@tensorflow/tfjs';
import { fgsm } from '../attacks/fgsm.js';
import { pgd } from '../attacks/pgd.js';
import { describeAttackNames, isAttackName } from '../attacks/registry.js';
import type { AttackName } from '../attacks/registry.js';
import { VALID_BOX_MODES } from '../attacks/types.js';
import type { AttackFn, ValidBox } from '../attacks/types.js';
import { ConfigError } from '../errors.js';
import { resolveOptionSection } from './config.js';
import { readNumber } from '../io/numbers.js';
import type { Trainer } from './types.js';
import { accuracy, ADVERSARIAL_LOSSES, adversarialLoss, minimizeKeeping, oneHot } from './_loss.js';
import type { AdversarialLoss } from './_loss.js';

export interface PgdAtOptions {
  /**
   * 'pgd' (K steps) or 'fgsm-rs' (one step from a random start, Wong et al. 2020); the attacks
   * registry's names. @default 'pgd'
   */
  attack: AttackName;
  /** ε, L∞ budget in [0, 1] pixel units. @default 8/255 (method.md §2.3) */
  epsilon: number;
  /**
   * α, step size in pixel units. Given as 'auto' (the default) it resolves to ε/4 for 'pgd'
   * (2/255 at ε = 8/255, method.md §2.3) and 1.25·ε for 'fgsm-rs' (Wong et al.); the resolved config
   * holds the number. @default 'auto'
   */
  alpha: number;
  /** K, PGD steps (ignored by 'fgsm-rs'). @default 7 (method.md §2.3) */
  steps: number;
  /** Random start δ ~ U(−ε, ε). @default true */
  randomStart: boolean;
  /**
   * 'project' δ into the valid box [−x, 1 − x] at the random start and after every step (Madry et
   * al., Wong et al.), or only 'clip' x + δ in the forward pass (pixels pushed outside [0, 1] stay
   * stuck there); attacks/pgd.ts. Set it as in the SCAAT run this control is compared with.
   * @default 'project' (method.md §2.3)
   */
  validBox: ValidBox;
  /**
   * The loss: 'clean+adv' CE(f(x)) + λ·CE(f(x_adv)) (SCAAT's form, so the control differs from
   * SCAAT only in the mask), 'adv-only' CE(f(x_adv)) (Madry et al.), or 'clean+kl'.
   * @default 'clean+adv' (= SCAAT's default, method.md §2.4)
   */
  loss: AdversarialLoss;
  /** λ, weight of the adversarial term (unused by 'adv-only'). @default 1 (= SCAAT's default) */
  lambda: number;
}

export const PGD_AT_DEFAULTS: Readonly<Omit<PgdAtOptions, 'alpha' | 'attack' | 'loss'> & { attack: string; alpha: number | 'auto'; loss: string }> = Object.freeze({
  attack: 'pgd',
  epsilon: 8 / 255,
  alpha: 'auto',
  steps: 7,
  randomStart: true,
  validBox: 'project',
  loss: 'clean+adv',
  lambda: 1,
});

/** Validates and completes the 'pgd-at' options; alpha 'auto' is replaced by its value. */
export function resolvePgdAtOptions(raw: Readonly<Record<string, unknown>>): PgdAtOptions {
  if (Object.hasOwn(raw, 'cleanWeight')) {
    throw new ConfigError(
      "trainerOptions.pgd-at: 'cleanWeight' (w·CE(f(x)) + (1 − w)·CE(f(x_adv))) was replaced by 'loss' and 'lambda', as SCAAT's: " +
        "cleanWeight 0 is loss 'adv-only'; w > 0 is loss 'clean+adv' with lambda (1 − w)/w (the loss scaled by 1/w)",
    );
  }
  const { alpha: rawAlpha, ...rest } = raw;
  const { alpha: _auto, ...defaults } = PGD_AT_DEFAULTS;
  const o = resolveOptionSection('trainerOptions.pgd-at', defaults, rest, {
    attack: (v) => (isAttackName(v) ? undefined : `one of ${describeAttackNames()}`),
    epsilon: (v) => (v > 0 && v <= 1 ? undefined : 'in (0, 1] (pixel units)'),
    steps: (v) => (Number.isInteger(v) && v >= 1 ? undefined : 'an integer ≥ 1'),
    validBox: (v) => (VALID_BOX_MODES.includes(v) ? undefined : `one of ${VALID_BOX_MODES.map((m) => `'${m}'`).join(', ')}`),
    loss: (v) => (ADVERSARIAL_LOSSES.includes(v as AdversarialLoss) ? undefined : `one of ${ADVERSARIAL_LOSSES.map((m) => `'${m}'`).join(', ')}`),
    lambda: (v) => (v >= 0 ? undefined : '≥ 0'),
  });
  const attack = o.attack as AttackName;
  let alpha: number;
  if (rawAlpha === undefined || rawAlpha === 'auto') alpha = attack === 'fgsm-rs' ? 1.25 * o.epsilon : o.epsilon / 4;
  else {
    alpha = readNumber(rawAlpha) ?? NaN;
    if (!(alpha > 0)) throw new ConfigError(`trainerOptions.pgd-at: 'alpha' must be a number > 0 or 'auto', got ${JSON.stringify(rawAlpha)}`);
  }
  return { ...o, attack, alpha, loss: o.loss as AdversarialLoss };
}

export function pgdAtTrainer(options: PgdAtOptions): Trainer {
  const attack: AttackFn =
    options.attack === 'fgsm-rs'
      ? fgsm({ epsilon: options.epsilon, alpha: options.alpha, randomStart: options.randomStart, validBox: options.validBox })
      : pgd({ epsilon: options.epsilon, alpha: options.alpha, steps: options.steps, randomStart: options.randomStart, validBox: options.validBox });
  return {
    name: 'pgd-at',
    step({ x, y }, { classifier, optimizer, rng }) {
      // 1) attack the whole image, inference mode
      const xAdv = attack(classifier, x, y, { seed: rng.nextSeed() });
      const onehot = oneHot(y, classifier.numClasses);
      // 2) the loss of method.md §2.4 (SCAAT's definition) in training mode, one update
      const { loss, kept } = minimizeKeeping(optimizer, classifier.trainableVariables(), (keep) =>
        adversarialLoss(classifier, x, xAdv, onehot, options, keep),
      );
      // 3) numbers: adversarial accuracy (before the update) and clean accuracy
      const advAcc = accuracy(kept[0]!, y);
      let acc: number;
      if (kept[1]) acc = accuracy(kept[1], y);
      else {
        const z = classifier.logits(x);
        acc = accuracy(z, y);
        z.dispose();
      }
      tf.dispose([xAdv, onehot, ...kept]);
      return { loss, acc, advAcc };
    },
  };
}

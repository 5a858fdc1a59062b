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
import { z } from 'zod';
import { ATTACKS, defaultAlpha, randomStartIssue } from '../attacks/registry.js';
import { VALID_BOX_MODES } from '../attacks/types.js';
import type { AttackFn } from '../attacks/types.js';
import { ConfigError } from '../errors.js';
import { amount, amountOrAuto, choice, defaultsOf, flag, resolveLayers, setting } from '../io/config-schema.js';
import type { Trainer } from './types.js';
import { accuracy, ADVERSARIAL_LOSSES, adversarialLoss, meanOf, minimizeKeeping, oneHot } from './_loss.js';
import { sharedBackwardStep } from './_shared-pass.js';
import { ATTACK_GRADIENT_SOURCES, GradientSignCache, fgsmAlongSigns } from './_gradient-signs.js';
import { undeclaredAugmentationError } from './_per-sample.js';
import type { SignAugmentation } from './_gradient-signs.js';

/** The pgd-at trainer's options, each declared once: check, default, description. */
export const PGD_AT_SCHEMA = z.strictObject({
  /**
   * 'pgd' (K steps), 'fgsm-rs' (one step from a random start, Wong et al. 2020) or 'noise' (the
   * random start alone: uniform-noise augmentation, the control of SCAAT's 'noise'); the attacks
   * registry's names. @default 'pgd'
   */
  attack: setting(choice([...ATTACKS.keys()]), 'pgd', 'whole-image attack: pgd (K steps), fgsm-rs (one step from a random start) or noise (the random start alone)'),
  /** ε, L∞ budget in [0, 1] pixel units. @default 8/255 (method.md §2.3) */
  epsilon: setting(amount({ above: 0, max: 1, note: '(pixel units)' }), 8 / 255, 'ε, L∞ budget (pixel units)'),
  /**
   * α, step size in pixel units. Given as 'auto' (the default) it resolves to ε/4 for 'pgd'
   * (2/255 at ε = 8/255, method.md §2.3) and 1.25·ε for 'fgsm-rs' (Wong et al.); the resolved options
   * hold the number. @default 'auto'
   */
  alpha: setting(amountOrAuto({ min: 0 }), 'auto', "α, attack step size ('auto': ε/4 for pgd, 1.25·ε for fgsm-rs, 0 for noise)"),
  /** K, PGD steps (ignored by 'fgsm-rs', which takes one, and 'noise', none). @default 7 (method.md §2.3) */
  steps: setting(amount({ integer: true, min: 1 }), 7, 'K, PGD steps (fgsm-rs takes one, noise none)'),
  /** Random start δ ~ U(−ε, ε). @default true */
  randomStart: setting(flag(), true, 'start from δ ~ U(−ε, ε)'),
  /**
   * 'project' δ into the valid box [−x, 1 − x] at the random start and after every step (Madry et
   * al., Wong et al.), or only 'clip' x + δ in the forward pass (pixels pushed outside [0, 1] stay
   * stuck there); attacks/pgd.ts. Set it as in the SCAAT run this control is compared with.
   * @default 'project' (method.md §2.3)
   */
  validBox: setting(choice(VALID_BOX_MODES), 'project', "valid image: 'project' δ into [−x, 1 − x] at every step, or 'clip' x + δ in the forward pass"),
  /**
   * The loss: 'clean+adv' CE(f(x)) + λ·CE(f(x_adv)) (SCAAT's form, so the control differs from
   * SCAAT only in the mask), 'adv-only' CE(f(x_adv)) (Madry et al.), or 'clean+kl'.
   * @default 'clean+adv' (= SCAAT's default, method.md §2.4)
   */
  loss: setting(choice(ADVERSARIAL_LOSSES), 'clean+adv', 'training loss: clean+adv, adv-only (Madry) or clean+kl'),
  /** λ, weight of the adversarial term (unused by 'adv-only'). @default 1 (= SCAAT's default) */
  lambda: setting(amount({ min: 0 }), 1, 'λ, weight of the adversarial term'),
  /**
   * The cheap step, as SCAAT's `sharedBackward` (train/_shared-pass.ts): the clean training
   * backward's ∂CE/∂x is the FGSM-RS direction (taken at x), then the adversarial pass; 2 passes
   * per step instead of 3. Needs attack 'fgsm-rs' and loss 'clean+adv'. Set it as in the SCAAT run
   * this control is compared with. @default false
   */
  sharedBackward: setting(flag(), false, "two passes per step: the FGSM-RS direction from the clean training backward (fgsm-rs and 'clean+adv' only)"),
  /**
   * Where FGSM-RS takes its gradient, as SCAAT's `attackGradient` (train/_gradient-signs.ts):
   * 'fresh' (its own pass at x + δ_0, inference mode) or 'train-backward' (the sign of ∂L/∂x_adv
   * from the sample's previous training backward: no attack pass after a sample's first visit).
   * Needs attack 'fgsm-rs' and no `sharedBackward`; with `augment` the directions follow each
   * image's crop/flip (undeclared augmentation is refused). Set it as in the SCAAT
   * run this control is compared with. @default 'fresh'
   */
  attackGradient: setting(choice(ATTACK_GRADIENT_SOURCES), 'fresh', "FGSM-RS's gradient: fresh (its own pass) or train-backward (the sample's previous training backward)"),
  /** Memory cap of the kept signs of 'train-backward' (1 byte per value, N·H·W·C). @default 1024 (MiB) */
  attackGradientCacheMiB: setting(amount({ above: 0 }), 1024, "attackGradient 'train-backward': memory cap of the kept signs, MiB"),
}).superRefine((o, ctx) => {
  // checks across keys, in the schema as SCAAT's config has its own
  // α 'auto' resolves to 0 for 'noise' (no step), and config.json holds the resolved number: a
  // written 0 must read back; every other attack steps by α > 0
  if (o.alpha === 0 && o.attack !== 'noise') {
    ctx.addIssue({ code: 'custom', message: `'alpha' must be > 0 for attack '${o.attack}' (only 'noise', which takes no step, has α = 0), got 0` });
  }
  if (o.attackGradient === 'train-backward' && (o.attack !== 'fgsm-rs' || o.sharedBackward)) {
    ctx.addIssue({
      code: 'custom',
      message: o.sharedBackward
        ? "'attackGradient' 'train-backward' and 'sharedBackward' each give the attack its direction; choose one"
        : `'attackGradient' 'train-backward' gives FGSM-RS its direction; it needs 'attack' 'fgsm-rs', got '${o.attack}'`,
    });
  }
  const start = randomStartIssue(o.attack, o.randomStart);
  if (start) ctx.addIssue({ code: 'custom', message: start });
  if (o.sharedBackward && (o.attack !== 'fgsm-rs' || o.loss !== 'clean+adv')) {
    ctx.addIssue({
      code: 'custom',
      message: `'sharedBackward' takes one attack step along the clean backward's input gradient and sums the two passes' gradients; it needs 'attack' 'fgsm-rs' and 'loss' 'clean+adv', got '${o.attack}' and '${o.loss}'`,
    });
  }
});

/** The resolved options: {@link PGD_AT_SCHEMA}'s keys, with alpha a number ('auto' replaced by its value). */
export type PgdAtOptions = Omit<z.output<typeof PGD_AT_SCHEMA>, 'alpha'> & { alpha: number };

/** The defaults as written (alpha 'auto'). */
export const PGD_AT_DEFAULTS: Readonly<z.output<typeof PGD_AT_SCHEMA>> = Object.freeze(defaultsOf(PGD_AT_SCHEMA));

/** Validates and completes the 'pgd-at' options; alpha 'auto' is replaced by its value. */
export function resolvePgdAtOptions(raw: Readonly<Record<string, unknown>>): PgdAtOptions {
  if (Object.hasOwn(raw, 'cleanWeight')) {
    throw new ConfigError(
      "trainerOptions.pgd-at: 'cleanWeight' (w·CE(f(x)) + (1 − w)·CE(f(x_adv))) was replaced by 'loss' and 'lambda', as SCAAT's: " +
        "cleanWeight 0 is loss 'adv-only'; w > 0 is loss 'clean+adv' with lambda (1 − w)/w (the loss scaled by 1/w)",
    );
  }
  const o = resolveLayers(PGD_AT_SCHEMA, [{ source: 'trainerOptions.pgd-at', values: raw }], { where: 'trainerOptions.pgd-at', noun: 'option' });
  const { alpha: written, ...rest } = o;
  const alpha = written !== 'auto' ? written : defaultAlpha(o.attack, o.epsilon);
  return { ...rest, alpha }; // alpha last, as config.json files written before have it
}

/** What {@link pgdAtTrainer} needs to know of the run for `attackGradient: 'train-backward'` (per-sample state). */
export interface PgdAtRun {
  /** Samples trained on (StepInput.index runs over 0..trainSize−1). */
  readonly trainSize: number;
  /** [H, W, C]: the cache's budget is checked at construction. */
  readonly inputShape?: readonly [number, number, number];
  /** Whether the batches are augmented. */
  readonly augment?: boolean;
  /** Their declared augmentation and the seed of its draws, when augmented (the kept directions follow each view). */
  readonly augmentation?: SignAugmentation;
}

export function pgdAtTrainer(options: PgdAtOptions, run?: PgdAtRun): Trainer {
  const attack: AttackFn = ATTACKS.get(options.attack)!.create({
    epsilon: options.epsilon,
    alpha: options.alpha,
    steps: options.steps,
    randomStart: options.randomStart,
    validBox: options.validBox,
  });
  // 'train-backward': each sample's FGSM-RS direction from its previous training backward (_gradient-signs.ts)
  let signs: GradientSignCache | undefined;
  if (options.attackGradient === 'train-backward') {
    const where = 'trainerOptions.pgd-at';
    if (!run) throw new ConfigError(`${where}: 'attackGradient' 'train-backward' keeps per-sample state and needs the run's training size`);
    if (run.augment && !run.augmentation) throw undeclaredAugmentationError(where, 'attackGradient', 'train-backward', 'attack direction');
    signs = new GradientSignCache(run.trainSize, options.attackGradientCacheMiB, where, run.augment ? run.augmentation : undefined);
    if (run.inputShape) signs.ensure(...run.inputShape);
  }
  return {
    name: 'pgd-at',
    step({ x, y, index }, { classifier, optimizer, rng, epoch }) {
      if (options.sharedBackward) {
        // the FGSM-RS direction from the clean training backward, whole image (train/_shared-pass.ts)
        const r = sharedBackwardStep({ classifier, optimizer, x, y, lambda: options.lambda, attack: options, seed: rng.nextSeed(), feedback: 'training-pass' });
        return { loss: r.loss, acc: meanOf(r.cleanCorrect), advAcc: meanOf(r.advCorrect) };
      }
      // 1) attack the whole image, inference mode (or along the kept signs: no attack pass)
      const seed = rng.nextSeed();
      signs?.ensure(x.shape[1], x.shape[2], x.shape[3]);
      const kept0 = signs?.lookup(index, epoch);
      const xAdv = kept0 ? fgsmAlongSigns(x, kept0, options, seed) : attack(classifier, x, y, { seed });
      const onehot = oneHot(y, classifier.numClasses);
      // 2) the loss of method.md §2.4 (SCAAT's definition) in training mode, one update
      const { loss, kept, inputGradient } = minimizeKeeping(
        optimizer,
        classifier.trainableVariables(),
        (keep) => adversarialLoss(classifier, x, xAdv, onehot, options, keep),
        signs ? xAdv : undefined,
      );
      if (signs && inputGradient) signs.store(index, inputGradient, epoch);
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
      return { loss, acc, advAcc, ...(signs ? { freshAttack: kept0 ? 0 : 1 } : {}) };
    },
    // the kept directions (a resumed run continues with them)
    ...(signs ? { getState: () => signs!.getState(), setState: (state) => signs!.setState(state) } : {}),
  };
}

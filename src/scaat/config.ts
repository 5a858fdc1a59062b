/**
 * SCAAT's configuration: one resolved object, defaults in one place (method.md §2), every unknown
 * of the reconstruction a switch.
 *
 *   defaults  ←  preset file  ←  CLI `--key=value`      (later layers win)
 *
 * @example
 * const cfg = resolveScaatConfig({ epsilon: 0.3 }, { attack: 'fgsm-rs' });
 * cfg.alpha;                 // 'auto' → effectiveAlpha(cfg) = 1.25 · 0.3 = 0.375
 * resolveScaatConfig({ epsilom: 1 });   // ConfigError: scaat config: unknown key 'epsilom' …
 */
import { z } from 'zod';
import { ATTACKS, attackSteps, defaultAlpha, randomStartIssue } from '../attacks/registry.js';
import type { AttackName } from '../attacks/registry.js';
import { VALID_BOX_MODES } from '../attacks/types.js';
import { ConfigError } from '../errors.js';
import { amount, amountOr, amountOrAuto, choice, defaultsOf, flag, resolveLayers, setting } from '../io/config-schema.js';
import { CHANNEL_REDUCTIONS } from '../saliency/postprocess.js';
import { TARGET_MODES } from '../saliency/types.js';
import { ADVERSARIAL_LOSSES } from '../train/_loss.js';
import { ATTACK_GRADIENT_SOURCES } from '../train/_gradient-signs.js';
import type { AdversarialLoss } from '../train/_loss.js';
import type { PgdAtOptions } from '../train/pgd-at.js';

/** The attack inside the mask (method.md §2.3). */
export type ScaatAttack = AttackName;
/** Where the map that defines the mask comes from (the cheap variants of the issue). */
export type SaliencySource = 'fresh' | 'previous-visit' | 'train-backward';
const SALIENCY_SOURCES: readonly SaliencySource[] = ['fresh', 'previous-visit', 'train-backward'];
/** The training loss (method.md §2.4), shared with the pgd-at control (train/_loss.ts). */
export type ScaatLoss = AdversarialLoss;
/** Which prediction on x_adv drives the ratio search (method.md §2.5 leaves it open). */
export type RatioFeedback = 'training-pass' | 'post-step-inference';
const RATIO_FEEDBACKS: readonly RatioFeedback[] = ['training-pass', 'post-step-inference'];
/** How q_i moves after warm-up: the poster's ±γ ramp or per-sample bisection (sample-state.ts). */
export type RatioSearch = 'ramp' | 'bisect';
const RATIO_SEARCHES: readonly RatioSearch[] = ['ramp', 'bisect'];

/**
 * Every key of SCAAT's config, declared once: its check, its default (method.md §2; see each
 * key's doc for the source) and its one-line description (`scaat train --help-config`).
 */
export const SCAAT_CONFIG_SCHEMA = z
  .strictObject({
    // ---- 3. masked attack ---------------------------------------------------------------------
    /** Attack: `pgd` (L∞ PGD, `steps` iterations), `fgsm-rs` (one step from a random start,
     *  Wong et al. 2020, the cheap variant) or `noise` (the random start alone, no gradient: the
     *  ablation without an adversary); the attacks registry's names. @default 'pgd' (method.md §2.3) */
    attack: setting(choice([...ATTACKS.keys()]), 'pgd', 'attack inside the mask: pgd (K steps), fgsm-rs (one step from a random start) or noise (the random start alone)'),
    /** ε, L∞ budget inside the mask, in [0, 1] pixel units; 1 = unbounded adversary inside the mask.
     *  @default 8/255 (method.md §2.3; use 0.3 for MNIST-like data, see configs/) */
    epsilon: setting(amount({ above: 0, max: 1, note: '(pixel units; 1 = unbounded inside the mask)' }), 8 / 255, 'ε, L∞ budget inside the mask (pixel units)'),
    /** α, step size in pixel units. 'auto' = ε/4 for `pgd` (= 2/255 at the default ε, method.md §2.3)
     *  and 1.25·ε for `fgsm-rs` (Wong et al. 2020, method.md §2.3); `noise` takes no step. @default 'auto' */
    alpha: setting(amountOrAuto({ above: 0 }), 'auto', "α, attack step size ('auto': ε/4 for pgd, 1.25·ε for fgsm-rs)"),
    /** K, PGD iterations (ignored by `fgsm-rs`, which takes exactly one, and `noise`, none). @default 7 (method.md §2.3) */
    steps: setting(amount({ integer: true, min: 1 }), 7, 'K, PGD iterations (fgsm-rs takes one, noise none)'),
    /** Start from δ ~ U(−ε, ε)⊙M (required to be true for `fgsm-rs` and `noise`). @default true (method.md §2.3) */
    randomStart: setting(flag(), true, 'start from δ ~ U(−ε, ε) inside the mask'),
    /** How x + δ is kept a valid image: 'project' δ into [−x, 1 − x] after the ε-clip at every step
     *  and at the random start (Madry et al., Wong et al.: every masked pixel keeps its gradient), or
     *  'clip' x + δ to [0, 1] in the forward pass only (the earlier behaviour: a masked pixel pushed
     *  outside [0, 1] gets a zero gradient and stays at the boundary, so pixels at 0 or 1 can only
     *  move inward; on black backgrounds about half die at the random start). The study of issue 12
     *  decides the final default. @default 'project' (method.md §2.3) */
    validBox: setting(choice(VALID_BOX_MODES), 'project', "valid image: 'project' δ into [−x, 1 − x] at every step, or 'clip' x + δ in the forward pass"),
    /** Recompute saliency and mask on the current x_adv before every attack iteration (costs one
     *  saliency pass per iteration). @default false (method.md §2.3) */
    remaskEveryAttackStep: setting(flag(), false, 'recompute saliency and mask before every attack iteration'),
    /** The cheap step (train/_shared-pass.ts): the clean training backward of the step, which
     *  computes ∂CE(f(x))/∂θ anyway, also yields ∂CE/∂x; its |·| (channels reduced by
     *  `saliencyAggregation`) is the mask's map and its sign the FGSM-RS direction (taken at x, not
     *  at x + δ_0), then f(x_adv) is a second forward and backward. 2 passes per step, about 2× a
     *  regular step, instead of 1 saliency + 1 attack + 2 training (FGSM-RS). Needs attack
     *  'fgsm-rs', loss 'clean+adv', saliencySource 'fresh', saliencyTarget 'label' and no
     *  re-masking. A batch with an all-zero loss gradient for some sample (saturated softmax) takes
     *  those samples' maps from a fresh saliency pass. @default false (issue 14; the study decides) */
    sharedBackward: setting(flag(), false, "two passes per step: the clean training backward gives the mask's map and the FGSM-RS direction"),
    /** Where FGSM-RS takes its gradient: 'fresh', the attack's own pass at x + δ_0 in inference
     *  mode (method.md §2.3), or 'train-backward', the sign of ∂L/∂x_adv from the sample's previous
     *  training backward, which computes it for about the first layer's input gradient
     *  (train/_gradient-signs.ts: what that direction is and is not). After a sample's first visit
     *  the step then runs no attack pass. Needs attack 'fgsm-rs', no `sharedBackward` and no
     *  re-masking; the signs are checkpointed (a resumed run continues bit for bit); with `augment` they follow each image's crop/flip (undeclared augmentation is refused).
     *  @default 'fresh' (issue 14; the study decides) */
    attackGradient: setting(choice(ATTACK_GRADIENT_SOURCES), 'fresh', "FGSM-RS's gradient: fresh (its own pass) or train-backward (the sample's previous training backward)"),
    /** Memory cap of the per-sample signs of 'train-backward' (1 byte per value: N·H·W·C; CIFAR-10
     *  146 MiB). Exceeding it is a ConfigError at construction. @default 1024 (MiB) */
    attackGradientCacheMiB: setting(amount({ above: 0 }), 1024, "attackGradient 'train-backward': memory cap of the kept signs, MiB"),

    // ---- 1–2. saliency and mask ---------------------------------------------------------------
    /** Per-pixel score from the gradient's C channels (saliency/postprocess.ts names): Σ_c|g|
     *  ('sum-abs'), max_c|g| ('max-abs'), or signed 'mean' / 'sum' (then the most negative pixels
     *  count as least salient). @default 'sum-abs' (method.md §2.1) */
    saliencyAggregation: setting(choice(CHANNEL_REDUCTIONS), 'sum-abs', "per-pixel score from the gradient's channels"),
    /** Class whose logit is differentiated: the true label or the predicted class.
     *  @default 'label' (method.md §2.1: "true-class logit") */
    saliencyTarget: setting(choice(TARGET_MODES), 'label', 'class whose logit is differentiated: the label or the predicted class'),
    /** Source of the mask's map. 'fresh': vanilla gradient at every visit (method.md §2.1).
     *  'previous-visit': the same map, recomputed only when it is `saliencyRefreshEpochs` old and
     *  reused (as exact pixel ranks) in between. 'train-backward': |∂L_train/∂x| from the sample's
     *  previous training backward pass (see _mask-source.ts for what this map is and is not). With
     *  `augment`, both cached maps are carried from the previous visit's crop/flip to the current
     *  one (pixels without an old score rank lowest); data that augments without declaring how is
     *  refused for them. @default 'fresh' (method.md §2.1) */
    saliencySource: setting(choice(SALIENCY_SOURCES), 'fresh', "the mask's map: fresh, previous-visit (cached) or train-backward"),
    /** For 'previous-visit': a cached map is reused until it is this many epochs old (1 = fresh
     *  every epoch). @default 2 (halves the saliency passes) */
    saliencyRefreshEpochs: setting(amount({ integer: true, min: 1 }), 2, "previous-visit: a cached map's age in epochs before it is recomputed"),
    /** Memory cap of the per-sample map cache of 'previous-visit' / 'train-backward' (pixel ranks,
     *  2 bytes per pixel up to 256×256 images, else 4). Exceeding it is a ConfigError at
     *  construction. @default 1024 (MiB; CIFAR-10 needs 100) */
    saliencyCacheMiB: setting(amount({ above: 0 }), 1024, 'memory cap of the cached maps, MiB'),

    // ---- 4. loss ------------------------------------------------------------------------------
    /** 'clean+adv': CE(f(x)) + λ·CE(f(x_adv)); 'adv-only': CE(f(x_adv));
     *  'clean+kl': CE(f(x)) + λ·KL(softmax f(x) ‖ softmax f(x_adv)). @default 'clean+adv' (method.md §2.4) */
    loss: setting(choice(ADVERSARIAL_LOSSES), 'clean+adv', 'training loss: clean+adv, adv-only or clean+kl'),
    /** λ, weight of the adversarial term. @default 1 (method.md §2.4) */
    lambda: setting(amount({ min: 0 }), 1, 'λ, weight of the adversarial term'),

    // ---- 5. ratio search ----------------------------------------------------------------------
    /** How q_i moves at each visit after warm-up (README "The q_i search"). 'ramp': the poster's rule,
     *  q_i + γ if the masked attack failed (f(x_adv) predicts y_i), − γ if it succeeded, clipped to
     *  [q_min, q_max]. 'bisect': each sample keeps a bracket [lo_i, hi_i] (initially [q_min, q_max]):
     *  a failure at q sets lo_i = q, a success hi_i = q, and the next q_i is the midpoint; the bracket
     *  stays at least 2γ wide, from where each visit moves q_i by ±γ as the ramp does (so q_i follows
     *  the boundary as the model changes; γ = 0: plain bisection, which stops once converged).
     *  @default 'ramp' (method.md §2.5) */
    ratioSearch: setting(choice(RATIO_SEARCHES), 'ramp', "how q_i moves after warm-up: the poster's ±γ 'ramp' or per-sample 'bisect'"),
    /** q_init, initial irrelevant-feature ratio of every sample. @default 0.5 (method.md §2.5) */
    ratioInit: setting(amount({ min: 0, max: 1 }), 0.5, 'q_init, initial ratio of every sample'),
    /** q_min. @default 0.05 (method.md §2.5) */
    ratioMin: setting(amount({ min: 0, max: 1 }), 0.05, 'q_min'),
    /** q_max. @default 0.95 (method.md §2.5) */
    ratioMax: setting(amount({ min: 0, max: 1 }), 0.95, 'q_max'),
    /** γ, step of the q_i search per visit (one visit per epoch), in [0, 1]; for 'bisect', half the
     *  bracket's minimum width. 'auto' scales it to the run's length: γ = (q_max − q_min)/(epochs −
     *  max(warmupEpochs, the loop's cleanEpochs)), rounded up to the 1e-6 grid, so q_i can cross [q_min, q_max] within the epochs
     *  after warm-up (from q_init = 0.5 with the default range: in half of them); see
     *  {@link effectiveRatioStep}. @default 0.02 (method.md §2.5) */
    ratioStep: setting(amountOrAuto({ min: 0, max: 1 }), 0.02, "γ, step of the q_i search per visit ('auto': scaled to the run's epochs)"),
    /** N_warm-up in epochs: q_i is kept during epochs 0 … N−1 (the poster counts iterations; method.md
     *  §2.5 counts epochs). @default 2 (method.md §2.5) */
    warmupEpochs: setting(amount({ integer: true, min: 0 }), 2, 'epochs during which q_i is kept'),
    /** Prediction on x_adv that moves q_i: the training-mode forward of the loss (free, parameters
     *  before the update) or an extra inference-mode forward after the update.
     *  @default 'training-pass' (no extra pass; the poster does not say) */
    ratioFeedback: setting(choice(RATIO_FEEDBACKS), 'training-pass', 'prediction on x_adv that moves q_i: training-pass or post-step-inference'),
    /** ε of the attack whose outcome moves q_i. 'training': the training attack's x_adv (the
     *  poster's rule). A number: a separate probe after warm-up, the training attack (same kind,
     *  steps, random start and valid box, on the same mask and from the same random draw) at this
     *  budget, α scaled with it ('auto': by the same rule), judged in inference mode: with the
     *  parameters before the update ('training-pass') or after it ('post-step-inference'). A probe
     *  stronger than the training attack succeeds where the training attack no longer does, so q_i
     *  stops at a per-sample boundary instead of climbing (README "The q_i search"); it costs one
     *  more attack and one inference forward per step after warm-up. Not with 'sharedBackward'.
     *  @default 'training' (issue 13; the study decides) */
    ratioSearchEpsilon: setting(amountOr('training', { above: 0, max: 1 }), 'training', "ε of the attack that moves q_i: 'training' (the training x_adv) or a stronger probe's budget"),
    /** Bins of the q_i histogram on [0, 1] in the per-epoch log. @default 20 */
    ratioHistogramBins: setting(amount({ integer: true, min: 1 }), 20, 'bins of the per-epoch q_i histogram'),
  })
  .superRefine((c, ctx) => {
    const fail = (message: string): void => {
      ctx.addIssue({ code: 'custom', message });
    };
    if (c.ratioMin > c.ratioMax) fail(`'ratioMin' (${c.ratioMin}) must be ≤ 'ratioMax' (${c.ratioMax})`);
    const start = randomStartIssue(c.attack, c.randomStart);
    if (start) fail(start);
    if (c.sharedBackward) {
      const needs: ReadonlyArray<[keyof typeof c, unknown, string]> = [
        ['attack', 'fgsm-rs', "takes one attack step along the clean backward's input gradient"],
        ['loss', 'clean+adv', "sums the clean and the adversarial passes' gradients"],
        ['saliencySource', 'fresh', "takes the mask's map from the step's own clean backward"],
        ['saliencyTarget', 'label', "differentiates the true label's loss"],
        ['remaskEveryAttackStep', false, 'runs no separate attack to re-mask in'],
        ['ratioSearchEpsilon', 'training', 'runs no separate attack to probe with'],
      ];
      const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : String(v));
      for (const [key, want, why] of needs) {
        if (c[key] !== want) fail(`'sharedBackward' ${why}; it needs '${key}' ${show(want)}, got ${show(c[key])}`);
      }
    }
    if (c.attackGradient === 'train-backward') {
      if (c.attack !== 'fgsm-rs') fail(`'attackGradient' 'train-backward' gives FGSM-RS its direction; it needs 'attack' 'fgsm-rs', got '${c.attack}'`);
      if (c.sharedBackward) fail("'attackGradient' 'train-backward' and 'sharedBackward' each give the attack its direction; choose one");
      if (c.remaskEveryAttackStep) fail("'attackGradient' 'train-backward' runs no attack pass to re-mask in; it needs 'remaskEveryAttackStep' false");
    }
    if (c.remaskEveryAttackStep && c.attack === 'noise') {
      fail("'remaskEveryAttackStep' re-masks between attack steps, and attack 'noise' takes none (the random start only); it needs 'remaskEveryAttackStep' false");
    }
    if (c.remaskEveryAttackStep && c.saliencySource !== 'fresh') {
      fail(`'remaskEveryAttackStep' recomputes fresh saliency in the attack; it needs 'saliencySource' 'fresh', got '${c.saliencySource}'`);
    }
  });

/** SCAAT's resolved configuration (the keys of {@link SCAAT_CONFIG_SCHEMA}, documented there). */
export type ScaatConfig = z.output<typeof SCAAT_CONFIG_SCHEMA>;

/** The defaults of method.md §2 (see each key's doc in {@link SCAAT_CONFIG_SCHEMA} for the source). */
export const DEFAULT_SCAAT_CONFIG: Readonly<ScaatConfig> = Object.freeze(defaultsOf(SCAAT_CONFIG_SCHEMA));

/** The step size the attack uses: `alpha`, or its 'auto' value (see {@link ScaatConfig.alpha}). */
export function effectiveAlpha(config: Pick<ScaatConfig, 'alpha' | 'attack' | 'epsilon'>): number {
  if (config.alpha !== 'auto') return config.alpha;
  return defaultAlpha(config.attack, config.epsilon);
}

/**
 * γ the ratio search uses: `ratioStep`, or its 'auto' value (q_max − q_min)/max(1, epochs −
 * max(warmupEpochs, cleanEpochs)) rounded up to the 1e-6 grid (see {@link ScaatConfig.ratioStep}):
 * q_i moves only in SCAAT's own epochs after warm-up, not in the loop's clean epochs (train/config.ts
 * `cleanEpochs`).
 * @throws ConfigError for 'auto' without `epochs` (an integer ≥ 1).
 * @example
 * effectiveRatioStep({ ratioStep: 'auto', ratioMin: 0.05, ratioMax: 0.95, warmupEpochs: 2 }, 7); // 0.18
 */
export function effectiveRatioStep(
  config: Pick<ScaatConfig, 'ratioStep' | 'ratioMin' | 'ratioMax' | 'warmupEpochs'>,
  epochs?: number,
  cleanEpochs = 0,
): number {
  if (config.ratioStep !== 'auto') return config.ratioStep;
  if (epochs === undefined || !(Number.isInteger(epochs) && epochs >= 1)) {
    throw new ConfigError(
      `scaat config: 'ratioStep' 'auto' scales γ to the run's length and needs the run's number of epochs (createScaatTrainer's 'epochs'), an integer ≥ 1; got ${String(epochs)}`,
    );
  }
  // integer micro-units: the range is on the 1e-6 grid, and rounding up lets q_i cross it in time
  const units = Math.round((config.ratioMax - config.ratioMin) * 1e6);
  return Math.ceil(units / Math.max(1, epochs - Math.max(config.warmupEpochs, cleanEpochs))) / 1e6;
}

/** Attack iterations actually run: `steps` for PGD, 1 for FGSM-RS. */
export function effectiveSteps(config: Pick<ScaatConfig, 'attack' | 'steps'>): number {
  return attackSteps(config.attack, config.steps);
}

/**
 * The options of the pgd-at trainer that make it the whole-image control of a SCAAT run with
 * `config` (method.md §2: "every comparison must include that control"): the same attack, ε, α,
 * steps, random start, valid-box mode, loss and λ, so the two differ only in the mask (pgd-at then
 * takes the step SCAAT takes with q_i ≡ 1). Use it wherever a control is configured next to SCAAT.
 * @example
 * const scaat = resolveScaatConfig({ epsilon: 0.3, attack: 'fgsm-rs' });
 * const trainerOptions = { scaat, 'pgd-at': pgdAtControlOptions(scaat) };
 */
export function pgdAtControlOptions(config: ScaatConfig): PgdAtOptions {
  return {
    attack: config.attack,
    epsilon: config.epsilon,
    alpha: effectiveAlpha(config),
    steps: config.steps,
    randomStart: config.randomStart,
    validBox: config.validBox,
    loss: config.loss,
    lambda: config.lambda,
    sharedBackward: config.sharedBackward,
    attackGradient: config.attackGradient,
    attackGradientCacheMiB: config.attackGradientCacheMiB,
  };
}

/**
 * Merges `layers` over {@link DEFAULT_SCAAT_CONFIG} and validates the result.
 * Numbers may be given as strings ("0.3", "8/255") and booleans as "true"/"false" (CLI values).
 * @throws ConfigError naming the key, what was expected and what was found: unknown key, wrong
 *   type, value out of range, or an inconsistent combination (e.g. ratioMin > ratioMax).
 */
export function resolveScaatConfig(...layers: ReadonlyArray<Readonly<Record<string, unknown>> | undefined>): ScaatConfig {
  return resolveScaatConfigAt('scaat config', layers);
}

/** {@link resolveScaatConfig} with error messages prefixed by `where` (e.g. 'trainerOptions.scaat'). */
export function resolveScaatConfigAt(
  where: string,
  layers: ReadonlyArray<Readonly<Record<string, unknown>> | undefined>,
): ScaatConfig {
  const present = layers.filter((l): l is Readonly<Record<string, unknown>> => l !== undefined);
  return resolveLayers(SCAAT_CONFIG_SCHEMA, present.map((values) => ({ source: where, values })), { where });
}

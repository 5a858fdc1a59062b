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
import { ATTACKS } from '../attacks/registry.js';
import type { AttackName } from '../attacks/registry.js';
import { VALID_BOX_MODES } from '../attacks/types.js';
import type { ValidBox } from '../attacks/types.js';
import { ConfigError } from '../errors.js';
import { readNumber } from '../io/numbers.js';
import type { ChannelReduction } from '../saliency/postprocess.js';
import type { TargetMode } from '../saliency/types.js';
import { ADVERSARIAL_LOSSES } from '../train/_loss.js';
import type { AdversarialLoss } from '../train/_loss.js';
import type { PgdAtOptions } from '../train/pgd-at.js';

/** The attack inside the mask (method.md §2.3). */
export type ScaatAttack = AttackName;
/** Where the map that defines the mask comes from (the cheap variants of the issue). */
export type SaliencySource = 'fresh' | 'previous-visit' | 'train-backward';
/** The training loss (method.md §2.4), shared with the pgd-at control (train/_loss.ts). */
export type ScaatLoss = AdversarialLoss;
/** Which prediction on x_adv drives the ratio search (method.md §2.5 leaves it open). */
export type RatioFeedback = 'training-pass' | 'post-step-inference';
/** How q_i moves after warm-up: the poster's ±γ ramp or per-sample bisection (sample-state.ts). */
export type RatioSearch = 'ramp' | 'bisect';

export interface ScaatConfig {
  // ---- 3. masked attack ---------------------------------------------------------------------
  /** Attack: `pgd` (L∞ PGD, `steps` iterations) or `fgsm-rs` (one step from a random start,
   *  Wong et al. 2020, the cheap variant; the attacks registry's names). @default 'pgd' (method.md §2.3) */
  attack: ScaatAttack;
  /** ε, L∞ budget inside the mask, in [0, 1] pixel units; 1 = unbounded adversary inside the mask.
   *  @default 8/255 (method.md §2.3; use 0.3 for MNIST-like data, see configs/) */
  epsilon: number;
  /** α, step size in pixel units. 'auto' = ε/4 for `pgd` (= 2/255 at the default ε, method.md §2.3)
   *  and 1.25·ε for `fgsm-rs` (Wong et al. 2020, method.md §2.3). @default 'auto' */
  alpha: number | 'auto';
  /** K, PGD iterations (ignored by `fgsm-rs`, which takes exactly one). @default 7 (method.md §2.3) */
  steps: number;
  /** Start from δ ~ U(−ε, ε)⊙M (required to be true for `fgsm-rs`). @default true (method.md §2.3) */
  randomStart: boolean;
  /** How x + δ is kept a valid image: 'project' δ into [−x, 1 − x] after the ε-clip at every step
   *  and at the random start (Madry et al., Wong et al.: every masked pixel keeps its gradient), or
   *  'clip' x + δ to [0, 1] in the forward pass only (the earlier behaviour: a masked pixel pushed
   *  outside [0, 1] gets a zero gradient and stays at the boundary, so pixels at 0 or 1 can only
   *  move inward; on black backgrounds about half die at the random start). The study of issue 12
   *  decides the final default. @default 'project' (method.md §2.3) */
  validBox: ValidBox;
  /** Recompute saliency and mask on the current x_adv before every attack iteration (costs one
   *  saliency pass per iteration). @default false (method.md §2.3) */
  remaskEveryAttackStep: boolean;

  // ---- 1–2. saliency and mask ---------------------------------------------------------------
  /** Per-pixel score from the gradient's C channels (saliency/postprocess.ts names): Σ_c|g|
   *  ('sum-abs'), max_c|g| ('max-abs'), or signed 'mean' / 'sum' (then the most negative pixels
   *  count as least salient). @default 'sum-abs' (method.md §2.1) */
  saliencyAggregation: ChannelReduction;
  /** Class whose logit is differentiated: the true label or the predicted class.
   *  @default 'label' (method.md §2.1: "true-class logit") */
  saliencyTarget: TargetMode;
  /** Source of the mask's map. 'fresh': vanilla gradient at every visit (method.md §2.1).
   *  'previous-visit': the same map, recomputed only when it is `saliencyRefreshEpochs` old and
   *  reused (as exact pixel ranks) in between. 'train-backward': |∂L_train/∂x| from the sample's
   *  previous training backward pass (see _mask-source.ts for what this map is and is not). With
   *  `augment`, both cached maps are carried from the previous visit's crop/flip to the current
   *  one (pixels without an old score rank lowest); data that augments without declaring how is
   *  refused for them. @default 'fresh' (method.md §2.1) */
  saliencySource: SaliencySource;
  /** For 'previous-visit': a cached map is reused until it is this many epochs old (1 = fresh
   *  every epoch). @default 2 (halves the saliency passes) */
  saliencyRefreshEpochs: number;
  /** Memory cap of the per-sample map cache of 'previous-visit' / 'train-backward' (pixel ranks,
   *  2 bytes per pixel up to 256×256 images, else 4). Exceeding it is a ConfigError at
   *  construction. @default 1024 (MiB; CIFAR-10 needs 100) */
  saliencyCacheMiB: number;

  // ---- 4. loss ------------------------------------------------------------------------------
  /** 'clean+adv': CE(f(x)) + λ·CE(f(x_adv)); 'adv-only': CE(f(x_adv));
   *  'clean+kl': CE(f(x)) + λ·KL(softmax f(x) ‖ softmax f(x_adv)). @default 'clean+adv' (method.md §2.4) */
  loss: ScaatLoss;
  /** λ, weight of the adversarial term. @default 1 (method.md §2.4) */
  lambda: number;

  // ---- 5. ratio search ----------------------------------------------------------------------
  /** How q_i moves at each visit after warm-up (README "The q_i search"). 'ramp': the poster's rule,
   *  q_i + γ if the masked attack failed (f(x_adv) predicts y_i), − γ if it succeeded, clipped to
   *  [q_min, q_max]. 'bisect': each sample keeps a bracket [lo_i, hi_i] (initially [q_min, q_max]):
   *  a failure at q sets lo_i = q, a success hi_i = q, and the next q_i is the midpoint; the bracket
   *  stays at least 2γ wide, from where each visit moves q_i by ±γ as the ramp does (so q_i follows
   *  the boundary as the model changes; γ = 0: plain bisection, which stops once converged).
   *  @default 'ramp' (method.md §2.5) */
  ratioSearch: RatioSearch;
  /** q_init, initial irrelevant-feature ratio of every sample. @default 0.5 (method.md §2.5) */
  ratioInit: number;
  /** q_min. @default 0.05 (method.md §2.5) */
  ratioMin: number;
  /** q_max. @default 0.95 (method.md §2.5) */
  ratioMax: number;
  /** γ, step of the q_i search per visit (one visit per epoch), in [0, 1]; for 'bisect', half the
   *  bracket's minimum width. 'auto' scales it to the run's length: γ = (q_max − q_min)/(epochs −
   *  warmupEpochs), rounded up to the 1e-6 grid, so q_i can cross [q_min, q_max] within the epochs
   *  after warm-up (from q_init = 0.5 with the default range: in half of them); see
   *  {@link effectiveRatioStep}. @default 0.02 (method.md §2.5) */
  ratioStep: number | 'auto';
  /** N_warm-up in epochs: q_i is kept during epochs 0 … N−1 (the poster counts iterations; method.md
   *  §2.5 counts epochs). @default 2 (method.md §2.5) */
  warmupEpochs: number;
  /** Prediction on x_adv that moves q_i: the training-mode forward of the loss (free, parameters
   *  before the update) or an extra inference-mode forward after the update.
   *  @default 'training-pass' (no extra pass; the poster does not say) */
  ratioFeedback: RatioFeedback;
  /** Bins of the q_i histogram on [0, 1] in the per-epoch log. @default 20 */
  ratioHistogramBins: number;
}

/** The defaults of method.md §2 (see each field's doc for the source). */
export const DEFAULT_SCAAT_CONFIG: Readonly<ScaatConfig> = Object.freeze({
  attack: 'pgd',
  epsilon: 8 / 255,
  alpha: 'auto',
  steps: 7,
  randomStart: true,
  validBox: 'project',
  remaskEveryAttackStep: false,
  saliencyAggregation: 'sum-abs',
  saliencyTarget: 'label',
  saliencySource: 'fresh',
  saliencyRefreshEpochs: 2,
  saliencyCacheMiB: 1024,
  loss: 'clean+adv',
  lambda: 1,
  ratioSearch: 'ramp',
  ratioInit: 0.5,
  ratioMin: 0.05,
  ratioMax: 0.95,
  ratioStep: 0.02,
  warmupEpochs: 2,
  ratioFeedback: 'training-pass',
  ratioHistogramBins: 20,
});

/** Closed sets of the string-valued keys. */
const CHOICES: Readonly<Partial<Record<keyof ScaatConfig, readonly string[]>>> = {
  attack: [...ATTACKS.keys()],
  validBox: VALID_BOX_MODES,
  saliencyAggregation: ['sum-abs', 'max-abs', 'mean', 'sum'],
  saliencyTarget: ['label', 'predicted'],
  saliencySource: ['fresh', 'previous-visit', 'train-backward'],
  loss: ADVERSARIAL_LOSSES,
  ratioFeedback: ['training-pass', 'post-step-inference'],
  ratioSearch: ['ramp', 'bisect'],
};

/** The step size the attack uses: `alpha`, or its 'auto' value (see {@link ScaatConfig.alpha}). */
export function effectiveAlpha(config: Pick<ScaatConfig, 'alpha' | 'attack' | 'epsilon'>): number {
  if (config.alpha !== 'auto') return config.alpha;
  return config.attack === 'fgsm-rs' ? 1.25 * config.epsilon : config.epsilon / 4;
}

/**
 * γ the ratio search uses: `ratioStep`, or its 'auto' value (q_max − q_min)/max(1, epochs −
 * warmupEpochs) rounded up to the 1e-6 grid (see {@link ScaatConfig.ratioStep}).
 * @throws ConfigError for 'auto' without `epochs` (an integer ≥ 1).
 * @example
 * effectiveRatioStep({ ratioStep: 'auto', ratioMin: 0.05, ratioMax: 0.95, warmupEpochs: 2 }, 7); // 0.18
 */
export function effectiveRatioStep(
  config: Pick<ScaatConfig, 'ratioStep' | 'ratioMin' | 'ratioMax' | 'warmupEpochs'>,
  epochs?: number,
): number {
  if (config.ratioStep !== 'auto') return config.ratioStep;
  if (epochs === undefined || !(Number.isInteger(epochs) && epochs >= 1)) {
    throw new ConfigError(
      `scaat config: 'ratioStep' 'auto' scales γ to the run's length and needs the run's number of epochs (createScaatTrainer's 'epochs'), an integer ≥ 1; got ${String(epochs)}`,
    );
  }
  // integer micro-units: the range is on the 1e-6 grid, and rounding up lets q_i cross it in time
  const units = Math.round((config.ratioMax - config.ratioMin) * 1e6);
  return Math.ceil(units / Math.max(1, epochs - config.warmupEpochs)) / 1e6;
}

/** Attack iterations actually run: `steps` for PGD, 1 for FGSM-RS. */
export function effectiveSteps(config: Pick<ScaatConfig, 'attack' | 'steps'>): number {
  return config.attack === 'fgsm-rs' ? 1 : config.steps;
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
  const out: Record<string, unknown> = { ...DEFAULT_SCAAT_CONFIG };
  for (const layer of layers) {
    if (layer === undefined) continue;
    for (const [key, raw] of Object.entries(layer)) {
      if (!Object.hasOwn(DEFAULT_SCAAT_CONFIG, key)) {
        throw new ConfigError(
          `${where}: unknown key '${key}'; expected one of ${Object.keys(DEFAULT_SCAAT_CONFIG).join(', ')}`,
        );
      }
      if (raw === undefined) continue;
      out[key] = coerce(where, key as keyof ScaatConfig, raw);
    }
  }
  const cfg = out as unknown as ScaatConfig;
  validate(where, cfg);
  return cfg;
}

function coerce(where: string, key: keyof ScaatConfig, raw: unknown): unknown {
  const def = DEFAULT_SCAAT_CONFIG[key];
  const choices = CHOICES[key];
  if (choices) {
    if (typeof raw !== 'string' || !choices.includes(raw)) {
      throw new ConfigError(`${where}: '${key}' must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${show(raw)}`);
    }
    return raw;
  }
  if ((key === 'alpha' || key === 'ratioStep') && raw === 'auto') return raw;
  if (typeof def === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    if (raw === 'true' || raw === 'false') return raw === 'true';
    throw new ConfigError(`${where}: '${key}' must be a boolean, got ${show(raw)}`);
  }
  // numbers (alpha, ratioStep: number or 'auto')
  const n = readNumber(raw);
  if (n === undefined) {
    const what = key === 'alpha' || key === 'ratioStep' ? "a finite number or 'auto'" : 'a finite number';
    throw new ConfigError(`${where}: '${key}' must be ${what}, got ${show(raw)}`);
  }
  return n;
}

function show(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : JSON.stringify(v) ?? String(v);
}

function validate(where: string, c: ScaatConfig): void {
  const range = (key: keyof ScaatConfig, v: number, ok: boolean, expected: string): void => {
    if (!ok) throw new ConfigError(`${where}: '${key}' must be ${expected}, got ${v}`);
  };
  range('epsilon', c.epsilon, c.epsilon > 0 && c.epsilon <= 1, 'in (0, 1] (pixel units; 1 = unbounded inside the mask)');
  if (c.alpha !== 'auto') range('alpha', c.alpha, c.alpha > 0, '> 0');
  range('steps', c.steps, Number.isInteger(c.steps) && c.steps >= 1, 'an integer ≥ 1');
  range('saliencyRefreshEpochs', c.saliencyRefreshEpochs, Number.isInteger(c.saliencyRefreshEpochs) && c.saliencyRefreshEpochs >= 1, 'an integer ≥ 1');
  range('saliencyCacheMiB', c.saliencyCacheMiB, c.saliencyCacheMiB > 0, '> 0');
  range('lambda', c.lambda, c.lambda >= 0, '≥ 0');
  range('ratioInit', c.ratioInit, c.ratioInit >= 0 && c.ratioInit <= 1, 'in [0, 1]');
  range('ratioMin', c.ratioMin, c.ratioMin >= 0 && c.ratioMin <= 1, 'in [0, 1]');
  range('ratioMax', c.ratioMax, c.ratioMax >= 0 && c.ratioMax <= 1, 'in [0, 1]');
  if (c.ratioStep !== 'auto') range('ratioStep', c.ratioStep, c.ratioStep >= 0 && c.ratioStep <= 1, "in [0, 1] or 'auto'");
  range('warmupEpochs', c.warmupEpochs, Number.isInteger(c.warmupEpochs) && c.warmupEpochs >= 0, 'an integer ≥ 0');
  range('ratioHistogramBins', c.ratioHistogramBins, Number.isInteger(c.ratioHistogramBins) && c.ratioHistogramBins >= 1, 'an integer ≥ 1');
  if (c.ratioMin > c.ratioMax) {
    throw new ConfigError(`${where}: 'ratioMin' (${c.ratioMin}) must be ≤ 'ratioMax' (${c.ratioMax})`);
  }
  if (c.attack === 'fgsm-rs' && !c.randomStart) {
    throw new ConfigError(`${where}: 'randomStart' must be true with attack 'fgsm-rs' (FGSM with random start), got false`);
  }
  if (c.saliencySource === 'train-backward' && c.loss === 'adv-only') {
    throw new ConfigError(
      `${where}: 'saliencySource' 'train-backward' needs a clean-input loss term (the adversarial input is a constant), but 'loss' is 'adv-only'`,
    );
  }
  if (c.remaskEveryAttackStep && c.saliencySource !== 'fresh') {
    throw new ConfigError(
      `${where}: 'remaskEveryAttackStep' recomputes fresh saliency in the attack; it needs 'saliencySource' 'fresh', got '${c.saliencySource}'`,
    );
  }
}

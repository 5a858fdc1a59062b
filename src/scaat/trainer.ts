/**
 * The SCAAT trainer (Xu et al., BMVC 2023; method.md §2) on the shared training loop's
 * {@link Trainer} contract. Reads top to bottom, numbered as in the code:
 *
 *   1. build: resolve the config (defaults ← preset ← flags), the q_i state (IrrelevantRatios,
 *      with 'bisect' its brackets), the attack, and the mask source of `saliencySource`
 *      (_mask-source.ts: 'fresh', 'previous-visit' or 'train-backward'; a cached source checks its
 *      map cache against `saliencyCacheMiB` and refuses undeclared augmentation)
 *   2. per step, in this order (method.md §2's steps 1, 2, 3–6, 7, 8, then the totals):
 *      2.1 gather q_b
 *      2.2 the mask source: the batch's cached ranks, or none (fresh saliency)
 *      2.3 scaatStep: saliency → mask → masked attack → CE(f(x)) + λ·CE(f(x_adv)) → one update
 *      2.4 the mask source keeps this visit's map for the next visit (cached sources)
 *      2.5 ratio search on every sample ('ramp' or 'bisect', γ fixed or scaled to the run's
 *          epochs: config.ts `ratioSearch`, `ratioStep`)
 *      2.6 the epoch's running totals (EpochTotals)
 *   3. per epoch: the q_i distribution (mean, quantiles, histogram), adversarial and clean
 *      accuracy, the share of fresh-saliency batches, and the share of q_i at q_min / q_max
 *      (which regime the search is in, method.md §2 pilot)
 *   4. state: q_i (Float32Array), with 'bisect' the brackets (qLow, qHigh), the epoch's running
 *      totals (epochTotals), the mask source's cached maps (saliencyRanks, saliencyRanksEpoch)
 *      and the kept attack directions (attackSigns, attackSignsEpoch) for checkpoints;
 *      `irrelevantRatios()` for the final q_i
 *
 * Resuming: all of it is restored exactly, so a resumed run continues bit for bit whatever the
 * options (the cached maps and directions can be 100s of MiB: CIFAR-10 100 + 146 MiB per checkpoint).
 *
 * @example
 * const trainer = createScaatTrainer({ trainSize: dataset.size, config: { epsilon: 0.3 } });
 * // the loop calls trainer.step({x, y, index}, ctx) per batch and trainer.epochSummary(epoch) per epoch;
 * const q = trainer.irrelevantRatios(); // q_i by dataset index (io/npy.ts writeNpy saves it as .npy)
 */
import { ConfigError, DataError, ShapeError } from '../errors.js';
import type { TrainerSpec } from '../train/registry.js';
import type { StepContext, StepInput, StepMetrics, Trainer, TrainerState } from '../train/types.js';
import type { ScaatConfig } from './config.js';
import { SCAAT_CONFIG_SCHEMA, effectiveAlpha, effectiveRatioStep, effectiveSteps, resolveScaatConfig, resolveScaatConfigAt } from './config.js';
import { IrrelevantRatios } from './sample-state.js';
import type { RatioSummary } from './sample-state.js';
import { createScaatAttack, createSearchProbe, scaatStep } from './step.js';
import type { ScaatStepResult } from './step.js';
import { createMaskSource } from './_mask-source.js';
import type { AugmentationDraws } from './_mask-source.js';
import { GradientSignCache } from '../train/_gradient-signs.js';
import { describeArray, undeclaredAugmentationError } from '../train/_per-sample.js';

/** Options of {@link createScaatTrainer}. */
export interface ScaatTrainerOptions {
  /** Number of samples trained on (the length of q; the loop's StepInput.index runs over 0..trainSize−1). */
  readonly trainSize: number;
  /** Config layers over the defaults (plain objects, e.g. a preset then CLI flags); see {@link ScaatConfig}. */
  readonly config?: Readonly<Record<string, unknown>> | ReadonlyArray<Readonly<Record<string, unknown>>>;
  /** [H, W, C] of the images: lets the map-cache budget be checked at construction, not at the first step. */
  readonly inputShape?: readonly [number, number, number];
  /** The run's number of epochs: needed for `ratioStep` 'auto' (γ scaled to the run's length). */
  readonly epochs?: number;
  /** The loop's `cleanEpochs` (its first epochs take the regular step, not this trainer's): 'auto' γ leaves them out. @default 0 */
  readonly cleanEpochs?: number;
  /**
   * How the training batches are augmented, when they are (the loop's `augment`): the dataset's
   * augmentation and the seed of its draws (drawAugmentation(augmentation, seed, epoch, index)), so
   * that cached maps follow each image's crop/flip; null when batches are augmented in a way the
   * trainer is not told ('previous-visit' and 'train-backward' then refuse). Absent: not augmented.
   */
  readonly augmentation?: AugmentationDraws | null;
}

/** The per-epoch log record of SCAAT (returned by `epochSummary`). */
export interface ScaatEpochSummary {
  /** Distribution of q_i over the training set after this epoch's updates. */
  readonly q: RatioSummary;
  /** Share of samples with q_i = q_max and q_i = q_min (climbing to q_max: the masked attack rarely succeeds). */
  readonly qAtMax: number;
  readonly qAtMin: number;
  /** Adversarial accuracy over the epoch's steps (the ratio search's feedback). */
  readonly advAcc: number;
  /** Clean accuracy over the epoch's steps (training forward). */
  readonly acc: number;
  /** Whether q_i was frozen this epoch (epoch < warmupEpochs). */
  readonly warmup: boolean;
  /** Share of batches that ran a fresh saliency pass (1 for 'fresh'). */
  readonly freshSaliency: number;
  /** Samples seen this epoch. */
  readonly samples: number;
}

/** A SCAAT {@link Trainer} with its resolved config and the q_i state. */
export interface ScaatTrainer extends Trainer {
  readonly name: 'scaat';
  /** The resolved configuration (for results.json). */
  readonly config: ScaatConfig;
  /** Derived quantities worth logging once: effective α and attack steps, passes per step, effective γ. */
  readonly derived: { readonly alpha: number; readonly attackSteps: number; readonly passesPerStep: number; readonly ratioStep: number };
  /** A copy of q_i for the whole training split (for the final .npy file). */
  irrelevantRatios(): Float32Array;
  getState(): TrainerState;
  setState(state: TrainerState): void;
  epochSummary(epoch: number): ScaatEpochSummary & Record<string, unknown>;
}

/**
 * Builds the SCAAT trainer.
 * @throws ConfigError for an invalid config (named key), a map cache over `saliencyCacheMiB`, or a
 *   cached map source with augmented batches whose augmentation is not given.
 */
export function createScaatTrainer(options: ScaatTrainerOptions): ScaatTrainer {
  // 1) config, the q_i state, the attack and the mask source
  const layers = Array.isArray(options.config) ? options.config : [options.config as Readonly<Record<string, unknown>> | undefined];
  const config = resolveScaatConfig(...layers);
  const attackSteps = effectiveSteps(config);
  const alpha = effectiveAlpha(config);
  const ratioStep = effectiveRatioStep(config, options.epochs, options.cleanEpochs);
  const bisect = config.ratioSearch === 'bisect';
  const ratios = new IrrelevantRatios(options.trainSize, config.ratioInit, bisect ? { lo: config.ratioMin, hi: config.ratioMax } : undefined);
  const attack = createScaatAttack(config);
  // ratioSearchEpsilon: the stronger attack whose outcome moves q_i, run only once q_i moves
  const probe = createSearchProbe(config);
  const source = createMaskSource(config, options);
  // attackGradient 'train-backward': each sample's FGSM-RS direction from its previous training backward
  let signs: GradientSignCache | undefined;
  if (config.attackGradient === 'train-backward') {
    if (options.augmentation === null) throw undeclaredAugmentationError('scaat config', 'attackGradient', 'train-backward', 'attack direction');
    signs = new GradientSignCache(options.trainSize, config.attackGradientCacheMiB, 'scaat config', options.augmentation);
    if (options.inputShape) signs.ensure(...options.inputShape);
  }
  const derived = {
    alpha,
    attackSteps,
    // 1 saliency (fresh) + K attack (0 along kept signs) (+ K − 1 saliency when re-masking) + 2 training forwards
    // (1 for 'adv-only', plus the inference forward that measures clean accuracy);
    // (+ K probe + 1 inference forward after warm-up with ratioSearchEpsilon);
    // sharedBackward: the 2 training passes only (train/_shared-pass.ts)
    passesPerStep: config.sharedBackward
      ? 2
      : source.saliencyPasses + (signs ? 0 : attackSteps) + (config.remaskEveryAttackStep ? attackSteps - 1 : 0) + (config.loss === 'adv-only' ? 1 : 2) + (probe ? attackSteps + 1 : 0),
    ratioStep,
  };
  const searchParams = { warmupEpochs: config.warmupEpochs, ratioStep, ratioMin: config.ratioMin, ratioMax: config.ratioMax };
  let totals = new EpochTotals();

  return {
    name: 'scaat',
    config,
    derived,

    // 2) one step
    step(input: StepInput, ctx: StepContext): StepMetrics {
      const { x, y, index } = input;
      const [batch, h, w] = x.shape;
      if (index.length !== batch) {
        throw new ShapeError(`scaat trainer: expected ${batch} sample indices, got ${index.length}`);
      }
      // 2.1) the batch's q_b
      const q = ratios.gather(index);
      // 2.2) the mask's source: cached ranks of an earlier visit, or none (fresh saliency)
      const mask = source.request(index, ctx.epoch, h, w);
      // 2.3) saliency → mask → masked attack → CE(f(x)) + λ·CE(f(x_adv)) → one update (step.ts)
      const searching = probe && ctx.epoch >= config.warmupEpochs ? { probe } : {};
      // 2.2b) the kept attack direction of every sample of the batch, or none (the attack's own pass)
      signs?.ensure(h, w, x.shape[3]);
      const kept = signs?.lookup(index, ctx.epoch);
      const direction = signs ? { returnAttackGradient: true, ...(kept ? { attackSigns: kept } : {}) } : {};
      const r = scaatStep({ classifier: ctx.classifier, optimizer: ctx.optimizer, x, y, ratios: q, config, attack, seed: ctx.rng.nextSeed(), ...mask, ...searching, ...direction });
      // 2.4) the source keeps this visit's map for the next visit
      source.remember(index, r, ctx.epoch);
      if (signs && r.attackGradient) signs.store(index, r.attackGradient, ctx.epoch);
      // 2.5) ratio search for every sample of the batch
      ratios.update(index, r.advCorrect, ctx.epoch, searchParams);
      // 2.6) the epoch's running totals
      totals.add(batch, r);
      return { loss: r.loss, acc: r.acc, advAcc: r.advAcc, q: r.q, maskFraction: r.maskFraction, freshSaliency: r.freshSaliency, ...(signs ? { freshAttack: r.freshAttack } : {}) };
    },

    // 3) per-epoch log record
    epochSummary(epoch: number) {
      const q = ratios.summarize(config.ratioHistogramBins);
      const all = ratios.getState();
      let atMax = 0;
      let atMin = 0;
      const tol = 5e-7;
      for (let i = 0; i < all.length; i++) {
        if (Math.abs(all[i]! - config.ratioMax) < tol) atMax++;
        if (Math.abs(all[i]! - config.ratioMin) < tol) atMin++;
      }
      const t = totals.rates();
      const summary: ScaatEpochSummary = {
        q,
        qAtMax: atMax / all.length,
        qAtMin: atMin / all.length,
        advAcc: t.advAcc,
        acc: t.acc,
        warmup: epoch < config.warmupEpochs,
        freshSaliency: t.freshSaliency,
        samples: t.samples,
      };
      totals = new EpochTotals();
      return { ...summary };
    },

    // 4) state
    irrelevantRatios: () => ratios.getState(),
    // q_i (with 'bisect' its brackets), this epoch's running totals (a mid-epoch checkpoint resumes the epoch's summary), the mask source's part
    getState: () => {
      const brackets = ratios.getBrackets();
      return {
        q: ratios.getState(),
        ...(brackets ? { qLow: brackets.lo, qHigh: brackets.hi } : {}),
        epochTotals: totals.getState(),
        ...source.getState(),
        ...signs?.getState(),
      };
    },
    setState(state: TrainerState) {
      const floats = (key: string): Float32Array | undefined => {
        const v = state[key];
        if (v !== undefined && !(v instanceof Float32Array)) throw new DataError(`scaat trainer: checkpoint state '${key}' should be float32, found ${describeArray(v)}`);
        return v;
      };
      const q = floats('q');
      if (!q) throw new ConfigError(`scaat trainer: checkpoint state has no 'q' (irrelevant-feature ratios); keys: ${Object.keys(state).join(', ') || 'none'}`);
      const [lo, hi] = [floats('qLow'), floats('qHigh')];
      if (bisect ? !(lo && hi) : Boolean(lo || hi)) {
        const found = `keys: ${Object.keys(state).join(', ')}`;
        throw new ConfigError(
          bisect
            ? `scaat trainer: ratioSearch 'bisect' needs its brackets 'qLow' and 'qHigh' in the checkpoint state; ${found}`
            : `scaat trainer: ratioSearch 'ramp' keeps no brackets, but the checkpoint state has 'qLow'/'qHigh' (from a 'bisect' run); ${found}`,
        );
      }
      ratios.setState(q);
      if (lo && hi) ratios.setBrackets({ lo, hi });
      const t = floats('epochTotals');
      if (t && t.length === EpochTotals.LENGTH) totals = EpochTotals.fromState(t);
      source.setState(state);
      signs?.setState(state);
    },
  };
}

/**
 * The epoch's running totals over its steps, for its summary; checkpointed as 'epochTotals'
 * [samples, adversarially correct, clean correct, batches, batches with fresh saliency].
 */
class EpochTotals {
  static readonly LENGTH = 5;
  private samples = 0;
  private advCorrect = 0;
  private cleanCorrect = 0;
  private batches = 0;
  private freshBatches = 0;

  static fromState(t: Float32Array): EpochTotals {
    const totals = new EpochTotals();
    [totals.samples, totals.advCorrect, totals.cleanCorrect, totals.batches, totals.freshBatches] = [t[0]!, t[1]!, t[2]!, t[3]!, t[4]!];
    return totals;
  }

  /** Adds one step of `batch` samples. */
  add(batch: number, r: Pick<ScaatStepResult, 'advAcc' | 'acc' | 'freshSaliency'>): void {
    this.samples += batch;
    this.advCorrect += r.advAcc * batch;
    this.cleanCorrect += r.acc * batch;
    this.batches += 1;
    this.freshBatches += r.freshSaliency;
  }

  /** The epoch's accuracies and share of fresh-saliency batches (NaN before any step). */
  rates(): Pick<ScaatEpochSummary, 'advAcc' | 'acc' | 'freshSaliency' | 'samples'> {
    return {
      advAcc: this.samples > 0 ? this.advCorrect / this.samples : NaN,
      acc: this.samples > 0 ? this.cleanCorrect / this.samples : NaN,
      freshSaliency: this.batches > 0 ? this.freshBatches / this.batches : NaN,
      samples: this.samples,
    };
  }

  getState(): Float32Array {
    return Float32Array.from([this.samples, this.advCorrect, this.cleanCorrect, this.batches, this.freshBatches]);
  }
}

/**
 * The registry entry of the SCAAT trainer for the shared loop (train/registry.ts `TrainerSpec`):
 * `withTrainers(BASELINE_TRAINERS, [['scaat', SCAAT_TRAINER_SPEC]])`. Options are {@link ScaatConfig} keys
 * under `trainerOptions.scaat`.
 */
export const SCAAT_TRAINER_SPEC: TrainerSpec = {
  label: 'SCAAT (saliency constrained adaptive adversarial training)',
  options: SCAAT_CONFIG_SCHEMA,
  resolveOptions: (raw) => ({ ...resolveScaatConfigAt('trainerOptions.scaat', [raw]) }),
  extensionDiffers: (options) => (options['ratioStep'] === 'auto' ? "ratioStep 'auto' scales γ to the run's epochs" : undefined),
  create: ({ options, trainSize, inputShape, config, augmentation }) =>
    createScaatTrainer({
      trainSize,
      inputShape,
      epochs: config.epochs,
      cleanEpochs: config.cleanEpochs,
      config: options,
      // the loop's batches: the dataset's augmentation drawn from the run's seed (loop.ts)
      ...(config.augment ? { augmentation: augmentation ? { augmentation, seed: config.seed } : null } : {}),
    }),
};

/**
 * The SCAAT trainer (Xu et al., BMVC 2023; method.md §2) on the shared training loop's
 * {@link Trainer} contract. Reads top to bottom:
 *
 *   1. resolve the config (defaults ← preset ← flags) and check the map cache fits its budget
 *   2. per step: gather q_b → mask source (fresh saliency or cached ranks) → scaatStep
 *      → cache the map for the next visit (cheap variants) → ratio search on every sample
 *      ('ramp' or 'bisect', γ fixed or scaled to the run's epochs: config.ts `ratioSearch`, `ratioStep`)
 *   3. per epoch: the q_i distribution (mean, quantiles, histogram), adversarial accuracy, and
 *      the share of q_i at q_min / q_max (which regime the search is in, method.md §2 pilot)
 *   4. state: q_i (Float32Array), with 'bisect' the brackets (qLow, qHigh), and the epoch's running
 *      totals for checkpoints; `irrelevantRatios()` for the final q_i
 *
 * Resuming: q_i (with 'bisect' its brackets) and the epoch totals are restored exactly, so 'fresh'
 * resumes bit for bit; the cheap variants' map cache is not checkpointed (it can be 100s of MiB), so their first visit
 * after a resume computes fresh saliency.
 *
 * Cheap variants (`saliencySource`):
 * - 'fresh' (default): the mask's vanilla gradient is computed at every visit (1 extra pass).
 * - 'previous-visit': the same map, computed at a visit and reused at the sample's following
 *   visits until it is `saliencyRefreshEpochs` epochs old (default 2: every other epoch skips the
 *   saliency pass). What is cached is each pixel's rank by (score, flat index), 2 bytes per pixel
 *   (4 above 256×256), so the cached mask for any q is exactly what the old map would give; the
 *   cache is N·H·W·2 bytes (CIFAR-10: 100 MiB) and is bounded by `saliencyCacheMiB`.
 * - 'train-backward': the map is |∂L/∂x| (channels reduced the same way) from the sample's
 *   previous training backward pass, where it costs only the input gradient of the first layer.
 *   What it is: ∂CE/∂x = Σ_c (p_c − [c = y]) ∂z_c/∂x, the loss gradient, not the true-class logit
 *   gradient: it mixes in the competing classes, it is taken in training mode (dropout, batch
 *   statistics) and with the parameters of one epoch earlier, and its scale shrinks as p_y → 1 —
 *   ranks ignore scale, but a saturated softmax gives an all-zero map, which is not cached (the
 *   next visit computes fresh saliency). Only the clean term CE(f(x)) (and the KL term) depend on
 *   x, since x_adv is a constant; hence it needs a clean loss term ('adv-only' is rejected).
 *   A first visit (nothing cached) and a visit after a resumed checkpoint use fresh saliency.
 *
 * Augmentation: a cached map was made on the random crop/flip the sample had at that visit. When
 * the batches are augmented (`augment`), the ranks are carried to the current visit's crop/flip
 * (the inverse of the old draw, then the new one; both are pure functions of (seed, epoch, index),
 * datasets/transforms.ts), so the mask stays on the same image content; pixels with no old score
 * (zero padding, or cropped out at the old visit) rank lowest (_carry-ranks.ts). Augmented batches
 * whose augmentation the trainer is not told (`augmentation: null`) are refused for these variants.
 *
 * @example
 * const trainer = createScaatTrainer({ trainSize: dataset.size, config: { epsilon: 0.3 } });
 * // the loop calls trainer.step({x, y, index}, ctx) per batch and trainer.epochSummary(epoch) per epoch;
 * const q = trainer.irrelevantRatios(); // q_i by dataset index (io/npy.ts writeNpy saves it as .npy)
 */
import { saliencyRanks } from '../attacks/masks.js';
import { drawAugmentation } from '../datasets/transforms.js';
import type { Augmentation } from '../datasets/transforms.js';
import { ConfigError, ShapeError } from '../errors.js';
import type { TrainerSpec } from '../train/registry.js';
import type { StepContext, StepInput, StepMetrics, Trainer } from '../train/types.js';
import type { ScaatConfig } from './config.js';
import { DEFAULT_SCAAT_CONFIG, effectiveAlpha, effectiveRatioStep, effectiveSteps, resolveScaatConfig, resolveScaatConfigAt } from './config.js';
import { IrrelevantRatios } from './sample-state.js';
import type { RatioSummary } from './sample-state.js';
import { createScaatAttack, scaatStep } from './step.js';
import { RankCarrier } from './_carry-ranks.js';

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
  /**
   * How the training batches are augmented, when they are (the loop's `augment`): the dataset's
   * augmentation and the seed of its draws (drawAugmentation(augmentation, seed, epoch, index)), so
   * that cached maps follow each image's crop/flip; null when batches are augmented in a way the
   * trainer is not told ('previous-visit' and 'train-backward' then refuse). Absent: not augmented.
   */
  readonly augmentation?: { readonly augmentation: Augmentation; readonly seed: number } | null;
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
  getState(): Record<string, Float32Array>;
  setState(state: Record<string, Float32Array>): void;
  epochSummary(epoch: number): ScaatEpochSummary & Record<string, unknown>;
}

/**
 * Builds the SCAAT trainer.
 * @throws ConfigError for an invalid config (named key), a map cache over `saliencyCacheMiB`, or a
 *   cached map source with augmented batches whose augmentation is not given.
 */
export function createScaatTrainer(options: ScaatTrainerOptions): ScaatTrainer {
  // 1) config and derived quantities
  const layers = Array.isArray(options.config) ? options.config : [options.config as Readonly<Record<string, unknown>> | undefined];
  const config = resolveScaatConfig(...layers);
  const attackSteps = effectiveSteps(config);
  const derived = {
    alpha: effectiveAlpha(config),
    attackSteps,
    // 1 saliency (fresh) + K attack (+ K − 1 saliency when re-masking) + 2 training forwards
    passesPerStep: (config.saliencySource === 'fresh' ? 1 : 0) + attackSteps + (config.remaskEveryAttackStep ? attackSteps - 1 : 0) + 2,
    ratioStep: effectiveRatioStep(config, options.epochs),
  };
  const bisect = config.ratioSearch === 'bisect';
  const ratios = new IrrelevantRatios(options.trainSize, config.ratioInit, bisect ? { lo: config.ratioMin, hi: config.ratioMax } : undefined);
  const attack = createScaatAttack(config);
  if (config.saliencySource !== 'fresh' && options.augmentation === null) {
    throw new ConfigError(
      `scaat config: 'saliencySource' '${config.saliencySource}' reuses each sample's map from its previous visit, but 'augment' is on and the ` +
        "training data does not declare its augmentation (Dataset.augmentation), so the map cannot follow the image's crop/flip; " +
        "use saliencySource 'fresh' or augment false",
    );
  }
  const cache =
    config.saliencySource === 'fresh' ? undefined : new MapCache(options.trainSize, config.saliencyCacheMiB, options.augmentation ?? undefined);
  if (cache && options.inputShape) cache.ensure(options.inputShape[0], options.inputShape[1]);
  const searchParams = {
    warmupEpochs: config.warmupEpochs,
    ratioStep: derived.ratioStep,
    ratioMin: config.ratioMin,
    ratioMax: config.ratioMax,
  };
  let acc = { samples: 0, advCorrect: 0, cleanCorrect: 0, batches: 0, freshBatches: 0 };

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
      const q = ratios.gather(index);
      const numPixels = h * w;
      cache?.ensure(h, w);
      const cached =
        config.saliencySource === 'previous-visit'
          ? cache!.lookup(index, (age) => age < config.saliencyRefreshEpochs, ctx.epoch)
          : config.saliencySource === 'train-backward'
            ? cache!.lookup(index, () => true, ctx.epoch)
            : undefined;
      const r = scaatStep({
        classifier: ctx.classifier,
        optimizer: ctx.optimizer,
        x,
        y,
        ratios: q,
        config,
        attack,
        seed: ctx.rng.nextSeed(),
        ...(cached ? { ranks: cached } : {}),
        returnRanks: config.saliencySource === 'previous-visit',
        returnInputGradient: config.saliencySource === 'train-backward',
      });
      // cheap variants: remember this visit's map for the next one
      if (config.saliencySource === 'previous-visit' && r.ranks) cache!.store(index, r.ranks, ctx.epoch);
      if (config.saliencySource === 'train-backward' && r.inputGradient) {
        const informative = informativeRows(r.inputGradient, batch, numPixels);
        cache!.store(index, saliencyRanks(r.inputGradient, batch, numPixels), ctx.epoch, informative);
      }
      // 5) ratio search for every sample of the batch
      ratios.update(index, r.advCorrect, ctx.epoch, searchParams);

      acc.samples += batch;
      acc.advCorrect += r.advAcc * batch;
      acc.cleanCorrect += r.acc * batch;
      acc.batches += 1;
      acc.freshBatches += r.freshSaliency;
      return { loss: r.loss, acc: r.acc, advAcc: r.advAcc, q: r.q, maskFraction: r.maskFraction, freshSaliency: r.freshSaliency };
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
      const summary: ScaatEpochSummary = {
        q,
        qAtMax: atMax / all.length,
        qAtMin: atMin / all.length,
        advAcc: acc.samples > 0 ? acc.advCorrect / acc.samples : NaN,
        acc: acc.samples > 0 ? acc.cleanCorrect / acc.samples : NaN,
        warmup: epoch < config.warmupEpochs,
        freshSaliency: acc.batches > 0 ? acc.freshBatches / acc.batches : NaN,
        samples: acc.samples,
      };
      acc = { samples: 0, advCorrect: 0, cleanCorrect: 0, batches: 0, freshBatches: 0 };
      return { ...summary };
    },

    // 4) state
    irrelevantRatios: () => ratios.getState(),
    // q_i (with 'bisect' its brackets), and this epoch's running totals (a mid-epoch checkpoint resumes the epoch's summary)
    getState: () => {
      const brackets = ratios.getBrackets();
      return {
        q: ratios.getState(),
        ...(brackets ? { qLow: brackets.lo, qHigh: brackets.hi } : {}),
        epochTotals: Float32Array.from([acc.samples, acc.advCorrect, acc.cleanCorrect, acc.batches, acc.freshBatches]),
      };
    },
    setState(state: Record<string, Float32Array>) {
      const q = state['q'];
      if (!q) throw new ConfigError(`scaat trainer: checkpoint state has no 'q' (irrelevant-feature ratios); keys: ${Object.keys(state).join(', ') || 'none'}`);
      const [lo, hi] = [state['qLow'], state['qHigh']];
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
      const t = state['epochTotals'];
      if (t && t.length === 5) {
        acc = { samples: t[0]!, advCorrect: t[1]!, cleanCorrect: t[2]!, batches: t[3]!, freshBatches: t[4]! };
      }
      cache?.clear(); // maps are not checkpointed: the next visits compute fresh saliency
    },
  };
}

/** Per sample, whether its map is informative (not constant); a constant map ranks by index only. */
function informativeRows(scores: Float32Array, batch: number, numPixels: number): Uint8Array {
  const ok = new Uint8Array(batch);
  for (let b = 0; b < batch; b++) {
    const base = b * numPixels;
    const first = scores[base]!;
    for (let p = 1; p < numPixels; p++) {
      if (scores[base + p] !== first) {
        ok[b] = 1;
        break;
      }
    }
  }
  return ok;
}

/**
 * Pixel ranks of each sample's last map (see attacks/masks.ts `saliencyRanks`) and the epoch
 * they were made in (−1: none), on the view (crop/flip) the sample had then; lookups carry them to
 * the current epoch's view when batches are augmented. Allocated at the first step, when H×W is known.
 */
class MapCache {
  private ranks: Uint16Array | Uint32Array | undefined;
  private readonly madeIn: Int32Array;
  private numPixels = 0;
  private carrier: RankCarrier | undefined;

  constructor(
    private readonly size: number,
    private readonly budgetMiB: number,
    private readonly augmented: { readonly augmentation: Augmentation; readonly seed: number } | undefined,
  ) {
    this.madeIn = new Int32Array(size).fill(-1);
  }

  ensure(h: number, w: number): void {
    const numPixels = h * w;
    if (this.ranks) {
      if (numPixels !== this.numPixels) {
        throw new ShapeError(`scaat trainer: images changed from ${this.numPixels} to ${numPixels} pixels between steps`);
      }
      return;
    }
    const bytes = numPixels <= 65536 ? 2 : 4;
    const mib = (this.size * numPixels * bytes) / 2 ** 20;
    if (mib > this.budgetMiB) {
      throw new ConfigError(
        `scaat config: 'saliencyCacheMiB' is ${this.budgetMiB}, but caching maps of ${this.size} samples × ${numPixels} pixels needs ${mib.toFixed(0)} MiB; raise it or use saliencySource 'fresh'`,
      );
    }
    this.numPixels = numPixels;
    this.ranks = bytes === 2 ? new Uint16Array(this.size * numPixels) : new Uint32Array(this.size * numPixels);
    if (this.augmented) this.carrier = new RankCarrier(h, w);
  }

  /**
   * The batch's cached ranks, on this epoch's views, when every sample has a map whose age passes
   * `fresh`; else undefined.
   */
  lookup(index: Int32Array, fresh: (age: number) => boolean, epoch: number): Uint16Array | Uint32Array | undefined {
    const ranks = this.ranks!;
    for (let b = 0; b < index.length; b++) {
      const made = this.madeIn[index[b]!]!;
      if (made < 0 || !fresh(epoch - made)) return undefined;
    }
    const n = this.numPixels;
    const out = ranks instanceof Uint16Array ? new Uint16Array(index.length * n) : new Uint32Array(index.length * n);
    for (let b = 0; b < index.length; b++) {
      const i = index[b]!;
      const cached = ranks.subarray(i * n, (i + 1) * n);
      if (this.carrier && this.augmented) {
        const { augmentation, seed } = this.augmented;
        const then = drawAugmentation(augmentation, seed, this.madeIn[i]!, i);
        const now = drawAugmentation(augmentation, seed, epoch, i);
        this.carrier.carry(cached, then, now, out.subarray(b * n, (b + 1) * n));
      } else out.set(cached, b * n);
    }
    return out;
  }

  /** Stores the batch's ranks; rows with valid[b] = 0 are marked missing. */
  store(index: Int32Array, batchRanks: Uint16Array | Uint32Array, epoch: number, valid?: Uint8Array): void {
    const ranks = this.ranks!;
    const n = this.numPixels;
    for (let b = 0; b < index.length; b++) {
      const i = index[b]!;
      if (valid && !valid[b]) {
        this.madeIn[i] = -1;
        continue;
      }
      ranks.set(batchRanks.subarray(b * n, (b + 1) * n), i * n);
      this.madeIn[i] = epoch;
    }
  }

  clear(): void {
    this.madeIn.fill(-1);
  }
}

/**
 * The registry entry of the SCAAT trainer for the shared loop (train/registry.ts `TrainerSpec`):
 * `withTrainers(BASELINE_TRAINERS, [['scaat', SCAAT_TRAINER_SPEC]])`. Options are {@link ScaatConfig} keys
 * under `trainerOptions.scaat`.
 */
export const SCAAT_TRAINER_SPEC: TrainerSpec = {
  label: 'SCAAT (saliency constrained adaptive adversarial training)',
  defaults: DEFAULT_SCAAT_CONFIG,
  resolveOptions: (raw) => ({ ...resolveScaatConfigAt('trainerOptions.scaat', [raw]) }),
  create: ({ options, trainSize, inputShape, config, augmentation }) =>
    createScaatTrainer({
      trainSize,
      inputShape,
      epochs: config.epochs,
      config: options,
      // the loop's batches: the dataset's augmentation drawn from the run's seed (loop.ts)
      ...(config.augment ? { augmentation: augmentation ? { augmentation, seed: config.seed } : null } : {}),
    }),
};

/**
 * Where the mask of a SCAAT step comes from (`saliencySource`, method.md §2; internal to scaat/):
 * one {@link MaskSource} per source, chosen once by {@link createMaskSource}, each owning its map
 * cache and its part of the trainer's checkpoint state. Around each step (trainer.ts 2.2–2.4):
 *
 *   request(index, epoch, H, W)    → the batch's cached ranks (or none: the step computes fresh
 *                                    saliency) and what the step must return for the cache
 *   scaatStep(...)
 *   remember(index, result, epoch) → this visit's map, kept for the sample's next visit
 *
 * - 'fresh' (default): nothing cached; the mask's vanilla gradient is computed at every visit
 *   (1 extra pass).
 * - 'previous-visit': the same map, computed at a visit and reused at the sample's following
 *   visits until it is `saliencyRefreshEpochs` epochs old (default 2: every other epoch skips the
 *   saliency pass).
 * - 'train-backward': the map is |∂L/∂x| (channels reduced the same way) from the sample's
 *   previous training backward pass, where it costs only the input gradient of the first layer.
 *   What it is: ∂CE/∂x = Σ_c (p_c − [c = y]) ∂z_c/∂x, the loss gradient, not the true-class logit
 *   gradient: it mixes in the competing classes, it is taken in training mode (dropout, batch
 *   statistics) and with the parameters of one epoch earlier, and its scale shrinks as p_y → 1 —
 *   ranks ignore scale, but a saturated softmax gives an all-zero map, which is not cached (the
 *   next visit computes fresh saliency). Only the clean term CE(f(x)) (and the KL term) depend on
 *   x, since x_adv is a constant; with loss 'adv-only', which has no clean term, the map is
 *   |∂CE(f(x_adv))/∂x_adv| instead: the loss gradient at the training input, x perturbed inside
 *   the mask (with attack 'noise' and 'adv-only' a step is then one pass: the cheapest SCAAT).
 *
 * What the cached sources keep is each pixel's rank by (score, flat index) (attacks/masks.ts
 * `saliencyRanks`), 2 bytes per pixel (4 above 256×256), so the cached mask for any q is exactly
 * what the old map would give; the cache is N·H·W·2 bytes (CIFAR-10: 100 MiB) and is bounded by
 * `saliencyCacheMiB`. A first visit (nothing cached) uses fresh saliency.
 *
 * Augmentation: a cached map was made on the random crop/flip the sample had at that visit. When
 * the batches are augmented (`augment`), the ranks are carried to the current visit's crop/flip
 * (the inverse of the old draw, then the new one; both are pure functions of (seed, epoch, index),
 * datasets/transforms.ts), so the mask stays on the same image content; pixels with no old score
 * (zero padding, or cropped out at the old visit) rank lowest (_carry-ranks.ts). Augmented batches
 * whose augmentation the trainer is not told (`augmentation: null`) are refused for these sources.
 *
 * State: the cached sources checkpoint their ranks and the epoch of each map (`saliencyRanks`,
 * `saliencyRanksEpoch`; 100s of MiB on large sets), so a resumed run reuses the maps it had.
 */
import { saliencyRanks } from '../attacks/masks.js';
import { drawAugmentation } from '../datasets/transforms.js';
import type { Augmentation } from '../datasets/transforms.js';
import { ConfigError, DataError, ShapeError } from '../errors.js';
import { readPerSampleRows, undeclaredAugmentationError } from '../train/_per-sample.js';
import type { TrainerState } from '../train/types.js';
import type { ScaatConfig, SaliencySource } from './config.js';
import type { ScaatStepArgs, ScaatStepResult } from './step.js';
import { RankCarrier } from './_carry-ranks.js';

/** The mask arguments of one `scaatStep`: cached ranks (absent: fresh saliency) and what to return for the cache. */
export type MaskRequest = Required<Pick<ScaatStepArgs, 'returnRanks' | 'returnInputGradient'>> & Pick<ScaatStepArgs, 'ranks'>;

/** The augmentation of the training batches and the seed of its draws (drawAugmentation(augmentation, seed, epoch, index)). */
export interface AugmentationDraws {
  readonly augmentation: Augmentation;
  readonly seed: number;
}

/** One source of the masks' saliency; see the module header. */
export interface MaskSource {
  readonly name: SaliencySource;
  /** Saliency passes of a step whose batch the source serves (for `derived.passesPerStep`): 1 for 'fresh', 0 for the cached sources. */
  readonly saliencyPasses: number;
  /**
   * Before the step: the batch's ranks, on this epoch's views, when every sample has a usable
   * cached map; else none (the step computes fresh saliency).
   * @throws ShapeError when H×W differs from the previous steps'; ConfigError when the cache of
   *   H×W maps is over `saliencyCacheMiB`.
   */
  request(index: Int32Array, epoch: number, h: number, w: number): MaskRequest;
  /** After the step: keeps this visit's map (what `request` asked the step to return) for the sample's next visit. */
  remember(index: Int32Array, result: ScaatStepResult, epoch: number): void;
  /** The source's part of the checkpoint state: the cached maps (none for 'fresh'). Not copies. */
  getState(): TrainerState;
  /**
   * Restores {@link getState}'s part (the ranks array is taken, not copied); a state without it (written before maps were checkpointed)
   * leaves no map cached, so the next visits compute fresh saliency.
   * @throws DataError when the arrays' types or lengths do not fit this run's samples.
   */
  setState(state: Readonly<TrainerState>): void;
}

/** What {@link createMaskSource} needs beyond the config. */
export interface MaskSourceOptions {
  /** Number of training samples (the cache's rows, by dataset index). */
  readonly trainSize: number;
  /** [H, W, C] when known at construction: the cache's budget is checked now rather than at the first step. */
  readonly inputShape?: readonly [number, number, number];
  /** The batches' augmentation; null: augmented in a way not declared (the cached sources refuse); absent: not augmented. */
  readonly augmentation?: AugmentationDraws | null;
}

/**
 * The mask source of `config.saliencySource`.
 * @throws ConfigError for a cached source with augmented batches whose augmentation is not given
 *   (its maps could not follow the crop/flip), or, with `inputShape`, a cache over `saliencyCacheMiB`.
 */
export function createMaskSource(
  config: Pick<ScaatConfig, 'saliencySource' | 'saliencyRefreshEpochs' | 'saliencyCacheMiB'>,
  options: MaskSourceOptions,
): MaskSource {
  if (config.saliencySource === 'fresh') return FRESH;
  if (options.augmentation === null) {
    throw undeclaredAugmentationError('scaat config', 'saliencySource', config.saliencySource, 'map');
  }
  const cache = new MapCache(options.trainSize, config.saliencyCacheMiB, options.augmentation);
  if (options.inputShape) cache.ensure(options.inputShape[0], options.inputShape[1]);
  return config.saliencySource === 'previous-visit' ? previousVisit(cache, config.saliencyRefreshEpochs) : trainBackward(cache);
}

/** 'fresh': every step computes the saliency of its mask; nothing to cache or restore. */
const FRESH: MaskSource = {
  name: 'fresh',
  saliencyPasses: 1,
  request: () => ({ returnRanks: false, returnInputGradient: false }),
  remember: () => {},
  getState: () => ({}),
  setState: () => {},
};

/** 'previous-visit': the fresh map's ranks, reused while younger than `refreshEpochs` epochs. */
function previousVisit(cache: MapCache, refreshEpochs: number): MaskSource {
  return {
    name: 'previous-visit',
    saliencyPasses: 0,
    request(index, epoch, h, w) {
      cache.ensure(h, w);
      const ranks = cache.lookup(index, (age) => age < refreshEpochs, epoch);
      return { ...(ranks ? { ranks } : {}), returnRanks: true, returnInputGradient: false };
    },
    remember(index, result, epoch) {
      // present only when the step computed fresh saliency
      if (result.ranks) cache.store(index, result.ranks, epoch);
    },
    getState: () => cache.getState(),
    setState: (state) => cache.setState(state),
  };
}

/** 'train-backward': the ranks of the training backward pass's |∂L/∂x|, reused at the next visit. */
function trainBackward(cache: MapCache): MaskSource {
  return {
    name: 'train-backward',
    saliencyPasses: 0,
    request(index, epoch, h, w) {
      cache.ensure(h, w);
      const ranks = cache.lookup(index, () => true, epoch);
      return { ...(ranks ? { ranks } : {}), returnRanks: false, returnInputGradient: true };
    },
    remember(index, result, epoch) {
      if (!result.inputGradient) return;
      const [batch, numPixels] = [index.length, cache.pixels];
      cache.store(index, saliencyRanks(result.inputGradient, batch, numPixels), epoch, informativeRows(result.inputGradient, batch, numPixels));
    },
    getState: () => cache.getState(),
    setState: (state) => cache.setState(state),
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
    private readonly augmented: AugmentationDraws | undefined,
  ) {
    this.madeIn = new Int32Array(size).fill(-1);
  }

  /** H·W of the cached maps (0 before the first {@link ensure}). */
  get pixels(): number {
    return this.numPixels;
  }

  ensure(h: number, w: number): void {
    const numPixels = h * w;
    if (this.ranks && numPixels !== this.numPixels) {
      throw new ShapeError(`scaat trainer: images changed from ${this.numPixels} to ${numPixels} pixels between steps`);
    }
    if (!this.ranks) {
      const bytes = numPixels <= 65536 ? 2 : 4;
      const mib = (this.size * numPixels * bytes) / 2 ** 20;
      if (mib > this.budgetMiB) {
        throw new ConfigError(
          `scaat config: 'saliencyCacheMiB' is ${this.budgetMiB}, but caching maps of ${this.size} samples × ${numPixels} pixels needs ${mib.toFixed(0)} MiB; raise it or use saliencySource 'fresh'`,
        );
      }
      this.ranks = bytes === 2 ? new Uint16Array(this.size * numPixels) : new Uint32Array(this.size * numPixels);
    }
    if (this.augmented && !this.carrier) this.carrier = new RankCarrier(h, w);
    this.numPixels = numPixels;
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

  /** The ranks and each map's epoch; empty before the first step has allocated them. */
  getState(): TrainerState {
    return this.ranks ? { saliencyRanks: this.ranks, saliencyRanksEpoch: this.madeIn } : {};
  }

  setState(state: Readonly<TrainerState>): void {
    const kept = readPerSampleRows(state, {
      rowsKey: 'saliencyRanks', epochKey: 'saliencyRanksEpoch', size: this.size, where: 'scaat trainer',
      type: 'uint16 (uint32 above 65 536 pixels)', unit: 'pixels',
      isRows: (a, width): a is Uint16Array | Uint32Array => a instanceof (width > 65536 ? Uint32Array : Uint16Array),
    });
    if (!kept) {
      this.madeIn.fill(-1);
      return;
    }
    const { rows: ranks, epochs, width: numPixels } = kept;
    if (this.numPixels !== 0 && numPixels !== this.numPixels) {
      throw new DataError(`scaat trainer: checkpoint state 'saliencyRanks' holds maps of ${numPixels} pixels, the images ${this.numPixels}`);
    }
    this.ranks = ranks;
    this.numPixels = numPixels;
    this.madeIn.set(epochs);
  }
}

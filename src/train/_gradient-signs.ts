/**
 * The FGSM-RS direction of `attackGradient: 'train-backward'` (SCAAT and its whole-image control
 * pgd-at; internal to train/ and scaat/): each sample's sign(∂L/∂x_adv) from its previous training
 * backward, kept for its next visit, where it replaces the attack's own gradient pass.
 *
 * The training backward computes ∂L/∂x_adv for about the price of the first layer's input
 * gradient (x_adv is the input of the adversarial forward), so a step that takes its attack
 * direction from there runs no attack pass after a sample's first visit: with loss 'adv-only' one
 * training pass, with 'clean+adv' the two training forwards and one backward (the idea of "free"
 * adversarial training, Shafahi et al. 2019, and of carrying adversarial perturbations across
 * epochs, Zheng et al. 2020, here across visits with the random start kept). What differs from the
 * fresh FGSM-RS direction: it is the gradient at the previous visit's x_adv (its random start, its
 * mask), of the training loss in training mode, with the parameters of one epoch earlier.
 *
 * One signed byte per value (N·H·W·C bytes: CIFAR-10 146 MiB, MNIST 45 MiB), bounded by
 * `attackGradientCacheMiB`, checkpointed with the trainer's state ({@link GradientSignCache.getState}),
 * so a resumed run continues with the directions it had. A batch with any sample lacking them
 * takes the fresh attack (as a first visit does).
 *
 * Augmentation: the signs are on the view (crop/flip) the sample had at that visit. With random
 * crop/flip the next visit shows another view, so the signs move with the image content: pixel p
 * of the new view shows original pixel o, which the old view showed at pixel q; p takes q's signs,
 * and 0 (no step: the random start alone) where o was not in the old view or p is zero padding
 * (datasets/transforms.ts `viewCorrespondence`, as scaat/_carry-ranks.ts moves cached maps).
 */
import * as tf from '@tensorflow/tfjs';
import { fgsmAlong } from '../attacks/fgsm.js';
import type { FgsmAlongOptions } from '../attacks/fgsm.js';
import { ConfigError, DataError, ShapeError } from '../errors.js';
import { readPerSampleRows } from './_per-sample.js';
import { drawAugmentation, viewCorrespondence } from '../datasets/transforms.js';
import type { Augmentation } from '../datasets/transforms.js';
import type { TrainerState } from './types.js';

/** Where FGSM-RS takes its gradient (`attackGradient`): its own pass, or the previous training backward. */
export type AttackGradientSource = 'fresh' | 'train-backward';
export const ATTACK_GRADIENT_SOURCES: readonly AttackGradientSource[] = ['fresh', 'train-backward'];

/** The batches' augmentation and the seed of its draws (drawAugmentation(augmentation, seed, epoch, index)). */
export interface SignAugmentation {
  readonly augmentation: Augmentation;
  readonly seed: number;
}

/** Per-sample gradient signs; allocated at the first {@link GradientSignCache.ensure}, when H×W×C is known. */
export class GradientSignCache {
  private signs: Int8Array | undefined;
  /** Epoch each sample's signs were made in (its view), −1: none. */
  private readonly madeIn: Int32Array;
  private values = 0;
  private h = 0;
  private w = 0;
  /** Old pixel showing each new pixel's content (−1: none), and viewCorrespondence's scratch. */
  private from = new Int32Array(0);
  private scratch = new Int32Array(0);
  /** {@link lookup}'s output, reused across batches of one size. */
  private out = new Float32Array(0);

  /**
   * @param size samples trained on (rows, by StepInput.index)
   * @param budgetMiB the cap (`attackGradientCacheMiB`)
   * @param where the config section named in errors (e.g. 'trainerOptions.scaat')
   * @param augmented the batches' augmentation, when they are augmented (the signs then follow each view)
   */
  constructor(
    private readonly size: number,
    private readonly budgetMiB: number,
    private readonly where: string,
    private readonly augmented?: SignAugmentation,
  ) {
    this.madeIn = new Int32Array(size).fill(-1);
  }

  /**
   * Allocates the cache for images of H×W×C values, or checks that the images kept that size.
   * @throws ConfigError when the cache would exceed the budget; ShapeError when the size changed.
   */
  ensure(h: number, w: number, c: number): void {
    const values = h * w * c;
    if (this.signs && values !== this.values) throw new ShapeError(`${this.where}: images changed from ${this.values} to ${values} values between steps`);
    if (!this.signs) {
      const mib = (this.size * values) / 2 ** 20;
      if (mib > this.budgetMiB) {
        throw new ConfigError(
          `${this.where}: 'attackGradientCacheMiB' is ${this.budgetMiB}, but keeping the attack direction of ${this.size} samples × ${values} values needs ${mib.toFixed(0)} MiB; raise it or use attackGradient 'fresh'`,
        );
      }
      this.signs = new Int8Array(this.size * values);
    }
    if (this.h === 0) {
      // first call, or the first after restoring signs from a checkpoint
      [this.values, this.h, this.w] = [values, h, w];
      if (this.augmented) [this.from, this.scratch] = [new Int32Array(h * w), new Int32Array(3 * h * w)];
    }
  }

  /**
   * The batch's signs (−1, 0, 1) as float32 [B·H·W·C], on this epoch's views, when every sample has
   * them; else undefined. The array is the cache's own buffer, valid until the next lookup (a fresh
   * 1.5 MiB array per CIFAR-10 batch cost more in page faults than the copy: 6 ms against 0.1).
   */
  lookup(index: Int32Array, epoch: number): Float32Array | undefined {
    const signs = this.signs!;
    for (let b = 0; b < index.length; b++) if (this.madeIn[index[b]!]! < 0) return undefined;
    const n = this.values;
    if (this.out.length !== index.length * n) this.out = new Float32Array(index.length * n);
    const out = this.out;
    for (let b = 0; b < index.length; b++) {
      const i = index[b]!;
      const src = signs.subarray(i * n, (i + 1) * n);
      if (this.augmented) this.carry(src, i, this.madeIn[i]!, epoch, out.subarray(b * n, (b + 1) * n));
      else out.set(src, b * n);
    }
    return out;
  }

  /** Sample i's signs from the view of epoch `from` to that of epoch `to` (see the module header). */
  private carry(src: Int8Array, i: number, from: number, to: number, out: Float32Array): void {
    const { augmentation, seed } = this.augmented!;
    const then = drawAugmentation(augmentation, seed, from, i);
    const now = drawAugmentation(augmentation, seed, to, i);
    if (then.dy === now.dy && then.dx === now.dx && then.flip === now.flip) {
      for (let k = 0; k < src.length; k++) out[k] = src[k]!;
      return;
    }
    const c = this.values / (this.h * this.w);
    viewCorrespondence(then, now, this.h, this.w, this.from, this.scratch);
    for (let p = 0; p < this.from.length; p++) {
      const q = this.from[p]!;
      for (let k = 0; k < c; k++) out[p * c + k] = q >= 0 ? src[q * c + k]! : 0;
    }
  }

  /** Keeps the signs of the batch's gradient [B·H·W·C], made on epoch `epoch`'s views, for each sample's next visit. */
  store(index: Int32Array, gradient: ArrayLike<number>, epoch: number): void {
    const signs = this.signs!;
    const n = this.values;
    if (gradient.length !== index.length * n) {
      throw new ShapeError(`${this.where}: expected an input gradient of ${index.length * n} values, got ${gradient.length}`);
    }
    const g = gradient instanceof Float32Array ? gradient : Float32Array.from(gradient);
    for (let b = 0; b < index.length; b++) {
      const row = signs.subarray(index[b]! * n, (index[b]! + 1) * n);
      const from = b * n;
      for (let k = 0; k < n; k++) {
        const v = g[from + k]!;
        row[k] = +(v > 0) - +(v < 0); // branch-free: random signs mispredict a ternary (4× slower)
      }
      this.madeIn[index[b]!] = epoch;
    }
  }

  /**
   * The checkpoint state: the signs and the epoch of each sample's (`attackSigns`,
   * `attackSignsEpoch`); empty before the first step has allocated them. Not copies.
   */
  getState(): TrainerState {
    return this.signs ? { attackSigns: this.signs, attackSignsEpoch: this.madeIn } : {};
  }

  /**
   * Restores {@link getState}'s arrays (the signs array is taken, not copied); a state without them (a checkpoint of a first step, or
   * written before directions were checkpointed) leaves no sample with signs.
   * @throws DataError when the arrays' types or lengths do not fit this run's samples.
   */
  setState(state: Readonly<TrainerState>): void {
    const kept = readPerSampleRows(state, {
      rowsKey: 'attackSigns', epochKey: 'attackSignsEpoch', size: this.size, where: this.where, type: 'int8', unit: 'values',
      isRows: (a): a is Int8Array => a instanceof Int8Array,
    });
    if (!kept) {
      this.madeIn.fill(-1);
      return;
    }
    const { rows: signs, epochs, width: values } = kept;
    if (this.values !== 0 && values !== this.values) {
      throw new DataError(`${this.where}: checkpoint state 'attackSigns' holds ${values} values per sample, the images ${this.values}`);
    }
    this.signs = signs;
    this.values = values;
    this.madeIn.set(epochs);
  }
}

/**
 * x_adv of FGSM-RS along kept signs (attacks/fgsm.ts `fgsmAlong`: the same random start, step and
 * projections as a fresh FGSM-RS with this seed, on the backend). The caller disposes the result.
 */
export function fgsmAlongSigns(
  x: tf.Tensor4D,
  signs: Float32Array,
  attack: Omit<FgsmAlongOptions, 'seed' | 'mask'>,
  seed: number,
  mask?: tf.Tensor4D,
): tf.Tensor4D {
  const g = tf.tensor4d(signs, x.shape, 'float32');
  try {
    return fgsmAlong(x, g, { ...attack, seed, ...(mask ? { mask } : {}) });
  } finally {
    g.dispose();
  }
}

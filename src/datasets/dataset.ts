/**
 * The `Dataset` contract. SCAAT keeps per-sample state (q_i), so every batch carries each sample's
 * stable index in its dataset split.
 *
 * - `x`: NHWC float32 in [0, 1] as a plain Float32Array (normalisation belongs to the model);
 * - `y`: int32 class labels; `index`: the samples' positions in this split (0..size-1);
 * - `mask` (optional, synthetic ground-truth data): [B, H, W] relevance masks of {0, 1};
 * - batch order is a pure function of (seed, epoch), so a resumed run sees the same order:
 *   `batches({seed, epoch, startBatch})` skips the first `startBatch` batches without decoding them.
 *
 * Batches are plain typed arrays, not tensors, so nothing can leak across the async boundary;
 * `toTensors(batch)` makes tensors the caller owns.
 */
import * as tf from '@tensorflow/tfjs';
import type { Augmentation } from './transforms.js';

export interface Batch {
  /** NHWC float32 in [0, 1], length B·H·W·C. */
  readonly x: Float32Array;
  /** Class labels, length B. */
  readonly y: Int32Array;
  /** Stable indices of the samples in their split, length B. */
  readonly index: Int32Array;
  /** [B, H, W, C] of x. */
  readonly shape: readonly [number, number, number, number];
  /** Ground-truth relevance masks [B, H, W] (1 = relevant), when the dataset has them. */
  readonly mask?: Uint8Array;
}

export interface BatchOptions {
  /** Samples per batch. */
  batchSize: number;
  /** Shuffle with a permutation derived from (seed, epoch). @default false */
  shuffle?: boolean;
  /** Seed of the shuffling and augmentation. @default 0 */
  seed?: number;
  /** Epoch number, so each epoch gets its own order. @default 0 */
  epoch?: number;
  /** Skip this many batches (resume mid-epoch). @default 0 */
  startBatch?: number;
  /** Drop the last incomplete batch. @default false */
  dropLast?: boolean;
  /** Random crop with padding and horizontal flip, as configured on the dataset. @default false */
  augment?: boolean;
  /** Restrict to these sample indices (in this order, before shuffling). */
  indices?: Int32Array;
}

export interface DatasetInfo {
  /** e.g. 'mnist', 'cifar10-bin', 'image-folder', 'pcam', 'synthetic'. */
  readonly format: string;
  /** Where it was read from (path or 'embedded'). */
  readonly source: string;
  /** The split, e.g. 'train' or 'test'. */
  readonly split: string;
  /** Number of samples. */
  readonly size: number;
  /** [H, W, C]. */
  readonly shape: readonly [number, number, number];
  /** Number of classes. */
  readonly numClasses: number;
  /** Class names, index = label. */
  readonly classNames: readonly string[];
  /** True when batches carry ground-truth relevance masks (`Batch.mask`), e.g. the synthetic set. */
  readonly hasMask?: boolean;
}

export interface Dataset extends DatasetInfo {
  /**
   * What `augment: true` does to training batches: random crop with zero padding and horizontal
   * flip, drawn per (seed, epoch, index) by transforms.ts `drawAugmentation`. Absent: the dataset
   * does not say (a trainer that must know, such as SCAAT's cached masks, refuses to run).
   */
  readonly augmentation?: Augmentation;
  /**
   * Iterates batches in bounded memory (one batch in flight). The order is
   * `epochOrder(size, options)`: a pure function of (indices, shuffle, seed, epoch); batches
   * before `startBatch` are skipped without reading or decoding anything.
   */
  batches(options: BatchOptions): AsyncIterable<Batch>;
  /** Random access to samples by index (as one batch, in the given order). */
  get(indices: ArrayLike<number>): Promise<Batch>;
  /** Counts per label (for `scaat data inspect`). */
  labelHistogram(): Promise<number[]>;
  /**
   * The label of every sample in index order (length `size`; −1 where unknown), read without
   * decoding any image: what class-stratified subsets are drawn from (subset.ts).
   */
  labels(): Promise<Int32Array>;
  /** Releases file handles. */
  close?(): Promise<void> | void;
}

/** Tensors from a batch; the caller owns them. */
export function toTensors(batch: Batch): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return {
    x: tf.tensor4d(batch.x, batch.shape as [number, number, number, number], 'float32'),
    y: tf.tensor1d(batch.y, 'int32'),
  };
}

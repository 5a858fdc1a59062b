/**
 * Batch order as a pure function of (size, indices, shuffle, seed, epoch), so a run resumed at
 * (epoch, startBatch) sees exactly the batches it would have seen, and so that the training loop
 * can count batches without touching data.
 *
 * @example
 * epochOrder(5, { shuffle: true, seed: 1, epoch: 0 });   // Int32Array [0, 3, 4, 2, 1]
 * countBatches(10, 4);                                   // 3 (4 + 4 + 2)
 * countBatches(10, 4, true);                             // 2 (the last, incomplete batch is dropped)
 */
import { ConfigError } from '../errors.js';
import { Rng, deriveSeed } from '../engine/random.js';

/** Options of {@link epochOrder}: the ordering fields of `BatchOptions`. */
export interface EpochOrderOptions {
  /** Shuffle with a permutation derived from (seed, epoch). @default false */
  shuffle?: boolean;
  /** @default 0 */
  seed?: number;
  /** @default 0 */
  epoch?: number;
  /** Restrict to these sample indices, in this order before shuffling. @default 0..size-1 */
  indices?: ArrayLike<number>;
}

/**
 * The sample indices of one epoch, in batch order. Without `shuffle` this is `indices` (or
 * 0..size-1); with it, a Fisher–Yates permutation of them drawn from `Rng(deriveSeed(seed,
 * 'order', epoch))`. Throws ConfigError for an index outside [0, size).
 */
export function epochOrder(size: number, options: EpochOrderOptions = {}): Int32Array {
  const { shuffle = false, seed = 0, epoch = 0, indices } = options;
  let order: Int32Array;
  if (indices === undefined) {
    order = new Int32Array(size);
    for (let i = 0; i < size; i++) order[i] = i;
  } else {
    checkIndices(indices, size, 'indices');
    order = Int32Array.from(indices);
  }
  if (shuffle) new Rng(deriveSeed(seed, 'order', epoch)).shuffle(order);
  return order;
}

/** Number of batches in an epoch of `n` samples. */
export function countBatches(n: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/** Throws ConfigError unless every entry is an integer in [0, size). */
export function checkIndices(indices: ArrayLike<number>, size: number, what: string): void {
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= size) {
      throw new ConfigError(`${what}: expected sample indices in [0, ${size}), got ${i} at position ${k}`);
    }
  }
}

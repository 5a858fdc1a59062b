/**
 * Test fixtures of the train room (internal; used by its tests, the resume fixture script and the
 * train bench): a tiny in-memory Dataset following the `Dataset` contract's ordering rules.
 */
import { Rng } from '../engine/random.js';
import { countBatches, epochOrder } from '../datasets/epoch-order.js';
import type { Batch, BatchOptions, Dataset } from '../datasets/dataset.js';

/** An in-memory dataset over NHWC float32 images and int32 labels. */
export function memoryDataset(
  x: Float32Array,
  y: Int32Array,
  shape: readonly [number, number, number],
  numClasses: number,
  split = 'train',
): Dataset {
  const per = shape[0] * shape[1] * shape[2];
  const size = y.length;
  const take = (idx: ArrayLike<number>): Batch => {
    const bx = new Float32Array(idx.length * per);
    const by = new Int32Array(idx.length);
    for (let k = 0; k < idx.length; k++) {
      const i = idx[k]!;
      bx.set(x.subarray(i * per, (i + 1) * per), k * per);
      by[k] = y[i]!;
    }
    return { x: bx, y: by, index: Int32Array.from(idx), shape: [idx.length, shape[0], shape[1], shape[2]] };
  };
  return {
    format: 'memory',
    source: 'memory',
    split,
    size,
    shape,
    numClasses,
    classNames: Array.from({ length: numClasses }, (_, k) => `class-${k}`),
    async *batches(o: BatchOptions) {
      const order = epochOrder(size, { shuffle: o.shuffle ?? false, seed: o.seed ?? 0, epoch: o.epoch ?? 0, ...(o.indices ? { indices: o.indices } : {}) });
      const n = countBatches(order.length, o.batchSize, o.dropLast ?? false);
      for (let b = o.startBatch ?? 0; b < n; b++) yield take(order.subarray(b * o.batchSize, Math.min(order.length, (b + 1) * o.batchSize)));
    },
    get: async (indices) => take(indices),
    labelHistogram: async () => {
      const h = new Array<number>(numClasses).fill(0);
      for (const v of y) h[v]!++;
      return h;
    },
    labels: async () => Int32Array.from(y),
  };
}

/**
 * K Gaussian blobs in image space: class k has a fixed random mean image in [0.2, 0.8] and
 * samples add N(0, noise²), clipped to [0, 1]. Linearly separable for small noise.
 */
export function blobsDataset(
  { size, shape = [8, 8, 1], numClasses = 3, noise = 0.1, seed = 0, split = 'train' }:
  { size: number; shape?: readonly [number, number, number]; numClasses?: number; noise?: number; seed?: number; split?: string },
): Dataset {
  const per = shape[0] * shape[1] * shape[2];
  const means = new Rng(`blobs-means/${seed}`);
  const mu = Array.from({ length: numClasses }, () => Float32Array.from({ length: per }, () => means.uniform(0.2, 0.8)));
  const rng = new Rng(`blobs/${seed}/${split}`);
  const x = new Float32Array(size * per);
  const y = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const k = i % numClasses;
    y[i] = k;
    for (let p = 0; p < per; p++) x[i * per + p] = Math.min(1, Math.max(0, mu[k]![p]! + noise * rng.normal()));
  }
  return memoryDataset(x, y, shape, numClasses, split);
}

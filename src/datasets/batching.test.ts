// Order, batching, resume and augmentation plumbing of every loader (_base.ts, epoch-order.ts),
// on a source whose pixels encode the sample index, so every value has a known origin.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { makeDataset, type SampleSource } from './_base.js';
import type { Batch, Dataset } from './dataset.js';
import { countBatches, epochOrder } from './epoch-order.js';
import { applyAugmentation, drawAugmentation } from './transforms.js';

const H = 4;
const W = 5;
const C = 2;

/** Sample i: pixel (h, w, c) = (i·1000 + (h·W + w)·C + c) / 1e6; label i mod 3; counts reads. */
function indexSource(size: number): SampleSource & { reads: number[] } {
  const reads: number[] = [];
  return {
    reads,
    info: { format: 'test', source: 'memory', split: 'train', size, shape: [H, W, C], numClasses: 3, classNames: ['a', 'b', 'c'] },
    labels: Int32Array.from({ length: size }, (_, i) => i % 3),
    read(indices, x) {
      reads.push(...indices);
      indices.forEach((i, k) => {
        for (let p = 0; p < H * W * C; p++) x[k * H * W * C + p] = (i * 1000 + p) / 1e6;
      });
    },
  };
}

async function collect(ds: Dataset, o: Parameters<Dataset['batches']>[0]): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of ds.batches(o)) out.push(b);
  return out;
}

describe('epochOrder', () => {
  it('is the identity without shuffle and a reproducible permutation with it', () => {
    expect(Array.from(epochOrder(6))).toEqual([0, 1, 2, 3, 4, 5]);
    const a = epochOrder(1000, { shuffle: true, seed: 7, epoch: 2 });
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(epochOrder(1000, { shuffle: true, seed: 7, epoch: 2 })).toEqual(a);
    expect(epochOrder(1000, { shuffle: true, seed: 7, epoch: 3 })).not.toEqual(a);
    expect(epochOrder(1000, { shuffle: true, seed: 8, epoch: 2 })).not.toEqual(a);
  });

  it('permutes a given subset and rejects indices out of range', () => {
    const sub = [9, 3, 5, 7];
    const o = epochOrder(10, { indices: sub, shuffle: true, seed: 1 });
    expect(Array.from(o).sort((x, y) => x - y)).toEqual([3, 5, 7, 9]);
    expect(Array.from(epochOrder(10, { indices: sub }))).toEqual(sub);
    expect(() => epochOrder(10, { indices: [10] })).toThrow(ConfigError);
    expect(() => epochOrder(10, { indices: [1.5] })).toThrow(ConfigError);
  });

  it('counts batches with and without the last incomplete one', () => {
    expect(countBatches(10, 4)).toBe(3);
    expect(countBatches(10, 4, true)).toBe(2);
    expect(countBatches(8, 4, true)).toBe(2);
    expect(countBatches(0, 4)).toBe(0);
  });
});

describe('batches', () => {
  it('yields every sample once, with x, y and index from the same sample', async () => {
    const ds = makeDataset(indexSource(23));
    const batches = await collect(ds, { batchSize: 5, shuffle: true, seed: 3 });
    expect(batches.map((b) => b.shape[0])).toEqual([5, 5, 5, 5, 3]);
    const seen = batches.flatMap((b) => Array.from(b.index));
    expect(seen).toEqual(Array.from(epochOrder(23, { shuffle: true, seed: 3 })));
    for (const b of batches) {
      expect(b.shape).toEqual([b.index.length, H, W, C]);
      b.index.forEach((i, k) => {
        expect(b.y[k]).toBe(i % 3);
        expect(b.x[k * H * W * C + 7]).toBe(Math.fround((i * 1000 + 7) / 1e6));
      });
    }
  });

  it('resumes at startBatch with the same batches, reading nothing before it', async () => {
    const full = await collect(makeDataset(indexSource(50)), { batchSize: 8, shuffle: true, seed: 1, epoch: 4 });
    const src = indexSource(50);
    const resumed = await collect(makeDataset(src), { batchSize: 8, shuffle: true, seed: 1, epoch: 4, startBatch: 4 });
    expect(resumed.map((b) => Array.from(b.index))).toEqual(full.slice(4).map((b) => Array.from(b.index)));
    expect(resumed.map((b) => Array.from(b.x))).toEqual(full.slice(4).map((b) => Array.from(b.x)));
    // only the samples of batches 4.. were read (decoded)
    expect(src.reads.sort((a, b) => a - b)).toEqual(full.slice(4).flatMap((b) => Array.from(b.index)).sort((a, b) => a - b));
    expect(await collect(makeDataset(indexSource(50)), { batchSize: 8, startBatch: 7 })).toEqual([]);
  });

  it('drops the last incomplete batch on request and honours indices', async () => {
    const ds = makeDataset(indexSource(10));
    expect((await collect(ds, { batchSize: 4, dropLast: true })).map((b) => b.index.length)).toEqual([4, 4]);
    const sub = await collect(ds, { batchSize: 2, indices: Int32Array.from([8, 1, 4]) });
    expect(sub.flatMap((b) => Array.from(b.index))).toEqual([8, 1, 4]);
  });

  it('rejects bad options with ConfigError', async () => {
    const ds = makeDataset(indexSource(10));
    for (const o of [{ batchSize: 0 }, { batchSize: 2.5 }, { batchSize: 2, startBatch: -1 }, { batchSize: 2, epoch: 0.5 }]) {
      await expect(collect(ds, o)).rejects.toThrow(ConfigError);
    }
    await expect(ds.get([10])).rejects.toThrow(ConfigError);
  });

  it('get returns samples in the given order, repeats included', async () => {
    const b = await makeDataset(indexSource(10)).get([7, 2, 7]);
    expect(Array.from(b.index)).toEqual([7, 2, 7]);
    expect(Array.from(b.y)).toEqual([1, 2, 1]);
    expect(b.x[2 * H * W * C]).toBe(Math.fround(7000 / 1e6));
  });

  it('augments each sample as a pure function of (seed, epoch, index), whatever the batch size', async () => {
    const aug = { padding: 1, flip: true };
    const plain = makeDataset(indexSource(12));
    const ds = makeDataset(indexSource(12), aug);
    const a = await collect(ds, { batchSize: 5, shuffle: true, seed: 2, epoch: 1, augment: true });
    const b = await collect(ds, { batchSize: 3, shuffle: true, seed: 2, epoch: 1, augment: true });
    const bySample = (bs: Batch[]) => {
      const m = new Map<number, number[]>();
      for (const x of bs) x.index.forEach((i, k) => m.set(i, Array.from(x.x.subarray(k * H * W * C, (k + 1) * H * W * C))));
      return m;
    };
    const ma = bySample(a);
    expect(bySample(b)).toEqual(ma);
    // each augmented sample = the documented transform of the plain one
    let changed = 0;
    for (const [i, xs] of ma) {
      const expected = (await plain.get([i])).x;
      applyAugmentation(expected, 0, H, W, C, drawAugmentation(aug, 2, 1, i), new Float32Array(H * W * C));
      expect(xs).toEqual(Array.from(expected));
      if (xs.some((v, p) => v !== Math.fround((i * 1000 + p) / 1e6))) changed++;
    }
    expect(changed).toBeGreaterThan(0);
    // without augment: untouched
    const c = await collect(ds, { batchSize: 12, augment: false });
    expect(c[0]!.x).toEqual((await plain.get(Array.from({ length: 12 }, (_, i) => i))).x);
  });

  it('counts labels', async () => {
    expect(await makeDataset(indexSource(10)).labelHistogram()).toEqual([4, 3, 3]);
  });
});

// Class-stratified subsets (subset.ts): histograms against the proportional rule computed by hand,
// determinism in the seed, uniformity within a class, and every loader's labels without decoding.
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../errors.js';
import { makeDataset, type SampleSource } from './_base.js';
import { openMnist } from './mnist.js';
import { openSynthetic } from './synthetic.js';
import { classHistogram, drawSubset, stratifiedSubset } from './subset.js';

/** `perClass` samples of each of `k` classes stored class by class (as an image folder is). */
const classSorted = (k: number, perClass: number): Int32Array => Int32Array.from({ length: k * perClass }, (_, i) => Math.floor(i / perClass));

const isSortedUnique = (a: Int32Array): boolean => a.every((v, i) => i === 0 || v > a[i - 1]!);

describe('stratifiedSubset', () => {
  it('draws every class of a class-sorted split, counts differing by at most one', () => {
    const labels = classSorted(10, 1000); // CIFAR-10's test split in a JPEG folder
    for (const n of [64, 500, 10, 7, 999]) {
      const s = stratifiedSubset(labels, n, 0);
      expect(s).toHaveLength(n);
      expect(isSortedUnique(s)).toBe(true);
      const hist = classHistogram(labels, 10, s);
      expect(hist.reduce((a, b) => a + b, 0)).toBe(n);
      expect(Math.max(...hist) - Math.min(...hist), `n = ${n}: ${hist.join(' ')}`).toBeLessThanOrEqual(1);
      expect(hist.filter((c) => c === Math.ceil(n / 10))).toHaveLength(n % 10 === 0 ? 10 : n % 10);
    }
    // the first-N rule drew one class only
    expect(classHistogram(labels, 10, stratifiedSubset(labels, 500, 3))).toEqual(new Array(10).fill(50));
  });

  it('keeps the class frequencies of an unbalanced split (largest remainder)', () => {
    // 600 / 300 / 100 samples; n = 15 → quotas 9, 4.5, 1.5 → 9, then one extra to class 1 or 2 (tie by seed)
    const labels = Int32Array.from([...new Array(600).fill(0), ...new Array(300).fill(1), ...new Array(100).fill(2)]);
    const seen = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      const hist = classHistogram(labels, 3, stratifiedSubset(labels, 15, seed));
      expect([[9, 5, 1], [9, 4, 2]]).toContainEqual(hist);
      seen.add(hist.join());
    }
    expect(seen.size).toBe(2); // the tie goes either way, by seed
    // n = 100: quotas 60, 30, 10 exactly
    expect(classHistogram(labels, 3, stratifiedSubset(labels, 100, 1))).toEqual([60, 30, 10]);
    // n = 11: quotas 6.6, 3.3, 1.1 → 6, 3, 1, and the one left to the largest remainder (class 0)
    expect(classHistogram(labels, 3, stratifiedSubset(labels, 11, 4))).toEqual([7, 3, 1]);
  });

  it('is a pure function of (labels, n, seed); other seeds draw other samples', () => {
    const labels = classSorted(10, 1000);
    const a = stratifiedSubset(labels, 64, 7);
    expect(stratifiedSubset(Array.from(labels), 64, 7)).toEqual(a);
    expect(stratifiedSubset(labels, 64, 8)).not.toEqual(a);
    expect(stratifiedSubset(labels, 64, 0)).not.toEqual(a);
  });

  it('samples uniformly within a class', () => {
    // 2 classes of 10; 4 draws per class per seed; over 2000 seeds each member is drawn 2000·4/10 = 800 times
    const labels = classSorted(2, 10);
    const hits = new Array<number>(20).fill(0);
    for (let seed = 0; seed < 2000; seed++) for (const i of stratifiedSubset(labels, 8, seed)) hits[i]! += 1;
    // binomial(2000, 0.4): sd ≈ 21.9; 5 sd
    for (const h of hits) expect(Math.abs(h - 800)).toBeLessThan(110);
  });

  it('gives every index for n ≥ size; rejects bad limits and labels', () => {
    const labels = Int32Array.from([2, 0, 1, 1]);
    expect(Array.from(stratifiedSubset(labels, 4, 1))).toEqual([0, 1, 2, 3]);
    expect(Array.from(stratifiedSubset(labels, 100, 1))).toEqual([0, 1, 2, 3]);
    expect(Array.from(stratifiedSubset([-1, -1, -1, -1, -1], 2, 0))).toHaveLength(2); // unlabelled: one group
    expect(() => stratifiedSubset(labels, 0, 1)).toThrow(ConfigError);
    expect(() => stratifiedSubset(labels, 1.5, 1)).toThrow(/positive integer/);
    expect(() => stratifiedSubset(labels, 2, 0.5)).toThrow(/integer seed/);
    expect(() => stratifiedSubset([0, 0.5, 1], 2, 0)).toThrow(DataError);
  });
});

describe('drawSubset', () => {
  it('reads labels only (no image decoded) and records the draw', async () => {
    const reads: number[] = [];
    const source: SampleSource = {
      info: { format: 'test', source: 'memory', split: 'test', size: 30, shape: [2, 2, 1], numClasses: 3, classNames: ['a', 'b', 'c'] },
      labels: classSorted(3, 10),
      read(indices) {
        reads.push(...indices);
      },
    };
    const ds = makeDataset(source);
    const { indices, info } = await drawSubset(ds, 6, 11);
    expect(reads).toEqual([]);
    expect(info).toEqual({ rule: 'class-stratified', seed: 11, limit: 6, size: 6, classHistogram: [2, 2, 2] });
    expect(indices).toEqual(stratifiedSubset(source.labels, 6, 11));
    expect((await drawSubset(ds, 30, 11)).info).toEqual({ rule: 'all', seed: null, limit: 30, size: 30, classHistogram: [10, 10, 10] });
    const all = await drawSubset(ds, undefined, 11);
    expect(all.info).toEqual({ rule: 'all', seed: null, limit: null, size: 30, classHistogram: [10, 10, 10] });
    expect(all.indices).toEqual(Int32Array.from({ length: 30 }, (_, i) => i));
  });

  it('works on the embedded MNIST and the synthetic set (labels without decoding)', async () => {
    const mnist = await openMnist({ split: 'test' });
    expect(await mnist.labels()).toHaveLength(10_000);
    const m = await drawSubset(mnist, 100, 0);
    // published test counts 980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009 → quotas 9.8, 11.35, …:
    // floors 9 11 10 10 9 8 9 10 9 10 (95), the 5 left to the largest remainders .92 .82 .80 .74 .58
    expect(m.info.classHistogram).toEqual([10, 11, 10, 10, 10, 9, 10, 10, 10, 10]);
    const labels = await mnist.labels();
    expect(Array.from((await mnist.get(m.indices)).y)).toEqual(Array.from(m.indices, (i) => labels[i]!)); // = the decoded labels
    const synthetic = await openSynthetic({ split: 'test', count: 40 });
    const s = await drawSubset(synthetic, 16, 2);
    expect(s.info.size).toBe(16);
    const y = (await synthetic.get(s.indices)).y;
    expect(classHistogram(y, synthetic.numClasses)).toEqual(s.info.classHistogram);
  });
});

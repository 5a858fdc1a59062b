/**
 * Limited sets that represent the data: `trainLimit`, `evalLimit` and `--limit` draw a seeded
 * class-stratified sample instead of the first N samples (image folders and many files are
 * stored class by class, so the first 64 of cifar10-jpg's test split are 64 airplanes).
 *
 * The rule: per-class counts proportional to the class frequencies, rounded by largest remainder
 * (Hamilton), ties between equal remainders broken by a seeded order of the classes; within a
 * class, a uniform sample without replacement. On a balanced split (CIFAR-10, PCAM, Fashion-MNIST)
 * that is the class-balanced sample (counts differ by at most one); on an unbalanced one the
 * sample keeps the split's class frequencies, so a mean over the sample (accuracy, a saliency
 * metric) estimates the mean over the whole split, which is what an unlimited run reports. (Equal
 * counts per class would instead weight rare classes up and estimate a class-balanced mean.)
 *
 * The indices come back sorted, so a sample is read in storage order and shards of an evaluation
 * cut the one sorted list (metrics/evaluate.ts `shardRange`).
 *
 * @example
 * stratifiedSubset([0, 0, 0, 0, 1, 1, 1, 1], 4, 0);   // two of each class, e.g. Int32Array [1, 3, 4, 6]
 * const { indices, info } = await drawSubset(testSet, 500, config.seed);
 * info;   // {rule: 'class-stratified', seed, limit: 500, size: 500, classHistogram: [50, 50, …]}
 */
import { ConfigError, DataError } from '../errors.js';
import { Rng, deriveSeed } from '../engine/random.js';
import type { Dataset } from './dataset.js';

/** What was drawn, for the run's log and the evaluation JSON. */
export interface SubsetInfo {
  /** 'class-stratified' (this module's rule), or 'all' when the limit covers the whole split. */
  readonly rule: 'class-stratified' | 'all';
  /** Seed of the draw; null for 'all'. */
  readonly seed: number | null;
  /** The limit asked for (null: none). */
  readonly limit: number | null;
  /** Samples drawn: min(limit, split size). */
  readonly size: number;
  /** Samples per class in the draw (index = label; labels outside [0, numClasses) are not counted). */
  readonly classHistogram: readonly number[];
}

/**
 * `n` sample indices of a split with these `labels`, sorted ascending: a class-stratified sample
 * (module header), a pure function of (labels, n, seed). `n ≥ labels.length` gives every index.
 * Labels are grouped by value (any integers; −1 for unlabelled samples is one more group).
 * @throws ConfigError unless n is a positive integer and seed an integer; DataError for a non-integer label.
 */
export function stratifiedSubset(labels: ArrayLike<number>, n: number, seed: number): Int32Array {
  if (!(Number.isInteger(n) && n >= 1)) throw new ConfigError(`subset: expected the limit to be a positive integer, got ${n}`);
  if (!Number.isInteger(seed)) throw new ConfigError(`subset: expected an integer seed, got ${seed}`);
  const total = labels.length;
  if (n >= total) return Int32Array.from({ length: total }, (_, i) => i);

  // members of each class, classes in ascending label order
  const byLabel = new Map<number, number[]>();
  for (let i = 0; i < total; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y)) throw new DataError(`subset: label ${y} of sample ${i} is not an integer`);
    let members = byLabel.get(y);
    if (!members) byLabel.set(y, (members = []));
    members.push(i);
  }
  const classes = [...byLabel.keys()].sort((a, b) => a - b);

  // proportional counts, largest remainder; exact integers (n·size < 2^53 for any real split)
  const counts = classes.map((y) => Math.floor((n * byLabel.get(y)!.length) / total));
  const remainders = classes.map((y) => (n * byLabel.get(y)!.length) % total);
  let left = n - counts.reduce((s, c) => s + c, 0);
  const tieOrder = new Rng(deriveSeed(seed, 'subset', 'ties')).permutation(classes.length);
  const rank = new Int32Array(classes.length);
  tieOrder.forEach((k, r) => (rank[k] = r));
  const byRemainder = classes.map((_, k) => k).sort((a, b) => remainders[b]! - remainders[a]! || rank[a]! - rank[b]!);
  for (const k of byRemainder) {
    if (left === 0) break;
    counts[k]! += 1; // remainder > 0 here, so count < class size (n < total)
    left -= 1;
  }

  // within a class: the first counts[k] of a seeded partial Fisher–Yates shuffle of its members
  const out = new Int32Array(n);
  let o = 0;
  classes.forEach((y, k) => {
    const members = byLabel.get(y)!;
    const rng = new Rng(deriveSeed(seed, 'subset', 'class', y));
    for (let j = 0; j < counts[k]!; j++) {
      const r = j + rng.nextInt(members.length - j);
      const t = members[j]!;
      members[j] = members[r]!;
      members[r] = t;
      out[o++] = members[j]!;
    }
  });
  return out.sort();
}

/** Samples per class among `indices` (all samples when omitted); labels outside [0, numClasses) are not counted. */
export function classHistogram(labels: ArrayLike<number>, numClasses: number, indices?: ArrayLike<number>): number[] {
  const hist = new Array<number>(numClasses).fill(0);
  const count = (y: number): void => {
    if (y >= 0 && y < numClasses) hist[y]! += 1;
  };
  if (indices) for (let k = 0; k < indices.length; k++) count(labels[indices[k]!]!);
  else for (let i = 0; i < labels.length; i++) count(labels[i]!);
  return hist;
}

/**
 * The class-stratified sample of `limit` samples of `dataset` (its labels only: no image is read)
 * and what was drawn; every index (rule 'all') when `limit` is undefined or covers the split.
 */
export async function drawSubset(dataset: Dataset, limit: number | undefined, seed: number): Promise<{ indices: Int32Array; info: SubsetInfo; labels: Int32Array }> {
  const labels = await dataset.labels();
  const indices = limit === undefined ? Int32Array.from({ length: labels.length }, (_, i) => i) : stratifiedSubset(labels, limit, seed);
  const all = indices.length === labels.length;
  return {
    indices,
    labels,
    info: {
      rule: all ? 'all' : 'class-stratified', seed: all ? null : seed, limit: limit ?? null, size: indices.length,
      classHistogram: classHistogram(labels, dataset.numClasses, indices),
    },
  };
}

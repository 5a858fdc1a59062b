import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../test/helpers/index.js';
import { evaluate, resolveEvaluationConfig, shardRange } from './evaluate.js';
import type { EvaluateOptions } from './evaluate.js';
import { mergeEvaluations } from './merge.js';
import type { EvaluationResult } from './results.js';
import { arrayDataset } from './_testing.js';
import { tinyCnn } from '../saliency/_testing.js';
import { saliencyMethods } from '../saliency/registry.js';
import { Rng } from '../engine/random.js';
import { ConfigError, DataError } from '../errors.js';
import { saliencyEntropy } from './saliency-entropy.js';
import { stratifiedSubset } from '../datasets/subset.js';

beforeAll(() => useBackend('cpu'));

function tinySet(n = 10): ReturnType<typeof arrayDataset> {
  const rng = new Rng(9);
  const x = Float32Array.from({ length: n * 8 * 8 }, () => rng.next());
  const y = Int32Array.from({ length: n }, (_, i) => i % 3);
  const mask = Uint8Array.from({ length: n * 64 }, (_, i) => ((i % 64) % 8 < 4 ? 1 : 0));
  return arrayDataset(x, y, [8, 8, 1], 3, mask);
}

const withoutProvenance = (r: EvaluationResult): unknown => JSON.parse(JSON.stringify({ ...r, provenance: null }));

describe('shardRange', () => {
  it('splits whole batches near-evenly, covering every index exactly once', () => {
    expect(shardRange(100, 32, { index: 1, count: 2 })).toEqual({ start: 64, end: 100 });
    expect(shardRange(100, 32)).toEqual({ start: 0, end: 100 });
    for (const [total, bs, n] of [[10, 3, 3], [7, 2, 5], [5, 8, 3], [1000, 32, 7]] as const) {
      const seen: number[] = [];
      for (let i = 0; i < n; i++) {
        const { start, end } = shardRange(total, bs, { index: i, count: n });
        expect(start % bs).toBe(0);
        for (let k = start; k < end; k++) seen.push(k);
      }
      expect(seen).toEqual(Array.from({ length: total }, (_, k) => k));
    }
    expect(() => shardRange(10, 2, { index: 3, count: 3 })).toThrow(ConfigError);
  });
});

describe('evaluate', () => {
  const net = tinyCnn([8, 8, 1], 3, { seed: 3 });
  const options = (): EvaluateOptions => ({
    methods: saliencyMethods(['vanilla-gradient', 'smooth-grad', 'integrated-gradients'], {
      'smooth-grad': { samples: 2 },
      'integrated-gradients': { steps: 3 },
    }),
    batchSize: 3,
    seed: 5,
    robustness: { ratios: [0, 0.5], attack: { steps: 1 } },
  });

  it('merges shards (any order, through JSON) into exactly the unsharded result, leaking nothing', async () => {
    const ds = tinySet();
    const before = tf.memory().numTensors;
    const whole = await evaluate(net, ds, options());
    expect(tf.memory().numTensors).toBe(before);
    const shards: EvaluationResult[] = [];
    for (const index of [2, 0, 1]) {
      shards.push(JSON.parse(JSON.stringify(await evaluate(net, ds, { ...options(), shard: { index, count: 3 } }))) as EvaluationResult);
    }
    const merged = mergeEvaluations(shards);
    expect(withoutProvenance(merged)).toEqual(withoutProvenance(whole));
    expect(merged.provenance.shards).toHaveLength(3);

    // and the result is consistent with itself
    expect(whole.images.index).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(whole.metricInfo['aopc-lerf']!.direction).toBe('lower-is-better');
    for (const m of whole.methods) {
      expect(m.perImage['entropy']).toHaveLength(10);
      const value = (k: string): number | null => m.metrics.find((s) => s.name === k)!.value;
      expect(value('aopc-rel')).toBeCloseTo(value('aopc-morf')! / value('aopc-lerf')!, 12);
      const attack = m.robustness!.find((c) => c.kind === 'attack')!;
      expect(attack.accuracy[0]).toBe(whole.cleanAccuracy.value); // q = 0: nothing perturbed
      expect(m.entropyHistogram!.counts.reduce((s, v) => s + v, 0)).toBe(10);
      expect(m.aopc!.morf.mean[0]).toBe(0);
      expect(value('relevance-mass-accuracy')).not.toBeNull();
    }

    // examples (default 4): the lowest indices; shard 0 holds only [0, 3), so merge takes index 3 from shard 1
    expect(shards.find((p) => p.shard!.index === 0)!.examples!.map((e) => e.index)).toEqual([0, 1, 2]);
    expect(whole.examples!.map((e) => [e.index, e.label])).toEqual([[0, 0], [1, 1], [2, 2], [3, 0]]);
    const rng = new Rng(9);
    const pixels = Float32Array.from({ length: 4 * 64 }, () => rng.next()); // tinySet's first 4 images
    for (const [k, e] of whole.examples!.entries()) {
      // the image is round(255·x); each map is the metrics' own U8 map (its entropy is the per-image entropy)
      const bytes = (d: string): Uint8Array => new Uint8Array(Buffer.from(d, 'base64'));
      expect([e.image.width, e.image.height, e.image.channels]).toEqual([8, 8, 1]);
      expect(Array.from(bytes(e.image.data))).toEqual(Array.from(pixels.subarray(k * 64, (k + 1) * 64), (v) => Math.round(255 * v)));
      expect(Object.keys(e.maps)).toEqual(['vanilla-gradient', 'smooth-grad', 'integrated-gradients']);
      for (const m of whole.methods) {
        const map = e.maps[m.method]!;
        expect([map.width, map.height, map.channels]).toEqual([8, 8, 1]);
        expect(saliencyEntropy(bytes(map.data))).toBe(m.perImage['entropy']![k]);
      }
      expect(e.predicted).toBeGreaterThanOrEqual(0);
    }
    const none = await evaluate(net, ds, { ...options(), metrics: ['entropy'], examples: 0 });
    expect(none.examples).toBeUndefined();
    expect(() => resolveEvaluationConfig({ ...options(), examples: -1 }, ds)).toThrow(/examples/);
  });

  it('limits to a class-stratified sample whose shards merge into exactly the unsharded result', async () => {
    // 3 classes of 8 images stored class by class (as image folders are): the first 9 would be class 0 only
    const n = 24;
    const rng = new Rng(4);
    const x = Float32Array.from({ length: n * 64 }, () => rng.next());
    const y = Int32Array.from({ length: n }, (_, i) => Math.floor(i / 8));
    const ds = arrayDataset(x, y, [8, 8, 1], 3);
    const limited = (): EvaluateOptions => ({ ...options(), limit: 9, batchSize: 2 });
    const whole = await evaluate(net, ds, limited());
    expect(whole.sample).toEqual({ rule: 'class-stratified', seed: 5, size: 9, classHistogram: [3, 3, 3] });
    expect(whole.range).toEqual({ start: 0, end: 9, total: 9 });
    const counts = [0, 0, 0];
    for (const label of whole.images.label) counts[label]! += 1;
    expect(counts).toEqual([3, 3, 3]);
    expect(whole.images.index).toEqual(Array.from(stratifiedSubset(y, 9, 5)));
    expect(whole.images.index).toEqual([...whole.images.index].sort((a, b) => a - b));
    // shards cut the sorted sample: 5 batches of 2 → shards of 1, 2, 2 batches; merged = unsharded
    const shards: EvaluationResult[] = [];
    for (const index of [1, 2, 0]) shards.push(JSON.parse(JSON.stringify(await evaluate(net, ds, { ...limited(), shard: { index, count: 3 } }))) as EvaluationResult);
    expect(shards.map((p) => p.range)).toEqual([{ start: 2, end: 6, total: 9 }, { start: 6, end: 9, total: 9 }, { start: 0, end: 2, total: 9 }]);
    expect(shards.every((p) => JSON.stringify(p.sample) === JSON.stringify(whole.sample))).toBe(true);
    expect(withoutProvenance(mergeEvaluations(shards))).toEqual(withoutProvenance(whole));
    // another seed, another sample (same histogram); no limit: every image, rule 'all'
    const other = await evaluate(net, ds, { ...limited(), seed: 6, metrics: ['entropy'] });
    expect(other.images.index).not.toEqual(whole.images.index);
    expect(other.sample!.classHistogram).toEqual([3, 3, 3]);
    const all = await evaluate(net, ds, { ...options(), metrics: ['entropy'] });
    expect(all.sample).toEqual({ rule: 'all', seed: null, size: 24, classHistogram: [8, 8, 8] });
    expect(all.images.index).toEqual(Array.from({ length: 24 }, (_, i) => i));
  });

  it('limits, and rejects bad options and incompatible shards with named errors', async () => {
    const ds = tinySet();
    const part = await evaluate(net, ds, { methods: saliencyMethods(['vanilla-gradient']), metrics: ['entropy'], limit: 4, batchSize: 2, shard: { index: 0, count: 2 } });
    expect(part.images.index).toEqual(Array.from(stratifiedSubset(await ds.labels(), 4, 0).subarray(0, 2)));
    expect(part.config.metrics).toEqual(['clean-accuracy', 'entropy']);
    expect(() => resolveEvaluationConfig({ methods: [], metrics: ['nope'] }, ds)).toThrow(/unknown metric 'nope'/);
    expect(() => resolveEvaluationConfig({ methods: saliencyMethods(['vanilla-gradient']), batchSize: 0 }, ds)).toThrow(ConfigError);
    const noMasks = { ...ds, hasMask: false };
    expect(() => resolveEvaluationConfig({ methods: saliencyMethods(['vanilla-gradient']), metrics: ['pointing-game'] }, noMasks)).toThrow(/needs ground-truth masks/);
    expect(() => mergeEvaluations([part])).toThrow(/missing 1/);
    const other = await evaluate(net, ds, { methods: saliencyMethods(['vanilla-gradient']), metrics: ['entropy'], limit: 4, batchSize: 2, seed: 1, shard: { index: 1, count: 2 } });
    expect(() => mergeEvaluations([part, other])).toThrow(DataError);
    expect(() => mergeEvaluations([part, other])).toThrow(/different config/);
  });
});

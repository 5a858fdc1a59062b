import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../test/helpers/index.js';
import { evaluate, resolveEvaluationConfig, robustnessAlpha, shardRange } from './evaluate.js';
import type { EvaluateOptions } from './evaluate.js';
import { mergeEvaluations } from './merge.js';
import type { EvaluationResult } from './evaluation-result.js';
import { AOPC_REL_MIN_LERF } from './evaluation-result.js';
import { aopcRel } from './_summary.js';
import { arrayDataset } from './_testing.js';
import { asClassifier, tinyCnn } from '../saliency/_testing.js';
import { saliencyMethods } from '../saliency/registry.js';
import { Rng } from '../engine/random.js';
import { ConfigError, DataError } from '../errors.js';
import { saliencyEntropy } from './saliency-entropy.js';
import { toUint8Map } from './uint8-map.js';
import { stratifiedSubset } from '../datasets/subset.js';
import { exampleIndices } from './evaluation-examples.js';
import { readFileSync } from 'node:fs';
import type { AopcFills } from './aopc.js';

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

    // examples (default 4): one per class first (labels 0, 1, 2 at indices 0, 1, 2), then index 3;
    // shard 0 holds [0, 3), shard 1 index 3, shard 2 none: merged, the whole run's four
    expect(shards.find((p) => p.shard!.index === 0)!.examples!.map((e) => e.index)).toEqual([0, 1, 2]);
    expect(shards.find((p) => p.shard!.index === 1)!.examples!.map((e) => e.index)).toEqual([3]);
    expect(shards.find((p) => p.shard!.index === 2)!.examples ?? []).toEqual([]);
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
      // the predicted class: the argmax of the network's logits for that image, taken here by hand
      const logits = tf.tidy(() => net.logits(tf.tensor4d(pixels.subarray(k * 64, (k + 1) * 64), [1, 8, 8, 1])).arraySync() as number[][])[0]!;
      expect(e.predicted).toBe(logits.indexOf(Math.max(...logits)));
    }
    const none = await evaluate(net, ds, { ...options(), metrics: ['entropy'], examples: 0 });
    expect(none.examples).toBeUndefined();
    expect(() => resolveEvaluationConfig({ ...options(), examples: -1 }, ds)).toThrow(/examples/);
  });

  it('leaves a constant map (a gradient zero everywhere) out of entropy and size, with a warning counting them', async () => {
    // logits = [1, 2, 3]·relu(w·x − 1): where w·x < 1 the gradient is zero on every pixel (a constant
    // map); elsewhere it is ∝ w, a map that ranks the pixels
    const rng = new Rng(2);
    const w = Float32Array.from({ length: 64 }, () => rng.next());
    const model = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [8, 8, 1] }),
        tf.layers.dense({ units: 1, activation: 'relu', weights: [tf.tensor2d(w, [64, 1]), tf.tensor1d([-1])] }),
        tf.layers.dense({ units: 3, weights: [tf.tensor2d([[1, 2, 3]]), tf.zeros([3])] }),
      ],
    });
    const clf = asClassifier(model, 3);
    // images 0, 2, 4: all 0.01 (w·x ≤ 0.64 < 1: dead); 1, 3, 5: all 0.9 (w·x ≈ 29 > 1: alive)
    const x = Float32Array.from({ length: 6 * 64 }, (_, i) => (Math.floor(i / 64) % 2 === 0 ? 0.01 : 0.9));
    const ds = arrayDataset(x, Int32Array.from([0, 1, 2, 0, 1, 2]), [8, 8, 1], 3);
    const r = await evaluate(clf, ds, { methods: saliencyMethods(['vanilla-gradient']), metrics: ['entropy', 'size'], batchSize: 4, seed: 1, examples: 0 });
    const m = r.methods[0]!;
    const entropy = m.perImage['entropy']!;
    const size = m.perImage['size']!;
    expect(entropy.map((v) => v === null)).toEqual([true, false, true, false, true, false]);
    expect(size.map((v) => v === null)).toEqual([true, false, true, false, true, false]);
    // the live maps are w's 8-bit map (|∂logit/∂x| ∝ w); the metric's mean is over them alone
    const live = saliencyEntropy(toUint8Map(w));
    for (const k of [1, 3, 5]) expect(entropy[k]).toBeCloseTo(live, 12);
    const value = (name: string) => m.metrics.find((s) => s.name === name)!;
    expect(value('entropy').value).toBeCloseTo(live, 12);
    expect(value('entropy').n).toBe(3);
    expect(value('size').n).toBe(3);
    expect(r.warnings).toEqual([
      'entropy, vanilla-gradient: 3 of 6 maps are constant (every score equal, e.g. a gradient that is zero everywhere): no pixel is ranked above another, so the value is undefined for them and the mean is over the other 3',
      'size, vanilla-gradient: 3 of 6 maps are constant (every score equal, e.g. a gradient that is zero everywhere): no pixel is ranked above another, so the value is undefined for them and the mean is over the other 3',
    ]);
    model.dispose();
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

/** logits = [Σ_p w·x_p − b, 0] on [s, s, 1] images (a dense layer, no hidden units). */
function linearClassifier(side: number, w: number, b: number): ReturnType<typeof asClassifier> {
  const n = side * side;
  const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [side, side, 1] }), tf.layers.dense({ units: 2 })] });
  model.setWeights([tf.tensor2d(Array.from({ length: n }, () => [w, 0])), tf.tensor1d([-b, 0])]);
  return asClassifier(model, 2);
}

describe('evaluate: AOPC_rel undefined and the background warning (issue 12.2)', () => {
  it('a black fill on black-background images gives AOPC_rel undefined with its reason and a warning, never a number', async () => {
    // 6×6 images: a bright 2×2 square on black, w = 1 on every pixel. LeRF removes black pixels
    // first, and a black fill changes nothing there: AOPC_lerf = 0 up to float noise.
    const side = 6;
    const n = 4;
    const x = new Float32Array(n * side * side);
    for (let i = 0; i < n; i++) for (const [r, c] of [[2, 2], [2, 3], [3, 2], [3, 3]]) x[i * side * side + r! * side + c!] = 0.9;
    const clf = linearClassifier(side, 1, 1.8); // logit_0 = 3.6 − 1.8 > 0 on every image
    const ds = arrayDataset(x, new Int32Array(n), [side, side, 1], 2);
    // gradient × input = w·x finds the square: MoRF removes it first, LeRF removes 9 black pixels
    const options = { methods: saliencyMethods(['gradient-x-input']), metrics: ['aopc-morf', 'aopc-lerf', 'aopc-rel'], aopc: { fill: 'black' as const, fraction: 0.25 } };
    const r = await evaluate(clf, ds, options);
    const m = r.methods[0]!.metrics;
    expect(m.find((s) => s.name === 'aopc-morf')!.value!).toBeGreaterThan(0.1);
    const lerf = m.find((s) => s.name === 'aopc-lerf')!.value!;
    const rel = m.find((s) => s.name === 'aopc-rel')!;
    expect(Math.abs(lerf)).toBeLessThanOrEqual(AOPC_REL_MIN_LERF);
    expect(rel.value).toBeNull();
    expect(rel.undefinedReason).toMatch(/AOPC_lerf mean .* ≤ 1e-5/);
    expect(r.fillCoverage).toEqual({ equal: n * (side * side - 4), total: n * side * side });
    expect(r.warnings?.[0]).toMatch(/AOPC fill 'black' equals the data's background: 88\.9 %/);
    // the same through merge of two shards
    const parts = [0, 1].map((index) => evaluate(clf, ds, { ...options, batchSize: 2, shard: { index, count: 2 } }));
    const merged = mergeEvaluations(await Promise.all(parts));
    expect(merged.fillCoverage).toEqual(r.fillCoverage);
    expect(merged.warnings).toEqual(r.warnings);
    clf.model.dispose();
  });

  it('aopcRel: a ratio only over an AOPC_lerf mean above float noise', () => {
    expect(aopcRel(0.2, 0.001)).toEqual({ value: 0.2 / 0.001 });
    for (const lerf of [0, -3e-7, 1e-6, AOPC_REL_MIN_LERF, -7e-4]) {
      const r = aopcRel(0.2, lerf);
      expect(r.value, `lerf ${lerf}`).toBeNull();
      expect(r.undefinedReason).toContain('undefined');
    }
    expect(aopcRel(0.2, -7e-4).undefinedReason).toContain('raised it');
    expect(aopcRel(null, 0.1)).toEqual({ value: null });
  });

  it('uniform fill gives no warning and no coverage count', async () => {
    const ds = arrayDataset(new Float32Array(2 * 36), new Int32Array(2), [6, 6, 1], 2);
    const clf = linearClassifier(6, 1, -1);
    const r = await evaluate(clf, ds, { methods: saliencyMethods(['vanilla-gradient']), metrics: ['aopc-rel'] });
    expect(r.warnings).toBeUndefined();
    expect(r.fillCoverage).toBeUndefined();
    clf.model.dispose();
  });
});

describe('evaluate: the AOPC regime and the robustness attack reach their settings (issues 12.1, 12.5)', () => {
  it('AOPC by default removes 10 % of the image in 1-px patches at 28 px (L = 78)', async () => {
    const side = 28;
    const ds = arrayDataset(Float32Array.from({ length: side * side }, (_, i) => (i % 7) / 7), new Int32Array(1), [side, side, 1], 2);
    const clf = linearClassifier(side, 0.01, 0);
    const r = await evaluate(clf, ds, { methods: saliencyMethods(['vanilla-gradient']), metrics: ['aopc-lerf'] });
    expect(r.config.aopc).toMatchObject({ patchSize: null, fraction: 0.1, steps: null });
    expect([r.methods[0]!.aopc!.patchSize, r.methods[0]!.aopc!.steps]).toEqual([1, 78]);
    const whole = await evaluate(clf, ds, { methods: saliencyMethods(['vanilla-gradient']), metrics: ['aopc-lerf'], aopc: { fraction: 1 } });
    expect(whole.methods[0]!.aopc!.steps).toBe(side * side);
    expect(() => resolveEvaluationConfig({ methods: [], aopc: { fraction: 0 } }, ds)).toThrow("evaluate: 'aopc.fraction' (--aopc-fraction) must be a number in (0, 1], got 0");
    clf.model.dispose();
  });

  it('the robustness attack at ε = 0.3 moves the masked pixels by ε (α = 2.5ε/K), flipping a margin that needs 0.2', async () => {
    // logit_0 = Σ x − b with x = 0.5 on 16 px, b = 6.4: margin 1.6. Attacking 8 px (q = 0.5) by δ
    // lowers it by 8δ: flips iff δ > 0.2. ε = 0.3 reaches it; the old α = 2/255 × 7 = 0.055 did not.
    const side = 4;
    const ds = arrayDataset(new Float32Array(2 * 16).fill(0.5), new Int32Array(2), [side, side, 1], 2);
    const clf = linearClassifier(side, 1, 6.4);
    const r = await evaluate(clf, ds, {
      methods: saliencyMethods(['vanilla-gradient']), metrics: ['robustness-attack'],
      robustness: { ratios: [0, 0.25, 0.5], attack: { epsilon: 0.3 } },
    });
    expect(r.config.robustness.attack.alpha).toBeCloseTo((2.5 * 0.3) / 7, 12);
    expect(robustnessAlpha(0.3, 7) * 7).toBeGreaterThanOrEqual(0.3);
    // q = 0.25: 4 px × 0.3 = 1.2 < 1.6 → still correct; q = 0.5: 8 px × 0.3 = 2.4 > 1.6 → flipped
    expect(r.methods[0]!.robustness![0]!.accuracy).toEqual([1, 1, 0]);
    clf.model.dispose();
  });
});

describe('exampleIndices', () => {
  it('takes the first image of each class in the sample\'s order, then the next images; ascending', () => {
    // labels by dataset index: 0:7 1:7 2:3 3:7 4:3 5:1
    const labels = [7, 7, 3, 7, 3, 1];
    expect(Array.from(exampleIndices([0, 1, 2, 3, 4, 5], labels, 2))).toEqual([0, 2]);
    expect(Array.from(exampleIndices([0, 1, 2, 3, 4, 5], labels, 3))).toEqual([0, 2, 5]);
    expect(Array.from(exampleIndices([0, 1, 2, 3, 4, 5], labels, 5))).toEqual([0, 1, 2, 3, 5]); // 3 classes, then 1 and 3
    expect(Array.from(exampleIndices([5, 3, 4], labels, 2))).toEqual([3, 5]); // the sample's order decides
    expect(Array.from(exampleIndices([0, 1], labels, 9))).toEqual([0, 1]);
    expect(Array.from(exampleIndices([0, 1, 2], labels, 0))).toEqual([]);
    expect(Array.from(exampleIndices([0, 1, 2], [-1, -1, 4], 2))).toEqual([0, 2]); // unknown (−1) counts as one class
  });

  it('shows several classes of a dataset stored class by class (the first images would all be class 0)', async () => {
    const x = Float32Array.from({ length: 12 * 64 }, (_, i) => (i % 7) / 7);
    const y = Int32Array.from({ length: 12 }, (_, i) => Math.floor(i / 4)); // 0 0 0 0 1 1 1 1 2 2 2 2
    const ds = arrayDataset(x, y, [8, 8, 1], 3);
    const net = tinyCnn([8, 8, 1], 3, { seed: 3 });
    const r = await evaluate(net, ds, { methods: saliencyMethods(['vanilla-gradient']), metrics: ['entropy'], batchSize: 5, examples: 4 });
    expect(r.examples!.map((e) => [e.index, e.label])).toEqual([[0, 0], [1, 0], [4, 1], [8, 2]]);
    net.model.dispose();
  });
});

/** What `aopc.fill` takes: one fill or a list. */
type AopcFillSetting = AopcFills;

describe('evaluate: a list of AOPC fills in one evaluation', () => {
  const net = tinyCnn([8, 8, 1], 3, { seed: 3 });
  const AOPC_ROWS = ['aopc-morf', 'aopc-lerf', 'aopc-rel'];
  const options = (fill: AopcFillSetting): EvaluateOptions => ({
    methods: saliencyMethods(['vanilla-gradient', 'integrated-gradients'], { 'integrated-gradients': { steps: 3 } }),
    metrics: [...AOPC_ROWS, 'entropy'], batchSize: 3, seed: 5, examples: 0, aopc: { fill, patchSize: 2, fraction: 0.25 },
  });

  it('gives each fill the numbers of an evaluation with that fill alone, bit for bit, under its own names; leaks nothing', async () => {
    const ds = tinySet();
    const before = tf.memory().numTensors;
    const both = await evaluate(net, ds, options(['uniform', 'black']));
    expect(tf.memory().numTensors).toBe(before);
    const uniform = await evaluate(net, ds, options('uniform'));
    const black = await evaluate(net, ds, options('black'));
    expect(both.config.aopc.fill).toEqual(['uniform', 'black']);
    both.methods.forEach((m, mi) => {
      const [u, b] = [uniform.methods[mi]!, black.methods[mi]!];
      // each row once per fill, in the list's order, the variant naming the fill
      expect(m.metrics.map((s) => [s.name, s.variant])).toEqual([
        ['entropy', undefined],
        ['aopc-morf', 'uniform fill'], ['aopc-morf', 'black fill'],
        ['aopc-lerf', 'uniform fill'], ['aopc-lerf', 'black fill'],
        ['aopc-rel', 'uniform fill'], ['aopc-rel', 'black fill'],
      ]);
      for (const row of AOPC_ROWS) {
        const of = (r: typeof m, variant: string) => r.metrics.find((s) => s.name === row && s.variant === variant);
        expect(of(m, 'uniform fill'), row).toEqual(of(u, 'uniform fill'));
        expect(of(m, 'black fill'), row).toEqual(of(b, 'black fill'));
      }
      // per-image values: the first fill under the keys of one fill, the other under its own
      expect(Object.keys(m.perImage)).toEqual(['entropy', 'aopc-morf', 'aopc-lerf', 'aopc-morf (black fill)', 'aopc-lerf (black fill)']);
      expect(m.perImage['aopc-morf']).toEqual(u.perImage['aopc-morf']);
      expect(m.perImage['aopc-lerf']).toEqual(u.perImage['aopc-lerf']);
      expect(m.perImage['aopc-morf (black fill)']).toEqual(b.perImage['aopc-morf']);
      expect(m.perImage['aopc-lerf (black fill)']).toEqual(b.perImage['aopc-lerf']);
      // curves: the first fill's in `aopc`, the others' in `aopcMore`
      expect(m.aopc).toEqual(u.aopc);
      expect(m.aopcMore).toEqual([b.aopc]);
      expect(u.aopcMore).toBeUndefined();
    });
    // the other order: black first keeps the keys of one fill
    const swapped = await evaluate(net, ds, { ...options(['black', 'uniform']), metrics: ['aopc-lerf'] });
    expect(swapped.methods[0]!.metrics.map((s) => s.variant)).toEqual(['black fill', 'uniform fill']);
    expect(swapped.methods[0]!.perImage['aopc-lerf']).toEqual(black.methods[0]!.perImage['aopc-lerf']);
    expect(swapped.methods[0]!.perImage['aopc-lerf (uniform fill)']).toEqual(uniform.methods[0]!.perImage['aopc-lerf']);
    expect(swapped.methods[0]!.aopcMore).toEqual([uniform.methods[0]!.aopc]);
  });

  it('merges shards of several fills (constant ones counted) into exactly the unsharded result', async () => {
    // tinySet's values are uniform in (0, 1): about 1 in 2^24 equals 0.5, none equals 0
    const ds = tinySet();
    const fills = options(['uniform', 'black', 0.5]);
    const whole = await evaluate(net, ds, fills);
    expect(whole.fillCoverage).toEqual({ equal: 0, total: 640 });
    expect(whole.fillCoverageMore).toEqual([{ fill: 0.5, equal: 0, total: 640 }]);
    expect(whole.methods[0]!.aopcMore!.map((a) => a.fill)).toEqual(['black', 0.5]);
    const shards: EvaluationResult[] = [];
    for (const index of [1, 2, 0]) shards.push(JSON.parse(JSON.stringify(await evaluate(net, ds, { ...fills, shard: { index, count: 3 } }))) as EvaluationResult);
    expect(withoutProvenance(mergeEvaluations(shards))).toEqual(withoutProvenance(whole));
  });

  it('warns of a constant fill equal to the background among several fills, as alone', async () => {
    const side = 6;
    const n = 4;
    const x = new Float32Array(n * side * side);
    for (let i = 0; i < n; i++) for (const [r, c] of [[2, 2], [2, 3], [3, 2], [3, 3]]) x[i * side * side + r! * side + c!] = 0.5;
    const clf = linearClassifier(side, 1, 1.2); // logit_0 = 2 − 1.2 > 0
    const ds = arrayDataset(x, new Int32Array(n), [side, side, 1], 2);
    const run = (fill: AopcFillSetting, shard?: { index: number; count: number }) =>
      evaluate(clf, ds, { methods: saliencyMethods(['gradient-x-input']), metrics: ['aopc-rel'], aopc: { fill, fraction: 0.25 }, batchSize: 2, ...(shard ? { shard } : {}) });
    const alone = await run('black');
    expect(alone.warnings).toHaveLength(1);
    const withUniform = await run(['uniform', 'black']);
    expect(withUniform.warnings).toEqual(alone.warnings);
    expect(withUniform.fillCoverage).toEqual(alone.fillCoverage);
    expect(withUniform.fillCoverageMore).toBeUndefined();
    // a second constant fill: its own count; 0.5 is the square's value, 4 of 36 pixels: no warning
    const three = await run(['black', 0.5, 'uniform']);
    expect(three.fillCoverage).toEqual(alone.fillCoverage);
    expect(three.fillCoverageMore).toEqual([{ fill: 0.5, equal: 16, total: 144 }]);
    expect(three.warnings).toEqual(alone.warnings);
    const merged = mergeEvaluations(await Promise.all([0, 1].map((index) => run(['black', 0.5, 'uniform'], { index, count: 2 }))));
    expect(withoutProvenance(merged)).toEqual(withoutProvenance(three));
    clf.model.dispose();
  });

  it('counts a constant fill with no exact float32 value (0.9) against the float32 pixels it writes', async () => {
    const side = 6;
    const n = 4;
    const x = new Float32Array(n * side * side); // float32(0.9) ≠ 0.9 as a double
    for (let i = 0; i < n; i++) for (const [r, c] of [[2, 2], [2, 3], [3, 2], [3, 3]]) x[i * side * side + r! * side + c!] = 0.9;
    expect(x[2 * side + 2]).not.toBe(0.9);
    const clf = linearClassifier(side, 1, 1.2);
    const ds = arrayDataset(x, new Int32Array(n), [side, side, 1], 2);
    const result = await evaluate(clf, ds, { methods: saliencyMethods(['gradient-x-input']), metrics: ['aopc-rel'], aopc: { fill: ['uniform', 0.9], fraction: 0.25 }, batchSize: 2 });
    expect(result.fillCoverage).toEqual({ equal: 16, total: 144 });
    clf.model.dispose();
  });
});

describe('resolveEvaluationConfig: aopc.fill', () => {
  const ds = { size: 10, hasMask: false };
  const methods = saliencyMethods(['vanilla-gradient', 'smooth-grad']);
  const resolve = (fill: unknown) => resolveEvaluationConfig({ methods, aopc: { fill } } as EvaluateOptions, ds);

  // A compatibility guard: results written before fill lists existed hold these configs, and a sweep
  // or merge compares a cell's config as text, so a one-fill config must resolve to the same bytes.
  it('resolves one fill to exactly the config the code before lists wrote (test/fixtures/evaluation-golden/resolved-config-fill.json)', () => {
    const cases = JSON.parse(readFileSync(new URL('../../test/fixtures/evaluation-golden/resolved-config-fill.json', import.meta.url), 'utf8')) as Record<string, { settings: Record<string, unknown>; resolved: string }>;
    expect(Object.keys(cases)).toHaveLength(6);
    for (const [name, c] of Object.entries(cases)) {
      expect(JSON.stringify(resolveEvaluationConfig({ methods, ...c.settings } as EvaluateOptions, ds)), name).toBe(c.resolved);
    }
    // a list of one is that fill
    expect(JSON.stringify(resolve(['black']))).toBe(cases['black']!.resolved);
    expect(JSON.stringify(resolve('[0.25]'))).toBe(cases['0.25']!.resolved);
  });

  it('reads a list as an array, a JSON array or comma-separated text', () => {
    for (const written of [['uniform', 'black'], 'uniform,black', ' uniform , black ', '["uniform", "black"]']) expect(resolve(written).aopc.fill, String(written)).toEqual(['uniform', 'black']);
    expect(resolve('black,0.5,8/255').aopc.fill).toEqual(['black', 0.5, 8 / 255]);
    expect(resolve([0.5, 'uniform']).aopc.fill).toEqual([0.5, 'uniform']);
  });

  it.each([
    [[], "'uniform', 'black', a number or a non-empty list of distinct ones (e.g. uniform,black), got []"],
    ['', "'uniform', 'black', a number or a non-empty list of distinct ones (e.g. uniform,black), got ''"],
    ['[]', "'uniform', 'black', a number or a non-empty list of distinct ones (e.g. uniform,black), got '[]'"],
    ['grey', "'uniform', 'black', a number or a non-empty list of distinct ones (e.g. uniform,black), got 'grey'"],
    [['uniform', 'uniform'], 'a list of distinct fills (\'uniform\' is listed twice), got ["uniform","uniform"]'],
    ['black,0', "a list of distinct fills ('black' and 0 are the same fill), got 'black,0'"],
    [['uniform', 'grey'], 'a list of \'uniform\', \'black\' or numbers (item 2, \'grey\', is none of them), got ["uniform","grey"]'],
    ['uniform,', "a list of 'uniform', 'black' or numbers (item 2, '', is none of them), got 'uniform,'"],
    [[0.5, true], "a list of 'uniform', 'black' or numbers (item 2, true, is none of them), got [0.5,true]"],
  ])('%j → a ConfigError naming aopc.fill and --aopc-fill', (fill, message) => {
    expect(() => resolve(fill)).toThrow(ConfigError);
    expect(() => resolve(fill)).toThrow(`evaluate: 'aopc.fill' (--aopc-fill) must be ${message}`);
  });
});

/**
 * The EvaluationResult JSON stays byte-identical across refactors of the metrics room: fixed tiny
 * models and datasets, evaluated (whole, sharded, merged) under settings that reach every metric
 * and every recorded branch (fill coverage and its warning, AOPC_rel undefined, the stratified
 * `limit` sample, PNG size, additive noise, predicted target, weights identity), compared as text
 * (provenance aside) with files written by the code before metrics became registry rows
 * (test/fixtures/evaluation-golden, commit 4ab4191). One deliberate change since: the examples are
 * chosen from the whole sample, one per class first (evaluation-examples.ts exampleIndices), so a
 * shard now holds only its part of that set (all-metrics.shard1/2.json rewritten 2026-12-05; every
 * other field of every file, and the whole and merged files entirely, unchanged).
 *
 * A refactor guard, not an oracle: the files are the code's own output, so this test says only that
 * a refactor changed nothing. Each value in them is checked against an oracle elsewhere: the U8 map
 * against NumPy and entropy in closed form (uint8-map.test.ts), JPEG/PNG size against PIL
 * (saliency-size.test.ts), AOPC curves by hand and in closed form on linear models (aopc.test.ts,
 * evaluate.test.ts), robustness flips by hand (robustness.test.ts), localisation by hand
 * (localization.test.ts), Spearman ρ against a hand ranking (randomization.test.ts), sharding and
 * merging against the unsharded run (evaluate.test.ts). A deliberate numeric change is made there
 * first; these files are then rewritten and the diff reviewed.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../test/helpers/index.js';
import { evaluate } from './evaluate.js';
import type { EvaluateOptions } from './evaluate.js';
import { mergeEvaluations } from './merge.js';
import type { EvaluationResult } from './evaluation-result.js';
import { arrayDataset } from './_testing.js';
import { asClassifier, tinyCnn } from '../saliency/_testing.js';
import { saliencyMethods } from '../saliency/registry.js';
import { Rng } from '../engine/random.js';

beforeAll(() => useBackend('cpu'));

const dir = new URL('../../test/fixtures/evaluation-golden/', import.meta.url);

/** The result as JSON text, provenance left out (it records when and where the run happened). */
function text(r: EvaluationResult): string {
  const { provenance: _provenance, ...rest } = r;
  return `${JSON.stringify(rest, null, 1)}\n`;
}

function expectGolden(name: string, r: EvaluationResult): void {
  expect(text(r)).toBe(readFileSync(new URL(`${name}.json`, dir), 'utf8'));
}

function masked(n: number): ReturnType<typeof arrayDataset> {
  const rng = new Rng(9);
  const x = Float32Array.from({ length: n * 8 * 8 }, () => rng.next());
  const y = Int32Array.from({ length: n }, (_, i) => i % 3);
  const mask = Uint8Array.from({ length: n * 64 }, (_, i) => ((i % 64) % 8 < 4 ? 1 : 0));
  return arrayDataset(x, y, [8, 8, 1], 3, mask);
}

describe('evaluate: the results JSON is byte-identical to the golden files', () => {
  const net = tinyCnn([8, 8, 1], 3, { seed: 3 });
  const weights = { sha256: 'ab'.repeat(32), checkpoint: { name: 'epoch-2', step: 40 } };
  const all = (): EvaluateOptions => ({
    methods: saliencyMethods(['vanilla-gradient', 'smooth-grad', 'integrated-gradients'], { 'smooth-grad': { samples: 2 }, 'integrated-gradients': { steps: 3 } }),
    batchSize: 3, seed: 5, robustness: { ratios: [0, 0.5], attack: { steps: 1 } }, aopc: { patchSize: 2 }, modelSource: 'golden.json', modelWeights: weights,
  });

  it('every metric (masks, randomisation, examples), whole, each shard, and merged', async () => {
    const ds = masked(10);
    expectGolden('all-metrics', await evaluate(net, ds, all()));
    const shards: EvaluationResult[] = [];
    for (const index of [0, 1, 2]) {
      const part = await evaluate(net, ds, { ...all(), shard: { index, count: 3 } });
      expectGolden(`all-metrics.shard${index}`, part);
      shards.push(JSON.parse(JSON.stringify(part)) as EvaluationResult);
    }
    expectGolden('all-metrics.merged', mergeEvaluations(shards));
  });

  it('a class-stratified limit, predicted target, constant fill, PNG size, additive noise, a subset of metrics', async () => {
    const ds = masked(12);
    const options: EvaluateOptions = {
      methods: saliencyMethods(['gradient-x-input', 'vanilla-gradient']), limit: 7, batchSize: 2, seed: 2, target: 'predicted',
      metrics: ['aopc-rel', 'size', 'robustness-noise', 'pointing-game', 'randomization-similarity'],
      aopc: { fill: 0.25, fraction: 0.5 }, size: { format: 'png' }, robustness: { ratios: [0.2, 0.6], noise: 'additive', attack: { epsilon: 0.1 } },
      localization: { tolerance: 1 }, randomization: { layers: 1 }, examples: 3, clipPercentile: 95,
    };
    expectGolden('subset', await evaluate(net, ds, options));
    const shards = await Promise.all([1, 0].map((index) => evaluate(net, ds, { ...options, shard: { index, count: 2 } })));
    expectGolden('subset.merged', mergeEvaluations(shards));
  });

  it('a black fill on a black background: AOPC_rel undefined with its reason, the coverage warning', async () => {
    const side = 6;
    const n = 4;
    const x = new Float32Array(n * side * side);
    for (let i = 0; i < n; i++) for (const [r, c] of [[2, 2], [2, 3], [3, 2], [3, 3]]) x[i * side * side + r! * side + c!] = 0.9;
    const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [side, side, 1] }), tf.layers.dense({ units: 2 })] });
    model.setWeights([tf.tensor2d(Array.from({ length: side * side }, () => [1, 0])), tf.tensor1d([-1.8, 0])]);
    const clf = asClassifier(model, 2);
    const ds = arrayDataset(x, new Int32Array(n), [side, side, 1], 2);
    const r = await evaluate(clf, ds, { methods: saliencyMethods(['gradient-x-input']), metrics: ['aopc-morf', 'aopc-lerf', 'aopc-rel', 'entropy'], aopc: { fill: 'black', fraction: 0.25 }, examples: 0 });
    expect(r.warnings).toHaveLength(1);
    expectGolden('black-fill', r);
    model.dispose();
  });
});

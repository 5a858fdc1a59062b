import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../test/helpers/index.js';
import { evaluate, resolveEvaluationConfig } from './evaluate.js';
import { mergeEvaluations } from './merge.js';
import { METRICS } from './registry.js';
import { accumulatorsOf } from './_assemble.js';
import { meanSummary, perImageAccumulator } from './_summary.js';
import { AOPC_CURVES } from './aopc.js';
import { arrayDataset } from './_testing.js';
import { asClassifier } from '../saliency/_testing.js';
import { saliencyMethods } from '../saliency/registry.js';
import type { MetricSpec } from './types.js';

beforeAll(() => useBackend('cpu'));

describe('METRICS: one row per metric, evaluate() a loop over the rows', () => {
  it('every per-method row has an accumulator; the three AOPC rows share one, computed once per batch', () => {
    for (const [name, spec] of METRICS) expect(spec.compute.accumulator === undefined, name).toBe(!spec.perMethod);
    const accumulators = accumulatorsOf(resolveEvaluationConfig({ methods: saliencyMethods(['vanilla-gradient']) }, { size: 1, hasMask: true }));
    expect(accumulators).toHaveLength(7); // entropy, size, AOPC, robustness, relevance mass, pointing game, randomisation
    expect(accumulators.filter((a) => a === AOPC_CURVES)).toHaveLength(1);
    for (const name of ['aopc-morf', 'aopc-lerf', 'aopc-rel']) expect(METRICS.get(name)!.compute.accumulator).toBe(AOPC_CURVES);
  });

  const added = 'max-score';
  afterEach(() => (METRICS as Map<string, MetricSpec>).delete(added));

  it('a metric added as one row is computed, summarised and merged with no change elsewhere', async () => {
    // one more row: the largest per-pixel score of each image. On logits [Σ 0.5·x − b, 0] the
    // vanilla gradient of class 0 is 0.5 at every pixel, so the value is 0.5 on every image.
    (METRICS as Map<string, MetricSpec>).set(added, {
      label: 'Max score', direction: 'lower-is-better', category: 'sparsity', unit: 'score', perMethod: true, description: 'test row',
      compute: {
        accumulator: perImageAccumulator(added, (b) => {
          const px = b.shape[1] * b.shape[2];
          return Array.from({ length: b.shape[0] }, (_, i) => Math.max(...b.scores.subarray(i * px, (i + 1) * px)));
        }),
        summarise: (state, at) => meanSummary(at, (state as number[][])[at.method]!),
      },
    });
    const side = 4;
    const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [side, side, 1] }), tf.layers.dense({ units: 2 })] });
    model.setWeights([tf.tensor2d(Array.from({ length: side * side }, () => [0.5, 0])), tf.tensor1d([-1, 0])]);
    const clf = asClassifier(model, 2);
    const ds = arrayDataset(Float32Array.from({ length: 5 * side * side }, (_, i) => (i % 5) / 5), new Int32Array(5), [side, side, 1], 2);
    const options = { methods: saliencyMethods(['vanilla-gradient']), metrics: [added, 'entropy'], batchSize: 2, examples: 0 };
    const whole = await evaluate(clf, ds, options);
    expect(whole.config.metrics).toEqual(['clean-accuracy', 'entropy', added]);
    expect(whole.metricInfo[added]).toEqual({ label: 'Max score', direction: 'lower-is-better', category: 'sparsity', unit: 'score' });
    expect(whole.methods[0]!.perImage[added]).toEqual([0.5, 0.5, 0.5, 0.5, 0.5]);
    expect(whole.methods[0]!.metrics.find((m) => m.name === added)).toEqual({ name: added, label: 'Max score', direction: 'lower-is-better', value: 0.5, std: 0, n: 5 });
    const shards = await Promise.all([1, 0].map((index) => evaluate(clf, ds, { ...options, shard: { index, count: 2 } })));
    const merged = JSON.parse(JSON.stringify({ ...mergeEvaluations(JSON.parse(JSON.stringify(shards)) as typeof shards), provenance: null })) as unknown;
    expect(merged).toEqual(JSON.parse(JSON.stringify({ ...whole, provenance: null })));
    model.dispose();
  });
});

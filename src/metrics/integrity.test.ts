// Evaluation gives no plausible-looking wrong answers: non-finite attributions, logits or AOPC
// probabilities stop it with a DataError naming the image and the method (a NaN map would score
// entropy 0, the best possible), and merge refuses shards computed from different weights.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../test/helpers/index.js';
import { Rng } from '../engine/random.js';
import { DataError } from '../errors.js';
import type { Classifier } from '../models/classifier.js';
import { tinyCnn } from '../saliency/_testing.js';
import { saliencyMethods } from '../saliency/registry.js';
import { evaluate } from './evaluate.js';
import type { EvaluateMethod } from './evaluate.js';
import { mergeEvaluations } from './merge.js';
import type { EvaluationResult } from './evaluation-result.js';
import { arrayDataset } from './_testing.js';

beforeAll(() => useBackend('cpu'));

const net = tinyCnn([8, 8, 1], 3, { seed: 3 });
/** 7 images with every pixel in [0.1, 1) (so a black fill is the only 0). */
function tinySet(): ReturnType<typeof arrayDataset> {
  const rng = new Rng(9);
  return arrayDataset(Float32Array.from({ length: 7 * 64 }, () => 0.1 + 0.9 * rng.next()), Int32Array.from({ length: 7 }, (_, i) => i % 3), [8, 8, 1], 3);
}

describe('evaluate refuses non-finite values, naming the image and the method', () => {
  it('a NaN attribution map (which would score entropy 0, a perfect map)', async () => {
    // NaN from image 5 on (batches of 3: the second batch, images 3..5)
    const nanFrom5: EvaluateMethod = {
      name: 'broken-gradient',
      saliency: (_c, x) => tf.tidy(() => {
        const index = tf.range(0, x.shape[0]).add(tf.scalar(3)).reshape([x.shape[0], 1, 1, 1]);
        return tf.where(index.greaterEqual(5).tile([1, 8, 8, 1]), tf.fill(x.shape, NaN), tf.zerosLike(x).add(0.5)) as tf.Tensor4D;
      }),
    };
    const ds = tinySet();
    const before = tf.memory().numTensors;
    const err = await evaluate(net, ds, { methods: [nanFrom5], metrics: ['entropy'], batchSize: 3, limit: 6, shard: { index: 1, count: 2 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toMatch(/^broken-gradient attributions of image 5 are not finite \(NaN at position 0 of 64\)/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("NaN logits (clean accuracy would count a class)", async () => {
    const nanModel: Classifier = { ...net, logits: (x, o) => tf.tidy(() => net.logits(x, o).mul(NaN) as tf.Tensor2D) };
    await expect(evaluate(nanModel, tinySet(), { methods: saliencyMethods(['vanilla-gradient']), metrics: ['entropy'], batchSize: 4 })).rejects.toThrow(
      /^the logits of image 0 are not finite \(NaN at position 0 of 3\)/,
    );
  });

  it('NaN probabilities in AOPC (a model that breaks on the black fill)', async () => {
    // finite on the data (every pixel ≥ 0.1); log(min x) − log(min x) is NaN once a patch is filled with 0
    const fragile: Classifier = {
      ...net,
      logits: (x, o) => tf.tidy(() => {
        const m = tf.min(x, [1, 2, 3]).reshape([x.shape[0], 1]);
        return net.logits(x, o).add(tf.log(m).sub(tf.log(m))) as tf.Tensor2D;
      }),
    };
    await expect(
      evaluate(fragile, tinySet(), { methods: saliencyMethods(['vanilla-gradient']), metrics: ['aopc-morf', 'aopc-lerf'], aopc: { fill: 'black', patchSize: 4 }, batchSize: 4 }),
    ).rejects.toThrow(/^vanilla-gradient AOPC probabilities of image 0 are not finite \(NaN at position 1 of \d+\)/);
  });
});

describe('mergeEvaluations and weights', () => {
  it('refuses shards computed from different weights at the same path, and merges shards of the same weights', async () => {
    const ds = tinySet();
    const opts = { methods: saliencyMethods(['vanilla-gradient']), metrics: ['entropy'], batchSize: 3, modelSource: 'runs/a' };
    const a = { sha256: 'a'.repeat(64), checkpoint: null };
    const b = { sha256: 'b'.repeat(64), checkpoint: { name: 'step-00000008', step: 8 } };
    const shard = (i: number, weights: typeof a | typeof b): Promise<EvaluationResult> => evaluate(net, ds, { ...opts, shard: { index: i, count: 2 }, modelWeights: weights });
    const [s0, s1a, s1b] = await Promise.all([shard(0, a), shard(1, a), shard(1, b)]);
    expect(s0.model.weights).toEqual(a);
    expect(s1b.model.weights).toEqual(b);
    expect(mergeEvaluations([s0, s1a]).model.weights).toEqual(a);
    expect(() => mergeEvaluations([s0, s1b], ['e.0.json', 'e.1.json'])).toThrow(
      `merge: e.1.json was computed from other weights than e.0.json (SHA-256 ${b.sha256} vs ${a.sha256}, model runs/a vs runs/a); shards must come from the same weights`,
    );
    expect(() => mergeEvaluations([s0, shardWithout(s1a)])).toThrow(/SHA-256 not recorded vs a{64}/);
  });
});

/** A shard as an older scaat wrote it (no weights recorded). */
function shardWithout(r: EvaluationResult): EvaluationResult {
  const { weights: _w, ...model } = r.model;
  return { ...r, model };
}

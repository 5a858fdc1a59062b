import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeak, useBackend } from '../../test/helpers/index.js';
import { SALIENCY, getSaliency } from './registry.js';
import { randomImages, tinyCnn } from './_testing.js';
import { ConfigError } from '../errors.js';
import { toSaliencyMap } from './postprocess.js';

beforeAll(() => useBackend('cpu'));

// Small settings so the table stays fast; each method's own test covers its maths.
const SMALL: Record<string, Record<string, unknown>> = {
  'smooth-grad': { samples: 3, seed: 5 },
  'integrated-gradients': { steps: 4 },
};

describe.each([...SALIENCY.keys()])('saliency conformance: %s', (name) => {
  const spec = getSaliency(name);
  const opts = SMALL[name] ?? {};

  it('returns an attribution of x’s shape, finite, not all zero', () => {
    const net = tinyCnn([4, 5, 2], 3);
    const x = randomImages([3, 4, 5, 2], 20);
    const y = tf.tensor1d([0, 1, 2], 'int32');
    const a = spec.create(opts)(net, x, y);
    expect(a.shape).toEqual([3, 4, 5, 2]);
    expect(a.dtype).toBe('float32');
    const v = a.dataSync();
    expect(v.every(Number.isFinite)).toBe(true);
    expect(v.some((z) => z !== 0)).toBe(true);
    tf.dispose([x, y, a]);
    net.model.dispose();
  });

  it('leaks no tensors, including with small internal chunks', async () => {
    const net = tinyCnn([4, 4, 1], 2);
    const x = randomImages([3, 4, 4, 1], 21);
    const y = tf.tensor1d([0, 1, 0], 'int32');
    await expectNoLeak(() => spec.create(opts)(net, x, y), name);
    await expectNoLeak(() => spec.create({ ...opts, internalBatchSize: 2 })(net, x, y), `${name} chunked`);
    tf.dispose([x, y]);
    net.model.dispose();
  });

  it('is deterministic under a fixed seed; only smooth-grad depends on the seed', () => {
    const net = tinyCnn([4, 4, 1], 2);
    const x = randomImages([2, 4, 4, 1], 22);
    const y = tf.tensor1d([1, 0], 'int32');
    const run = (seed: number): number[][] =>
      tf.tidy(() => (spec.create(opts)(net, x, y, { seed }).reshape([2, -1]).arraySync() as number[][]));
    const a = run(7);
    expect(run(7)).toEqual(a);
    const other = run(8);
    if (name === 'smooth-grad') {
      // its noise of sample j for image b is drawn with deriveSeed(seed, j, b): another seed, other noise in every image
      other.forEach((row, b) => expect(row, `image ${b}: seed 8 vs seed 7`).not.toEqual(a[b]));
    } else {
      expect(other, 'a deterministic method ignores the seed').toEqual(a);
    }
    tf.dispose([x, y]);
    net.model.dispose();
  });

  it('treats each image independently of the rest of the batch', () => {
    const net = tinyCnn([4, 4, 1], 2);
    const x = randomImages([3, 4, 4, 1], 23);
    const y = tf.tensor1d([1, 0, 1], 'int32');
    const whole = tf.tidy(() => spec.create(opts)(net, x, y, { seed: 1 }).arraySync());
    // other images (and labels) around image 1, at the same positions: its row does not change. This
    // holds for smooth-grad with noise too: its noise depends on the seed, the sample and the
    // image's position only, and its σ on the image itself only.
    const mates = randomImages([3, 4, 4, 1], 24);
    const x2 = tf.tidy(() => tf.concat([tf.slice(mates, [0], [1]), tf.slice(x, [1], [1]), tf.slice(mates, [2], [1])]) as tf.Tensor4D);
    const y2 = tf.tensor1d([0, 0, 0], 'int32');
    const mixed = tf.tidy(() => spec.create(opts)(net, x2, y2, { seed: 1 }).arraySync());
    expect(mixed[1], 'image 1 among other images').toEqual(whole[1]);
    // the first two images without the third: the same rows (smooth-grad: the noise does not depend on the batch size)
    const prefix = tf.tidy(() => spec.create(opts)(net, tf.slice(x, [0], [2]), tf.slice(y, [0], [2]), { seed: 1 }).arraySync());
    expect(prefix, 'images 0 and 1 without image 2').toEqual(whole.slice(0, 2));
    // image 1 alone gives the same attribution as inside the batch. smooth-grad draws its noise by
    // position, so alone (position 0) it would get other noise: at noiseLevel 0 it is the mean of
    // `samples` identical base attributions, and the same oracle applies.
    const single = name === 'smooth-grad' ? { ...opts, noiseLevel: 0 } : opts;
    const inBatch = name === 'smooth-grad' ? tf.tidy(() => spec.create(single)(net, x, y, { seed: 1 }).arraySync()) : whole;
    const alone = tf.tidy(() => spec.create(single)(net, tf.slice(x, [1], [1]), tf.slice(y, [1], [1]), { seed: 1 }).arraySync());
    expect(alone[0], 'image 1 alone').toEqual(inBatch[1]);
    tf.dispose([x, y, mates, x2, y2]);
    net.model.dispose();
  });

  it('rejects unknown options with a ConfigError and describes its resolved options as JSON', () => {
    expect(() => spec.create({ nonsense: 1 })).toThrow(ConfigError);
    const d = spec.describe(opts);
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });
});

describe('registry', () => {
  it('names an unknown method and lists the known ones', () => {
    expect(() => getSaliency('nope')).toThrow(/unknown method 'nope'; expected one of vanilla-gradient/);
  });
  it('wraps any base method in SmoothGrad', () => {
    const d = getSaliency('smooth-grad').describe({ base: 'integrated-gradients', baseOptions: { steps: 3 } });
    expect(d['baseOptions']).toEqual({ steps: 3, baseline: 'black', rule: 'midpoint', internalBatchSize: 64 });
    expect(() => getSaliency('smooth-grad').create({ base: 'smooth-grad' })).toThrow(ConfigError);
  });
});

describe('toSaliencyMap', () => {
  it('reduces channels as documented', () => {
    const a = tf.tensor4d([1, -2, 3, -4], [1, 1, 2, 2]);
    expect(Array.from(toSaliencyMap(a).dataSync())).toEqual([3, 7]);
    expect(Array.from(toSaliencyMap(a, 'max-abs').dataSync())).toEqual([2, 4]);
    expect(Array.from(toSaliencyMap(a, 'mean').dataSync())).toEqual([-0.5, -0.5]);
    expect(Array.from(toSaliencyMap(a, 'sum').dataSync())).toEqual([-1, -1]);
    a.dispose();
  });
});

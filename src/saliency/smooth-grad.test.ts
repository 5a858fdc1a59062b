import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, linearClassifier, useBackend } from '../../test/helpers/index.js';
import { smoothGrad } from './smooth-grad.js';
import { vanillaGradient } from './vanilla-gradient.js';
import { integratedGradients } from './integrated-gradients.js';
import { randomImages, tinyCnn } from './_testing.js';
import type { SaliencyFn } from './types.js';

beforeAll(() => useBackend('cpu'));

describe('smoothGrad', () => {
  it('equals the vanilla gradient when σ = 0', () => {
    const net = tinyCnn([5, 5, 2], 3);
    const x = randomImages([2, 5, 5, 2], 12);
    const y = tf.tensor1d([2, 0], 'int32');
    const vg = vanillaGradient()(net, x, y);
    const sg = smoothGrad(vanillaGradient(), { samples: 5, noiseLevel: 0 })(net, x, y);
    expectClose(sg.dataSync(), vg.dataSync(), { rtol: 1e-6, atol: 1e-8 });
    tf.dispose([x, y, vg, sg]);
    net.model.dispose();
  });

  it('draws its noise per image: two copies of one image in a batch get different maps, each its own draw', () => {
    // On a CNN (the gradient depends on the input) identical images with shared noise would get
    // identical maps; each image's draw is seeded by its position, so the copies differ.
    const net = tinyCnn([5, 5, 2], 3, { seed: 2 });
    const one = randomImages([1, 5, 5, 2], 14);
    const x = tf.concat([one, one]) as tf.Tensor4D;
    const y = tf.tensor1d([1, 1], 'int32');
    const sg = smoothGrad(vanillaGradient(), { samples: 3, noiseLevel: 0.3 })(net, x, y, { seed: 4 });
    const [a, b] = tf.tidy(() => (sg.reshape([2, -1]).arraySync() as number[][]));
    expect(a!.some((v, i) => v !== b![i]), 'the two copies got the same noise').toBe(true);
    // and without noise the copies agree exactly (so the difference above is the noise's)
    const flat = smoothGrad(vanillaGradient(), { samples: 3, noiseLevel: 0 })(net, x, y, { seed: 4 });
    const [c, d] = tf.tidy(() => (flat.reshape([2, -1]).arraySync() as number[][]));
    expect(c).toEqual(d);
    tf.dispose([one, x, y, sg, flat]);
    net.model.dispose();
  });

  it('equals the vanilla gradient for a linear model at any σ (constant gradient)', () => {
    const lin = linearClassifier([3, 3, 1], 2);
    const x = randomImages([2, 3, 3, 1], 13);
    const y = tf.tensor1d([1, 0], 'int32');
    const vg = vanillaGradient()(lin, x, y);
    const sg = smoothGrad(vanillaGradient(), { samples: 4, noiseLevel: 0.5 })(lin, x, y);
    expectClose(sg.dataSync(), vg.dataSync(), { rtol: 1e-5 });
    tf.dispose([x, y, vg, sg]);
  });

  it('draws noise N(0, σ²) with σ = noiseLevel·(max − min) per image', () => {
    // A base that returns its input: SmoothGrad then returns the mean noisy image, and the squared
    // variant the mean of its squares, so E[sq] − E[plain]² estimates σ² per image.
    const identity: SaliencyFn = (_c, x) => tf.clone(x);
    const dummy = linearClassifier([8, 8, 1], 2);
    const x = tf.tidy(() => tf.concat([tf.fill([1, 8, 8, 1], 0.5), tf.pad(tf.fill([1, 8, 7, 1], 2), [[0, 0], [0, 0], [1, 0], [0, 0]])]) as tf.Tensor4D);
    const y = tf.tensor1d([0, 0], 'int32');
    const n = 400;
    const plain = smoothGrad(identity, { samples: n, noiseLevel: 0.1, seed: 3 })(dummy, x, y);
    const sq = smoothGrad(identity, { samples: n, noiseLevel: 0.1, squared: true, seed: 3 })(dummy, x, y);
    const varPer = tf.tidy(() => tf.mean(tf.sub(sq, tf.square(plain)), [1, 2, 3]).dataSync());
    // image 0 is constant → range 0 → σ = 0; image 1 spans [0, 2] → σ = 0.2, σ² = 0.04
    expect(varPer[0]).toBeCloseTo(0, 10);
    expect(Math.abs(varPer[1]! - 0.04)).toBeLessThan(0.04 * 0.05);
    tf.dispose([x, y, plain, sq]);
  });

  it('is deterministic under a seed, differs across seeds, and does not depend on internalBatchSize', () => {
    const net = tinyCnn([4, 4, 1], 2);
    const x = randomImages([3, 4, 4, 1], 14);
    const y = tf.tensor1d([0, 1, 0], 'int32');
    const run = (seed: number, rows: number): Float32Array =>
      tf.tidy(() => smoothGrad(vanillaGradient(), { samples: 5, seed, internalBatchSize: rows })(net, x, y).dataSync() as Float32Array);
    const a = run(1, 64);
    expect(Array.from(run(1, 64))).toEqual(Array.from(a));
    expectClose(run(1, 2), a, { rtol: 1e-5, atol: 1e-7, label: 'rows=2 (sub-batches)' });
    expectClose(run(1, 6), a, { rtol: 1e-5, atol: 1e-7, label: 'rows=6 (2 copies)' });
    expect(Array.from(run(2, 64))).not.toEqual(Array.from(a));
    // the call's seed overrides the factory's
    const viaCall = tf.tidy(() => smoothGrad(vanillaGradient(), { samples: 5, seed: 9 })(net, x, y, { seed: 1 }).dataSync());
    expect(Array.from(viaCall)).toEqual(Array.from(a));
    tf.dispose([x, y]);
    net.model.dispose();
  });

  it('squared: averages W[:, c]² for a linear model at any σ (constant gradient)', () => {
    const lin = linearClassifier([3, 3, 1], 2);
    const x = randomImages([2, 3, 3, 1], 15);
    const classes = [1, 0];
    const y = tf.tensor1d(classes, 'int32');
    const W = lin.W.arraySync() as number[][];
    const sg = smoothGrad(vanillaGradient(), { samples: 4, noiseLevel: 0.5, squared: true, seed: 2 })(lin, x, y);
    const got = tf.tidy(() => sg.reshape([2, -1]).arraySync() as number[][]);
    classes.forEach((c, b) => expectClose(got[b]!, W.map((row) => row[c]! ** 2), { rtol: 1e-5, label: `image ${b}` }));
    tf.dispose([x, y, sg]);
  });

  it('leaks no tensors when squared, or around another base method, in one pass or in chunks', async () => {
    const net = tinyCnn([4, 4, 1], 2);
    const x = randomImages([3, 4, 4, 1], 16);
    const y = tf.tensor1d([1, 0, 1], 'int32');
    const ig = integratedGradients({ steps: 3, internalBatchSize: 4 });
    for (const rows of [64, 6, 2]) {
      await expectNoLeak(() => smoothGrad(vanillaGradient(), { samples: 4, squared: true, internalBatchSize: rows })(net, x, y), `squared, rows=${rows}`);
      await expectNoLeak(() => smoothGrad(ig, { samples: 4, internalBatchSize: rows })(net, x, y), `base IG, rows=${rows}`);
      await expectNoLeak(() => smoothGrad(ig, { samples: 4, squared: true, internalBatchSize: rows })(net, x, y), `base IG squared, rows=${rows}`);
    }
    tf.dispose([x, y]);
    net.model.dispose();
  });
});

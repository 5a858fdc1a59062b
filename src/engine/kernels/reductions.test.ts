/**
 * Per-channel Sum/Mean on wasm (reductions.ts) and their gradients, against the stock cpu kernels
 * and float64 sums; other axis sets must still go to the stock kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../backend.js';
import { Rng } from '../random.js';
import { relError } from '../../../test/helpers/index.js';
import { reducesAllButLast } from './reductions.js';

const SHAPE = [3, 4, 5, 6];
const AXES: Array<number | number[]> = [[0, 1, 2], [2, 0, 1], [-4, -3, -2], [1, 2], [0, 1, 2, 3], 3];

describe('per-channel Sum and Mean on wasm', () => {
  beforeAll(async () => {
    await setupBackend({ backend: 'wasm' });
  });

  it('recognises exactly the all-but-last axis sets', () => {
    expect(reducesAllButLast([0, 1, 2], 4)).toBe(true);
    expect(reducesAllButLast([2, -3, 0], 4)).toBe(true);
    expect(reducesAllButLast(0, 2)).toBe(true);
    expect(reducesAllButLast([1, 2], 4)).toBe(false);
    expect(reducesAllButLast([0, 1, 2, 3], 4)).toBe(false);
    expect(reducesAllButLast(undefined, 4)).toBe(false);
  });

  const combos = (['sum', 'mean'] as const).flatMap((op) => [false, true].flatMap((keepDims) =>
    AXES.map((axis) => [`${op} axis=${JSON.stringify(axis)} keepDims=${keepDims}`, op, axis, keepDims] as const)));
  it.each(combos)('%s: values and gradient match cpu', async (_n, op, axis, keepDims) => {
    const rng = new Rng(2);
    const x = Float32Array.from({ length: 360 }, () => 5 + rng.normal());
    const run = () => tf.tidy(() => {
      const tx = tf.tensor(x, SHAPE);
      const f = (t: tf.Tensor) => (op === 'sum' ? tf.sum(t, axis, keepDims) : tf.mean(t, axis, keepDims));
      const y = f(tx);
      const w = tf.tensor(Float32Array.from({ length: y.size }, (_, i) => Math.cos(i)), y.shape);
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), w)))(tx);
      return { shape: y.shape, y: y.dataSync().slice(), g: g.dataSync().slice() };
    });
    await tf.setBackend('wasm');
    const got = run();
    await tf.setBackend('cpu');
    const ref = run();
    await tf.setBackend('wasm');
    expect(got.shape).toEqual(ref.shape);
    expect(relError(got.y, ref.y)).toBeLessThan(1e-6);
    expect(relError(got.g, ref.g)).toBeLessThan(1e-6);
  });

  it('sums a large activation per channel to float32 accuracy (float64 reference)', async () => {
    await tf.setBackend('wasm');
    const shape = [32, 32, 32, 4];
    const rng = new Rng(3);
    const x = Float32Array.from({ length: 32 * 32 * 32 * 4 }, () => 1 + rng.normal());
    const ref = new Float64Array(4);
    x.forEach((v, i) => (ref[i % 4]! += v));
    const got = tf.tidy(() => tf.sum(tf.tensor(x, shape), [0, 1, 2]).dataSync().slice());
    // 32768 float32 additions per channel: a few ulps of the total.
    expect(relError(got, ref)).toBeLessThan(1e-5);
  });
});

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../backend.js';
import { Rng } from '../random.js';
import { relError } from '../../../test/helpers/index.js';

describe('zero-copy Identity on wasm', () => {
  beforeAll(async () => {
    await setupBackend({ backend: 'wasm' });
  });

  it('shares memory, survives disposing either side, and frees it when both are gone', () => {
    const buffers = (): number => tf.backend().numDataIds();
    const before = buffers();
    const x = tf.tensor2d([[1, -2, 3], [4, 5, -6]]);
    const y = tf.clone(x); // runs the Identity kernel
    expect(y.dataId).toBe(x.dataId);
    expect(buffers() - before).toBe(1); // one buffer on the wasm heap, not two
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, -2, 3, 4, 5, -6]);
    y.dispose();
    expect(buffers()).toBe(before);
  });

  it('keeps gradients right when backprop saves tensors through Identity', () => {
    const x = tf.tensor1d([0.5, -1.5, 2]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.square(v), tf.relu(v))))(x);
    // d/dv (v²·relu(v)) = 3v² for v > 0, 0 for v < 0
    const got = Array.from(g.dataSync());
    [0.75, 0, 12].forEach((e, i) => expect(got[i]).toBeCloseTo(e, 5));
    tf.dispose([x, g]);
  });
});

describe('zero-copy same-dtype Cast on wasm', () => {
  beforeAll(async () => {
    await setupBackend({ backend: 'wasm' });
  });

  it.each(['float32', 'int32', 'bool'] as const)('%s → same dtype shares memory and frees it when both are gone', async (dtype) => {
    await tf.setBackend('wasm');
    const buffers = (): number => tf.backend().numDataIds();
    const before = buffers();
    const x = tf.tensor1d([1, 0, 3, 0, 5], dtype);
    const y = tf.cast(x, dtype);
    expect(y.dataId).toBe(x.dataId);
    expect(y.dtype).toBe(dtype);
    expect(buffers() - before).toBe(1);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual(dtype === 'bool' ? [1, 0, 1, 0, 1] : [1, 0, 3, 0, 5]);
    y.dispose();
    expect(buffers()).toBe(before);
  });

  it.each([
    ['float32', 'int32'], ['float32', 'bool'], ['int32', 'float32'], ['int32', 'bool'], ['bool', 'float32'], ['bool', 'int32'],
  ] as const)('%s → %s (a dtype change) is a new buffer equal to cpu', async (from, to) => {
    const values = [2.75, -3.5, 0, 7, -0.25, 1];
    const run = () => tf.tidy(() => {
      const x = tf.tensor1d(from === 'float32' ? values : values.map((v) => Math.trunc(v)), from);
      const y = tf.cast(x, to);
      return { shared: y.dataId === x.dataId, dtype: y.dtype, v: Array.from(y.dataSync()) };
    });
    await tf.setBackend('wasm');
    const got = run();
    await tf.setBackend('cpu');
    const ref = run();
    await tf.setBackend('wasm');
    expect(got.shared).toBe(false);
    expect(got.dtype).toBe(to);
    expect(got.v).toEqual(ref.v);
  });

  it('batch statistics in training mode (tf.moments casts x) and their gradient match cpu, no leaks', async () => {
    const rng = new Rng(5);
    const shape = [4, 3, 5, 6];
    const x = Float32Array.from({ length: 360 }, () => 2 + rng.normal());
    const w = Float32Array.from({ length: 360 }, (_, i) => Math.sin(i));
    const run = () => tf.tidy(() => {
      const tx = tf.tensor(x, shape);
      const tw = tf.tensor(w, shape);
      const scale = tf.tensor1d([1.5, 0.5, 1, 2, 0.75, 1.25]);
      const offset = tf.tensor1d([0.1, -0.2, 0, 0.3, 0, -0.1]);
      const f = (t: tf.Tensor) => {
        const { mean, variance } = tf.moments(t, [0, 1, 2]);
        // batch norm in training mode, as tf.layers.batchNormalization computes it, then a loss
        return tf.sum(tf.mul(tf.batchNorm(t, mean, variance, offset, scale, 1e-5), tw));
      };
      const { mean, variance } = tf.moments(tx, [0, 1, 2]);
      const g = tf.grad(f)(tx);
      return { m: mean.dataSync().slice(), v: variance.dataSync().slice(), g: g.dataSync().slice() };
    });
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const buffers = tf.backend().numDataIds();
    const got = run();
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.backend().numDataIds()).toBe(buffers);
    await tf.setBackend('cpu');
    const ref = run();
    await tf.setBackend('wasm');
    expect(relError(got.m, ref.m)).toBeLessThan(1e-5);
    expect(relError(got.v, ref.v)).toBeLessThan(1e-5);
    expect(relError(got.g, ref.g)).toBeLessThan(1e-5);
  });
});

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../backend.js';

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

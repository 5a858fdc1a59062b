/**
 * The threaded wasm path's fallback: asked for 2 threads (SCAAT_NATIVE=0, SCAAT_WASM_THREADS=2) in
 * a process without SharedArrayBuffer, setupBackend starts single-threaded wasm with one notice
 * saying why, and computes as before (a convolution and its gradients equal cpu's).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { setupBackend } from './backend.js';
import { Rng } from './random.js';
import { relError } from '../../test/helpers/index.js';

process.env['SCAAT_NATIVE'] = '0';
process.env['SCAAT_WASM_THREADS'] = '2';

describe('multi-threaded wasm fallback', () => {
  afterAll(() => {
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });

  it('falls back to one thread with one notice when SharedArrayBuffer is missing', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    vi.stubGlobal('SharedArrayBuffer', undefined);
    const info = await setupBackend({ backend: 'wasm' });
    vi.unstubAllGlobals();
    expect(info).toMatchObject({ name: 'wasm', threads: 1, accelerator: 'none' });
    const notices = warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('multi-threaded wasm'));
    expect(notices).toEqual(['scaat: multi-threaded wasm unavailable, using one thread: no SharedArrayBuffer/Atomics']);
    await setupBackend({ backend: 'cpu' });
    await setupBackend({ backend: 'wasm' });
    expect(warn.mock.calls.filter((c) => String(c[0]).includes('multi-threaded wasm'))).toHaveLength(1);
  });

  it('computes a convolution and its gradients as cpu does', async () => {
    const rng = new Rng(5);
    const x = Float32Array.from({ length: 2 * 6 * 6 * 3 }, () => rng.normal());
    const w = Float32Array.from({ length: 3 * 3 * 3 * 4 }, () => rng.normal());
    const run = () => tf.tidy(() => {
      const tx = tf.tensor4d(x, [2, 6, 6, 3]);
      const tw = tf.tensor4d(w, [3, 3, 3, 4]);
      const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'))))([tx, tw]);
      return [value, ...grads].map((t) => t.dataSync() as Float32Array);
    });
    await tf.setBackend('wasm');
    const got = run();
    await tf.setBackend('cpu');
    const ref = run();
    await tf.setBackend('wasm');
    got.forEach((g, i) => expect(relError(g, ref[i]!), `output ${i}`).toBeLessThan(1e-5));
  });
});

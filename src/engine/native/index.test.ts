/**
 * Registration contract of the native accelerator: loading reports why it is off, registering is
 * idempotent, and every call the native kernels do not handle runs on the wasm kernel registered
 * before them, with the cpu backend's result (the oracle).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeUnless, NATIVE_SWITCHED_OFF, nativeSkip, relError } from '../../../test/helpers/index.js';
import { setupBackend } from '../backend.js';
import { registerTrainingKernels } from '../kernels/index.js';
import { FUSED_TRAINING_KERNELS } from '../kernels/fused-training.js';
import { Rng } from '../random.js';
import { loadAddon, switchedOff } from './_addon.js';
import { nativeInfo, registerNativeKernels } from './index.js';

const load = loadAddon({ ...process.env, SCAAT_NATIVE: '1' });
// registerNativeKernels reads the real environment: SCAAT_NATIVE=0 turns the accelerator off on purpose.
const disabledByUser = switchedOff(process.env['SCAAT_NATIVE']);

describe('loadAddon', () => {
  it('is off, silently, under SCAAT_NATIVE=0', () => {
    const r = loadAddon({ SCAAT_NATIVE: '0' });
    expect(r).toMatchObject({ ok: false, disabled: true });
  });
  it('says what is missing when the addon file is absent', () => {
    const r = loadAddon({ SCAAT_NATIVE_PATH: '/nonexistent/scaat_native.node' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.disabled).toBe(false);
      expect(r.reason).toMatch(/not built.*\/nonexistent\/scaat_native\.node.*libdnnl-dev/);
    }
  });
});

describeUnless(disabledByUser ? NATIVE_SWITCHED_OFF : nativeSkip(load))('registerNativeKernels on wasm', () => {
  const rng = new Rng('native-index');
  const randn = (shape: number[]) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());

  beforeAll(async () => {
    await setupBackend({ backend: 'cpu' });
    await setupBackend({ backend: 'wasm' });
  });

  it("returns 'onednn', reports its kernels, and is idempotent", () => {
    expect(registerNativeKernels()).toBe('onednn');
    const first = tf.getKernel('Conv2D', 'wasm')?.kernelFunc;
    expect(registerNativeKernels()).toBe('onednn');
    expect(tf.getKernel('Conv2D', 'wasm')?.kernelFunc).toBe(first);
    const info = nativeInfo();
    expect(info?.accelerator).toBe('onednn');
    expect(info?.library).toMatch(/^oneDNN \d+\.\d+/);
    expect(info?.threads).toBeGreaterThanOrEqual(1);
    expect(info?.kernels).toEqual(expect.arrayContaining(['Conv2D', 'Conv2DBackpropFilter', 'BatchMatMul', 'MaxPoolGrad']));
  });

  it("keeps its batch-norm and ReLU-gradient kernels over scaat's pure-wasm SIMD ones of the same names, registered again or not", () => {
    for (let round = 0; round < 2; round++) {
      if (round === 1) expect(registerTrainingKernels('wasm')).toBe('onednn'); // the SIMD kernels first, then native over them
      for (const [name, simd] of FUSED_TRAINING_KERNELS) {
        expect(nativeInfo()?.kernels, name).toContain(name);
        const registered = tf.getKernel(name, 'wasm')?.kernelFunc;
        expect(registered, name).toBeDefined();
        expect(registered, name).not.toBe(simd);
      }
    }
  });

  // Calls outside the native kernels' cases: each must take the wasm kernel registered before.
  const DEFERRED: Array<{ name: string; shapes: number[][]; fn: (...xs: tf.Tensor[]) => tf.Tensor }> = [
    { name: 'FusedConv2D with prelu', shapes: [[2, 5, 5, 3], [3, 3, 3, 4], [4], [4]],
      fn: (x, f, b, a) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, bias: b, strides: 1, pad: 'same',
        activation: 'prelu', preluActivationWeights: a }) },
    { name: 'FusedMatMul with prelu', shapes: [[3, 4], [4, 5], [5], [5]],
      fn: (a, b, bias, alpha) => tf.fused.matMul({ a, b, bias, activation: 'prelu', preluActivationWeights: alpha }) },
    { name: 'batchNorm with per-element statistics', shapes: [[2, 3, 4, 5], [2, 3, 4, 5], [2, 3, 4, 5]],
      fn: (x, m, v) => tf.batchNorm(x, m, tf.add(tf.square(v), 0.5)) },
    { name: 'matMul with a two-sided batch broadcast', shapes: [[2, 1, 3, 4], [1, 5, 4, 2]], fn: (a, b) => tf.matMul(a, b) },
  ];

  it('leaves the Relu gradient stock off wasm (the override is global)', async () => {
    registerNativeKernels();
    await tf.setBackend('cpu');
    const x = tf.tensor1d([-2, -0.5, 0, 0.5, 3]);
    const dy = tf.tensor1d([1, 2, 3, 4, 5]);
    const [dx] = tf.grads((t: tf.Tensor) => tf.relu(t))([x], dy);
    expect(Array.from(dx!.dataSync())).toEqual([0, 0, 0, 4, 5]); // dy · step(x), step(0) = 0
    tf.dispose([x, dy, dx!]);
  });

  it('hands an int32 matMul to the wasm kernel, which rejects it exactly as without the accelerator', async () => {
    registerNativeKernels();
    await tf.setBackend('wasm');
    expect(() => tf.tidy(() => tf.matMul(tf.ones([2, 2], 'int32'), tf.ones([2, 2], 'int32')))).toThrow(/non-float32/);
  });

  it.each(DEFERRED)('$name falls back to wasm and agrees with cpu', async ({ shapes, fn }) => {
    registerNativeKernels();
    const data = shapes.map(randn);
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => fn(...data.map((d, i) => tf.tensor(d, shapes[i]))).dataSync());
    };
    const want = await run('cpu');
    const got = await run('wasm');
    expect(relError(got, want)).toBeLessThanOrEqual(1e-5);
  });
});

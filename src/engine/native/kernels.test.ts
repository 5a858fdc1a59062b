/**
 * Oracle: the stock `cpu` backend (exact float32 kernels, float64 accumulation) on the same data.
 * Every native kernel — forward and through `tf.grad`, so Conv2DBackpropInput/Filter, BatchMatMul
 * and MaxPoolGrad run too — must agree with it to ‖a − b‖∞ / ‖b‖∞ ≤ 1e-5, over strides, padding
 * modes, non-square kernels, dilation, transposes and batch broadcasting.
 *
 * The kernels under test are built with NO fallbacks, so a call the native path does not handle
 * throws instead of silently running on wasm. Skipped when the addon is not built and CI is unset
 * (under CI=true a missing addon fails the suite: CI must test the accelerated path), and under
 * SCAAT_NATIVE=0, the user's switch (the backend then takes the threaded wasm build, whose shared
 * heap the addon refuses).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc } from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeUnless, itUnless, NATIVE_SWITCHED_OFF, nativeSkip, relError } from '../../../test/helpers/index.js';
import { setupBackend } from '../backend.js';
import { Rng } from '../random.js';
import { loadAddon, switchedOff } from './_addon.js';
import { ELEMENTWISE_KERNELS } from './elementwise.js';
import { reluGradConfig } from './gradients.js';
import { nativeKernels } from './kernels.js';

const load = loadAddon({ ...process.env, SCAAT_NATIVE: '1', SCAAT_NATIVE_THREADS: '2' });
const TOL = 1e-5;

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Shape4 = [number, number, number, number];
type Fn = (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[];

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const rng = new Rng('native-kernels');
const randn = (shape: readonly number[]) => ({ shape, data: Float32Array.from({ length: size(shape) }, () => rng.normal()) });
type Input = ReturnType<typeof randn>;

/** Runs `fn` on `backend` over fresh tensors from `inputs`; returns every output's values. */
async function runOn(backend: 'cpu' | 'wasm', fn: Fn, inputs: Input[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const out = fn(...inputs.map((i) => tf.tensor(i.data, [...i.shape])));
    return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync() as Float32Array);
  });
}

/** Asserts wasm+native agrees with cpu on every output of `fn`. */
async function expectAgrees(fn: Fn, inputs: Input[]): Promise<void> {
  const want = await runOn('cpu', fn, inputs);
  const before = tf.memory().numTensors;
  const got = await runOn('wasm', fn, inputs);
  expect(tf.memory().numTensors, 'native kernels leaked tensors').toBe(before);
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    expect(g.length, `output ${i} size`).toBe(want[i]!.length);
    const err = relError(g, want[i]!);
    expect(err, `output ${i}: relative error ${err}`).toBeLessThanOrEqual(TOL);
  });
}

/** ⟨r, f(x…)⟩ and its gradients w.r.t. every input: exercises each kernel's backward path. */
function withGrads(f: Fn, nInputs: number): Fn {
  return (...xs) => {
    const r = xs[nInputs]!;
    const loss = (...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args) as tf.Tensor, r));
    const grads = tf.grads(loss)(xs.slice(0, nInputs));
    return [f(...xs.slice(0, nInputs)) as tf.Tensor, ...grads];
  };
}

/** A filter dilated by zero-stuffing: conv2d(x, dilate(f)) = conv2d(x, f, dilation d) on any backend. */
function dilateFilter(f: tf.Tensor4D, [dh, dw]: [number, number]): tf.Tensor4D {
  const [kh, kw] = f.shape;
  const stuff = (t: tf.Tensor4D, axis: 0 | 1, d: number, k: number): tf.Tensor4D => {
    const parts: tf.Tensor4D[] = [];
    for (let i = 0; i < k; i++) {
      const begin = axis === 0 ? [i, 0, 0, 0] : [0, i, 0, 0];
      const sizeArr = axis === 0 ? [1, -1, -1, -1] : [-1, 1, -1, -1];
      parts.push(tf.slice(t, begin, sizeArr));
      if (i < k - 1 && d > 1) {
        const zs = [...t.shape] as Shape4;
        zs[axis] = d - 1;
        parts.push(tf.zeros(zs));
      }
    }
    return tf.concat(parts, axis);
  };
  return stuff(stuff(f, 0, dh, kh), 1, dw, kw);
}

interface ConvCase {
  name: string;
  x: Shape4;
  f: Shape4;
  strides: number | [number, number];
  pad: Pad;
  dilations?: [number, number];
}

const CONV_CASES: ConvCase[] = [
  { name: '3x3 stride 1 same', x: [2, 6, 7, 3], f: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { name: '3x3 stride 2 same, even input (ResNet downsampling)', x: [2, 8, 8, 4], f: [3, 3, 4, 5], strides: 2, pad: 'same' },
  { name: '3x2 stride 2 same, odd input', x: [2, 7, 6, 3], f: [3, 2, 3, 4], strides: 2, pad: 'same' },
  { name: 'stride 3 valid with unread rows', x: [2, 10, 11, 2], f: [3, 3, 2, 3], strides: 3, pad: 'valid' },
  { name: 'stride [2,1], explicit asymmetric padding', x: [2, 6, 7, 2], f: [2, 3, 2, 3], strides: [2, 1],
    pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { name: 'numeric padding 1, stride 2', x: [2, 6, 6, 2], f: [3, 3, 2, 3], strides: 2, pad: 1 },
  { name: '1x1 projection stride 2', x: [2, 7, 5, 3], f: [1, 1, 3, 4], strides: 2, pad: 'same' },
  // even input: the last row and column are never read (oneDNN sees padding_r = −1)
  { name: '1x1 projection stride 2, even input (ResNet shortcut)', x: [3, 8, 8, 4], f: [1, 1, 4, 6], strides: 2, pad: 'same' },
  { name: '1x1 stride 2, even input, 8 channels', x: [2, 16, 16, 8], f: [1, 1, 8, 16], strides: 2, pad: 'same' },
  { name: '3x3 stride 2 valid, even input', x: [2, 8, 8, 8], f: [3, 3, 8, 8], strides: 2, pad: 'valid' },
  { name: '3x3 stride 2 valid, even input, odd channels', x: [2, 10, 8, 3], f: [3, 3, 3, 5], strides: 2, pad: 'valid' },
  { name: 'kernel larger than input, same', x: [1, 4, 4, 1], f: [5, 5, 1, 2], strides: 1, pad: 'same' },
  { name: 'dilation 2 same', x: [2, 9, 9, 2], f: [3, 3, 2, 2], strides: 1, pad: 'same', dilations: [2, 2] },
  { name: 'dilation [2,1] valid', x: [1, 8, 7, 2], f: [3, 2, 2, 3], strides: 1, pad: 'valid', dilations: [2, 1] },
];

// SCAAT_NATIVE=0 turns the accelerator off on purpose: skipped, even under CI.
const skip = switchedOff(process.env['SCAAT_NATIVE']) ? NATIVE_SWITCHED_OFF : nativeSkip(load);
const describeNative = describeUnless(skip);

// Runs where the addon loaded or CI is set (so a missing addon fails under CI); skipped, with the
// reason in its name for the skip summary, elsewhere and under SCAAT_NATIVE=0.
describe('native addon availability', () => {
  itUnless(skip)('is built and loads (required under CI)', () => {
    expect(load.ok, load.ok ? '' : load.reason).toBe(true);
  });
});

describeNative('native kernels agree with the cpu backend', () => {
  const replaced = new Map<string, tf.KernelConfig>();

  beforeAll(async () => {
    await setupBackend({ backend: 'cpu' });
    await setupBackend({ backend: 'wasm' });
    if (!load.ok) throw new Error(load.reason);
    // The glue kernels (tested in elementwise.test.ts) leave tiny tensors to wasm: only they get fallbacks.
    const glue = new Map(ELEMENTWISE_KERNELS.map((name) => [name, tf.getKernel(name, 'wasm')!] as const));
    for (const [name, kernel] of nativeKernels(load.addon, glue)) {
      const old = tf.getKernel(name, 'wasm');
      if (old) {
        replaced.set(name, old);
        tf.unregisterKernel(name, 'wasm');
      }
      tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernel as unknown as KernelFunc });
    }
    tf.registerGradient(reluGradConfig()); // native on wasm, stock on cpu
  });
  afterAll(() => {
    for (const [name, config] of replaced) {
      tf.unregisterKernel(name, 'wasm');
      tf.registerKernel(config);
    }
  });

  describe.each(CONV_CASES)('conv2d: $name', (c) => {
    const ci = tf.backend_util.computeConv2DInfo(c.x, c.f, c.strides, c.dilations ?? 1, c.pad, undefined, false, 'channelsLast');
    const conv = (x: tf.Tensor, f: tf.Tensor) => {
      if (!c.dilations || tf.getBackend() === 'wasm') {
        return tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.strides, c.pad as 'same', 'NHWC', c.dilations ?? 1);
      }
      // cpu has no dilated conv gradient: the same function through a zero-stuffed filter.
      return tf.conv2d(x as tf.Tensor4D, dilateFilter(f as tf.Tensor4D, c.dilations), c.strides, c.pad as 'same');
    };
    it('forward, ∂x and ∂filter (Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter)', async () => {
      await expectAgrees(withGrads(conv, 2), [randn(c.x), randn(c.f), randn(ci.outShape)]);
    });
  });

  // A sweep over the geometry that decides oneDNN's kernel and layout (NHWC or blocked): channel
  // counts below, at and off multiples of 8, odd and even sizes (unread last rows), 1×1 and 3×3,
  // strides 1 and 2, 'same' and 'valid'.
  const SWEEP = [3, 8, 12].flatMap((ch) => [7, 8].flatMap((size) => [1, 3].flatMap((k) => [1, 2].flatMap((st) =>
    (['same', 'valid'] as const).map((pad) => ({ ch, size, k, st, pad }))))));
  it(`forward, ∂x and ∂filter over ${SWEEP.length} geometries (channels 3/8/12, size 7/8, k 1/3, stride 1/2, same/valid)`, async () => {
    for (const g of SWEEP) {
      const x: Shape4 = [2, g.size, g.size, g.ch];
      const f: Shape4 = [g.k, g.k, g.ch, g.ch + 2];
      const out = tf.backend_util.computeConv2DInfo(x, f, g.st, 1, g.pad, undefined, false, 'channelsLast').outShape;
      const conv = (xx: tf.Tensor, ff: tf.Tensor) => tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, g.st, g.pad);
      await expectAgrees(withGrads(conv, 2), [randn(x), randn(f), randn(out)]);
    }
  });

  describe.each(['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu'] as const)('fused conv2d + bias + %s', (activation) => {
    it('forward (FusedConv2D)', async () => {
      const fn: Fn = (x, f, b) => tf.fused.conv2d({
        x: x as tf.Tensor4D, filter: f as tf.Tensor4D, bias: b, strides: 2, pad: 'same', activation, leakyreluAlpha: 0.3,
      });
      await expectAgrees(fn, [randn([2, 7, 8, 3]), randn([3, 3, 3, 4]), randn([4])]);
    });
  });

  it('fused conv2d + bias + relu: gradients through the fused op', async () => {
    const fn = withGrads((x, f, b) => tf.fused.conv2d({
      x: x as tf.Tensor4D, filter: f as tf.Tensor4D, bias: b, strides: 1, pad: 'same', activation: 'relu',
    }), 3);
    await expectAgrees(fn, [randn([2, 6, 6, 3]), randn([3, 3, 3, 4]), randn([4]), randn([2, 6, 6, 4])]);
  });

  const MATMUL_CASES: Array<{ name: string; a: number[]; b: number[]; ta: boolean; tb: boolean; out: number[] }> = [
    { name: '2-D', a: [5, 7], b: [7, 4], ta: false, tb: false, out: [5, 4] },
    { name: '2-D, transposeA', a: [7, 5], b: [7, 4], ta: true, tb: false, out: [5, 4] },
    { name: '2-D, transposeB', a: [5, 7], b: [4, 7], ta: false, tb: true, out: [5, 4] },
    { name: '2-D, both transposed', a: [7, 5], b: [4, 7], ta: true, tb: true, out: [5, 4] },
    { name: 'batched 3-D', a: [3, 5, 7], b: [3, 7, 4], ta: false, tb: false, out: [3, 5, 4] },
    { name: 'rank 4 × broadcast 2-D', a: [2, 3, 5, 7], b: [7, 4], ta: false, tb: false, out: [2, 3, 5, 4] },
    { name: 'broadcast batch-1 × 3-D, transposed', a: [1, 7, 5], b: [3, 4, 7], ta: true, tb: true, out: [3, 5, 4] },
  ];

  describe.each(MATMUL_CASES)('matMul: $name', (c) => {
    // TF.js's BatchMatMul gradient does not reduce over broadcast batch dims (on any backend):
    // those cases check the forward only.
    const broadcast = c.a.length !== c.b.length || c.a[0] !== c.b[0];
    it(broadcast ? 'forward (BatchMatMul)' : 'forward and gradients (BatchMatMul)', async () => {
      const f = (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b, c.ta, c.tb);
      if (broadcast) await expectAgrees(f, [randn(c.a), randn(c.b)]);
      else await expectAgrees(withGrads(f, 2), [randn(c.a), randn(c.b), randn(c.out)]);
    });
  });

  describe.each(['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu'] as const)('fused matMul + bias + %s', (activation) => {
    it('forward (_FusedMatMul)', async () => {
      const fn: Fn = (a, b, bias) => tf.fused.matMul({ a, b, bias, transposeB: true, activation, leakyreluAlpha: 0.3 });
      await expectAgrees(fn, [randn([6, 9]), randn([5, 9]), randn([5])]);
    });
  });

  it('fused matMul + bias + relu: gradients (a dense layer)', async () => {
    const fn = withGrads((a, b, bias) => tf.fused.matMul({ a, b, bias, activation: 'relu' }), 3);
    await expectAgrees(fn, [randn([6, 9]), randn([9, 5]), randn([5]), randn([6, 5])]);
  });

  const POOL_CASES: Array<{ name: string; x: Shape4; k: number | [number, number]; s: number | [number, number]; pad: Pad; ties?: boolean }> = [
    { name: '2x2 stride 2 valid', x: [2, 8, 8, 3], k: 2, s: 2, pad: 'valid' },
    { name: '2x2 stride 2 valid, odd input', x: [2, 7, 9, 2], k: 2, s: 2, pad: 'valid' },
    { name: '3x3 stride 2 same (overlapping windows)', x: [2, 7, 8, 3], k: 3, s: 2, pad: 'same' },
    { name: '3x2 stride 1 same', x: [1, 5, 6, 2], k: [3, 2], s: 1, pad: 'same' },
    { name: 'ties (integer data): the first maximum takes dy', x: [2, 6, 6, 2], k: 3, s: 1, pad: 'same', ties: true },
  ];

  describe.each(POOL_CASES)('maxPool: $name', (c) => {
    it('gradient (MaxPoolGrad)', async () => {
      const ci = tf.backend_util.computePool2DInfo(c.x, c.k, c.s, 1, c.pad);
      const fn = withGrads((x) => tf.maxPool(x as tf.Tensor4D, c.k, c.s, c.pad as 'same'), 1);
      const x = randn(c.x);
      if (c.ties) x.data.forEach((v, i) => (x.data[i] = Math.round(v)));
      await expectAgrees(fn, [x, randn(ci.outShape)]);
    });
  });

  it('batchNorm with [C] statistics: forward and the gradients w.r.t. x, mean, variance, offset, scale', async () => {
    const C = 5;
    const positive = (i: Input) => ({ ...i, data: i.data.map((v) => 0.5 + v * v) });
    const fn = withGrads((x, m, v, o, g) => tf.batchNorm(x as tf.Tensor4D, m as tf.Tensor1D, v as tf.Tensor1D,
      o as tf.Tensor1D, g as tf.Tensor1D, 1e-3), 5);
    await expectAgrees(fn, [randn([3, 4, 6, C]), randn([C]), positive(randn([C])), randn([C]), randn([C]), randn([3, 4, 6, C])]);
  });

  it('batchNorm in training mode (batch moments, as tf.layers): gradients through the statistics', async () => {
    // (TF.js's batchNorm gradient needs `scale`: without it, saving inputs for backprop fails on every backend.)
    const fn = withGrads((x, g, b) => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      return tf.batchNorm(x as tf.Tensor4D, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, 1e-5);
    }, 3);
    await expectAgrees(fn, [randn([4, 5, 3, 6]), randn([6]), randn([6]), randn([4, 5, 3, 6])]);
  });

  it('relu gradient (NATIVE_RELU_GRAD), with exact zeros in x', async () => {
    const x = randn([3, 5, 7, 4]);
    x.data.forEach((v, i) => (x.data[i] = Math.round(v * 2) / 2)); // many exact 0s: step(0) = 0
    await expectAgrees(withGrads((t) => tf.relu(t), 1), [x, randn([3, 5, 7, 4])]);
  });

  it('rejects operands outside the heap with an error, not a crash', () => {
    if (!load.ok) throw new Error(load.reason);
    const heap = new ArrayBuffer(64);
    // batch 1, m = n = k = 2: A, B, C need 16 bytes each; C at offset 1000 lies outside.
    const params = new Float64Array([1, 2, 2, 2, 0, 0, 0, 0, 16, 0, -1, 0, 0, 1000]);
    expect(() => load.addon.matmul(heap, params)).toThrow(/outside the heap/);
  });
});

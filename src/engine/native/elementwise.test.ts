/**
 * Oracle: the stock `cpu` backend on the same data. The native glue kernels (./elementwise.ts)
 * must give exactly its values for Add/Sub/Multiply, Relu and MaxPool (bit for bit, −0 and NaN
 * included) and agree to 1e-5 relative for Sum/Mean (summed in double, as cpu does); the tiled
 * max-pool gradient (native/src/pooling.cc) must agree with cpu on finite data and, where cpu
 * and scaat's wasm kernel differ (NaN, all −∞ windows), with scaat's pure-JS kernel
 * (../kernels/pooling.ts), which the general native path also follows.
 *
 * The kernels under test run with `minSize: 1` and a `defer` that records its calls, so each case
 * also asserts that it ran natively; the deferral cases run with the default threshold and the
 * wasm fallbacks and assert that they deferred and still equal cpu. Shapes are small, plus one of
 * ≥ 32768 values per kernel, where the native loops split the work between threads.
 * Skipped when the addon is not built, unless CI is set (then a missing addon fails), and under
 * SCAAT_NATIVE=0, the user's switch (the backend then takes the threaded wasm build, whose shared
 * heap the addon refuses).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeUnless, expectNoLeak, itUnless, NATIVE_SWITCHED_OFF, nativeSkip, relError } from '../../../test/helpers/index.js';
import { setupBackend } from '../backend.js';
import { maxPoolGradInto } from '../kernels/pooling.js';
import { Rng } from '../random.js';
import { loadAddon, switchedOff } from './_addon.js';
import { DEFAULT_MIN_SIZE, ELEMENTWISE_KERNELS, elementwiseKernels } from './elementwise.js';
import type { Defer } from './elementwise.js';
import { nativeKernels } from './kernels.js';
import type { NativeKernelArgs } from './kernels.js';

const load = loadAddon({ ...process.env, SCAAT_NATIVE: '1', SCAAT_NATIVE_THREADS: '2' });
// SCAAT_NATIVE=0 turns the accelerator off on purpose: skipped, even under CI.
const skip = switchedOff(process.env['SCAAT_NATIVE']) ? NATIVE_SWITCHED_OFF : nativeSkip(load);
const describeNative = describeUnless(skip);

type Shape = readonly number[];
type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

const rng = new Rng('native-elementwise');
const size = (s: Shape) => s.reduce((a, b) => a * b, 1);
/** Specials every data set includes (at the front): they must pass through exactly as on cpu. */
const SPECIALS = [0, -0, NaN, Infinity, -Infinity, 1e-40, -1e-40, 3.5, -3.5];
function data(shape: Shape, { specials = true, integers = false } = {}): Float32Array {
  const d = Float32Array.from({ length: size(shape) }, () => (integers ? Math.round(rng.normal() * 1.5) : rng.normal()));
  if (specials) d.set(SPECIALS.slice(0, d.length));
  return d;
}

/** Index of the first value that differs (Object.is, NaN = NaN), or -1. */
function firstMismatch(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (!(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)))) return i;
  }
  return -1;
}

function expectExact(got: ArrayLike<number>, want: ArrayLike<number>, label: string): void {
  const at = firstMismatch(got, want);
  expect(at, `${label}: first mismatch at ${at}: got ${got[at]}, want ${want[at]}`).toBe(-1);
}

/** Runs `fn` over fresh tensors on `backend`; returns the output's values and shape. */
async function runOn(backend: 'cpu' | 'wasm', fn: (...xs: tf.Tensor[]) => tf.Tensor, inputs: Array<{ shape: Shape; values: Float32Array | Int32Array }>) {
  await tf.setBackend(backend);
  return expectNoLeak(() => tf.tidy(() => {
    const out = fn(...inputs.map((i) => tf.tensor(i.values, [...i.shape], i.values instanceof Int32Array ? 'int32' : 'float32')));
    return { values: out.dataSync() as Float32Array, shape: out.shape };
  }), `${backend} run`);
}

// Runs where the addon loaded or CI is set (so a missing addon fails under CI); skipped, with the
// reason in its name for the skip summary, elsewhere and under SCAAT_NATIVE=0.
describe('native glue kernels: availability', () => {
  itUnless(skip)('is built and loads (required under CI)', () => {
    expect(load.ok, load.ok ? '' : load.reason).toBe(true);
  });
});

describeNative('native glue kernels agree with the cpu backend', () => {
  const replaced = new Map<string, KernelConfig>();
  const deferred: string[] = [];
  let useMinSize1 = true;

  beforeAll(async () => {
    await setupBackend({ backend: 'cpu' });
    await setupBackend({ backend: 'wasm' });
    if (!load.ok) throw new Error(load.reason);
    for (const name of [...ELEMENTWISE_KERNELS, 'MaxPoolGrad']) {
      const old = tf.getKernel(name, 'wasm');
      if (old) replaced.set(name, old);
    }
    // Records every deferral, then runs the wasm kernel registered before (as ./kernels.ts does).
    const defer: Defer = <T extends TensorInfo | TensorInfo[] = TensorInfo>(name: string, args: NativeKernelArgs) => {
      deferred.push(name);
      return replaced.get(name)!.kernelFunc(args as unknown as Parameters<KernelFunc>[0]) as T;
    };
    const strict = new Map(elementwiseKernels(load.addon, defer, { minSize: 1 }));
    const normal = new Map(elementwiseKernels(load.addon, defer));
    for (const name of ELEMENTWISE_KERNELS) {
      const kernelFunc = ((args: NativeKernelArgs) => (useMinSize1 ? strict : normal).get(name)!(args)) as unknown as KernelFunc;
      tf.unregisterKernel(name, 'wasm');
      tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc });
    }
    // The native max-pool gradient with no fallback: a deferral would throw.
    const maxPoolGrad = nativeKernels(load.addon, new Map()).get('MaxPoolGrad')!;
    tf.unregisterKernel('MaxPoolGrad', 'wasm');
    tf.registerKernel({ kernelName: 'MaxPoolGrad', backendName: 'wasm', kernelFunc: maxPoolGrad as unknown as KernelFunc });
  });
  afterAll(() => {
    for (const [name, config] of replaced) {
      tf.unregisterKernel(name, 'wasm');
      tf.registerKernel(config);
    }
  });

  /** Runs `fn` on cpu and on wasm (native); asserts `kernel` ran natively; returns both results. */
  async function compare(kernel: string, fn: (...xs: tf.Tensor[]) => tf.Tensor, inputs: Array<{ shape: Shape; values: Float32Array | Int32Array }>) {
    const want = await runOn('cpu', fn, inputs);
    deferred.length = 0;
    const got = await runOn('wasm', fn, inputs);
    expect(deferred.filter((n) => n === kernel), `${kernel} deferred to wasm`).toEqual([]);
    expect(got.shape).toEqual(want.shape);
    return { got: got.values, want: want.values };
  }

  const BINARY_CASES: Array<{ name: string; a: Shape; b: Shape }> = [
    { name: 'same shape, odd sizes', a: [2, 5, 7, 3], b: [2, 5, 7, 3] },
    { name: 'bias [C] over NHWC', a: [3, 4, 5, 6], b: [6] },
    { name: 'bias [1, 1, 1, C]', a: [3, 4, 5, 6], b: [1, 1, 1, 6] },
    { name: 'vector on the left', a: [6], b: [3, 4, 5, 6] },
    { name: '[1, C] on the left of [N, C]', a: [1, 9], b: [7, 9] },
    { name: 'last axis 1', a: [5, 3, 1], b: [1] },
    { name: 'threaded: same shape, 43550 values', a: [2, 65, 67, 5], b: [2, 65, 67, 5] },
    // 2 threads split 60970 values at 30480 (a multiple of 16), 2 values into a row of 7
    { name: 'threaded: bias, C = 7 (a thread\'s chunk starts mid-row)', a: [2, 65, 67, 7], b: [7] },
    { name: 'threaded: vector on the left', a: [1, 1, 7], b: [3, 41, 43, 7] },
  ];
  const OPS = [
    { kernel: 'Add', fn: tf.add },
    { kernel: 'Sub', fn: tf.sub },
    { kernel: 'Multiply', fn: tf.mul },
  ] as const;

  describe.each(OPS)('$kernel', ({ kernel, fn }) => {
    it.each(BINARY_CASES)('$name: exactly the cpu values', async ({ a, b }) => {
      useMinSize1 = true;
      const { got, want } = await compare(kernel, (x, y) => fn(x!, y!), [{ shape: a, values: data(a) }, { shape: b, values: data(b) }]);
      expectExact(got, want, kernel);
    });
  });

  it.each([
    { name: 'odd shape', shape: [3, 5, 7, 2] },
    { name: 'threaded, 35000 values', shape: [5, 7000] },
  ])('Relu, $name: exactly the cpu values (relu(NaN) = NaN, relu(−0) = +0)', async ({ shape }) => {
    useMinSize1 = true;
    const { got, want } = await compare('Relu', (x) => tf.relu(x!), [{ shape, values: data(shape) }]);
    expectExact(got, want, 'Relu');
    expect(Number.isNaN(got[2]!)).toBe(true);
    expect(Object.is(got[1], 0)).toBe(true);
  });

  const POOL_CASES: Array<{ name: string; x: Shape4; k: number | [number, number]; s: number | [number, number]; pad: Pad }> = [
    { name: '2x2 stride 2 valid', x: [2, 8, 8, 3], k: 2, s: 2, pad: 'valid' },
    { name: '2x2 stride 2 valid, odd input (last row and column unread)', x: [2, 7, 9, 2], k: 2, s: 2, pad: 'valid' },
    { name: '2x2 stride 2 same, odd input (padding)', x: [2, 7, 9, 2], k: 2, s: 2, pad: 'same' },
    { name: '3x3 stride 2 same (overlapping windows)', x: [2, 7, 8, 3], k: 3, s: 2, pad: 'same' },
    { name: '3x2 stride 1 same', x: [1, 5, 6, 2], k: [3, 2], s: 1, pad: 'same' },
    { name: '3x3 stride 3 valid', x: [2, 10, 11, 4], k: 3, s: 3, pad: 'valid' },
    { name: '2x3 stride [2, 3] valid', x: [2, 6, 9, 3], k: [2, 3], s: [2, 3], pad: 'valid' },
    { name: 'numeric padding 1', x: [2, 6, 6, 2], k: 3, s: 2, pad: 1 },
    { name: 'threaded: 2x2 stride 2, 32768 values', x: [4, 32, 32, 8], k: 2, s: 2, pad: 'valid' },
  ];

  describe.each(POOL_CASES)('max pooling, $name', (c) => {
    it('MaxPool: exactly the cpu values (padding and NaN never win)', async () => {
      useMinSize1 = true;
      const { got, want } = await compare('MaxPool', (x) => tf.maxPool(x as tf.Tensor4D, c.k, c.s, c.pad as 'same'),
        [{ shape: c.x, values: data(c.x) }]);
      expectExact(got, want, 'MaxPool');
    });

    it('MaxPoolGrad: cpu values on finite data with ties (the first maximum takes dy)', async () => {
      useMinSize1 = true;
      const ci = tf.backend_util.computePool2DInfo(c.x, c.k, c.s, 1, c.pad);
      const grad = (x: tf.Tensor, dy: tf.Tensor) =>
        tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, c.k, c.s, c.pad as 'same'))(x, dy);
      const { got, want } = await compare('MaxPoolGrad', (x, dy) => grad(x!, dy!),
        [{ shape: c.x, values: data(c.x, { specials: false, integers: true }) }, { shape: ci.outShape, values: data(ci.outShape, { specials: false }) }]);
      expect(relError(got, want)).toBeLessThanOrEqual(1e-6);
    });

    it('MaxPoolGrad with NaN, ±∞ and −0: the pure-JS kernel\'s values', async () => {
      useMinSize1 = true;
      const ci = tf.backend_util.computePool2DInfo(c.x, c.k, c.s, 1, c.pad);
      const x = data(c.x, { integers: true });
      x.fill(-Infinity, 0, Math.min(x.length, 2 * c.x[2] * c.x[3])); // whole −∞ windows in the first rows
      x.set(SPECIALS, x.length >> 1);
      const dy = data(ci.outShape);
      const want = new Float32Array(x.length);
      maxPoolGradInto(ci, x, dy, want);
      await tf.setBackend('wasm');
      const got = await expectNoLeak(() => tf.tidy(() => tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, c.k, c.s, c.pad as 'same'))(
        tf.tensor(x, c.x), tf.tensor(dy, ci.outShape)).dataSync()), 'MaxPoolGrad');
      expectExact(got, want, 'MaxPoolGrad');
    });
  });

  it.each([
    { name: 'Sum over [0, 1, 2]', kernel: 'Sum', shape: [4, 5, 6, 7], fn: (x: tf.Tensor) => tf.sum(x, [0, 1, 2]) },
    { name: 'Sum over [0, 1, 2], keepDims', kernel: 'Sum', shape: [4, 5, 6, 7], fn: (x: tf.Tensor) => tf.sum(x, [0, 1, 2], true) },
    { name: 'Sum over [-4, -3, -2] (negative axes)', kernel: 'Sum', shape: [3, 4, 5, 6], fn: (x: tf.Tensor) => tf.sum(x, [-4, -3, -2]) },
    { name: 'Sum over axis 0 of [N, C] (dense bias)', kernel: 'Sum', shape: [50, 33], fn: (x: tf.Tensor) => tf.sum(x, 0) },
    { name: 'Mean over [0, 1, 2], keepDims (batch moments)', kernel: 'Mean', shape: [4, 5, 6, 7], fn: (x: tf.Tensor) => tf.mean(x, [0, 1, 2], true) },
    { name: 'threaded: Sum of 131072 values, offset 100 (float32 sums would drift)', kernel: 'Sum', shape: [8, 32, 32, 16],
      fn: (x: tf.Tensor) => tf.sum(tf.add(x, 100), [0, 1, 2]) },
    { name: 'threaded: Mean of 40000 values, C = 5', kernel: 'Mean', shape: [8000, 5], fn: (x: tf.Tensor) => tf.mean(x, 0) },
  ])('$name: cpu values within 1e-5', async ({ kernel, shape, fn }) => {
    useMinSize1 = true;
    const { got, want } = await compare(kernel, (x) => fn(x!), [{ shape, values: data(shape, { specials: false }) }]);
    expect(relError(got, want)).toBeLessThanOrEqual(1e-5);
  });

  it('Sum and Mean of tensors with NaN and ∞: NaN and ∞ as on cpu', async () => {
    useMinSize1 = true;
    const shape = [3, 4, 5];
    const x = data(shape, { specials: false });
    x[0] = NaN; // channel 0
    x[6] = Infinity; // channel 1
    x[7] = Infinity; // channel 2: ∞ − ∞
    x[12] = -Infinity;
    for (const [kernel, fn] of [['Sum', tf.sum], ['Mean', tf.mean]] as const) {
      const { got, want } = await compare(kernel, (t) => fn(t!, [0, 1]), [{ shape, values: x }]);
      expect([got[0], got[1], got[2]]).toEqual([want[0], want[1], want[2]]);
      expect(relError(got.slice(3), want.slice(3))).toBeLessThanOrEqual(1e-5);
    }
  });

  // With the default threshold and the wasm fallbacks: each call must defer, and still equal cpu
  // (finite data: the stock wasm kernels are not all exact on NaN and −0).
  const DEFERRED: Array<{ name: string; kernel: string; inputs: Array<{ shape: Shape; values: Float32Array | Int32Array }>; fn: (...xs: tf.Tensor[]) => tf.Tensor }> = [
    { name: 'int32 Add', kernel: 'Add', fn: (a, b) => tf.add(a!, b!),
      inputs: [{ shape: [200, 100], values: Int32Array.from({ length: 20000 }, (_, i) => i - 7) }, { shape: [100], values: Int32Array.from({ length: 100 }, (_, i) => 3 * i) }] },
    { name: 'Add of a scalar', kernel: 'Add', fn: (a) => tf.add(a!, 2.5), inputs: [{ shape: [200, 100], values: data([200, 100], { specials: false }) }] },
    { name: 'Multiply with a two-sided broadcast', kernel: 'Multiply', fn: (a, b) => tf.mul(a!, b!),
      inputs: [{ shape: [30, 1, 700], values: data([30, 1, 700], { specials: false }) }, { shape: [1, 2, 700], values: data([1, 2, 700], { specials: false }) }] },
    { name: 'Sub with a middle-axis broadcast', kernel: 'Sub', fn: (a, b) => tf.sub(a!, b!),
      inputs: [{ shape: [20, 30, 40], values: data([20, 30, 40], { specials: false }) }, { shape: [30, 1], values: data([30, 1], { specials: false }) }] },
    { name: 'Add of tiny tensors (below the threshold)', kernel: 'Add', fn: (a, b) => tf.add(a!, b!),
      inputs: [{ shape: [5, 7], values: data([5, 7], { specials: false }) }, { shape: [5, 7], values: data([5, 7], { specials: false }) }] },
    { name: 'int32 Relu', kernel: 'Relu', fn: (a) => tf.relu(a!), inputs: [{ shape: [20000], values: Int32Array.from({ length: 20000 }, (_, i) => i - 9000) }] },
    { name: 'Sum over axis 1 only', kernel: 'Sum', fn: (a) => tf.sum(a!, 1), inputs: [{ shape: [40, 30, 20], values: data([40, 30, 20], { specials: false }) }] },
    { name: 'Mean over every axis', kernel: 'Mean', fn: (a) => tf.mean(a!), inputs: [{ shape: [40, 30, 20], values: data([40, 30, 20], { specials: false }) }] },
  ];

  it.each(DEFERRED)('$name: deferred to wasm, cpu values', async ({ kernel, inputs, fn }) => {
    useMinSize1 = false;
    const want = await runOn('cpu', fn, inputs);
    deferred.length = 0;
    const got = await runOn('wasm', fn, inputs);
    expect(deferred).toContain(kernel);
    expect(relError(got.values, want.values)).toBeLessThanOrEqual(1e-6);
  });

  it('runs a bias add of DEFAULT_MIN_SIZE values natively, and one row less on wasm', async () => {
    useMinSize1 = false;
    const rows = DEFAULT_MIN_SIZE / 64;
    const bias = { shape: [64], values: data([64]) };
    const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => (i % 251) / 8 - 15); // cheaper than normals
    const { got, want } = await compare('Add', (a, b) => tf.add(a!, b!), [{ shape: [rows, 64], values: ramp(rows * 64) }, bias]);
    expectExact(got, want, 'Add');
    deferred.length = 0;
    await runOn('wasm', (a, b) => tf.add(a!, b!), [{ shape: [rows - 1, 64], values: ramp((rows - 1) * 64) }, bias]);
    expect(deferred).toEqual(['Add']);
  });

  it('rejects operands outside the heap and inconsistent sizes with an error, not a crash', () => {
    if (!load.ok) throw new Error(load.reason);
    const heap = new ArrayBuffer(64);
    expect(() => load.addon.relu(heap, new Float64Array([4, 0, 1000]))).toThrow(/outside the heap/);
    expect(() => load.addon.elementwise(heap, new Float64Array([0, 1, 6, 4, 0, 0, 32]))).toThrow(/m must divide n/);
    expect(() => load.addon.channelSum(heap, new Float64Array([100, 4, 0, 0, 0]))).toThrow(/outside the heap/);
    expect(() => load.addon.maxPool2d(heap, new Float64Array([1, 2, 2, 1, 1, 1, 2, 2, 2, 2, -1, 0, 0, 32]))).toThrow(/negative padding/);
  });
});

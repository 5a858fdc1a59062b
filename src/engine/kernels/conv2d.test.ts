/**
 * Oracles for the wasm Conv2D gradients (conv2d.ts):
 * 1. a float64 reference built from the definition of conv2d: the forward is checked against
 *    wasm's own Conv2D and against central finite differences (float64), and its exact adjoint
 *    (accumulated term by term) is the reference for both gradients;
 * 2. the stock `cpu` kernels on the same float32 data (dilation 1, where TF.js has them).
 * The cases cover every route of ∂f: scaat's SIMD kernel (Co a multiple of 4, _filter-grad.ts) and
 * the two XNNPACK forms (dy or x as the convolution's filter, conv2d.ts) for the other widths.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../backend.js';
import { phasedInputGradPlan } from './conv2d.js';
import { Rng } from '../random.js';
import { relError } from '../../../test/helpers/index.js';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

interface Case {
  name: string;
  x: Shape4;
  f: Shape4;
  strides: number | [number, number];
  pad: Pad;
  dilations?: number | [number, number];
}

const CASES: Case[] = [
  { name: 'batch 1, 3x3, stride 1, same', x: [1, 5, 5, 2], f: [3, 3, 2, 3], strides: 1, pad: 'same' },
  { name: 'odd sizes, 3x2 kernel, stride 2, same', x: [2, 7, 6, 3], f: [3, 2, 3, 4], strides: 2, pad: 'same' },
  { name: 'stride 2, valid', x: [3, 8, 8, 2], f: [3, 3, 2, 2], strides: 2, pad: 'valid' },
  { name: 'stride [2,1], explicit asymmetric padding', x: [2, 6, 7, 2], f: [2, 3, 2, 3], strides: [2, 1],
    pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { name: '1x1 projection, stride 2, same, odd size', x: [2, 7, 5, 3], f: [1, 1, 3, 4], strides: 2, pad: 'same' },
  { name: 'kernel larger than input, same', x: [1, 4, 4, 1], f: [5, 5, 1, 2], strides: 1, pad: 'same' },
  { name: 'stride 3 with leftover rows, valid', x: [2, 10, 11, 2], f: [3, 3, 2, 2], strides: 3, pad: 'valid' },
  { name: 'numeric padding 1, stride 2', x: [2, 6, 6, 2], f: [3, 3, 2, 3], strides: 2, pad: 1 },
  { name: 'dilation 2, same', x: [2, 9, 9, 2], f: [3, 3, 2, 2], strides: 1, pad: 'same', dilations: 2 },
  { name: 'dilation [2,1], explicit padding', x: [1, 8, 7, 2], f: [3, 2, 2, 3], strides: 1,
    pad: [[0, 0], [2, 1], [1, 0], [0, 0]], dilations: [2, 1] },
  // ∂f with x as the filter (stride 1, x smaller than dy): a first layer, 'valid', and padding
  // beyond the kernel's reach (top 2 > (kh − 1)·d = 1), which keeps dy as the filter
  { name: 'first layer 3 -> 8 channels, same', x: [3, 6, 6, 3], f: [3, 3, 3, 8], strides: 1, pad: 'same' },
  { name: 'widening 1 -> 4 channels, 2x3 kernel, valid', x: [2, 5, 6, 1], f: [2, 3, 1, 4], strides: 1, pad: 'valid' },
  { name: 'widening, explicit top padding beyond the kernel', x: [1, 4, 4, 1], f: [2, 2, 1, 3], strides: 1,
    pad: [[0, 0], [2, 0], [0, 1], [0, 0]] },
  // scaat's SIMD kernel (_filter-grad.ts) takes every ∂f with Co a multiple of 4, in tiles of 4 input × 8 or 4 output channels
  { name: 'SIMD ∂f: Ci 5 (a tile of 4 and a row), Co 12 (tiles of 8 and 4), same', x: [2, 6, 5, 5], f: [3, 3, 5, 12], strides: 1, pad: 'same' },
  { name: 'SIMD ∂f: stride [2,1], explicit asymmetric padding', x: [2, 6, 7, 2], f: [2, 3, 2, 8], strides: [2, 1],
    pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { name: 'SIMD ∂f: stride 3 with leftover rows, valid', x: [2, 10, 11, 2], f: [3, 3, 2, 8], strides: 3, pad: 'valid' },
  { name: 'SIMD ∂f: kernel larger than input, same', x: [1, 4, 4, 1], f: [5, 5, 1, 4], strides: 1, pad: 'same' },
  { name: 'SIMD ∂f: dilation [2,1], explicit padding', x: [1, 8, 7, 2], f: [3, 2, 2, 4], strides: 1,
    pad: [[0, 0], [2, 1], [1, 0], [0, 0]], dilations: [2, 1] },
  { name: 'SIMD ∂f: explicit top padding beyond the kernel', x: [1, 4, 4, 1], f: [2, 2, 1, 4], strides: 1,
    pad: [[0, 0], [2, 0], [0, 1], [0, 0]] },
  // ∂x of strided convolutions as row-phase convolutions of dy itself (conv2d.ts, phasedInputGrad)
  { name: 'phased ∂x: 3x3 stride 2, same, even size (ResNet downsampling)', x: [2, 8, 8, 3], f: [3, 3, 3, 5], strides: 2, pad: 'same' },
  { name: 'phased ∂x: 1x1 projection, stride 2, same, even size', x: [2, 8, 6, 4], f: [1, 1, 4, 6], strides: 2, pad: 'same' },
  { name: 'phased ∂x: 4x5 kernel, stride [3,2], explicit padding', x: [2, 11, 9, 2], f: [4, 5, 2, 3], strides: [3, 2],
    pad: [[0, 0], [2, 1], [3, 0], [0, 0]] },
  { name: 'phased ∂x: stride 4 beyond a 2x3 kernel (rows and columns no tap reaches), valid', x: [1, 9, 10, 3], f: [2, 3, 3, 4],
    strides: 4, pad: 'valid' },
];

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
function randn(rng: Rng, shape: readonly number[]): Float32Array {
  return Float32Array.from({ length: size(shape) }, () => rng.normal());
}
function info(c: Case): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(c.x, c.f, c.strides, c.dilations ?? 1, c.pad, undefined, false, 'channelsLast');
}

/** Calls `visit(xIndex, fIndex, yIndex)` for every term x·f of every output of the convolution. */
function forEachTerm(ci: tf.backend_util.Conv2DInfo, visit: (xi: number, fi: number, yi: number) => void): void {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: O } = ci;
  const { filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW, dilationHeight: DH, dilationWidth: DW } = ci;
  for (let b = 0; b < B; b++)
    for (let i = 0; i < OH; i++)
      for (let j = 0; j < OW; j++)
        for (let p = 0; p < KH; p++) {
          const r = i * SH + p * DH - ci.padInfo.top;
          if (r < 0 || r >= H) continue;
          for (let q = 0; q < KW; q++) {
            const s = j * SW + q * DW - ci.padInfo.left;
            if (s < 0 || s >= W) continue;
            for (let c = 0; c < C; c++)
              for (let o = 0; o < O; o++)
                visit(((b * H + r) * W + s) * C + c, ((p * KW + q) * C + c) * O + o, ((b * OH + i) * OW + j) * O + o);
          }
        }
}

function conv2dRef(ci: tf.backend_util.Conv2DInfo, x: ArrayLike<number>, f: ArrayLike<number>): Float64Array {
  const y = new Float64Array(size(ci.outShape));
  forEachTerm(ci, (xi, fi, yi) => (y[yi]! += x[xi]! * f[fi]!));
  return y;
}

/** The exact adjoint of conv2dRef: (∂⟨dy, y⟩/∂x, ∂⟨dy, y⟩/∂f) in float64. */
function conv2dAdjointRef(ci: tf.backend_util.Conv2DInfo, x: ArrayLike<number>, f: ArrayLike<number>, dy: ArrayLike<number>) {
  const dx = new Float64Array(x.length);
  const df = new Float64Array(f.length);
  forEachTerm(ci, (xi, fi, yi) => {
    dx[xi]! += dy[yi]! * f[fi]!;
    df[fi]! += dy[yi]! * x[xi]!;
  });
  return { dx, df };
}

function attrsOf(c: Case) {
  return { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: c.dilations ?? 1 } as const;
}

/** Runs the two backprop kernels on the current backend and returns their values. */
function backpropKernels(c: Case, x: Float32Array, f: Float32Array, dy: Float32Array) {
  return tf.tidy(() => {
    const tx = tf.tensor4d(x, c.x);
    const tf_ = tf.tensor4d(f, c.f);
    const tdy = tf.tensor4d(dy, info(c).outShape);
    const a = attrsOf(c);
    const nameIn = c.dilations && c.dilations !== 1 ? 'ScaatDilatedConv2DBackpropInput' : 'Conv2DBackpropInput';
    const nameF = c.dilations && c.dilations !== 1 ? 'ScaatDilatedConv2DBackpropFilter' : 'Conv2DBackpropFilter';
    const dx = tf.engine().runKernel(nameIn, { dy: tdy, filter: tf_ }, { ...a, inputShape: c.x }) as tf.Tensor;
    const df = tf.engine().runKernel(nameF, { x: tx, dy: tdy }, { ...a, filterShape: c.f }) as tf.Tensor;
    return { dx: dx.dataSync().slice(), df: df.dataSync().slice() };
  });
}

function dataFor(c: Case, seed: number) {
  const rng = new Rng(seed);
  return { x: randn(rng, c.x), f: randn(rng, c.f), dy: randn(rng, info(c).outShape) };
}

describe('Conv2D gradients on wasm', () => {
  beforeAll(async () => {
    await setupBackend({ backend: 'wasm' });
  });

  it('the float64 reference forward agrees with wasm Conv2D and its adjoint with finite differences', async () => {
    await tf.setBackend('wasm');
    for (const [k, c] of CASES.entries()) {
      const ci = info(c);
      const { x, f, dy } = dataFor(c, 100 + k);
      const y = tf.tidy(() => tf.conv2d(tf.tensor4d(x, c.x), tf.tensor4d(f, c.f), c.strides, c.pad as 'same', 'NHWC',
        c.dilations ?? 1).dataSync().slice());
      expect(relError(y, conv2dRef(ci, x, f)), c.name).toBeLessThan(1e-5);
      // L(x, f) = ⟨dy, conv(x, f)⟩ is bilinear, so central differences in float64 are exact up to rounding.
      const { dx, df } = conv2dAdjointRef(ci, x, f, dy);
      const L = (xx: ArrayLike<number>, ff: ArrayLike<number>) => conv2dRef(ci, xx, ff).reduce((s, v, i) => s + v * dy[i]!, 0);
      const h = 1e-3;
      const rng = new Rng(k);
      for (let t = 0; t < 5; t++) {
        const i = rng.nextInt(x.length);
        const xp = Float64Array.from(x); xp[i]! += h;
        const xm = Float64Array.from(x); xm[i]! -= h;
        expect(Math.abs((L(xp, f) - L(xm, f)) / (2 * h) - dx[i]!), `${c.name} dx[${i}]`).toBeLessThan(1e-9);
        const j = rng.nextInt(f.length);
        const fp = Float64Array.from(f); fp[j]! += h;
        const fm = Float64Array.from(f); fm[j]! -= h;
        expect(Math.abs((L(x, fp) - L(x, fm)) / (2 * h) - df[j]!), `${c.name} df[${j}]`).toBeLessThan(1e-9);
      }
    }
  });

  it.each(CASES.map((c, k) => [c.name, c, k] as const))('kernels match the float64 adjoint: %s', async (_n, c, k) => {
    await tf.setBackend('wasm');
    const { x, f, dy } = dataFor(c, 100 + k);
    const got = backpropKernels(c, x, f, dy);
    const ref = conv2dAdjointRef(info(c), x, f, dy);
    expect(relError(got.dx, ref.dx)).toBeLessThan(1e-5);
    expect(relError(got.df, ref.df)).toBeLessThan(1e-5);
  });

  it.each(CASES.filter((c) => !c.dilations).map((c, k) => [c.name, c, k] as const))(
    'kernels match the stock cpu kernels: %s', async (_n, c, k) => {
      const { x, f, dy } = dataFor(c, 200 + k);
      await tf.setBackend('wasm');
      const got = backpropKernels(c, x, f, dy);
      await tf.setBackend('cpu');
      const ref = backpropKernels(c, x, f, dy);
      await tf.setBackend('wasm');
      expect(relError(got.dx, ref.dx)).toBeLessThan(1e-5);
      expect(relError(got.df, ref.df)).toBeLessThan(1e-5);
    });

  it.each(CASES.map((c, k) => [c.name, c, k] as const))('tf.grad of conv2d and fused conv2d: %s', async (_n, c, k) => {
    await tf.setBackend('wasm');
    const { x, f, dy } = dataFor(c, 300 + k);
    const ref = conv2dAdjointRef(info(c), x, f, dy);
    const [gx, gf, fx, ff] = tf.tidy(() => {
      const tdy = tf.tensor4d(dy, info(c).outShape);
      const loss = (xx: tf.Tensor, ff_: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, ff_ as tf.Tensor4D, c.strides, c.pad as 'same', 'NHWC', c.dilations ?? 1), tdy));
      const [a, b] = tf.grads(loss)([tf.tensor4d(x, c.x), tf.tensor4d(f, c.f)]);
      // tf.layers.conv2d runs tf.fused.conv2d (with bias), whose gradient calls the kernels directly.
      const bias = tf.zeros([c.f[3]]);
      const fusedLoss = (xx: tf.Tensor, ff_: tf.Tensor) => tf.sum(tf.mul(tf.fused.conv2d({
        x: xx as tf.Tensor4D, filter: ff_ as tf.Tensor4D, strides: c.strides, pad: c.pad as 'same', bias,
      }), tdy));
      const fused = c.dilations ? [a!, b!] : tf.grads(fusedLoss)([tf.tensor4d(x, c.x), tf.tensor4d(f, c.f)]);
      return [a!, b!, fused[0]!, fused[1]!].map((t) => t.dataSync().slice());
    });
    expect(relError(gx!, ref.dx)).toBeLessThan(1e-5);
    expect(relError(gf!, ref.df)).toBeLessThan(1e-5);
    expect(relError(fx!, ref.dx)).toBeLessThan(1e-5);
    expect(relError(ff!, ref.df)).toBeLessThan(1e-5);
  });

  it('the Conv2D gradient is stock TF.js on cpu (same values; dilation still rejected)', async () => {
    await tf.setBackend('cpu');
    try {
      const c = CASES[1]!;
      const { x, f, dy } = dataFor(c, 7);
      const ref = conv2dAdjointRef(info(c), x, f, dy);
      const gx = tf.tidy(() => tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(
        tf.conv2d(xx as tf.Tensor4D, tf.tensor4d(f, c.f), c.strides, c.pad as 'same'), tf.tensor4d(dy, info(c).outShape))))(
        tf.tensor4d(x, c.x)).dataSync().slice());
      expect(relError(gx, ref.dx)).toBeLessThan(1e-5);
      const d = CASES.find((cc) => cc.dilations === 2)!;
      expect(() => tf.tidy(() => tf.grad((xx: tf.Tensor) => tf.sum(
        tf.conv2d(xx as tf.Tensor4D, tf.ones(d.f), 1, 'same', 'NHWC', 2)))(tf.ones(d.x)))).toThrow(/dilation rates greater than 1/);
    } finally {
      await tf.setBackend('wasm');
    }
  });

  it('strided input gradients take the row-phase route (also where dy reaches beyond ∂x: rows and columns skipped)', () => {
    for (const c of CASES.filter((c) => c.strides !== 1)) expect(phasedInputGradPlan(info(c)), c.name).toBeDefined();
    const skips = (c: Case) => {
      const plan = phasedInputGradPlan(info(c))!;
      return plan.skipCols + Math.max(...plan.rows.map((r) => r.skipRows + r.NUout - r.NU));
    };
    expect(skips(CASES.find((c) => c.name.startsWith('phased ∂x: 4x5'))!)).toBeGreaterThan(0);
    expect(skips(CASES.find((c) => c.name.startsWith('phased ∂x: 3x3'))!)).toBe(0);
  });

  it('leaves no tensors or wasm buffers behind', async () => {
    await tf.setBackend('wasm');
    const c = CASES[3]!;
    const { x, f, dy } = dataFor(c, 9);
    backpropKernels(c, x, f, dy); // warm-up
    const before = tf.memory().numTensors;
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const ids = backend.numDataIds();
    for (let i = 0; i < 3; i++) backpropKernels(c, x, f, dy);
    expect(tf.memory().numTensors).toBe(before);
    expect(backend.numDataIds()).toBe(ids);
  });
});

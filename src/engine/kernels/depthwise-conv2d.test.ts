/**
 * Oracles for the wasm depthwise gradients (depthwise-conv2d.ts): a float64 reference from the
 * definition (forward checked against wasm's DepthwiseConv2dNative, adjoint term by term, spot
 * checks by central differences), and the stock `cpu` kernels on the same data.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../backend.js';
import { Rng } from '../random.js';
import { relError } from '../../../test/helpers/index.js';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
interface Case { name: string; x: Shape4; f: Shape4; strides: number | [number, number]; pad: Pad; dilations?: number | [number, number] }

const CASES: Case[] = [
  { name: 'batch 1, m=1, stride 1, same', x: [1, 5, 5, 3], f: [3, 3, 3, 1], strides: 1, pad: 'same' },
  { name: 'm=1, stride 2, same, odd sizes', x: [2, 7, 6, 2], f: [3, 3, 2, 1], strides: 2, pad: 'same' },
  { name: 'm=2, 3x2 kernel, stride 2, valid', x: [2, 8, 7, 2], f: [3, 2, 2, 2], strides: 2, pad: 'valid' },
  { name: 'm=3, explicit padding, stride [1,2]', x: [3, 6, 6, 2], f: [2, 3, 2, 3], strides: [1, 2],
    pad: [[0, 0], [1, 0], [2, 1], [0, 0]] },
  { name: 'm=1, dilation 2, same', x: [2, 9, 8, 2], f: [3, 3, 2, 1], strides: 1, pad: 'same', dilations: 2 },
  { name: 'm=2, dilation [1,2], valid', x: [1, 6, 9, 2], f: [2, 3, 2, 2], strides: 1, pad: 'valid', dilations: [1, 2] },
];

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const randn = (rng: Rng, shape: readonly number[]) => Float32Array.from({ length: size(shape) }, () => rng.normal());
const info = (c: Case) =>
  tf.backend_util.computeConv2DInfo(c.x, c.f, c.strides, c.dilations ?? 1, c.pad, undefined, true, 'channelsLast');

function forEachTerm(c: Case, visit: (xi: number, fi: number, yi: number) => void): void {
  const ci = info(c);
  const [B, H, W, C] = c.x;
  const [KH, KW, , M] = c.f;
  for (let b = 0; b < B; b++)
    for (let i = 0; i < ci.outHeight; i++)
      for (let j = 0; j < ci.outWidth; j++)
        for (let p = 0; p < KH; p++)
          for (let r = 0; r < KW; r++) {
            const row = i * ci.strideHeight + p * ci.dilationHeight - ci.padInfo.top;
            const col = j * ci.strideWidth + r * ci.dilationWidth - ci.padInfo.left;
            if (row < 0 || row >= H || col < 0 || col >= W) continue;
            for (let ch = 0; ch < C; ch++)
              for (let q = 0; q < M; q++)
                visit(((b * H + row) * W + col) * C + ch, ((p * KW + r) * C + ch) * M + q,
                  ((b * ci.outHeight + i) * ci.outWidth + j) * C * M + ch * M + q);
          }
}
function forwardRef(c: Case, x: ArrayLike<number>, f: ArrayLike<number>): Float64Array {
  const y = new Float64Array(size(info(c).outShape));
  forEachTerm(c, (xi, fi, yi) => (y[yi]! += x[xi]! * f[fi]!));
  return y;
}
function adjointRef(c: Case, x: ArrayLike<number>, f: ArrayLike<number>, dy: ArrayLike<number>) {
  const dx = new Float64Array(x.length);
  const df = new Float64Array(f.length);
  forEachTerm(c, (xi, fi, yi) => {
    dx[xi]! += dy[yi]! * f[fi]!;
    df[fi]! += dy[yi]! * x[xi]!;
  });
  return { dx, df };
}
function data(c: Case, seed: number) {
  const rng = new Rng(seed);
  return { x: randn(rng, c.x), f: randn(rng, c.f), dy: randn(rng, info(c).outShape) };
}
function kernels(c: Case, x: Float32Array, f: Float32Array, dy: Float32Array) {
  return tf.tidy(() => {
    const a = { strides: c.strides, pad: c.pad, dilations: c.dilations ?? 1 };
    const tdy = tf.tensor4d(dy, info(c).outShape);
    const dx = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput',
      { dy: tdy, filter: tf.tensor4d(f, c.f) }, { ...a, inputShape: c.x }) as tf.Tensor;
    const df = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter',
      { x: tf.tensor4d(x, c.x), dy: tdy }, { ...a, filterShape: c.f }) as tf.Tensor;
    return { dx: dx.dataSync().slice(), df: df.dataSync().slice() };
  });
}

describe('DepthwiseConv2dNative gradients on wasm', () => {
  beforeAll(async () => {
    await setupBackend({ backend: 'wasm' });
  });

  it.each(CASES.map((c, k) => [c.name, c, k] as const))('match the float64 adjoint: %s', async (_n, c, k) => {
    await tf.setBackend('wasm');
    const { x, f, dy } = data(c, 10 + k);
    const y = tf.tidy(() => tf.depthwiseConv2d(tf.tensor4d(x, c.x), tf.tensor4d(f, c.f), c.strides,
      c.pad as 'same', 'NHWC', c.dilations ?? 1).dataSync().slice());
    expect(relError(y, forwardRef(c, x, f)), 'forward').toBeLessThan(1e-5);
    const ref = adjointRef(c, x, f, dy);
    const got = kernels(c, x, f, dy);
    expect(relError(got.dx, ref.dx), 'dx').toBeLessThan(1e-5);
    expect(relError(got.df, ref.df), 'df').toBeLessThan(1e-5);
    // The adjoint itself, by central differences of ⟨dy, y⟩ (bilinear, float64).
    const L = (xx: ArrayLike<number>, ff: ArrayLike<number>) => forwardRef(c, xx, ff).reduce((s, v, i) => s + v * dy[i]!, 0);
    const rng = new Rng(k);
    for (let t = 0; t < 3; t++) {
      const i = rng.nextInt(x.length);
      const xp = Float64Array.from(x); xp[i]! += 1e-3;
      const xm = Float64Array.from(x); xm[i]! -= 1e-3;
      expect(Math.abs((L(xp, f) - L(xm, f)) / 2e-3 - ref.dx[i]!)).toBeLessThan(1e-9);
      const j = rng.nextInt(f.length);
      const fp = Float64Array.from(f); fp[j]! += 1e-3;
      const fm = Float64Array.from(f); fm[j]! -= 1e-3;
      expect(Math.abs((L(x, fp) - L(x, fm)) / 2e-3 - ref.df[j]!)).toBeLessThan(1e-9);
    }
  });

  it.each(CASES.filter((c) => !c.dilations).map((c, k) => [c.name, c, k] as const))(
    'match the stock cpu kernels: %s', async (_n, c, k) => {
      const { x, f, dy } = data(c, 50 + k);
      await tf.setBackend('wasm');
      const got = kernels(c, x, f, dy);
      await tf.setBackend('cpu');
      const ref = kernels(c, x, f, dy);
      await tf.setBackend('wasm');
      expect(relError(got.dx, ref.dx)).toBeLessThan(1e-5);
      expect(relError(got.df, ref.df)).toBeLessThan(1e-5);
    });

  it('tf.grad through tf.depthwiseConv2d uses them and leaks nothing', async () => {
    await tf.setBackend('wasm');
    const c = CASES[2]!;
    const { x, f, dy } = data(c, 99);
    const ref = adjointRef(c, x, f, dy);
    const before = tf.memory().numTensors;
    const [gx, gf] = tf.tidy(() => {
      const loss = (xx: tf.Tensor, ff: tf.Tensor) => tf.sum(tf.mul(
        tf.depthwiseConv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, c.strides, c.pad as 'same'), tf.tensor4d(dy, info(c).outShape)));
      return tf.grads(loss)([tf.tensor4d(x, c.x), tf.tensor4d(f, c.f)]).map((t) => t.dataSync().slice());
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(relError(gx!, ref.dx)).toBeLessThan(1e-5);
    expect(relError(gf!, ref.df)).toBeLessThan(1e-5);
  });
});

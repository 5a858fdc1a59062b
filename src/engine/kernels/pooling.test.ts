/**
 * Oracles for the pooling gradients training relies on (MaxPoolGrad, AvgPoolGrad) on wasm:
 * a float64 reference of the forward (max / average over the in-bounds window, as TF does for
 * 'same'), checked against the backend's forward, and its exact adjoint.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../backend.js';
import { Rng } from '../random.js';
import { relError } from '../../../test/helpers/index.js';

type Shape4 = [number, number, number, number];
interface Case { name: string; x: Shape4; k: [number, number]; strides: [number, number]; pad: 'same' | 'valid' }
const CASES: Case[] = [
  { name: '2x2/2 valid', x: [2, 6, 6, 3], k: [2, 2], strides: [2, 2], pad: 'valid' },
  { name: '2x2/2 same, odd size', x: [2, 7, 5, 2], k: [2, 2], strides: [2, 2], pad: 'same' },
  { name: '3x3/2 same (overlapping)', x: [1, 7, 8, 2], k: [3, 3], strides: [2, 2], pad: 'same' },
  { name: '3x2/1 same', x: [2, 5, 6, 2], k: [3, 2], strides: [1, 1], pad: 'same' },
  { name: '3x3/3 valid with leftover', x: [3, 10, 11, 1], k: [3, 3], strides: [3, 3], pad: 'valid' },
];
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const info = (c: Case) => tf.backend_util.computePool2DInfo(c.x, c.k, c.strides, 1, c.pad);

/** For each output element, the flat input indices of its in-bounds window. */
function windows(c: Case): number[][] {
  const ci = info(c);
  const [B, H, W, C] = c.x;
  const out: number[][] = [];
  for (let b = 0; b < B; b++)
    for (let i = 0; i < ci.outHeight; i++)
      for (let j = 0; j < ci.outWidth; j++)
        for (let ch = 0; ch < C; ch++) {
          const w: number[] = [];
          for (let p = 0; p < c.k[0]; p++)
            for (let q = 0; q < c.k[1]; q++) {
              const r = i * c.strides[0] + p - ci.padInfo.top;
              const s = j * c.strides[1] + q - ci.padInfo.left;
              if (r >= 0 && r < H && s >= 0 && s < W) w.push(((b * H + r) * W + s) * C + ch);
            }
          out.push(w);
        }
  return out;
}

function reference(c: Case, kind: 'max' | 'avg', x: Float32Array, dy: Float32Array) {
  const ws = windows(c);
  const y = new Float64Array(ws.length);
  const dx = new Float64Array(x.length);
  ws.forEach((w, o) => {
    if (kind === 'max') {
      let arg = w[0]!;
      for (const i of w) if (x[i]! > x[arg]!) arg = i;
      y[o] = x[arg]!;
      dx[arg]! += dy[o]!;
    } else {
      for (const i of w) y[o]! += x[i]! / w.length;
      for (const i of w) dx[i]! += dy[o]! / w.length;
    }
  });
  return { y, dx };
}

function onBackend(c: Case, kind: 'max' | 'avg', x: Float32Array, dy: Float32Array) {
  return tf.tidy(() => {
    const pool = (t: tf.Tensor) =>
      kind === 'max' ? tf.maxPool(t as tf.Tensor4D, c.k, c.strides, c.pad) : tf.avgPool(t as tf.Tensor4D, c.k, c.strides, c.pad);
    const tx = tf.tensor4d(x, c.x);
    const tdy = tf.tensor(dy, info(c).outShape);
    const y = pool(tx).dataSync().slice();
    const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(pool(t), tdy)))(tx).dataSync().slice();
    return { y, dx };
  });
}

describe('pooling gradients (wasm and cpu)', () => {
  beforeAll(async () => {
    await setupBackend({ backend: 'wasm' });
  });
  const combos = (['wasm', 'cpu'] as const).flatMap((be) => (['max', 'avg'] as const).flatMap((kind) =>
    CASES.map((c, k) => [`${be} ${kind}Pool ${c.name}`, be, kind, c, k] as const)));
  it.each(combos)('forward and gradient: %s', async (_n, be, kind, c, k) => {
    await tf.setBackend(be);
    try {
      const rng = new Rng(k);
      const x = Float32Array.from({ length: size(c.x) }, () => rng.normal());
      const dy = Float32Array.from({ length: size(info(c).outShape) }, () => rng.normal());
      const ref = reference(c, kind, x, dy);
      const got = onBackend(c, kind, x, dy);
      expect(relError(got.y, ref.y), 'forward').toBeLessThan(1e-6);
      expect(relError(got.dx, ref.dx), 'gradient').toBeLessThan(1e-5);
    } finally {
      await tf.setBackend('wasm');
    }
  });

  it('ties go to the first maximum in row-major window order, as the reference (2x2/2 tiling and an overlapping window)', async () => {
    for (const c of [CASES[0]!, CASES[2]!]) {
      await tf.setBackend('wasm');
      const rng = new Rng(11);
      const x = Float32Array.from({ length: size(c.x) }, () => rng.nextInt(3)); // many ties
      const dy = Float32Array.from({ length: size(info(c).outShape) }, () => rng.normal());
      // a tie routed to another pixel moves a whole dy value: far above float rounding
      expect(relError(onBackend(c, 'max', x, dy).dx, reference(c, 'max', x, dy).dx), c.name).toBeLessThan(1e-6);
    }
  });

  it('a max-pool window with a negative maximum still gets its gradient (the stock wasm defect)', async () => {
    await tf.setBackend('wasm');
    const g = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid')))(
      tf.tensor4d([-3, -1, -2, -4], [1, 2, 2, 1])).dataSync().slice());
    expect(Array.from(g)).toEqual([0, 1, 0, 0]);
  });
});

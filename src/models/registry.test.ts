import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, useBackend } from '../../test/helpers/index.js';
import { ConfigError } from '../errors.js';
import { ChannelNormalization } from './layers.js';
import { MODELS } from './registry.js';

/** A tiny configuration per architecture, small enough for the cpu backend. */
const TINY: Record<string, { inputShape: [number, number, number]; width: number }> = {
  mlp: { inputShape: [8, 8, 1], width: 0.125 },
  'small-cnn': { inputShape: [8, 8, 3], width: 0.125 },
  'resnet-20': { inputShape: [8, 8, 3], width: 0.25 },
  'resnet-pcam': { inputShape: [16, 16, 3], width: 0.125 },
  'resnet-18': { inputShape: [32, 32, 3], width: 0.0625 },
};

const trainableCount = (m: tf.LayersModel) => m.trainableWeights.reduce((s, w) => s + w.shape.reduce((a, b) => a! * b!, 1)!, 0);

beforeAll(async () => {
  await useBackend('cpu');
});

describe.each([...MODELS.keys()])('%s', (name) => {
  const spec = MODELS.get(name)!;
  const tiny = TINY[name]!;
  const build = (seed: number) => spec.create({ inputShape: tiny.inputShape, numClasses: 3, seed, width: tiny.width });

  it('maps [B, H, W, C] to logits [B, K] and is seeded', () => {
    const x = tf.randomUniform([2, ...tiny.inputShape], 0, 1, 'float32', 1) as tf.Tensor4D;
    const a = build(1);
    const out = a.logits(x);
    expect(out.shape).toEqual([2, 3]);
    expect(a.inputShape).toEqual(tiny.inputShape);
    expect(a.numClasses).toBe(3);
    expect(Array.from(out.dataSync()).every(Number.isFinite)).toBe(true);
    // Same seed → same weights; another seed → different weights.
    const w = (m: typeof a) => m.model.getWeights().flatMap((t) => Array.from(t.dataSync()));
    expect(w(build(1))).toEqual(w(a));
    expect(w(build(2))).not.toEqual(w(a));
    tf.dispose([x, out]);
  });

  it('leaks no tensors in inference and training mode', async () => {
    const clf = build(0);
    const x = tf.randomUniform([2, ...tiny.inputShape], 0, 1, 'float32', 2) as tf.Tensor4D;
    await expectNoLeak(() => clf.logits(x), 'logits');
    await expectNoLeak(() => clf.logits(x, { training: true }), 'logits (training)');
    x.dispose();
  });
});

describe('zoo sizes at width 1 (the documented parameter counts)', () => {
  it('small-cnn at 32×32×3, K = 10: 591,274 trainable parameters (counted by hand in the test)', () => {
    // conv 3→32, 32→32, 32→64, 64→64 (3×3, bias), fc 8·8·64→128, 128→10
    const expected = (27 * 32 + 32) + (288 * 32 + 32) + (288 * 64 + 64) + (576 * 64 + 64) + (4096 * 128 + 128) + (128 * 10 + 10);
    expect(trainableCount(MODELS.get('small-cnn')!.create({ inputShape: [32, 32, 3], numClasses: 10 }).model)).toBe(expected);
  });

  it('resnet-18 at 224×224×3, K = 1000: 11,689,512 trainable parameters (torchvision resnet18)', () => {
    const clf = MODELS.get('resnet-18')!.create({ inputShape: [224, 224, 3], numClasses: 1000 });
    expect(trainableCount(clf.model)).toBe(11_689_512);
    clf.model.dispose();
  });

  it('resnet-20 at 32×32×3, K = 10: 269,722 (option A) + 2,752 for the two 1×1 projection shortcuts', () => {
    // option B adds conv 16→32 (512) + BN γ,β (64) and conv 32→64 (2048) + BN γ,β (128).
    const clf = MODELS.get('resnet-20')!.create({ inputShape: [32, 32, 3], numClasses: 10 });
    expect(trainableCount(clf.model)).toBe(269_722 + 2_752);
  });
});

describe('model options', () => {
  it('normalises inside the model: ChannelNormalization gives (x − μ_c)/σ_c', () => {
    const layer = new ChannelNormalization({ mean: [0.5, 0.25], std: [0.5, 0.125] });
    const x = tf.tensor4d([0, 1, 0.5, 0.5], [1, 1, 2, 2]);
    expectClose((layer.apply(x) as tf.Tensor).dataSync(), [-1, 6, 0, 2]);
    x.dispose();
  });

  it('rejects bad options with a ConfigError naming the model and option', () => {
    const create = MODELS.get('small-cnn')!.create;
    expect(() => create({ inputShape: [8, 8, 3], numClasses: 1 })).toThrow(ConfigError);
    expect(() => create({ inputShape: [8, 8, 3], numClasses: 3, normalize: { mean: [0, 0], std: [1, 1] } })).toThrow(/small-cnn: normalize/);
    expect(() => create({ inputShape: [8, 8, 3], numClasses: 3, width: 0 })).toThrow(/width must be > 0/);
  });
});

describe('pooling gradients the zoo relies on (cpu)', () => {
  it.each([
    ['maxPool 2×2/2 valid (small-cnn)', (x: tf.Tensor4D) => tf.maxPool(x, 2, 2, 'valid')],
    ['maxPool 3×3/2 same (resnet-18 stem)', (x: tf.Tensor4D) => tf.maxPool(x, 3, 2, 'same')],
  ])('%s: central finite differences', (_name, pool) => {
    // Distinct values spaced ≥ 0.01 apart, so a ±h step (h = 1e-3) never changes which input is the max.
    const n = 1 * 5 * 5 * 2;
    const vals = new Rng01(3).perm(n).map((v) => v * 0.01);
    const x = tf.tensor4d(vals, [1, 5, 5, 2]);
    const w = tf.randomNormal(pool(x).shape, 0, 1, 'float32', 5);
    const f = (xi: tf.Tensor) => tf.sum(tf.mul(pool(xi as tf.Tensor4D), w));
    const g = tf.grad(f)(x).dataSync();
    const h = 1e-3;
    const fd = vals.map((_, i) => {
      const at = (d: number) => tf.tidy(() => f(tf.tensor4d(vals.map((v, j) => (j === i ? v + d : v)), [1, 5, 5, 2])).dataSync()[0]!);
      return (at(h) - at(-h)) / (2 * h);
    });
    expectClose(g, fd, { atol: 2e-3, rtol: 1e-2, label: 'grad vs FD' });
    tf.dispose([x, w]);
  });

  it('global average pooling (resnets): the closed form ∂/∂x[b,h,w,c] Σ_c w_c·mean_hw x = w_c / (H·W)', () => {
    const [H, W, C] = [5, 5, 2];
    const x = tf.tensor4d(new Rng01(3).perm(H * W * C).map((v) => v * 0.01), [1, H, W, C]);
    const w = tf.randomNormal([1, C], 0, 1, 'float32', 5);
    const g = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(tf.mean(xi, [1, 2]), w)))(x).dataSync();
    const wc = w.dataSync();
    const expected = Array.from({ length: H * W * C }, (_, i) => wc[i % C]! / (H * W)); // NHWC: c is the fastest axis
    // float32 rounding only: a wrong normaliser (H·W − 1, H or W alone) is off by 4 % or more
    expectClose(g, expected, { atol: 0, rtol: 1e-6, label: 'grad vs w_c/(H·W)' });
    tf.dispose([x, w]);
  });
});

/** A shuffled 0..n-1 (deterministic), as plain numbers. */
class Rng01 {
  constructor(private s: number) {}
  perm(n: number): number[] {
    const a = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      this.s = (this.s * 1103515245 + 12345) % 2147483648;
      const j = this.s % (i + 1);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }
}

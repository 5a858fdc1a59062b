import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { countingForwards, expectClose, expectNoLeak, linearClassifier, useBackend } from '../../test/helpers/index.js';
import { ConfigError, ShapeError } from '../errors.js';
import { Rng } from '../engine/random.js';
import { fgsm, fgsmAlong, fgsmFromGradient } from './fgsm.js';
import { batchCrossEntropy, pgd } from './pgd.js';
import { ATTACKS } from './registry.js';

const SHAPE = [4, 4, 3] as const; // H, W, C
const B = 5;
const EPS = 8 / 255;

/** Images in [ε, 1 − ε] (so the [0, 1] clip never binds) and labels, from a seeded Rng. */
function batch(seed: number, lo = EPS, hi = 1 - EPS, k = 2): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const rng = new Rng(seed);
  const n = B * SHAPE[0] * SHAPE[1] * SHAPE[2];
  const x = Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
  const y = Int32Array.from({ length: B }, () => rng.nextInt(k));
  return { x: tf.tensor4d(x, [B, ...SHAPE]), y: tf.tensor1d(y, 'int32') };
}

/** Per-sample CE(f(x), y). */
function ceOf(clf: ReturnType<typeof linearClassifier>, x: tf.Tensor4D, y: tf.Tensor1D): Float32Array {
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(tf.oneHot(y, clf.numClasses).toFloat(), tf.logSoftmax(clf.logits(x))), 1)).dataSync() as Float32Array);
}

/**
 * Oracle for a 2-class linear model: ∇_x CE = −(1 − p_y)(w_y − w_other), whose sign is the constant
 * −sign(w_y − w_other) per pixel. So each PGD step moves δ by −α·s (s = sign(w_y − w_other)).
 */
function signTowardOther(clf: ReturnType<typeof linearClassifier>, y: Int32Array): Float32Array {
  const W = clf.W.arraySync(); // [d, 2]
  const d = W.length;
  const out = new Float32Array(y.length * d);
  for (let b = 0; b < y.length; b++) {
    const yb = y[b]!;
    for (let i = 0; i < d; i++) out[b * d + i] = Math.sign(W[i]![yb]! - W[i]![1 - yb]!);
  }
  return out;
}

/**
 * Images on the edges of the valid box: pixel i is exactly 0 (i % 3 = 0), exactly 1 (i % 3 = 1) or
 * in [ε, 1 − ε], and labels, from a seeded Rng (a black/white background with some content).
 */
function edgeBatch(seed: number, k = 2): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const rng = new Rng(seed);
  const n = B * SHAPE[0] * SHAPE[1] * SHAPE[2];
  const x = Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : i % 3 === 1 ? 1 : rng.uniform(EPS, 1 - EPS)));
  const y = Int32Array.from({ length: B }, () => rng.nextInt(k));
  return { x: tf.tensor4d(x, [B, ...SHAPE]), y: tf.tensor1d(y, 'int32') };
}

/** The seeded random start every attack draws: tf.randomUniform(shape, −ε, ε, 'float32', seed). */
function randomStart(shape: readonly number[], seed: number, epsilon = EPS): Float32Array {
  return tf.tidy(() => tf.randomUniform([...shape], -epsilon, epsilon, 'float32', seed).dataSync() as Float32Array);
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

beforeAll(async () => {
  await useBackend('cpu');
});

describe('pgd', () => {
  it('reaches the closed-form optimum x − ε·sign(w_y − w_other) on a 2-class linear model', () => {
    const clf = linearClassifier(SHAPE, 2, { seed: 3 });
    const { x, y } = batch(1);
    // From any random start in (−ε, ε), 8 steps of α = ε/4 drive every δ to −ε·s.
    const xAdv = pgd({ epsilon: EPS, alpha: EPS / 4, steps: 8 })(clf, x, y, { seed: 11 });
    const s = signTowardOther(clf, y.dataSync() as Int32Array);
    const xs = x.dataSync();
    const expected = Float32Array.from(xs, (v, i) => v - EPS * s[i]!);
    expectClose(xAdv.dataSync(), expected, { atol: 1e-6, rtol: 0, label: 'x_adv' });
    tf.dispose([x, y, xAdv]);
  });

  it.each([
    ['project', 'uniform in [0, 1]'],
    ['clip', 'uniform in [0, 1]'],
    ['project', 'exactly 0 and 1'],
    ['clip', 'exactly 0 and 1'],
  ] as const)('validBox %s, pixels %s: stays in the ε-ball and in [0, 1], and leaves masked-out pixels untouched', (validBox, pixels) => {
    const clf = linearClassifier(SHAPE, 3, { seed: 5, scale: 3 });
    const { x, y } = pixels === 'exactly 0 and 1' ? edgeBatch(2, 3) : batch(2, 0, 1, 3); // pixels reach the [0, 1] edges
    const rng = new Rng(9);
    const maskData = Float32Array.from({ length: B * SHAPE[0] * SHAPE[1] }, () => (rng.next() < 0.5 ? 1 : 0));
    const mask = tf.tensor4d(maskData, [B, SHAPE[0], SHAPE[1], 1]);
    for (const attack of [pgd({ epsilon: EPS, alpha: 2 / 255, steps: 7, validBox }), fgsm({ epsilon: EPS, validBox })]) {
      const xAdv = attack(clf, x, y, { mask, seed: 4 });
      const a = xAdv.dataSync();
      const x0 = x.dataSync();
      const C = SHAPE[2];
      let changedInside = 0;
      for (let i = 0; i < a.length; i++) {
        expect(Math.abs(a[i]! - x0[i]!)).toBeLessThanOrEqual(EPS + 1e-6);
        expect(a[i]!).toBeGreaterThanOrEqual(0);
        expect(a[i]!).toBeLessThanOrEqual(1);
        if (maskData[Math.floor(i / C)] === 0) expect(a[i]).toBe(x0[i]);
        else if (a[i] !== x0[i]) changedInside++;
      }
      expect(changedInside).toBeGreaterThan(0);
      xAdv.dispose();
    }
    tf.dispose([x, y, mask]);
  });

  it('projects δ into the valid box: with pixels at exactly 0 and 1, reaches the optimum x + M ⊙ clip(−ε·s, −x, 1 − x)', () => {
    // 2-class linear model: the loss grows along −s per pixel, so the optimum of the box ∩ ε-ball is
    // δ* = clip(−ε·s, −x, 1 − x): a black pixel pushed up (s = −1) gains ε, one pushed down stays.
    const clf = linearClassifier(SHAPE, 2, { seed: 3 });
    const { x, y } = edgeBatch(1);
    const s = signTowardOther(clf, y.dataSync() as Int32Array);
    const x0 = x.dataSync();
    const C = SHAPE[2];
    const hw = SHAPE[0] * SHAPE[1];
    const maskData = Float32Array.from({ length: B * hw }, (_, p) => (p % 4 === 3 ? 0 : 1));
    const mask = tf.tensor4d(maskData, [B, SHAPE[0], SHAPE[1], 1]);
    for (const masked of [false, true]) {
      const m = (i: number) => (masked ? maskData[Math.floor(i / C)]! : 1);
      const xAdv = pgd({ epsilon: EPS, alpha: EPS / 4, steps: 8 })(clf, x, y, { seed: 11, ...(masked ? { mask } : {}) });
      const expected = Float32Array.from(x0, (v, i) => v + m(i) * clamp(-EPS * s[i]!, -v, 1 - v));
      expectClose(xAdv.dataSync(), expected, { atol: 1e-6, rtol: 0, label: `x_adv (${masked ? 'masked' : 'whole image'})` });
      xAdv.dispose();
    }
    tf.dispose([x, y, mask]);
  });

  it("with validBox 'clip' (the previous behaviour) a boundary pixel whose random start left [0, 1] stays stuck; 'project' moves it", () => {
    const clf = linearClassifier(SHAPE, 2, { seed: 3 });
    const { x, y } = edgeBatch(1);
    const s = signTowardOther(clf, y.dataSync() as Int32Array);
    const x0 = x.dataSync();
    const d0 = randomStart(x.shape, 11);
    const run = (validBox: 'project' | 'clip') => {
      const xAdv = pgd({ epsilon: EPS, alpha: EPS / 4, steps: 8, validBox })(clf, x, y, { seed: 11 });
      const a = Float32Array.from(xAdv.dataSync());
      xAdv.dispose();
      return a;
    };
    const [projected, clipped] = [run('project'), run('clip')];
    // Closed form of 'clip': a pixel whose start x + δ0 lies outside [0, 1] has a zero gradient from
    // then on (sign(0) = 0) and ends at the boundary; every other pixel reaches clip01(x − ε·s).
    const expectedClip = Float32Array.from(x0, (v, i) => (v + d0[i]! < 0 ? 0 : v + d0[i]! > 1 ? 1 : clamp(v - EPS * s[i]!, 0, 1)));
    expectClose(clipped, expectedClip, { atol: 1e-6, rtol: 0, label: "x_adv ('clip')" });
    // The pixels the attack should move (on the boundary, pushed inward): all move by ε with the
    // projection; with clipping, those whose start left the box do not move at all.
    let inward = 0;
    let stuckClip = 0;
    for (let i = 0; i < x0.length; i++) {
      const pushedUp = x0[i] === 0 && s[i] === -1;
      const pushedDown = x0[i] === 1 && s[i] === 1;
      if (!pushedUp && !pushedDown) continue;
      inward++;
      expect(Math.abs(projected[i]! - x0[i]!), `pixel ${i}, 'project'`).toBeCloseTo(EPS, 6);
      if (clipped[i] === x0[i]) stuckClip++;
    }
    expect(inward).toBeGreaterThan(10);
    expect(stuckClip).toBeGreaterThan(0);
    tf.dispose([x, y]);
  });

  it('matches the oracle inside the mask with a [B, H, W, 1] mask broadcast over channels', () => {
    const clf = linearClassifier(SHAPE, 2, { seed: 7 });
    const { x, y } = batch(3);
    const hw = SHAPE[0] * SHAPE[1];
    const maskData = Float32Array.from({ length: B * hw }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const mask = tf.tensor4d(maskData, [B, SHAPE[0], SHAPE[1], 1]);
    const xAdv = pgd({ epsilon: EPS, alpha: EPS / 4, steps: 8 })(clf, x, y, { mask });
    const s = signTowardOther(clf, y.dataSync() as Int32Array);
    const expected = Float32Array.from(x.dataSync(), (v, i) => v - EPS * s[i]! * maskData[Math.floor(i / SHAPE[2])]!);
    expectClose(xAdv.dataSync(), expected, { atol: 1e-6, rtol: 0, label: 'masked x_adv' });
    tf.dispose([x, y, mask, xAdv]);
  });

  it('increases the loss of every sample, bounded (ε = 8/255) and unbounded (ε = 1)', () => {
    const clf = linearClassifier(SHAPE, 10, { seed: 8, scale: 0.5 });
    const { x, y } = batch(4, 0, 1, 10);
    const clean = ceOf(clf, x, y);
    for (const [epsilon, alpha] of [[EPS, 2 / 255], [1, 0.1]] as const) {
      const xAdv = pgd({ epsilon, alpha, steps: 10 })(clf, x, y, { seed: 1 });
      const adv = ceOf(clf, xAdv, y);
      for (let b = 0; b < B; b++) expect(adv[b]!, `ε=${epsilon}, sample ${b}`).toBeGreaterThan(clean[b]!);
      if (epsilon === 1) {
        // Unbounded inside the image: the linear model's prediction is flipped for every sample.
        const pred = tf.tidy(() => clf.logits(xAdv).argMax(1).dataSync());
        const yy = y.dataSync();
        for (let b = 0; b < B; b++) expect(pred[b]).not.toBe(yy[b]);
      }
      xAdv.dispose();
    }
    tf.dispose([x, y]);
  });

  it('increases the loss of a small conv net (gradient through conv, pooling and dense)', () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [...SHAPE], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }) }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }) }),
      ],
    });
    const clf = { ...linearClassifier(SHAPE, 3), model, logits: (xx: tf.Tensor4D) => model.apply(xx) as tf.Tensor2D };
    const { x, y } = batch(5, 0, 1, 3);
    const xAdv = pgd({ epsilon: EPS, steps: 5 })(clf, x, y, { seed: 2 });
    const before = tf.tidy(() => batchCrossEntropy(clf, x, tf.oneHot(y, 3).toFloat()).dataSync()[0]!);
    const after = tf.tidy(() => batchCrossEntropy(clf, xAdv, tf.oneHot(y, 3).toFloat()).dataSync()[0]!);
    expect(after).toBeGreaterThan(before);
    tf.dispose([x, y, xAdv]);
    model.dispose();
  });

  it('is deterministic for a seed, differs across seeds, and the factory seed gives a reproducible sequence', () => {
    const clf = linearClassifier(SHAPE, 3, { seed: 2 });
    const { x, y } = batch(6, 0, 1, 3);
    const attack = pgd({ epsilon: EPS, steps: 2 });
    const run = (f: typeof attack, seed?: number) => tf.tidy(() => Array.from((seed === undefined ? f(clf, x, y) : f(clf, x, y, { seed })).dataSync()));
    expect(run(attack, 5)).toEqual(run(attack, 5));
    expect(run(attack, 5)).not.toEqual(run(attack, 6));
    const a = pgd({ epsilon: EPS, steps: 2, seed: 1 });
    const b = pgd({ epsilon: EPS, steps: 2, seed: 1 });
    const first = run(a);
    expect(first).toEqual(run(b));
    expect(run(a)).not.toEqual(first); // a fresh start on the next call
    tf.dispose([x, y]);
  });

  it('leaks no tensors, with and without mask', async () => {
    const clf = linearClassifier(SHAPE, 3, { seed: 2 });
    const { x, y } = batch(7, 0, 1, 3);
    const mask = tf.ones([B, SHAPE[0], SHAPE[1], 1]) as tf.Tensor4D;
    await expectNoLeak(() => pgd({ steps: 3 })(clf, x, y), 'pgd');
    await expectNoLeak(() => pgd({ steps: 3 })(clf, x, y, { mask }), 'pgd+mask');
    await expectNoLeak(() => fgsm()(clf, x, y, { mask }), 'fgsm');
    tf.dispose([x, y, mask]);
  });

  it('rejects mismatched shapes (ShapeError) and bad options (ConfigError)', () => {
    const clf = linearClassifier(SHAPE, 3);
    const { x, y } = batch(8, 0, 1, 3);
    const badMask = tf.ones([B, 3, 4, 1]) as tf.Tensor4D;
    expect(() => pgd()(clf, x, y, { mask: badMask })).toThrow(ShapeError);
    expect(() => pgd()(clf, x, y, { mask: badMask })).toThrow(/expected mask \[5, 4, 4, 1\]/);
    const badY = tf.tensor1d([0, 1], 'int32');
    expect(() => pgd()(clf, x, badY)).toThrow(ShapeError);
    expect(() => pgd({ epsilon: -1 })).toThrow(ConfigError);
    expect(() => pgd({ steps: 1.5 })).toThrow(ConfigError);
    expect(() => pgd({ validBox: 'box' as 'clip' })).toThrow(/pgd: validBox must be one of 'project', 'clip', got "box"/);
    tf.dispose([x, y, badMask, badY]);
  });
});

describe('fgsm', () => {
  it('is one step of α = 1.25ε from the seeded random start: clip01(x + clip(δ0 − 1.25ε·s, −ε, ε))', () => {
    const clf = linearClassifier(SHAPE, 2, { seed: 4 });
    const { x, y } = batch(9);
    const seed = 77;
    const xAdv = fgsm({ epsilon: EPS })(clf, x, y, { seed });
    // Same random start as pgd draws: tf.randomUniform(shape, −ε, ε, 'float32', seed).
    const d0 = tf.tidy(() => tf.randomUniform(x.shape, -EPS, EPS, 'float32', seed).dataSync());
    const s = signTowardOther(clf, y.dataSync() as Int32Array);
    const expected = Float32Array.from(x.dataSync(), (v, i) => v + Math.min(EPS, Math.max(-EPS, d0[i]! - 1.25 * EPS * s[i]!)));
    expectClose(xAdv.dataSync(), expected, { atol: 1e-6, rtol: 0, label: 'fgsm x_adv' });
    tf.dispose([x, y, xAdv]);
  });

  it.each([1.25, 0.5])('projects the random start and the step into [−x, 1 − x] (α = %s·ε, pixels at exactly 0 and 1): its closed form', (k) => {
    const clf = linearClassifier(SHAPE, 2, { seed: 4 });
    const { x, y } = edgeBatch(9);
    const seed = 77;
    const alpha = k * EPS;
    const d0 = randomStart(x.shape, seed);
    const s = signTowardOther(clf, y.dataSync() as Int32Array);
    const x0 = x.dataSync();
    // 'project': δ0' = clip(δ0, −x, 1 − x); δ1 = clip(clip(δ0' − α·s, −ε, ε), −x, 1 − x)
    const projected = fgsm({ epsilon: EPS, alpha })(clf, x, y, { seed });
    const expectedProjected = Float32Array.from(x0, (v, i) => v + clamp(clamp(clamp(d0[i]!, -v, 1 - v) - alpha * s[i]!, -EPS, EPS), -v, 1 - v));
    expectClose(projected.dataSync(), expectedProjected, { atol: 1e-6, rtol: 0, label: "fgsm x_adv ('project')" });
    // 'clip': no gradient where x + δ0 is outside [0, 1]; x_adv = clip01(x + clip(δ0 − α·s·[x + δ0 ∈ [0, 1]], −ε, ε))
    const clipped = fgsm({ epsilon: EPS, alpha, validBox: 'clip' })(clf, x, y, { seed });
    const expectedClipped = Float32Array.from(x0, (v, i) => {
      const live = v + d0[i]! >= 0 && v + d0[i]! <= 1 ? 1 : 0;
      return clamp(v + clamp(d0[i]! - alpha * s[i]! * live, -EPS, EPS), 0, 1);
    });
    expectClose(clipped.dataSync(), expectedClipped, { atol: 1e-6, rtol: 0, label: "fgsm x_adv ('clip')" });
    tf.dispose([x, y, projected, clipped]);
  });

  it('is registered next to pgd', () => {
    expect([...ATTACKS.keys()]).toEqual(['pgd', 'fgsm-rs', 'noise']);
  });

  it('along a given gradient (fgsmFromGradient on the host, fgsmAlong on the backend): x + M ⊙ Π(clip(Π(δ0) + α·sign g, −ε, ε)), leaking nothing', async () => {
    const { x } = edgeBatch(11);
    const seed = 5;
    const alpha = 1.25 * EPS;
    const rng = new Rng(12);
    const n = B * SHAPE[0] * SHAPE[1] * SHAPE[2];
    const pixels = B * SHAPE[0] * SHAPE[1];
    // a direction with exact zeros (sign 0: no step there), and a mask of every other pixel
    const g = Float32Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 0 : rng.uniform(-1, 1)));
    const m = Uint8Array.from({ length: pixels }, (_, p) => p % 2);
    const d0 = randomStart(x.shape, seed);
    const x0 = x.dataSync();
    const C = SHAPE[2];
    const expected = Float32Array.from(x0, (v, i) => {
      if (m[Math.floor(i / C)] === 0) return v;
      return v + clamp(clamp(clamp(d0[i]!, -v, 1 - v) + alpha * Math.sign(g[i]!), -EPS, EPS), -v, 1 - v);
    });
    const gt = tf.tensor4d(g, x.shape);
    const mt = tf.tensor4d(Float32Array.from(m), [B, SHAPE[0], SHAPE[1], 1]);
    const options = { epsilon: EPS, alpha, randomStart: true, validBox: 'project' as const, seed };
    const valuesOf = (t: tf.Tensor): Float32Array => {
      const v = t.dataSync().slice() as Float32Array;
      t.dispose();
      return v;
    };
    const host = await expectNoLeak(() => valuesOf(fgsmFromGradient(x, gt, { ...options, mask: m })), 'fgsmFromGradient');
    const backend = await expectNoLeak(() => valuesOf(fgsmAlong(x, gt, { ...options, mask: mt })), 'fgsmAlong');
    expectClose(host, expected, { atol: 1e-6, rtol: 0, label: 'fgsmFromGradient x_adv' });
    expectClose(backend, expected, { atol: 1e-6, rtol: 0, label: 'fgsmAlong x_adv' });
    // masked-out pixels are x exactly, the others moved
    for (let i = 0; i < n; i++) if (m[Math.floor(i / C)] === 0) expect(host[i]).toBe(x0[i]);
    expect(host.some((v, i) => v !== x0[i])).toBe(true);
    tf.dispose([x, gt, mt]);
  });
});

describe("'noise' (the registry's attack without an adversary)", () => {
  it('is the seeded random start alone, projected into [−x, 1 − x] and masked: x + M ⊙ clip(δ0, −x, 1 − x), and runs the model not once', () => {
    const { clf, calls } = countingForwards(linearClassifier(SHAPE, 2, { seed: 4 }));
    const { x, y } = edgeBatch(9);
    const seed = 31;
    const d0 = randomStart(x.shape, seed); // fgsm-rs's and pgd's random start, the same draw
    const m = Float32Array.from({ length: B * SHAPE[0] * SHAPE[1] }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const mask = tf.tensor4d(m, [B, SHAPE[0], SHAPE[1], 1]);
    const noisy = ATTACKS.get('noise')!.create({ epsilon: EPS, alpha: 0.5, steps: 7 })(clf, x, y, { mask, seed });
    const x0 = x.dataSync();
    const c = SHAPE[2];
    const expected = Float32Array.from(x0, (v, i) => v + m[Math.floor(i / c)]! * clamp(d0[i]!, -v, 1 - v));
    expectClose(noisy.dataSync(), expected, { atol: 1e-7, rtol: 0, label: 'noise x_adv' });
    expect(calls).toEqual({ training: 0, inference: 0 }); // no gradient, no forward: α and K are ignored
    // within the ε-ball
    expect(Math.max(...Array.from(noisy.dataSync(), (v, i) => Math.abs(v - x0[i]!)))).toBeLessThanOrEqual(EPS + 1e-7);
    tf.dispose([x, y, mask, noisy]);
  });
});

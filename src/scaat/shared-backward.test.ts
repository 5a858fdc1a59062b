/**
 * SCAAT's `sharedBackward` step (train/_shared-pass.ts, issue 14 item 1): two training passes, the
 * clean backward supplying the mask's map and the FGSM-RS direction. Oracles: the whole step in
 * closed form on a linear classifier (float64), the default step on a model where the attack's
 * direction cannot depend on where it is taken, the forwards it runs, and its errors.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fgsm, fgsmAlong, fgsmFromGradient } from '../attacks/fgsm.js';
import { Rng } from '../engine/random.js';
import { ConfigError } from '../errors.js';
import { resolvePgdAtOptions } from '../train/pgd-at.js';
import { countingForwards, expectClose, expectNoLeak, linearClassifier, useBackend } from '../../test/helpers/index.js';
import { resolveScaatConfig } from './config.js';
import { createScaatAttack, scaatStep } from './step.js';
import { createScaatTrainer } from './trainer.js';

const SHAPE = [5, 5, 2] as const;
const D = SHAPE[0] * SHAPE[1] * SHAPE[2];
const PIXELS = SHAPE[0] * SHAPE[1];
const K = 3;
const B = 4;

beforeAll(async () => {
  await useBackend('cpu');
});

/** x with pixels at exactly 0 and 1 (the valid box binds) and labels. */
function batch(seed: number, b = B, k = K): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: b * D }, () => {
    const u = rng.next();
    return u < 0.2 ? 0 : u < 0.3 ? 1 : rng.next();
  });
  return { x: tf.tensor4d(x, [b, ...SHAPE]), y: tf.tensor1d(Int32Array.from({ length: b }, (_, i) => i % k), 'int32') };
}


const softmax = (z: number[]): number[] => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, v) => a + v, 0);
  return e.map((v) => v / s);
};

describe("SCAAT's sharedBackward step", () => {
  it('is, in closed form on a linear classifier (float64): mask from |∂CE/∂x|, FGSM-RS along its sign, one SGD update on CE(x) + λ·CE(x_adv)', () => {
    const clf = linearClassifier(SHAPE, K, { seed: 9, scale: 0.4 });
    const { x, y } = batch(3);
    const ratios = Float32Array.from([0.3, 0.5, 0.5, 0.9]);
    const config = resolveScaatConfig({ attack: 'fgsm-rs', epsilon: 0.2, lambda: 0.7, sharedBackward: true });
    const lr = 0.1;
    const seed = 12345;
    const W0 = clf.W.arraySync();
    const b0 = clf.b.arraySync();
    const X = x.arraySync().map((img) => img.flat(2)); // [B][D], NHWC order = flatten order
    const Y = y.arraySync();
    // the random start the attack draws for this seed (an input of the oracle, as the seed is)
    const u = tf.tidy(() => tf.randomUniform(x.shape, -0.2, 0.2, 'float32', seed).reshape([B, D]).arraySync() as number[][]);

    const forward = (xs: number[][]) => xs.map((v) => softmax(b0.map((bk, k) => bk + v.reduce((s, xi, i) => s + xi * W0[i]![k]!, 0))));
    const pClean = forward(X);
    // ∂(mean CE)/∂x_b = W (p_b − e_y) / B
    const gx = X.map((_, b) => Array.from({ length: D }, (_, i) => W0[i]!.reduce((s, w, k) => s + w * (pClean[b]![k]! - (k === Y[b] ? 1 : 0)), 0) / B));
    const alpha = 1.25 * 0.2;
    const xAdv = X.map((xb, b) => {
      const score = Array.from({ length: PIXELS }, (_, p) => Math.abs(gx[b]![2 * p]!) + Math.abs(gx[b]![2 * p + 1]!));
      const order = Array.from({ length: PIXELS }, (_, p) => p).sort((i, j) => score[i]! - score[j]! || i - j);
      const inMask = new Set(order.slice(0, Math.floor(ratios[b]! * PIXELS + 1e-9)));
      return xb.map((xi, i) => {
        if (!inMask.has(Math.floor(i / 2))) return xi;
        const d0 = Math.min(Math.max(u[b]![i]!, -xi), 1 - xi);
        const d1 = Math.min(Math.max(Math.min(Math.max(d0 + alpha * Math.sign(gx[b]![i]!), -0.2), 0.2), -xi), 1 - xi);
        return Math.min(Math.max(xi + d1, 0), 1);
      });
    });
    const pAdv = forward(xAdv);
    const ce = (p: number[][]) => p.reduce((s, pb, b) => s - Math.log(pb[Y[b]!]!), 0) / B;
    const expectedLoss = ce(pClean) + 0.7 * ce(pAdv);
    const W1 = W0.map((row, i) =>
      row.map((w, k) => {
        let g = 0;
        for (let b = 0; b < B; b++) {
          const e = k === Y[b] ? 1 : 0;
          g += (X[b]![i]! * (pClean[b]![k]! - e) + 0.7 * xAdv[b]![i]! * (pAdv[b]![k]! - e)) / B;
        }
        return w - lr * g;
      }),
    );
    const b1 = b0.map((bk, k) => {
      let g = 0;
      for (let b = 0; b < B; b++) g += (pClean[b]![k]! - (k === Y[b] ? 1 : 0) + 0.7 * (pAdv[b]![k]! - (k === Y[b] ? 1 : 0))) / B;
      return bk - lr * g;
    });
    const advCorrect = pAdv.map((p, b) => (p.indexOf(Math.max(...p)) === Y[b] ? 1 : 0));

    const optimizer = tf.train.sgd(lr);
    const r = scaatStep({ classifier: clf, optimizer, x, y, ratios, config, attack: createScaatAttack(config), seed });
    expect(r.loss).toBeCloseTo(expectedLoss, 5);
    expectClose(clf.W.dataSync(), W1.flat(), { atol: 2e-6, label: 'W after the update' });
    expectClose(clf.b.dataSync(), b1, { atol: 2e-6, label: 'b after the update' });
    expect(Array.from(r.advCorrect)).toEqual(advCorrect);
    expect(r.maskFraction).toBeCloseTo((7 + 12 + 12 + 22) / (B * PIXELS), 12);
    expect(r.freshSaliency).toBe(0);
    tf.dispose([x, y]);
    optimizer.dispose();
  });

  it('takes the default FGSM-RS step where the attack direction cannot depend on where it is taken (two classes, linear, q ≡ 1)', () => {
    // two classes: ∂CE/∂x = (p_other)·(w_other − w_y), whose sign is the same at x and at x + δ_0
    const run = (sharedBackward: boolean) => {
      const clf = linearClassifier(SHAPE, 2, { seed: 4, scale: 0.3 });
      const { x, y } = batch(8, B, 2);
      const config = resolveScaatConfig({ attack: 'fgsm-rs', epsilon: 0.3, ratioInit: 1, ratioMin: 1, ratioMax: 1, sharedBackward });
      const optimizer = tf.train.sgd(0.2);
      const r = scaatStep({ classifier: clf, optimizer, x, y, ratios: new Float32Array(B).fill(1), config, attack: createScaatAttack(config), seed: 77 });
      const weights = [Array.from(clf.W.dataSync()), Array.from(clf.b.dataSync())];
      tf.dispose([x, y]);
      optimizer.dispose();
      return { r, weights };
    };
    const standard = run(false);
    const shared = run(true);
    expect(shared.r.loss).toBeCloseTo(standard.r.loss, 6);
    expectClose(shared.weights.flat(), standard.weights.flat(), { atol: 1e-6, label: 'weights' });
    expect(Array.from(shared.r.advCorrect)).toEqual(Array.from(standard.r.advCorrect));
    expect(shared.r.acc).toBe(standard.r.acc);
  });

  it('runs two training-mode forwards and nothing else (the default FGSM-RS step: 2 inference + 2 training); no tensor left', async () => {
    for (const [sharedBackward, expected] of [
      [true, { training: 2, inference: 0 }],
      [false, { training: 2, inference: 2 }],
    ] as const) {
      const { clf, calls } = countingForwards(linearClassifier(SHAPE, K, { seed: 2, scale: 0.3 }));
      const { x, y } = batch(5);
      const config = resolveScaatConfig({ attack: 'fgsm-rs', epsilon: 0.1, sharedBackward });
      const optimizer = tf.train.sgd(0.01);
      await expectNoLeak(
        () => void scaatStep({ classifier: clf, optimizer, x, y, ratios: new Float32Array(B).fill(0.5), config, attack: createScaatAttack(config), seed: 1 }),
        `sharedBackward ${sharedBackward}`,
      );
      expect(calls, `sharedBackward ${sharedBackward}`).toEqual(expected);
      tf.dispose([x, y]);
      optimizer.dispose();
    }
  });

  it('a sample whose loss gradient is all zero (saturated softmax) takes its map from one fresh saliency pass', () => {
    // scale 1000: logit margins in the thousands, p_y = 1 exactly in float32 for the correctly classified samples
    const base = linearClassifier(SHAPE, K, { seed: 2, scale: 1000 });
    const { x } = batch(5);
    const pred = tf.tidy(() => tf.argMax(base.logits(x), 1).toInt()) as tf.Tensor1D;
    const wrong = tf.tidy(() => tf.mod(tf.add(pred, tf.tensor1d([0, 0, 1, 1], 'int32')), K).toInt()) as tf.Tensor1D;
    for (const [y, fresh] of [
      [pred, 1],
      [wrong, 1],
    ] as const) {
      const { clf, calls } = countingForwards(base);
      const config = resolveScaatConfig({ attack: 'fgsm-rs', epsilon: 0.1, sharedBackward: true });
      const optimizer = tf.train.sgd(0);
      const r = scaatStep({ classifier: clf, optimizer, x, y, ratios: new Float32Array(B).fill(0.5), config, attack: createScaatAttack(config), seed: 1 });
      expect(r.freshSaliency).toBe(fresh);
      expect(calls.inference).toBe(1);
      optimizer.dispose();
    }
    // nothing saturated: no extra pass
    const small = countingForwards(linearClassifier(SHAPE, K, { seed: 2, scale: 0.3 }));
    const optimizer = tf.train.sgd(0);
    const config = resolveScaatConfig({ attack: 'fgsm-rs', epsilon: 0.1, sharedBackward: true });
    const r = scaatStep({ classifier: small.clf, optimizer, x, y: pred, ratios: new Float32Array(B).fill(0.5), config, attack: createScaatAttack(config), seed: 1 });
    expect([r.freshSaliency, small.calls.inference]).toEqual([0, 0]);
    tf.dispose([x, pred, wrong]);
    optimizer.dispose();
  });

  it('counts 2 passes per step in the trainer; refuses what it cannot do, naming the key (SCAAT and pgd-at)', () => {
    const t = createScaatTrainer({ trainSize: 10, config: { attack: 'fgsm-rs', sharedBackward: true } });
    expect(t.derived.passesPerStep).toBe(2);
    expect(createScaatTrainer({ trainSize: 10, config: { attack: 'fgsm-rs' } }).derived.passesPerStep).toBe(4);
    const refuse: Array<[Record<string, unknown>, RegExp]> = [
      [{}, /'sharedBackward' takes one attack step .* needs 'attack' 'fgsm-rs', got 'pgd'/],
      [{ attack: 'fgsm-rs', loss: 'clean+kl' }, /needs 'loss' 'clean\+adv', got 'clean\+kl'/],
      [{ attack: 'fgsm-rs', saliencySource: 'previous-visit' }, /needs 'saliencySource' 'fresh', got 'previous-visit'/],
      [{ attack: 'fgsm-rs', saliencyTarget: 'predicted' }, /needs 'saliencyTarget' 'label', got 'predicted'/],
      [{ attack: 'fgsm-rs', remaskEveryAttackStep: true }, /needs 'remaskEveryAttackStep' false, got true/],
    ];
    for (const [layer, message] of refuse) {
      expect(() => resolveScaatConfig({ sharedBackward: true, ...layer })).toThrow(ConfigError);
      expect(() => resolveScaatConfig({ sharedBackward: true, ...layer })).toThrow(message);
    }
    expect(() => resolvePgdAtOptions({ sharedBackward: true })).toThrow(/'sharedBackward' .* needs 'attack' 'fgsm-rs' and 'loss' 'clean\+adv', got 'pgd' and 'clean\+adv'/);
    expect(resolvePgdAtOptions({ attack: 'fgsm-rs', sharedBackward: 'true' }).sharedBackward).toBe(true);
  });
});

describe('fgsmFromGradient and fgsmAlong', () => {
  it("is fgsm's x_adv bit for bit for the same seed and mask when given the gradient fgsm takes at x + δ_0 (both valid-box modes)", () => {
    const clf = linearClassifier(SHAPE, 2, { seed: 6, scale: 0.5 });
    const { x, y } = batch(11, B, 2);
    const maskData = Uint8Array.from(tf.tidy(() => tf.greater(tf.randomUniform([B * PIXELS], 0, 1, 'float32', 3), 0.4)).dataSync());
    const mask = tf.tensor4d(Float32Array.from(maskData), [B, SHAPE[0], SHAPE[1], 1]);
    for (const validBox of ['project', 'clip'] as const) {
      for (const withMask of [true, false]) {
        // the gradient fgsm takes: at δ_0 (projected or not), through clip01 for 'clip'
        const g = tf.tidy(() => {
          const u = tf.randomUniform(x.shape, -0.25, 0.25, 'float32', 99);
          const m = withMask ? mask : tf.onesLike(mask);
          const d0 = validBox === 'project' ? tf.mul(tf.minimum(tf.maximum(u, tf.neg(x)), tf.sub(1, x)), m) : tf.mul(u, m);
          const input = (d: tf.Tensor) => (validBox === 'project' ? tf.add(x, d) : tf.clipByValue(tf.add(x, d), 0, 1));
          return tf.grad((d: tf.Tensor) => tf.losses.softmaxCrossEntropy(tf.oneHot(y, 2), clf.logits(input(d) as tf.Tensor4D)))(d0);
        }) as tf.Tensor4D;
        const a = fgsm({ epsilon: 0.25, validBox })(clf, x, y, { ...(withMask ? { mask } : {}), seed: 99 });
        const b = fgsmFromGradient(x, g, { epsilon: 0.25, alpha: 1.25 * 0.25, randomStart: true, validBox, ...(withMask ? { mask: maskData } : {}), seed: 99 });
        expect(Array.from(b.dataSync()), `${validBox}, mask ${withMask}`).toEqual(Array.from(a.dataSync()));
        // fgsmAlong: the same on the backend, given the direction (here its sign: the same step)
        const sg = tf.sign(g) as tf.Tensor4D;
        const c = fgsmAlong(x, sg, { epsilon: 0.25, alpha: 1.25 * 0.25, randomStart: true, validBox, ...(withMask ? { mask } : {}), seed: 99 });
        expect(Array.from(c.dataSync()), `fgsmAlong: ${validBox}, mask ${withMask}`).toEqual(Array.from(a.dataSync()));
        tf.dispose([a, b, c, sg, g]);
      }
    }
    const g = tf.zeros([1, 1, 1, 1]) as tf.Tensor4D;
    expect(() => fgsmFromGradient(x, g, { epsilon: 0.1, alpha: 0.1, randomStart: true, validBox: 'project', seed: 1 })).toThrow(
      /expected a gradient of x's shape \[4, 5, 5, 2\], got \[1, 1, 1, 1\]/,
    );
    expect(() => fgsmFromGradient(x, x, { epsilon: 0.1, alpha: 0.1, randomStart: true, validBox: 'project', mask: new Uint8Array(3), seed: 1 })).toThrow(
      /expected a mask of 100 pixels \(B·H·W\), got 3/,
    );
    tf.dispose([x, y, mask, g]);
  });
});

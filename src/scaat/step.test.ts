import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lowSaliencyMask, saliencyRanks } from '../attacks/masks.js';
import { pgd } from '../attacks/pgd.js';
import { expectClose, expectNoLeak, linearClassifier, useBackend } from '../../test/helpers/index.js';
import { resolveScaatConfig } from './config.js';
import type { ScaatConfig } from './config.js';
import { createScaatAttack, maskSaliency, scaatStep } from './step.js';
import { maskedPgd } from './_masked-pgd.js';

const SHAPE = [6, 6, 3] as const;
const K = 4;
const RATIOS = Float32Array.from([0.2, 0.5, 0.5, 0.8, 0.95]);

let x: tf.Tensor4D;
let y: tf.Tensor1D;

beforeAll(async () => {
  await useBackend('cpu');
  x = tf.randomUniform([5, ...SHAPE], 0, 1, 'float32', 7) as tf.Tensor4D;
  y = tf.tensor1d([0, 1, 2, 3, 1], 'int32');
});
afterAll(() => tf.dispose([x, y]));

function perSampleCE(clf: ReturnType<typeof linearClassifier>, xs: tf.Tensor4D): number[] {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(clf.logits(xs));
    return tf.neg(tf.sum(tf.mul(tf.oneHot(y, K), logp), 1));
  }).arraySync() as number[];
}

describe('maskSaliency', () => {
  it('is Σ_c |W[:, y]| for a linear classifier (true-class logit gradient)', () => {
    const clf = linearClassifier(SHAPE, K, { seed: 3, scale: 0.3 });
    const s = maskSaliency(clf, x, y, resolveScaatConfig());
    const W = clf.W.arraySync(); // [H·W·C, K]
    const labels = y.arraySync();
    const expected: number[] = [];
    for (const c of labels) {
      for (let p = 0; p < 36; p++) {
        let sum = 0;
        for (let ch = 0; ch < 3; ch++) sum += Math.abs(W[p * 3 + ch]![c]!);
        expected.push(sum);
      }
    }
    expect(s.shape).toEqual([5, 6, 6]);
    expectClose(s.dataSync(), expected, { rtol: 1e-6, label: 'saliency scores' });
    s.dispose();
  });
});

describe('the masked attack of a SCAAT step', () => {
  const clf = linearClassifier(SHAPE, K, { seed: 3, scale: 0.3 });
  const cases: Array<[string, Record<string, unknown>]> = [
    ['pgd, K = 7', { epsilon: 0.1 }],
    ['fgsm-rs', { epsilon: 0.1, attack: 'fgsm-rs' }],
    ['unbounded (ε = 1)', { epsilon: 1, steps: 3 }],
  ];
  it.each(cases)('%s: nothing changes outside the mask, ‖δ‖∞ ≤ ε, x_adv ∈ [0, 1], the loss increases', (_name, layer) => {
    const cfg = resolveScaatConfig(layer);
    const s = maskSaliency(clf, x, y, cfg);
    const mask = lowSaliencyMask(s, RATIOS);
    const xAdv = createScaatAttack(cfg)(clf, x, y, { mask, seed: 42 });
    const [xs, as, ms] = [x.dataSync(), xAdv.dataSync(), mask.dataSync()];
    let changedInside = 0;
    for (let i = 0; i < xs.length; i++) {
      const d = as[i]! - xs[i]!;
      const inMask = ms[Math.floor(i / 3)]! === 1;
      if (!inMask) expect(d).toBe(0);
      else if (d !== 0) changedInside++;
      expect(Math.abs(d)).toBeLessThanOrEqual(cfg.epsilon + 1e-6);
      expect(as[i]! >= 0 && as[i]! <= 1).toBe(true);
    }
    expect(changedInside).toBeGreaterThan(0);
    const before = perSampleCE(clf, x);
    const after = perSampleCE(clf, xAdv);
    for (let b = 0; b < 5; b++) expect(after[b]!).toBeGreaterThan(before[b]!);
    tf.dispose([s, mask, xAdv]);
  });

  it('the re-masking loop perturbs at most floor(q·H·W) pixels per sample, within ε and [0, 1]', () => {
    const cfg = resolveScaatConfig({ epsilon: 0.1, remaskEveryAttackStep: true });
    const s = maskSaliency(clf, x, y, cfg);
    const mask = lowSaliencyMask(s, RATIOS);
    let remasks = 0;
    const xAdv = maskedPgd(clf, x, y, mask, {
      epsilon: 0.1,
      alpha: 0.025,
      steps: 4,
      randomStart: true,
      validBox: 'project',
      seed: 1,
      remask: (xt) => {
        remasks++;
        return tf.tidy(() => lowSaliencyMask(maskSaliency(clf, xt, y, cfg), RATIOS));
      },
    });
    expect(remasks).toBe(3);
    const [xs, as] = [x.arraySync(), xAdv.arraySync()];
    for (let b = 0; b < 5; b++) {
      let pixels = 0;
      for (let i = 0; i < 6; i++) {
        for (let j = 0; j < 6; j++) {
          let moved = false;
          for (let c = 0; c < 3; c++) {
            const d = as[b]![i]![j]![c]! - xs[b]![i]![j]![c]!;
            expect(Math.abs(d)).toBeLessThanOrEqual(0.1 + 1e-6);
            if (d !== 0) moved = true;
          }
          if (moved) pixels++;
        }
      }
      expect(pixels).toBeLessThanOrEqual(Math.floor(RATIOS[b]! * 36 + 1e-9));
    }
    tf.dispose([s, mask, xAdv]);
  });

  it.each([
    ['project', false],
    ['project', true],
    ['clip', false],
    ['clip', true],
  ] as const)('validBox %s, random start %s: the local loop equals attacks/pgd exactly for a fixed mask (same formula), pixels at 0 and 1 included', (validBox, randomStart) => {
    // every third value exactly 0, every third exactly 1: the valid box binds
    const xe = tf.tidy(() => {
      const v = x.dataSync();
      return tf.tensor4d(Float32Array.from(v, (u, i) => (i % 3 === 0 ? 0 : i % 3 === 1 ? 1 : u)), x.shape);
    });
    const s = maskSaliency(clf, xe, y, resolveScaatConfig());
    const mask = lowSaliencyMask(s, RATIOS);
    const a = pgd({ epsilon: 0.1, alpha: 0.03, steps: 5, randomStart, validBox })(clf, xe, y, { mask, seed: 3 });
    const b = maskedPgd(clf, xe, y, mask, { epsilon: 0.1, alpha: 0.03, steps: 5, randomStart, validBox, seed: 3 });
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([xe, s, mask, a, b]);
  });

  it("validBox reaches the attack: 'project' moves boundary pixels that 'clip' leaves stuck (SCAAT's attack and its re-masking loop)", () => {
    // a 2-class linear model pushes each pixel along a fixed sign; pixels at exactly 0 or 1
    const clf2 = linearClassifier(SHAPE, 2, { seed: 4, scale: 0.3 });
    const y2 = tf.tensor1d([0, 1, 1, 0, 1], 'int32');
    const xe = tf.tidy(() => tf.tensor4d(Float32Array.from(x.dataSync(), (_u, i) => (i % 2 === 0 ? 0 : 1)), x.shape));
    const ones = tf.ones([5, 6, 6, 1]) as tf.Tensor4D;
    const moved = (validBox: 'project' | 'clip', remask: boolean): number => {
      const cfg = resolveScaatConfig({ epsilon: 0.1, steps: 4, validBox, remaskEveryAttackStep: remask });
      const xAdv = remask
        ? maskedPgd(clf2, xe, y2, ones, { epsilon: 0.1, alpha: 0.025, steps: 4, randomStart: true, validBox: cfg.validBox, seed: 5, remask: () => ones.clone() })
        : createScaatAttack(cfg)(clf2, xe, y2, { mask: ones, seed: 5 });
      const n = tf.tidy(() => tf.sum(tf.notEqual(xAdv, xe)).dataSync()[0]!);
      xAdv.dispose();
      return n;
    };
    // ∂CE/∂x ∝ −(w_y − w_other): the pixels whose gradient points into the box (up from 0, down from 1)
    const W = clf2.W.arraySync();
    const [xs, ys] = [xe.dataSync(), y2.dataSync()];
    const d = 6 * 6 * 3;
    let inward = 0;
    for (let i = 0; i < xs.length; i++) {
      const b = Math.floor(i / d);
      const s = Math.sign(W[i % d]![ys[b]!]! - W[i % d]![1 - ys[b]!]!);
      if ((xs[i] === 0 && s < 0) || (xs[i] === 1 && s > 0)) inward++;
    }
    expect(inward).toBeGreaterThan(100);
    for (const remask of [false, true]) {
      // with the projection exactly those move (4 steps of α = ε/4 bring the others back to the edge)
      expect(moved('project', remask), `remask ${remask}`).toBe(inward);
      // with clipping, those whose random start left [0, 1] never move
      expect(moved('clip', remask), `remask ${remask}`).toBeLessThan(inward);
    }
    tf.dispose([y2, xe, ones]);
    clf2.model.dispose();
  });
});

describe('scaatStep', () => {
  /** The reference: loss and gradients of method.md §2.4 with x_adv made by the same attack and seed. */
  function reference(clf: ReturnType<typeof linearClassifier>, cfg: ScaatConfig, seed: number) {
    return tf.tidy(() => {
      const s = maskSaliency(clf, x, y, cfg);
      const mask = lowSaliencyMask(s, RATIOS);
      const xAdv = createScaatAttack(cfg)(clf, x, y, { mask, seed });
      const onehot = tf.oneHot(y, K);
      const ce = (z: tf.Tensor2D) => tf.mean(tf.neg(tf.sum(tf.mul(onehot, tf.log(tf.softmax(z))), 1)));
      const lossOf = (xc: tf.Tensor4D): tf.Scalar => {
        const za = clf.logits(xAdv, { training: true });
        if (cfg.loss === 'adv-only') return ce(za) as tf.Scalar;
        const zc = clf.logits(xc, { training: true });
        if (cfg.loss === 'clean+adv') return tf.add(ce(zc), tf.mul(cfg.lambda, ce(za)));
        const p = tf.softmax(zc);
        const kl = tf.mean(tf.sum(tf.mul(p, tf.log(tf.div(p, tf.softmax(za)))), 1));
        return tf.add(ce(zc), tf.mul(cfg.lambda, kl));
      };
      const { value, grads } = tf.variableGrads(() => lossOf(x), clf.trainableVariables());
      // 'train-backward''s map: ∂L/∂x of the clean input; 'adv-only' has none: ∂CE(f(x_adv))/∂x_adv
      const dx =
        cfg.loss === 'adv-only'
          ? tf.grad((xa: tf.Tensor) => ce(clf.logits(xa as tf.Tensor4D, { training: true })) as tf.Scalar)(xAdv)
          : tf.grad((xc: tf.Tensor) => lossOf(xc as tf.Tensor4D))(x);
      return { value, gW: grads[clf.trainableVariables()[0]!.name]!, dxScores: tf.sum(tf.abs(dx), 3) };
    });
  }

  it.each([
    ['clean+adv', { loss: 'clean+adv', lambda: 0.7 }],
    ['adv-only', { loss: 'adv-only' }],
    ['clean+kl', { loss: 'clean+kl', lambda: 2 }],
    ['noise + adv-only', { attack: 'noise', loss: 'adv-only' }],
  ])('%s: loss, parameter update and input gradient match method.md §2.4', (_n, layer) => {
    const cfg = resolveScaatConfig({ epsilon: 0.1 }, layer);
    const clf = linearClassifier(SHAPE, K, { seed: 3, scale: 0.3 });
    const ref = reference(clf, cfg, 9);
    const W0 = clf.trainableVariables()[0]!.clone();
    const lr = 0.5;
    const optimizer = tf.train.sgd(lr);
    const r = scaatStep({
      classifier: clf, optimizer, x, y, ratios: RATIOS, config: cfg, attack: createScaatAttack(cfg), seed: 9,
      returnInputGradient: true,
    });
    expect(r.loss).toBeCloseTo(ref.value.dataSync()[0]!, 5);
    const expectedW = tf.tidy(() => tf.sub(W0, tf.mul(lr, ref.gW)));
    expectClose(clf.trainableVariables()[0]!.dataSync(), expectedW.dataSync(), { rtol: 1e-5, atol: 1e-6, label: 'W after SGD' });
    expectClose(r.inputGradient!, ref.dxScores.dataSync(), { rtol: 1e-4, atol: 1e-7, label: 'input gradient' });
    expect(Math.max(...r.inputGradient!)).toBeGreaterThan(1e-4); // not a map of zeros
    expect(r.q).toBeCloseTo((0.2 + 0.5 + 0.5 + 0.8 + 0.95) / 5, 6);
    expect(r.maskFraction).toBeCloseTo((7 + 18 + 18 + 28 + 34) / (5 * 36), 12);
    expect(r.advCorrect).toHaveLength(5);
    expect(r.advAcc).toBeCloseTo(r.advCorrect.reduce((a, v) => a + v, 0) / 5, 12);
    tf.dispose([ref.value, ref.gW, ref.dxScores, W0, expectedW]);
    optimizer.dispose();
  });

  it('uses cached ranks instead of a saliency pass, giving the same mask', () => {
    const cfg = resolveScaatConfig({ epsilon: 0.1 });
    const run = (ranks?: Uint16Array | Uint32Array) => {
      const clf = linearClassifier(SHAPE, K, { seed: 3, scale: 0.3 });
      const optimizer = tf.train.sgd(0.1);
      const r = scaatStep({ classifier: clf, optimizer, x, y, ratios: RATIOS, config: cfg, attack: createScaatAttack(cfg), seed: 4, returnRanks: true, ...(ranks ? { ranks } : {}) });
      optimizer.dispose();
      return r;
    };
    const fresh = run();
    expect(fresh.freshSaliency).toBe(1);
    const cached = run(fresh.ranks!);
    expect(cached.freshSaliency).toBe(0);
    expect(cached.loss).toBe(fresh.loss);
    // the ranks are those of the saliency scores
    const clf = linearClassifier(SHAPE, K, { seed: 3, scale: 0.3 });
    const s = maskSaliency(clf, x, y, cfg);
    expect(Array.from(fresh.ranks!)).toEqual(Array.from(saliencyRanks(s.dataSync(), 5, 36)));
    s.dispose();
  });

  it.each([
    ['fresh', {}],
    ['fgsm-rs + post-step feedback', { attack: 'fgsm-rs', ratioFeedback: 'post-step-inference' }],
    ['re-mask', { remaskEveryAttackStep: true, steps: 2 }],
    ['adv-only + input gradient', { loss: 'adv-only' }],
    ['noise, adv-only + input gradient', { attack: 'noise', loss: 'adv-only' }],
    ['kl + input gradient', { loss: 'clean+kl' }],
  ])('%s: leaks no tensors', async (_n, layer) => {
    const cfg = resolveScaatConfig({ epsilon: 0.1 }, layer);
    const clf = linearClassifier(SHAPE, K, { seed: 3, scale: 0.3 });
    const optimizer = tf.train.adam(0.01);
    const attack = createScaatAttack(cfg);
    const once = () => scaatStep({ classifier: clf, optimizer, x, y, ratios: RATIOS, config: cfg, attack, seed: 1, returnInputGradient: true, returnRanks: true });
    once(); // Adam creates its slots at the first update
    await expectNoLeak(once, 'scaatStep');
    optimizer.dispose();
  });
});

/**
 * `ratioSearchEpsilon`: the q_i search judged on a separate, stronger masked attack (the probe).
 * Oracles: the attacks room's pgd at the probe's budget, run by hand on the step's own mask and
 * seed (its prediction must be advCorrect, before or after the update as `ratioFeedback` says); the
 * step without a probe (the update must not change); the training attack itself (a probe at the
 * training ε is the same x); the trainer's forward count (no probe during warm-up).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lowSaliencyMask } from '../attacks/masks.js';
import { pgd } from '../attacks/pgd.js';
import { ConfigError } from '../errors.js';
import { Rng } from '../engine/random.js';
import type { Classifier } from '../models/classifier.js';
import { countingForwards, expectNoLeak, linearClassifier, useBackend } from '../../test/helpers/index.js';
import type { StepContext } from '../train/types.js';
import { resolveScaatConfig } from './config.js';
import { createScaatAttack, createSearchProbe, maskSaliency, scaatStep } from './step.js';
import { createScaatTrainer } from './trainer.js';

const SHAPE = [6, 6, 3] as const;
const K = 4;
const B = 8;
const RATIOS = Float32Array.from([0.2, 0.5, 0.5, 0.8, 0.95, 0.6, 0.7, 0.9]);
let x: tf.Tensor4D;
let y: tf.Tensor1D;

beforeAll(async () => {
  await useBackend('cpu');
  x = tf.randomUniform([B, ...SHAPE], 0, 1, 'float32', 17) as tf.Tensor4D;
  y = tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32');
});
afterAll(() => tf.dispose([x, y]));


const correct = (clf: Classifier, xs: tf.Tensor4D): number[] =>
  Array.from(tf.tidy(() => tf.equal(tf.argMax(clf.logits(xs), 1), y)).dataSync());

describe('createSearchProbe', () => {
  const clf = linearClassifier(SHAPE, K, { seed: 3, scale: 0.3 });

  it("is absent for 'training' and, at the training ε, is the training attack (same x from the same seed)", () => {
    expect(createSearchProbe(resolveScaatConfig())).toBeUndefined();
    for (const layer of [{ attack: 'fgsm-rs' }, { attack: 'pgd', steps: 3 }, { attack: 'pgd', steps: 2, alpha: 0.03, validBox: 'clip' }]) {
      const cfg = resolveScaatConfig({ epsilon: 0.1, ratioSearchEpsilon: 0.1 }, layer);
      const mask = tf.tidy(() => lowSaliencyMask(maskSaliency(clf, x, y, cfg), RATIOS));
      const a = createScaatAttack(cfg)(clf, x, y, { mask, seed: 5 });
      const p = createSearchProbe(cfg)!(clf, x, y, { mask, seed: 5 });
      expect(Array.from(p.dataSync()), JSON.stringify(layer)).toEqual(Array.from(a.dataSync()));
      tf.dispose([mask, a, p]);
    }
  });

  it('scales α with its budget: auto by the attack\'s rule, a fixed α by ε_probe/ε', () => {
    for (const [layer, alpha] of [
      [{ attack: 'fgsm-rs' }, 1.25 * 0.4],
      [{ attack: 'pgd', steps: 3 }, 0.4 / 4],
      [{ attack: 'pgd', steps: 3, alpha: 0.05 }, 0.05 * 4],
    ] as const) {
      const cfg = resolveScaatConfig({ epsilon: 0.1, ratioSearchEpsilon: 0.4 }, layer);
      const mask = tf.tidy(() => lowSaliencyMask(maskSaliency(clf, x, y, cfg), RATIOS));
      const steps = cfg.attack === 'fgsm-rs' ? 1 : cfg.steps;
      const want = pgd({ epsilon: 0.4, alpha, steps, randomStart: true })(clf, x, y, { mask, seed: 6 });
      const got = createSearchProbe(cfg)!(clf, x, y, { mask, seed: 6 });
      expect(Array.from(got.dataSync()), JSON.stringify(layer)).toEqual(Array.from(want.dataSync()));
      tf.dispose([mask, want, got]);
    }
  });
});

describe('scaatStep with a search probe', () => {
  it.each(['training-pass', 'post-step-inference'] as const)(
    '%s: advCorrect is the probe\'s prediction (by hand, same mask and seed); the update is the step\'s without a probe',
    (ratioFeedback) => {
      // a weak training attack and an unbounded probe: they disagree on some samples
      const cfg = resolveScaatConfig({ attack: 'fgsm-rs', epsilon: 0.02, ratioSearchEpsilon: 1, ratioFeedback });
      const lr = 0.5;
      const run = (probe: boolean) => {
        const clf = linearClassifier(SHAPE, K, { seed: 3, scale: 0.3 });
        const optimizer = tf.train.sgd(lr);
        const r = scaatStep({
          classifier: clf, optimizer, x, y, ratios: RATIOS, config: cfg, attack: createScaatAttack(cfg), seed: 11,
          ...(probe ? { probe: createSearchProbe(cfg)! } : {}),
        });
        optimizer.dispose();
        return { r, W: Array.from(clf.trainableVariables()[0]!.dataSync()), clf };
      };
      // by hand, with the parameters before the step
      const before = linearClassifier(SHAPE, K, { seed: 3, scale: 0.3 });
      const mask = tf.tidy(() => lowSaliencyMask(maskSaliency(before, x, y, cfg), RATIOS));
      const xProbe = pgd({ epsilon: 1, alpha: 1.25, steps: 1 })(before, x, y, { mask, seed: 11 });
      const xAdv = createScaatAttack(cfg)(before, x, y, { mask, seed: 11 });

      const plain = run(false);
      const probed = run(true);
      expect(probed.W).toEqual(plain.W); // the probe does not touch the update
      expect(probed.r.loss).toBe(plain.r.loss);
      // judged before the update, or after it with the updated parameters
      const judge = ratioFeedback === 'training-pass' ? before : probed.clf;
      const expected = correct(judge, xProbe);
      expect(Array.from(probed.r.advCorrect)).toEqual(expected);
      expect(probed.r.advAcc).toBeCloseTo(expected.reduce((a, v) => a + v, 0) / B, 12);
      // precondition: the probe says something the training attack does not
      expect(correct(judge, xAdv)).not.toEqual(expected);
      tf.dispose([mask, xProbe, xAdv]);
      for (const c of [before, plain.clf, probed.clf]) c.model.dispose();
    },
  );

  it('costs one more attack and one inference forward (FGSM-RS: 4 inference + 2 training); no tensor left', async () => {
    for (const ratioFeedback of ['training-pass', 'post-step-inference'] as const) {
      const cfg = resolveScaatConfig({ attack: 'fgsm-rs', epsilon: 0.05, ratioSearchEpsilon: 0.5, ratioFeedback });
      const { clf, calls } = countingForwards(linearClassifier(SHAPE, K, { seed: 2, scale: 0.3 }));
      const optimizer = tf.train.adam(0.01);
      const once = () => void scaatStep({ classifier: clf, optimizer, x, y, ratios: RATIOS, config: cfg, attack: createScaatAttack(cfg), seed: 1, probe: createSearchProbe(cfg)! });
      once(); // Adam creates its slots at the first update
      calls.training = calls.inference = 0;
      await expectNoLeak(once, ratioFeedback);
      // saliency 1 + attack 1 + probe 1 + its judgement 1 (post-step: the x_adv judgement is replaced)
      expect(calls, ratioFeedback).toEqual({ training: 2, inference: 4 });
      optimizer.dispose();
    }
  });

  it("is refused with 'sharedBackward', which runs no separate attack", () => {
    expect(() => resolveScaatConfig({ attack: 'fgsm-rs', sharedBackward: true, ratioSearchEpsilon: 0.5 })).toThrow(ConfigError);
    expect(() => resolveScaatConfig({ attack: 'fgsm-rs', sharedBackward: true, ratioSearchEpsilon: 0.5 })).toThrow(/ratioSearchEpsilon' 'training', got 0.5/);
    expect(() => resolveScaatConfig({ ratioSearchEpsilon: 'same' })).toThrow(/ratioSearchEpsilon.*'training'/);
    expect(() => resolveScaatConfig({ ratioSearchEpsilon: 0 })).toThrow(ConfigError);
  });
});

describe('SCAAT trainer with a search probe', () => {
  it('probes only after warm-up; an unbounded probe pulls q_i down where the weak training attack would push it up', () => {
    const N = 16;
    const BATCH = 8;
    const data = tf.randomUniform([N, ...SHAPE], 0, 1, 'float32', 23) as tf.Tensor4D;
    const labels = tf.tensor1d(Array.from({ length: N }, (_, i) => i % K), 'int32');
    const train = (ratioSearchEpsilon: number | 'training') => {
      const t = createScaatTrainer({ trainSize: N, config: { attack: 'fgsm-rs', epsilon: 0.01, ratioSearchEpsilon, warmupEpochs: 1, ratioInit: 0.9 } });
      const { clf, calls } = countingForwards(linearClassifier(SHAPE, K, { seed: 5, scale: 0.3 }));
      const optimizer = tf.train.sgd(0.01);
      const rng = new Rng(1);
      const inference: number[] = [];
      for (let epoch = 0; epoch < 2; epoch++) {
        calls.inference = 0;
        for (let s = 0; s < N; s += BATCH) {
          const index = Int32Array.from({ length: BATCH }, (_, i) => s + i);
          const idx = tf.tensor1d(index, 'int32');
          const xb = tf.gather(data, idx) as tf.Tensor4D;
          const yb = tf.gather(labels, idx) as tf.Tensor1D;
          const ctx: StepContext = { classifier: clf, optimizer, epoch, step: epoch * 2 + s / BATCH, rng };
          t.step({ x: xb, y: yb, index }, ctx);
          tf.dispose([idx, xb, yb]);
        }
        inference.push(calls.inference);
        t.epochSummary(epoch);
      }
      optimizer.dispose();
      clf.model.dispose();
      return { t, inference };
    };
    const probed = train(1);
    const plain = train('training');
    expect(probed.t.derived.passesPerStep).toBe(plain.t.derived.passesPerStep + 2);
    // warm-up epoch: saliency + attack per batch, both; then + probe + its judgement
    expect(plain.inference).toEqual([4, 4]);
    expect(probed.inference).toEqual([4, 8]);
    // q_i − γ where the judged attack succeeded (or the sample is misclassified), + γ elsewhere
    const down = (a: Float32Array) => a.filter((q) => q < 0.9).length;
    for (const q of [...plain.t.irrelevantRatios(), ...probed.t.irrelevantRatios()]) expect([Math.fround(0.88), Math.fround(0.92)]).toContain(q);
    expect(down(probed.t.irrelevantRatios())).toBeGreaterThan(down(plain.t.irrelevantRatios()));
    tf.dispose([data, labels]);
  });
});

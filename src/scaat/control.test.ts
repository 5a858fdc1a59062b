/**
 * The PGD-AT control differs from SCAAT only in the mask (issue 12, item 4): pgd-at with
 * pgdAtControlOptions(config) takes exactly the step SCAAT takes with q_i ≡ 1 (mask = every pixel),
 * and its loss is CE(f(x)) + λ·CE(f(x_adv)) computed independently.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { pgd } from '../attacks/pgd.js';
import { Rng } from '../engine/random.js';
import { MODELS } from '../models/registry.js';
import type { Classifier } from '../models/classifier.js';
import { resolvePgdAtOptions } from '../train/pgd-at.js';
import { BASELINE_TRAINERS } from '../train/registry.js';
import type { Trainer } from '../train/types.js';
import { useBackend } from '../../test/helpers/index.js';
import { pgdAtControlOptions, resolveScaatConfig } from './config.js';
import { createScaatTrainer } from './trainer.js';

const SHAPE = [8, 8, 3] as const;
const K = 3;
const B = 6;
const STEPS = 3;

beforeAll(async () => {
  await useBackend('cpu');
});

/** Images with many pixels at exactly 0 and 1 (the valid box binds) and labels, per step. */
function batches(): Array<{ x: tf.Tensor4D; y: tf.Tensor1D; index: Int32Array }> {
  const rng = new Rng(21);
  return Array.from({ length: STEPS }, (_, s) => {
    const n = B * SHAPE[0] * SHAPE[1] * SHAPE[2];
    const x = Float32Array.from({ length: n }, () => {
      const u = rng.next();
      return u < 0.3 ? 0 : u < 0.45 ? 1 : rng.next();
    });
    const y = Int32Array.from({ length: B }, () => rng.nextInt(K));
    return { x: tf.tensor4d(x, [B, ...SHAPE]), y: tf.tensor1d(y, 'int32'), index: Int32Array.from({ length: B }, (_, b) => s * B + b) };
  });
}

function model(): Classifier {
  return MODELS.get('small-cnn')!.create({ inputShape: SHAPE, numClasses: K, seed: 4, width: 0.125 });
}

/** Runs the trainer for STEPS steps with plain SGD; returns each step's metrics and the final weights. */
function run(trainer: Trainer): { metrics: Array<Readonly<Record<string, number>>>; weights: Float32Array[] } {
  const clf = model();
  const optimizer = tf.train.sgd(0.05);
  const rng = new Rng(5);
  const data = batches();
  const metrics = data.map(({ x, y, index }, step) => trainer.step({ x, y, index }, { classifier: clf, optimizer, epoch: 0, step, rng }));
  const weights = clf.trainableVariables().map((v) => Float32Array.from(v.dataSync()));
  for (const d of data) tf.dispose([d.x, d.y]);
  optimizer.dispose();
  clf.model.dispose();
  return { metrics, weights };
}

describe('the PGD-AT control', () => {
  it.each([
    ['the defaults (PGD, K = 7 → 2 here, clean+adv, λ = 1)', { steps: 2 }],
    ['FGSM-RS at ε = 0.3', { attack: 'fgsm-rs', epsilon: 0.3 }],
    ["validBox 'clip', λ = 0.5", { steps: 2, validBox: 'clip', lambda: 0.5 }],
    ["'adv-only' (Madry)", { steps: 2, loss: 'adv-only' }],
    ["'clean+kl', α = 0.01", { steps: 2, loss: 'clean+kl', lambda: 2, alpha: 0.01 }],
    ['sharedBackward (FGSM-RS along the clean backward, 2 passes)', { attack: 'fgsm-rs', epsilon: 0.3, sharedBackward: true }],
  ])('%s: takes the step SCAAT takes with the mask = every pixel (loss and weights bit for bit, accuracies)', (_name, layer) => {
    const config = resolveScaatConfig({ epsilon: 0.1 }, layer);
    const everyPixel = { ...config, ratioInit: 1, ratioMin: 1, ratioMax: 1 };
    const scaat = run(createScaatTrainer({ trainSize: STEPS * B, config: everyPixel }));
    const spec = BASELINE_TRAINERS.get('pgd-at')!;
    const options = spec.resolveOptions({ ...pgdAtControlOptions(config) });
    const control = run(spec.create({ options, trainSize: STEPS * B, inputShape: SHAPE, numClasses: K } as Parameters<typeof spec.create>[0]));
    for (let s = 0; s < STEPS; s++) {
      expect(scaat.metrics[s]!['maskFraction']).toBe(1);
      expect(control.metrics[s]!['loss'], `step ${s}: loss`).toBe(scaat.metrics[s]!['loss']);
      // accuracies: pgd-at averages in float32, SCAAT in float64
      for (const key of ['acc', 'advAcc']) expect(control.metrics[s]![key], `step ${s}: ${key}`).toBeCloseTo(scaat.metrics[s]![key]!, 7);
    }
    expect(control.weights).toEqual(scaat.weights);
  });

  it('its default loss is CE(f(x)) + λ·CE(f(x_adv)) of the whole-image attack, computed independently in float64', () => {
    const spec = BASELINE_TRAINERS.get('pgd-at')!;
    const options = spec.resolveOptions({ epsilon: 0.1, steps: 2 });
    const trainer = spec.create({ options, trainSize: B, inputShape: SHAPE, numClasses: K } as Parameters<typeof spec.create>[0]);
    const [{ x, y, index }] = batches();
    const clf = model();
    const optimizer = tf.train.sgd(0.05);
    // the same attack and seed the trainer draws (its first rng.nextSeed())
    const seed = new Rng(5).nextSeed();
    const xAdv = pgd({ epsilon: 0.1, alpha: 0.025, steps: 2 })(clf, x!, y!, { seed });
    const logits = (input: tf.Tensor4D) => {
      const z = clf.logits(input, { training: true });
      const a = z.arraySync();
      z.dispose();
      return a;
    };
    const labels = y!.arraySync();
    const meanCe = (z: number[][]) =>
      z.reduce((sum, row, b) => {
        const max = Math.max(...row);
        const lse = max + Math.log(row.reduce((t, v) => t + Math.exp(v - max), 0));
        return sum + lse - row[labels[b]!]!;
      }, 0) / z.length;
    const expected = meanCe(logits(x!)) + 1 * meanCe(logits(xAdv));
    const m = trainer.step({ x: x!, y: y!, index: index! }, { classifier: clf, optimizer, epoch: 0, step: 0, rng: new Rng(5) });
    expect(m['loss']).toBeCloseTo(expected, 5);
    expect(Math.abs(m['loss']! - expected)).toBeLessThan(1e-5 * expected);
    tf.dispose([x!, y!, xAdv]);
    optimizer.dispose();
    clf.model.dispose();
  });

  it("is pgd-at's default: the default pgd-at options are the default SCAAT config's control; Madry's form stays available", () => {
    expect(resolvePgdAtOptions({})).toEqual(pgdAtControlOptions(resolveScaatConfig()));
    expect(resolvePgdAtOptions({ loss: 'adv-only' }).loss).toBe('adv-only');
    expect(() => resolvePgdAtOptions({ loss: 'adv' })).toThrow(/'loss' must be one of 'clean\+adv', 'adv-only', 'clean\+kl', got 'adv'/);
    expect(() => resolvePgdAtOptions({ cleanWeight: 0 })).toThrow(/'cleanWeight' .* was replaced by 'loss' and 'lambda'/);
  });

  it.each([
    ['noise', 0],
    ['fgsm-rs', 0.375],
    ['pgd', 0.075],
  ] as const)("reads back its resolved options (what config.json holds), and is the control of SCAAT's config: attack '%s', α %s", (attack, alpha) => {
    const once = resolvePgdAtOptions({ attack, epsilon: 0.3 });
    expect(once.alpha).toBe(alpha);
    expect(resolvePgdAtOptions({ ...once })).toEqual(once);
    const control = pgdAtControlOptions(resolveScaatConfig({ attack, epsilon: 0.3 }));
    expect(resolvePgdAtOptions({ ...control })).toEqual(control);
  });

  it('refuses α = 0 for an attack that steps', () => {
    expect(() => resolvePgdAtOptions({ attack: 'fgsm-rs', alpha: 0 })).toThrow(/'alpha' must be > 0 for attack 'fgsm-rs' \(only 'noise', which takes no step, has α = 0\), got 0/);
    expect(() => resolvePgdAtOptions({ attack: 'pgd', alpha: -0.1 })).toThrow(/'alpha'/);
  });
});

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../test/helpers/index.js';
import { pgd } from '../attacks/pgd.js';
import { Rng } from '../engine/random.js';
import { toTensors } from '../datasets/dataset.js';
import type { Classifier } from '../models/classifier.js';
import { MODELS } from '../models/registry.js';
import { DEFAULT_TRAIN_CONFIG, resolveConfig } from './config.js';
import { createOptimizer } from './optimizers.js';
import type { PgdAtOptions } from './pgd-at.js';
import { optionsResolver, BASELINE_TRAINERS } from './registry.js';
import { maskedFill } from './sgt.js';
import type { SgtOptions } from './sgt.js';
import { blobsDataset } from './_testing.js';

beforeAll(async () => {
  await useBackend('cpu');
});

const SHAPE = [6, 6, 2] as const;
const K = 3;
/** The seed of the Rng the trainers draw from (their first draw is new Rng(RNG_SEED).nextSeed()). */
const RNG_SEED = 3;

/** A trainer's first-step loss, computed independently from the model before the step. */
type FirstLoss = (clf: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, options: Readonly<Record<string, unknown>>, seed: number) => number;

/** Runs `steps` steps of trainer `name` on blobs with the mlp; returns losses and tensor counts, and `oracle`'s loss of the first batch. */
async function run(name: string, steps: number, model = 'mlp', width = 0.125, oracle?: FirstLoss) {
  const cfg = resolveConfig([{ source: 'test', values: { trainer: name, optimizer: 'adam', lr: 0.01, weightDecay: 0 } }], optionsResolver(BASELINE_TRAINERS));
  const data = blobsDataset({ size: 64, shape: SHAPE, numClasses: K, noise: 0.15, seed: 1 });
  const clf = MODELS.get(model)!.create({ inputShape: SHAPE, numClasses: K, seed: 2, width });
  const opt = createOptimizer(clf.trainableVariables(), cfg);
  const trainer = BASELINE_TRAINERS.get(name)!.create({ config: cfg, options: cfg.trainerOptions[name]!, trainSize: 64, inputShape: SHAPE, numClasses: K });
  const rng = new Rng(RNG_SEED);
  const losses: number[] = [];
  const counts: number[] = [];
  const metrics: Array<Readonly<Record<string, number>>> = [];
  let expectedFirst: number | undefined;
  let step = 0;
  for (let epoch = 0; step < steps; epoch++) {
    for await (const b of data.batches({ batchSize: 16, shuffle: true, seed: 1, epoch })) {
      if (step >= steps) break;
      const { x, y } = toTensors(b);
      if (step === 0 && oracle) expectedFirst = oracle(clf, x, y, cfg.trainerOptions[name]!, new Rng(RNG_SEED).nextSeed());
      const m = trainer.step({ x, y, index: b.index }, { classifier: clf, optimizer: opt, epoch, step, rng });
      tf.dispose([x, y]);
      losses.push(m['loss']!);
      metrics.push(m);
      counts.push(tf.memory().numTensors);
      step++;
    }
  }
  opt.dispose();
  clf.model.dispose();
  return { losses, counts, metrics, expectedFirst };
}

// float64 references on the logits read back (method.md §2.4; sgt.ts's L)
const logSoftmax64 = (row: readonly number[]): number[] => {
  const max = Math.max(...row);
  const lse = max + Math.log(row.reduce((t, v) => t + Math.exp(v - max), 0));
  return row.map((v) => v - lse);
};
/** Mean over the batch of −log softmax(z_b)[y_b]. */
const meanCe = (z: number[][], y: ArrayLike<number>): number => z.reduce((sum, row, b) => sum - logSoftmax64(row)[y[b]!]!, 0) / z.length;
/** Mean over the batch of KL(softmax p_b ‖ softmax q_b) = Σ_k P_k (log P_k − log Q_k). */
const meanKl = (p: number[][], q: number[][]): number =>
  p.reduce((sum, row, b) => {
    const lp = logSoftmax64(row);
    const lq = logSoftmax64(q[b]!);
    return sum + lp.reduce((t, v, k) => t + Math.exp(v) * (v - lq[k]!), 0);
  }, 0) / p.length;
const logitsOf = (clf: Classifier, x: tf.Tensor4D): number[][] => tf.tidy(() => clf.logits(x, { training: true }).arraySync());

/**
 * SGT's x̃ by hand: per image, the floor(k·H·W) pixels of lowest S = Σ_c |∂logit_y/∂x| (ties by
 * flat index) get lo_c + u·(hi_c − lo_c), u the uniform draw of `seed` over x's shape and [lo_c, hi_c]
 * the image's channel range ('channel-range') or [0, 1] ('unit'); the other pixels keep x.
 */
function sgtMaskedByHand(clf: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, o: SgtOptions, seed: number): tf.Tensor4D {
  const [B, H, W, C] = x.shape;
  const n = H * W;
  const g = tf.tidy(() => tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(clf.logits(xi as tf.Tensor4D), tf.oneHot(y, K))))(x).dataSync());
  const u = tf.tidy(() => tf.randomUniform(x.shape, 0, 1, 'float32', seed).dataSync());
  const xs = x.dataSync();
  const out = Float32Array.from(xs);
  const count = Math.floor(o.k * n);
  for (let b = 0; b < B; b++) {
    const score = (p: number) => Array.from({ length: C }, (_, c) => Math.abs(g[(b * n + p) * C + c]!)).reduce((t, v) => t + v, 0);
    const scores = Array.from({ length: n }, (_, p) => score(p));
    const lowest = Array.from({ length: n }, (_, p) => p).sort((p, q) => scores[p]! - scores[q]! || p - q).slice(0, count);
    for (let c = 0; c < C; c++) {
      const values = Array.from({ length: n }, (_, p) => xs[(b * n + p) * C + c]!);
      const [lo, hi] = o.fill === 'unit' ? [0, 1] : [Math.min(...values), Math.max(...values)];
      for (const p of lowest) {
        const i = (b * n + p) * C + c;
        out[i] = lo + u[i]! * (hi - lo);
      }
    }
  }
  return tf.tensor4d(out, x.shape);
}

/** Each baseline's first-step loss from the initial model (all its forwards in training mode). */
const FIRST_LOSS: Record<string, FirstLoss> = {
  // CE(f(x), y)
  regular: (clf, x, y) => meanCe(logitsOf(clf, x), y.dataSync()),
  // CE(f(x), y) + λ·CE(f(x_adv), y), x_adv the whole-image PGD from the trainer's first seed
  'pgd-at': (clf, x, y, options, seed) => {
    const o = options as PgdAtOptions;
    expect([o.attack, o.loss]).toEqual(['pgd', 'clean+adv']); // the defaults this reference follows
    const xAdv = pgd({ epsilon: o.epsilon, alpha: o.alpha, steps: o.steps, randomStart: o.randomStart, validBox: o.validBox })(clf, x, y, { seed });
    const labels = y.dataSync();
    const loss = meanCe(logitsOf(clf, x), labels) + o.lambda * meanCe(logitsOf(clf, xAdv), labels);
    xAdv.dispose();
    return loss;
  },
  // CE(f(x), y) + λ·KL(softmax f(x) ‖ softmax f(x̃))
  sgt: (clf, x, y, options, seed) => {
    const o = options as SgtOptions;
    const xMasked = sgtMaskedByHand(clf, x, y, o, seed);
    const z = logitsOf(clf, x);
    const loss = meanCe(z, y.dataSync()) + o.lambda * meanKl(z, logitsOf(clf, xMasked));
    xMasked.dispose();
    return loss;
  },
};

describe.each([...BASELINE_TRAINERS.keys()])('trainer %s', (name) => {
  it('lowers the loss over 20 steps, reports loss and acc, and keeps numTensors flat', async () => {
    const { losses, counts, metrics } = await run(name, 20);
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)));
    for (const m of metrics) {
      expect(Number.isFinite(m['loss'])).toBe(true);
      expect(m['acc']).toBeGreaterThanOrEqual(0);
      expect(m['acc']).toBeLessThanOrEqual(1);
    }
    expect(new Set(counts).size, `numTensors per step: ${counts.join(',')}`).toBe(1);
  });

  it('runs on a conv model (small-cnn) in training mode: the first loss is the float64 reference of the initial model', async () => {
    expect(FIRST_LOSS[name], `a first-step reference for '${name}'`).toBeDefined();
    const { losses, expectedFirst } = await run(name, 2, 'small-cnn', 0.125, FIRST_LOSS[name]);
    expect(Math.abs(losses[0]! - expectedFirst!), `loss ${losses[0]} vs ${expectedFirst}`).toBeLessThan(1e-5 * expectedFirst!);
    expect(losses.every(Number.isFinite)).toBe(true);
  });
});

describe('sgt masked fill', () => {
  it('keeps unmasked pixels and fills masked ones inside each image channel range', () => {
    const rng = new Rng(4);
    const [B, H, W, C] = [3, 4, 4, 2];
    const x = tf.tensor4d(Float32Array.from({ length: B * H * W * C }, () => rng.uniform(0.2, 0.7)), [B, H, W, C]);
    const maskData = Float32Array.from({ length: B * H * W }, () => (rng.next() < 0.5 ? 1 : 0));
    const mask = tf.tensor4d(maskData, [B, H, W, 1]);
    const out = maskedFill(x, mask, 'channel-range', 5).dataSync();
    const xs = x.dataSync();
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) {
        let lo = Infinity;
        let hi = -Infinity;
        for (let p = 0; p < H * W; p++) {
          const v = xs[(b * H * W + p) * C + c]!;
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
        for (let p = 0; p < H * W; p++) {
          const i = (b * H * W + p) * C + c;
          if (maskData[b * H * W + p] === 0) expect(out[i]).toBe(xs[i]);
          else {
            expect(out[i]!).toBeGreaterThanOrEqual(lo - 1e-6);
            expect(out[i]!).toBeLessThanOrEqual(hi + 1e-6);
          }
        }
      }
    }
    tf.dispose([x, mask]);
  });
});

describe('pgd-at options', () => {
  it("resolves alpha 'auto' to 1.25ε for fgsm-rs and ε/4 for pgd, and rejects α ≤ 0", () => {
    const r = (o: Record<string, unknown>) => BASELINE_TRAINERS.get('pgd-at')!.resolveOptions(o);
    expect(r({ attack: 'fgsm-rs', epsilon: 0.1 })['alpha']).toBeCloseTo(0.125, 12);
    expect(r({ epsilon: 0.1 })['alpha']).toBeCloseTo(0.025, 12);
    expect(r({ alpha: 0.5 })['alpha']).toBe(0.5);
    expect(r({ alpha: '2/255', epsilon: 0.1 })['alpha']).toBeCloseTo(2 / 255, 12);
    expect(() => r({ alpha: 0 })).toThrow(/'alpha' must be > 0 for attack 'pgd'.*got 0/);
    expect(() => r({ alpha: -1 })).toThrow(/'alpha' must be a number ≥ 0 or 'auto', got -1/);
    expect(DEFAULT_TRAIN_CONFIG.trainer).toBe('regular');
  });

  it("takes validBox 'project' (default) or 'clip' and rejects anything else, naming the option", () => {
    const r = (o: Record<string, unknown>) => BASELINE_TRAINERS.get('pgd-at')!.resolveOptions(o);
    expect(r({})['validBox']).toBe('project');
    expect(r({ validBox: 'clip' })['validBox']).toBe('clip');
    expect(() => r({ validBox: 'wrap' })).toThrow(/trainerOptions.pgd-at: 'validBox' must be one of 'project', 'clip', got 'wrap'/);
  });
});

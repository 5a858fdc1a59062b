import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../test/helpers/index.js';
import { Rng } from '../engine/random.js';
import { toTensors } from '../datasets/dataset.js';
import { MODELS } from '../models/registry.js';
import { DEFAULT_TRAIN_CONFIG, resolveConfig } from './config.js';
import { createOptimizer } from './optimizers.js';
import { optionsResolver, BASELINE_TRAINERS } from './registry.js';
import { maskedFill } from './sgt.js';
import { blobsDataset } from './_testing.js';

beforeAll(async () => {
  await useBackend('cpu');
});

const SHAPE = [6, 6, 2] as const;

/** Runs `steps` steps of trainer `name` on blobs with the mlp; returns losses and tensor counts. */
async function run(name: string, steps: number, model = 'mlp', width = 0.125) {
  const cfg = resolveConfig([{ source: 'test', values: { trainer: name, optimizer: 'adam', lr: 0.01, weightDecay: 0 } }], optionsResolver(BASELINE_TRAINERS));
  const data = blobsDataset({ size: 64, shape: SHAPE, numClasses: 3, noise: 0.15, seed: 1 });
  const clf = MODELS.get(model)!.create({ inputShape: SHAPE, numClasses: 3, seed: 2, width });
  const opt = createOptimizer(clf.trainableVariables(), cfg);
  const trainer = BASELINE_TRAINERS.get(name)!.create({ config: cfg, options: cfg.trainerOptions[name]!, trainSize: 64, inputShape: SHAPE, numClasses: 3 });
  const rng = new Rng(3);
  const losses: number[] = [];
  const counts: number[] = [];
  const metrics: Array<Readonly<Record<string, number>>> = [];
  let step = 0;
  for (let epoch = 0; step < steps; epoch++) {
    for await (const b of data.batches({ batchSize: 16, shuffle: true, seed: 1, epoch })) {
      if (step >= steps) break;
      const { x, y } = toTensors(b);
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
  return { losses, counts, metrics };
}

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

  it('runs on a conv model (small-cnn) in training mode', async () => {
    const { losses } = await run(name, 2, 'small-cnn', 0.125);
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

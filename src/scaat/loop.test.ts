/**
 * SCAAT on the shared training loop (train/loop.ts): registered through SCAAT_TRAINER_SPEC, its
 * per-epoch log record carries the q_i distribution and adversarial accuracy, and a run that is
 * interrupted mid-epoch and resumed ends bit for bit like one that never stopped (q_i and the
 * epoch totals are in the checkpoint; the attack seeds come from the loop's checkpointed Rng).
 */
import type * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../test/helpers/index.js';
import { existsSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import type { ScaatError } from '../errors.js';
import { resolveConfig } from '../train/config.js';
import { train } from '../train/loop.js';
import { SILENT_PROGRESS } from '../train/progress.js';
import { optionsResolver, TRAINERS, withTrainers } from '../train/registry.js';
import type { TrainerInit, TrainerSpec } from '../train/registry.js';
import { blobsDataset } from '../train/_testing.js';
import { SCAAT_TRAINER_SPEC } from './trainer.js';
import { readNpy } from '../io/npy.js';

const REGISTRY = withTrainers(TRAINERS, [['scaat', SCAAT_TRAINER_SPEC]]);
const config = (extra: Record<string, unknown> = {}, registry = REGISTRY) =>
  resolveConfig(
    [
      {
        source: 'test',
        values: {
          trainer: 'scaat',
          trainerOptions: { scaat: { epsilon: 0.2, steps: 2, warmupEpochs: 1 } },
          model: 'mlp', width: 0.125, epochs: 3, batchSize: 16, optimizer: 'adam', lr: 0.01,
          evalBatchSize: 32, logEvery: 1, backend: 'cpu', seed: 3,
          ...extra,
        },
      },
    ],
    optionsResolver(registry),
  );
const data = () => ({
  train: blobsDataset({ size: 48, shape: [6, 6, 1], numClasses: 3, noise: 0.2, seed: 2 }),
  test: blobsDataset({ size: 24, shape: [6, 6, 1], numClasses: 3, noise: 0.2, seed: 2, split: 'test' }),
});
const weightsOf = (m: tf.LayersModel) => m.getWeights().map((t) => Array.from(t.dataSync()));
const records = (dir: string) =>
  readFileSync(path.join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const epochs = (dir: string) =>
  records(dir).filter((r) => r['type'] === 'epoch').map(({ seconds: _s, samplesPerSecond: _p, ...r }) => r);

let tmp: string;
beforeAll(async () => {
  await useBackend('cpu');
  tmp = mkdtempSync(path.join(os.tmpdir(), 'scaat-on-loop-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('SCAAT on the shared loop', () => {
  let straight: { dir: string; weights: number[][] };

  it('logs the q_i distribution and adversarial accuracy every epoch', async () => {
    const dir = path.join(tmp, 'straight');
    const r = await train({ config: config(), data: data(), runDir: dir, trainers: REGISTRY });
    straight = { dir, weights: weightsOf(r.classifier.model) };
    const es = epochs(dir);
    expect(es).toHaveLength(3);
    const summaries = es.map((e) => e['trainer'] as Record<string, unknown>);
    for (const s of summaries) {
      expect(s).toHaveProperty('q.mean');
      expect(s).toHaveProperty('q.quantiles.median');
      expect((s['q'] as { histogram: { counts: number[] } }).histogram.counts.reduce((a, c) => a + c, 0)).toBe(48);
      expect(typeof s['advAcc']).toBe('number');
    }
    expect(summaries[0]!['warmup']).toBe(true);
    expect((summaries[0]!['q'] as { mean: number }).mean).toBe(0.5);
    // epochs 1 and 2 adapt: each visit moves q by ±γ, so the mean moves by γ(2·advAcc − 1)
    const m1 = (summaries[1]!['q'] as { mean: number }).mean;
    expect(m1).toBeCloseTo(0.5 + 0.02 * (2 * (summaries[1]!['advAcc'] as number) - 1), 5);
    // the final q_i of every training sample is written as q.npy, equal to the trainer's state
    const q = await readNpy(path.join(dir, 'q.npy'));
    expect(q.shape).toEqual([48]);
    const mean = Array.from(q.data as Float32Array).reduce((a, v) => a + v, 0) / 48;
    expect(mean).toBeCloseTo((summaries[2]!['q'] as { mean: number }).mean, 5);
  });

  it('interrupted mid-epoch and resumed, ends with the same weights and log, bit for bit', async () => {
    const dir = path.join(tmp, 'interrupted');
    const abort = new AbortController();
    let steps = 0;
    const progress = { ...SILENT_PROGRESS, step: () => (++steps === 5 ? abort.abort() : undefined) };
    const err = await train({ config: config(), data: data(), runDir: dir, trainers: REGISTRY, signal: abort.signal, progress }).catch((e: unknown) => e);
    expect((err as ScaatError).code).toBe('INTERRUPTED');
    const r = await train({ config: config(), data: data(), runDir: dir, trainers: REGISTRY, resume: true });
    expect(weightsOf(r.classifier.model)).toEqual(straight.weights);
    expect(epochs(dir)).toEqual(epochs(straight.dir));
  });

  it("gives the trainer the training data's declared augmentation; SCAAT's cached maps refuse augmented data that declares none", async () => {
    const augmentation = { padding: 1, flip: true };
    const seen: TrainerInit[] = [];
    const regular = TRAINERS.get('regular')!;
    const spy: TrainerSpec = { ...regular, create: (init) => (seen.push(init), regular.create(init)) };
    const registry = withTrainers(REGISTRY, [['spy', spy]]);
    const declared = { ...data().train, augmentation };
    await train({ config: config({ trainer: 'spy', epochs: 1, augment: true }, registry), data: { train: declared }, runDir: path.join(tmp, 'spy'), trainers: registry });
    expect(seen.map((i) => i.augmentation)).toEqual([augmentation]);
    // blobs declare no augmentation: with augment on, a cached map could not follow the images
    const dir = path.join(tmp, 'refused');
    const cached = config({ augment: true, trainerOptions: { scaat: { saliencySource: 'previous-visit' } } });
    const err = await train({ config: cached, data: data(), runDir: dir, trainers: REGISTRY }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/'saliencySource' 'previous-visit' .* 'augment' is on/);
    expect(existsSync(dir)).toBe(false);
  });
});

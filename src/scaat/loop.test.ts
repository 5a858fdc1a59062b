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
import { optionsResolver, BASELINE_TRAINERS, withTrainers } from '../train/registry.js';
import type { TrainerInit, TrainerSpec } from '../train/registry.js';
import { blobsDataset } from '../train/_testing.js';
import { SCAAT_TRAINER_SPEC } from './trainer.js';
import { readNpy } from '../io/npy.js';
import type { RatioSummary } from './sample-state.js';
import { applyAugmentation, drawAugmentation } from '../datasets/transforms.js';
import type { Augmentation } from '../datasets/transforms.js';
import type { Dataset } from '../datasets/dataset.js';

const REGISTRY = withTrainers(BASELINE_TRAINERS, [['scaat', SCAAT_TRAINER_SPEC]]);
const config = (scaat: Readonly<Record<string, unknown>> = {}, extra: Record<string, unknown> = {}, registry = REGISTRY) =>
  resolveConfig(
    [
      {
        source: 'test',
        values: {
          trainer: 'scaat',
          trainerOptions: { scaat: { epsilon: 0.2, steps: 2, warmupEpochs: 1, ...scaat } },
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

/**
 * A straight run of `settings`, trained once into tmp/<name> by whichever test asks for it first,
 * so that every test also runs alone (vitest -t) and none depends on another having run.
 */
function straightRun(name: string, settings?: Record<string, unknown>): () => Promise<{ dir: string; weights: number[][] }> {
  let run: Promise<{ dir: string; weights: number[][] }> | undefined;
  return () =>
    (run ??= (async () => {
      const dir = path.join(tmp, name);
      const r = await train({ config: config(settings), data: data(), runDir: dir, trainers: REGISTRY });
      return { dir, weights: weightsOf(r.classifier.model) };
    })());
}

describe('SCAAT on the shared loop', () => {
  const straightOf = straightRun('straight');

  it('logs the q_i distribution and adversarial accuracy every epoch', async () => {
    const { dir } = await straightOf();
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
    const straight = await straightOf();
    expect(weightsOf(r.classifier.model)).toEqual(straight.weights);
    expect(epochs(dir)).toEqual(epochs(straight.dir));
  });

  it("gives the trainer the training data's declared augmentation; SCAAT's cached maps refuse augmented data that declares none", async () => {
    const augmentation = { padding: 1, flip: true };
    const seen: TrainerInit[] = [];
    const regular = BASELINE_TRAINERS.get('regular')!;
    const spy: TrainerSpec = { ...regular, create: (init) => (seen.push(init), regular.create(init)) };
    const registry = withTrainers(REGISTRY, [['spy', spy]]);
    const declared = { ...data().train, augmentation };
    await train({ config: config({}, { trainer: 'spy', epochs: 1, augment: true }, registry), data: { train: declared }, runDir: path.join(tmp, 'spy'), trainers: registry });
    expect(seen.map((i) => i.augmentation)).toEqual([augmentation]);
    // blobs declare no augmentation: with augment on, a cached map could not follow the images
    const dir = path.join(tmp, 'refused');
    const cached = config({}, { augment: true, trainerOptions: { scaat: { saliencySource: 'previous-visit' } } });
    const err = await train({ config: cached, data: data(), runDir: dir, trainers: REGISTRY }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/'saliencySource' 'previous-visit' .* 'augment' is on/);
    expect(existsSync(dir)).toBe(false);
  });
});

describe("SCAAT on the shared loop with ratioSearch 'bisect'", () => {
  const BISECT = { ratioSearch: 'bisect' };
  const straightOf = straightRun('bisect', BISECT);

  // The blobs overlap (noise 0.2 around 3 random means), so after one epoch of a tiny MLP some
  // samples resist the masked attack and others do not: the ramp could only spread them over
  // 0.5 ± 2γ in the 2 epochs after warm-up; bisection sends them to 4 different bins.
  it('spreads q_i over the histogram, keeps q during warm-up and writes the brackets as qLow.npy / qHigh.npy', async () => {
    const { dir } = await straightOf();
    const summaries = epochs(dir).map((e) => e['trainer'] as { q: RatioSummary; warmup: boolean });
    expect(summaries.map((s) => s.warmup)).toEqual([true, false, false]);
    expect(summaries[0]!.q.histogram.counts[10]).toBe(48); // warm-up: every q_i still 0.5
    const final = summaries[2]!.q;
    expect(final.histogram.counts.filter((c) => c > 0).length, JSON.stringify(final.histogram.counts)).toBeGreaterThan(2);
    expect(final.quantiles.max - final.quantiles.min).toBeGreaterThan(2 * 2 * 0.02);
    // two visits of bisection from 0.5 in [0.05, 0.95]: q ∈ {0.1625, 0.3875, 0.6125, 0.8375},
    // the midpoint of a bracket of width 0.9/4
    const [q, lo, hi] = await Promise.all(['q', 'qLow', 'qHigh'].map(async (n) => (await readNpy(path.join(dir, `${n}.npy`))).data as Float32Array));
    for (let i = 0; i < 48; i++) {
      expect([0.1625, 0.3875, 0.6125, 0.8375].map(Math.fround)).toContain(q![i]);
      expect(hi![i]! - lo![i]!).toBeCloseTo(0.225, 6);
      expect((lo![i]! + hi![i]!) / 2).toBeCloseTo(q![i]!, 6);
    }
  });

  it('interrupted mid-epoch and resumed, ends with the same weights, log and q_i, bit for bit', async () => {
    const dir = path.join(tmp, 'bisect-interrupted');
    const abort = new AbortController();
    let steps = 0;
    // step 5 of 9: in epoch 1, the first that moves q_i
    const progress = { ...SILENT_PROGRESS, step: () => (++steps === 5 ? abort.abort() : undefined) };
    const err = await train({ config: config(BISECT), data: data(), runDir: dir, trainers: REGISTRY, signal: abort.signal, progress }).catch((e: unknown) => e);
    expect((err as ScaatError).code).toBe('INTERRUPTED');
    const r = await train({ config: config(BISECT), data: data(), runDir: dir, trainers: REGISTRY, resume: true });
    const straight = await straightOf();
    expect(weightsOf(r.classifier.model)).toEqual(straight.weights);
    expect(epochs(dir)).toEqual(epochs(straight.dir));
    for (const name of ['q', 'qLow', 'qHigh']) {
      const [a, b] = await Promise.all([dir, straight.dir].map((d) => readFileSync(path.join(d, `${name}.npy`))));
      expect(a!.equals(b!), `${name}.npy`).toBe(true);
    }
  });
});

describe("SCAAT on the shared loop with ratioStep 'auto'", () => {
  it("takes the run's epochs: γ = 0.9/(3 − 1), so the mean q moves by 0.45(2·advAcc − 1) in epoch 1", async () => {
    const dir = path.join(tmp, 'auto');
    await train({ config: config({ ratioStep: 'auto' }), data: data(), runDir: dir, trainers: REGISTRY });
    const s = epochs(dir).map((e) => e['trainer'] as { q: RatioSummary; advAcc: number })[1]!;
    expect(s.q.mean).toBeCloseTo(0.5 + 0.45 * (2 * s.advAcc - 1), 5);
  });
});

/** `dataset` with declared crop/flip augmentation, applied as the real sets apply it (datasets/_base.ts). */
function augmented(dataset: Dataset, augmentation: Augmentation): Dataset {
  const [h, w, c] = dataset.shape;
  return {
    ...dataset,
    augmentation,
    async *batches(o) {
      for await (const b of dataset.batches(o)) {
        if (o.augment) {
          const scratch = new Float32Array(h * w * c);
          b.index.forEach((i, k) => applyAugmentation(b.x, k * h * w * c, h, w, c, drawAugmentation(augmentation, o.seed ?? 0, o.epoch ?? 0, i), scratch));
        }
        yield b;
      }
    },
  };
}

describe('the cached maps and kept attack directions are checkpointed', () => {
  // 3 epochs of 3 batches; the interruption at step 5 falls in epoch 1, where every batch reuses
  // what epoch 0 kept (crop/flip moves it between views), and the extension continues a 2-epoch run
  const augmentation = { padding: 1, flip: true };
  const augData = () => ({ train: augmented(data().train, augmentation), test: data().test });
  const ONE_PASS = { attack: 'fgsm-rs', attackGradient: 'train-backward', saliencySource: 'train-backward', loss: 'adv-only' };
  const variants: Array<[string, Record<string, unknown>]> = [
    ["SCAAT's one-pass step (kept directions and maps from the training backward)", { trainerOptions: { scaat: { epsilon: 0.2, warmupEpochs: 1, ...ONE_PASS } } }],
    ["SCAAT with 'previous-visit' maps", { trainerOptions: { scaat: { epsilon: 0.2, steps: 2, warmupEpochs: 1, saliencySource: 'previous-visit', saliencyRefreshEpochs: 3 } } }],
    ['the whole-image control with kept directions', { trainer: 'pgd-at', trainerOptions: { 'pgd-at': { epsilon: 0.2, attack: 'fgsm-rs', attackGradient: 'train-backward' } } }],
  ];
  for (const [label, extra] of variants) {
    it(`${label}: interrupted mid-epoch and resumed, or a shorter run extended, ends bit for bit like the straight run`, async () => {
      const base = path.join(tmp, `cached-${variants.findIndex(([l]) => l === label)}`);
      const cfg = (epochs: number) => config({}, { augment: true, epochs, schedule: 'constant', ...extra });
      const straight = await train({ config: cfg(3), data: augData(), runDir: `${base}-straight`, trainers: REGISTRY });
      // the cached path is taken: after the first epoch no step computes a fresh attack or map
      const steps = records(`${base}-straight`).filter((r) => r['type'] === 'step');
      const fresh = steps.map((r) => (r['freshAttack'] ?? r['freshSaliency']) as number);
      expect(fresh).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0]);
      const abort = new AbortController();
      let n = 0;
      const progress = { ...SILENT_PROGRESS, step: () => (++n === 5 ? abort.abort() : undefined) };
      const err = await train({ config: cfg(3), data: augData(), runDir: `${base}-resumed`, trainers: REGISTRY, signal: abort.signal, progress }).catch((e: unknown) => e);
      expect((err as ScaatError).code).toBe('INTERRUPTED');
      const resumed = await train({ config: cfg(3), data: augData(), runDir: `${base}-resumed`, trainers: REGISTRY, resume: true });
      expect(weightsOf(resumed.classifier.model)).toEqual(weightsOf(straight.classifier.model));
      expect(epochs(`${base}-resumed`)).toEqual(epochs(`${base}-straight`));
      await train({ config: cfg(2), data: augData(), runDir: `${base}-extended`, trainers: REGISTRY });
      const extended = await train({ config: cfg(3), data: augData(), runDir: `${base}-extended`, trainers: REGISTRY, resume: true });
      expect(weightsOf(extended.classifier.model)).toEqual(weightsOf(straight.classifier.model));
    });
  }
});

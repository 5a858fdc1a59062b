import type * as tf from '@tensorflow/tfjs';
import { zerosLike as tfZerosLike } from '@tensorflow/tfjs';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshot, useBackend } from '../../test/helpers/index.js';
import { ConfigError, DataError, LockedError, ScaatError, ShapeError } from '../errors.js';
import { loadClassifier, saveClassifier } from '../models/io.js';
import { MODELS } from '../models/registry.js';
import { resolveConfig } from './config.js';
import type { TrainConfig } from './config.js';
import { ATTACK_OVERFIT_MARGIN, attackOverfitWarning, constantPredictorWarning, train } from './loop.js';
import { SILENT_PROGRESS } from './progress.js';
import { optionsResolver, BASELINE_TRAINERS, withTrainers } from './registry.js';
import { lockRunDir } from './run-dir.js';
import type { TrainerSpec } from './registry.js';
import { blobsDataset, memoryDataset } from './_testing.js';
import { classHistogram, stratifiedSubset } from '../datasets/subset.js';
import { readNpy } from '../io/npy.js';
import { z } from 'zod';
import { Rng } from '../engine/random.js';
import type { Dataset } from '../datasets/dataset.js';

const SHAPE = [6, 6, 1] as const;
let tmp: string;

/** A trainer with per-sample state (visits per sample) around 'regular', to test state checkpoints. */
const COUNTING: TrainerSpec = {
  label: 'counting',
  options: z.strictObject({}),
  resolveOptions: () => ({}),
  create: (init) => {
    const inner = BASELINE_TRAINERS.get('pgd-at')!.create({ ...init, options: BASELINE_TRAINERS.get('pgd-at')!.resolveOptions({ steps: 2 }) });
    let visits = new Float32Array(init.trainSize);
    const summaries: number[] = [];
    return {
      name: 'counting',
      step(input, ctx) {
        for (const i of input.index) visits[i]! += 1;
        return inner.step(input, ctx);
      },
      getState: () => ({ visits: visits.slice() }),
      setState: (s) => {
        visits = (s['visits'] as Float32Array).slice();
      },
      epochSummary: (epoch) => {
        summaries.push(epoch);
        return { totalVisits: visits.reduce((a, b) => a + b, 0) };
      },
    };
  },
};
const REGISTRY = withTrainers(BASELINE_TRAINERS, [['counting', COUNTING]]);

function config(extra: Record<string, unknown> = {}): TrainConfig {
  return resolveConfig(
    [{ source: 'test', values: { trainer: 'counting', model: 'mlp', width: 0.125, epochs: 2, batchSize: 16, optimizer: 'adam', lr: 0.01, evalBatchSize: 32, logEvery: 1, backend: 'cpu', seed: 7, ...extra } }],
    optionsResolver(REGISTRY),
  );
}
const data = () => ({
  train: blobsDataset({ size: 64, shape: SHAPE, numClasses: 3, noise: 0.2, seed: 1 }),
  test: blobsDataset({ size: 30, shape: SHAPE, numClasses: 3, noise: 0.2, seed: 1, split: 'test' }),
});
const weightsOf = (m: tf.LayersModel) => m.getWeights().map((t) => Array.from(t.dataSync()));
const records = (dir: string) => readFileSync(path.join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
/** Log records without wall-clock fields. */
const timeless = (rs: Array<Record<string, unknown>>) =>
  rs.filter((r) => r['type'] === 'step' || r['type'] === 'epoch').map(({ seconds: _s, samplesPerSecond: _p, ...r }) => r);

beforeAll(async () => {
  await useBackend('cpu');
  tmp = mkdtempSync(path.join(os.tmpdir(), 'scaat-loop-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('train', () => {
  // The straight run, trained once by whichever test asks for it first, so that every test also
  // runs alone (vitest -t) and none depends on another having run.
  let straightRun: Promise<{ steps: number; weights: number[][] }> | undefined;
  const straightDir = (): string => path.join(tmp, 'straight');
  const straight = (): Promise<{ steps: number; weights: number[][] }> =>
    (straightRun ??= train({ config: config(), data: data(), runDir: straightDir(), trainers: REGISTRY }).then((r) => ({
      steps: r.steps,
      weights: weightsOf(r.classifier.model),
    })));

  it('trains, logs start/step/epoch/end records, evaluates, keeps 2 checkpoints and saves a loadable model', async () => {
    const { steps, weights: straightWeights } = await straight();
    expect(steps).toBe(8);
    const rs = records(straightDir());
    expect(rs.map((x) => x['type'])).toEqual(['start', 'step', 'step', 'step', 'step', 'epoch', 'step', 'step', 'step', 'step', 'epoch', 'end']);
    const epoch1 = rs[10]!;
    expect(epoch1['test']).toMatchObject({ samples: 30 });
    expect(epoch1['trainer']).toEqual({ totalVisits: 128 }); // epochSummary after 2 epochs of 64 samples
    expect(epoch1['backend']).toBe('cpu');
    expect(readdirSync(path.join(straightDir(), 'checkpoints')).sort()).toEqual(['latest.json', 'step-00000004', 'step-00000008']);
    const back = await loadClassifier(straightDir());
    expect(weightsOf(back.model)).toEqual(straightWeights);
    const cfg = JSON.parse(readFileSync(path.join(straightDir(), 'config.json'), 'utf8'));
    expect(cfg.trainer).toBe('counting');
  });

  it("cleanEpochs: the first epochs take the regular step, bit for bit, and leave the trainer's state alone", async () => {
    const cleanDir = path.join(tmp, 'clean-start');
    const regularDir = path.join(tmp, 'clean-regular');
    await train({ config: config({ cleanEpochs: 1 }), data: data(), runDir: cleanDir, trainers: REGISTRY });
    await train({ config: config({ trainer: 'regular' }), data: data(), runDir: regularDir, trainers: REGISTRY });
    const bytes = (dir: string, step: string, file: string) => readFileSync(path.join(dir, 'checkpoints', step, file));
    // after the clean epoch: the weights and the optimizer's moments of a regular run
    for (const file of ['weights.bin', 'optimizer.bin']) expect(bytes(cleanDir, 'step-00000004', file).equals(bytes(regularDir, 'step-00000004', file))).toBe(true);
    // then the trainer's own step: different weights, adversarial numbers, and each sample visited once
    expect(bytes(cleanDir, 'step-00000008', 'weights.bin').equals(bytes(regularDir, 'step-00000008', 'weights.bin'))).toBe(false);
    const epochs = records(cleanDir).filter((r) => r['type'] === 'epoch');
    expect(epochs.map((r) => r['clean'])).toEqual([true, undefined]);
    expect(epochs.map((r) => 'advAcc' in (r['train'] as object))).toEqual([false, true]);
    expect(epochs.map((r) => r['trainer'])).toEqual([{ totalVisits: 0 }, { totalVisits: 64 }]);
    // cleanEpochs must leave the trainer at least one epoch
    expect(() => config({ cleanEpochs: 2 })).toThrow(/'cleanEpochs' \(2\) must be below 'epochs' \(2\)/);
  });

  it('warns of a constant predictor (every test sample one class), in the log and on the progress sink', async () => {
    // a trainer that zeroes every weight: all logits 0, so argmax is class 0 for every sample
    const zeroing: TrainerSpec = {
      ...COUNTING,
      create: () => ({
        name: 'counting',
        step(_input, { classifier }) {
          for (const v of classifier.trainableVariables()) v.assign(tfZerosLike(v));
          return { loss: 1, acc: 0 };
        },
      }),
    };
    const messages: string[] = [];
    const dir = path.join(tmp, 'constant');
    await train({ config: config({ epochs: 1 }), data: data(), runDir: dir, trainers: withTrainers(REGISTRY, [['counting', zeroing]]), progress: { ...SILENT_PROGRESS, message: (t) => messages.push(t) } });
    const warnings = records(dir).filter((r) => r['type'] === 'warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ epoch: 0, code: 'constant-predictor' });
    expect(warnings[0]!['message']).toMatch(/^epoch 1: the model predicts class 0 for all 30 test samples \(a constant predictor, test accuracy 0\.3333\): adversarial training .*cleanEpochs/);
    expect(messages.filter((m) => m.startsWith('warning: epoch 1: the model predicts class 0'))).toHaveLength(1);
    // a model that predicts more than one class: no warning; a regular run's warning gives no adversarial hint
    const mixed = { loss: 1, acc: 0.5, samples: 4, mode: { label: 2, count: 3 } };
    expect(constantPredictorWarning(mixed, 0, { trainer: 'scaat', cleanEpochs: 0 })).toBeUndefined();
    const all = { ...mixed, mode: { label: 2, count: 4 } };
    expect(constantPredictorWarning(all, 0, { trainer: 'regular', cleanEpochs: 0 })).toBe('epoch 1: the model predicts class 2 for all 4 test samples (a constant predictor, test accuracy 0.5000)');
    expect(constantPredictorWarning(all, 0, { trainer: 'scaat', cleanEpochs: 1 })).not.toMatch(/cleanEpochs/);
    // after the clean epochs: the trainer's own step, and what to lower (SGT: k or λ, the others: ε)
    expect(constantPredictorWarning(all, 2, { trainer: 'sgt', cleanEpochs: 2 })).toBe(
      'epoch 3: the model predicts class 2 for all 4 test samples (a constant predictor, test accuracy 0.5000): the sgt step took it there after 2 clean epochs; lower its masked share or KL weight (trainerOptions.sgt.k, .lambda) or the learning rate',
    );
    expect(constantPredictorWarning(all, 1, { trainer: 'pgd-at', cleanEpochs: 1 })).toMatch(/: the pgd-at step took it there after 1 clean epoch; lower ε or the learning rate$/);
    expect(constantPredictorWarning(all, 0, { trainer: 'sgt', cleanEpochs: 0 })).toMatch(/: saliency guided training from random weights can settle there; .*cleanEpochs.* or lower its masked share or KL weight/);
  });

  it("warns when the training attack's accuracy exceeds the clean accuracy (an overfitted attack), in the log and on the progress sink, not in clean epochs", async () => {
    // a trainer whose attack 'fails': its examples are classified better than the clean inputs
    const failing = (advAcc: number): TrainerSpec => ({
      ...COUNTING,
      create: (init) => {
        const inner = COUNTING.create(init);
        return { ...inner, step: (input, ctx) => ({ ...(inner.step(input, ctx) as Record<string, number>), acc: 0.5, advAcc }) };
      },
    });
    const run = async (name: string, advAcc: number, extra: Record<string, unknown> = {}) => {
      const messages: string[] = [];
      const dir = path.join(tmp, name);
      await train({ config: config({ epochs: 2, ...extra }), data: data(), runDir: dir, trainers: withTrainers(REGISTRY, [['counting', failing(advAcc)]]), progress: { ...SILENT_PROGRESS, message: (t) => messages.push(t) } });
      return { warnings: records(dir).filter((r) => r['type'] === 'warning' && r['code'] === 'attack-overfit'), messages: messages.filter((m) => m.includes('advAcc')) };
    };
    const over = await run('overfit', 0.9);
    expect(over.warnings.map((w) => w['epoch'])).toEqual([0, 1]);
    expect(over.warnings[1]!['message']).toBe(attackOverfitWarning({ acc: 0.5, advAcc: 0.9 }, 1));
    expect(over.messages).toEqual(over.warnings.map((w) => `warning: ${String(w['message'])}`));
    // below the margin: nothing; a clean epoch (the regular step, no attack): nothing for it
    expect((await run('sound', 0.5 + ATTACK_OVERFIT_MARGIN / 2)).warnings).toHaveLength(0);
    expect((await run('clean-first', 0.9, { cleanEpochs: 1 })).warnings.map((w) => w['epoch'])).toEqual([1]);
    // the rule itself: strictly above acc + margin; no advAcc (regular, SGT) or a non-finite one: no warning
    expect(attackOverfitWarning({ acc: 0.7, advAcc: 0.7 + ATTACK_OVERFIT_MARGIN }, 0)).toBeUndefined();
    expect(attackOverfitWarning({ acc: 0.703, advAcc: 0.775 }, 3)).toMatch(/^epoch 4: the accuracy on the training attack's examples \(advAcc 0\.7750\) is above the clean accuracy \(0\.7030\): .*catastrophic overfitting.*'pgd'/);
    expect(attackOverfitWarning({ acc: 0.7 }, 0)).toBeUndefined();
    expect(attackOverfitWarning({ acc: 0.5, advAcc: Number.NaN }, 0)).toBeUndefined();
  });

  it('trains and tests on class-stratified trainLimit / evalLimit samples, recorded in the log', async () => {
    // both splits stored class by class (3 classes of 10): the first 12 / 6 samples would be class 0 only
    const rng = new Rng(3);
    const sorted = Int32Array.from({ length: 30 }, (_, i) => Math.floor(i / 10));
    const images = (): Float32Array => Float32Array.from({ length: 30 * 36 }, () => rng.next());
    const plainTrain = memoryDataset(images(), sorted, SHAPE, 3);
    const trained = new Set<number>();
    const trainSet: Dataset = { ...plainTrain, batches: (o) => (o.indices?.forEach((i) => trained.add(i)), plainTrain.batches(o)) };
    const testRead: number[][] = [];
    const plainTest = memoryDataset(images(), sorted, SHAPE, 3, 'test');
    const testSet: Dataset = { ...plainTest, batches: (o) => (testRead.push(Array.from(o.indices ?? [])), plainTest.batches(o)) };
    const dir = path.join(tmp, 'limited');
    await train({ config: config({ trainLimit: 12, evalLimit: 6, batchSize: 4 }), data: { train: trainSet, test: testSet }, runDir: dir, trainers: REGISTRY });
    const start = records(dir)[0]!;
    expect(start['trainSize']).toBe(12);
    expect(start['testSize']).toBe(6);
    expect(start['trainSample']).toEqual({ rule: 'class-stratified', seed: 7, limit: 12, size: 12, classHistogram: [4, 4, 4] });
    expect(start['testSample']).toEqual({ rule: 'class-stratified', seed: 7, limit: 6, size: 6, classHistogram: [2, 2, 2] });
    // the tests read the stratified test sample, every epoch
    const testSample = Array.from(stratifiedSubset(sorted, 6, 7));
    expect(testRead).toEqual([testSample, testSample]);
    expect(classHistogram(sorted, 3, testSample)).toEqual([2, 2, 2]);
    expect([...trained].sort((p, q) => p - q)).toEqual(Array.from(stratifiedSubset(sorted, 12, 7)));
    expect(classHistogram(sorted, 3, [...trained])).toEqual([4, 4, 4]);
    // the trainer's per-sample state has one entry per sample trained on, each visited once per epoch
    const indices = await readNpy(path.join(dir, 'train-indices.npy'));
    expect(Array.from(indices.data)).toEqual(Array.from(stratifiedSubset(sorted, 12, 7)));
    expect(Array.from((await readNpy(path.join(dir, 'visits.npy'))).data)).toEqual(new Array(12).fill(2));
    // no limit: every sample, no index file
    const all = path.join(tmp, 'unlimited');
    await train({ config: config({ epochs: 1 }), data: { train: plainTrain, test: plainTest }, runDir: all, trainers: REGISTRY });
    expect(records(all)[0]!['trainSample']).toEqual({ rule: 'all', seed: null, limit: null, size: 30, classHistogram: [10, 10, 10] });
    expect(existsSync(path.join(all, 'train-indices.npy'))).toBe(false);
  });

  it('interrupted mid-epoch (abort) then resumed ends with the same weights, state and log, bit for bit', async () => {
    const dir = path.join(tmp, 'interrupted');
    const abort = new AbortController();
    let steps = 0;
    const progress = { ...SILENT_PROGRESS, step: () => (++steps === 3 ? abort.abort() : undefined) };
    const err = await train({ config: config(), data: data(), runDir: dir, trainers: REGISTRY, signal: abort.signal, progress }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScaatError);
    expect((err as ScaatError).code).toBe('INTERRUPTED');
    expect((err as Error).message).toMatch(/epoch 1, batch 3, step 3; checkpoint step-00000003 written; continue with: scaat train --resume/);
    const r = await train({ config: config(), data: data(), runDir: dir, trainers: REGISTRY, resume: true });
    expect(r.steps).toBe(8);
    expect(weightsOf(r.classifier.model)).toEqual((await straight()).weights);
    expect(timeless(records(dir))).toEqual(timeless(records(straightDir())));
    expect(records(dir).map((x) => x['type'])).toContain('resume');
  });

  it('refuses to overwrite a run, and reports a corrupted checkpoint, leaving every file untouched', async () => {
    await straight();
    const before = snapshot(straightDir());
    await expect(train({ config: config(), data: data(), runDir: straightDir(), trainers: REGISTRY })).rejects.toThrow(ConfigError);
    await expect(train({ config: config(), data: data(), runDir: straightDir(), trainers: REGISTRY })).rejects.toThrow(/already holds a run .*--resume/);
    const w = path.join(straightDir(), 'checkpoints', 'step-00000008', 'weights.bin');
    const bytes = readFileSync(w);
    bytes[5] = bytes[5]! ^ 0xff;
    writeFileSync(w, bytes);
    const corrupted = snapshot(straightDir());
    const err = await train({ config: config(), data: data(), runDir: straightDir(), trainers: REGISTRY, resume: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toMatch(/step-00000008 is corrupted or incomplete: weights\.bin does not match its SHA-256/);
    expect(snapshot(straightDir())).toEqual(corrupted);
    expect(Object.keys(corrupted).sort()).toEqual(Object.keys(before).sort());
  });

  it('stops a diverging run with a ConfigError (lower the lr) that names a checkpoint only when one exists', async () => {
    // NaN from the first step: no checkpoint was written
    const nan: TrainerSpec = { ...COUNTING, create: () => ({ name: 'nan', step: () => ({ loss: NaN, acc: 0 }) }) };
    const err = await train({ config: config(), data: data(), runDir: path.join(tmp, 'nan'), trainers: withTrainers(REGISTRY, [['counting', nan]]) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^epoch 1, step 1: the loss is NaN; training diverged at lr 0\.01 \(try a lower lr in a new run.*\)\. No checkpoint was written before it$/);
    expect(existsSync(path.join(tmp, 'nan', 'checkpoints'))).toBe(false);
    // NaN at step 4, after the checkpoint of step 2: that one is named, and it exists
    const late: TrainerSpec = {
      ...COUNTING,
      create: (init) => {
        const inner = COUNTING.create(init);
        let n = 0;
        return { ...inner, step: (input, ctx) => (++n === 4 ? { loss: Infinity, acc: 0 } : inner.step(input, ctx)) };
      },
    };
    const dir = path.join(tmp, 'late-nan');
    const err2 = await train({ config: config({ checkpointEvery: 2 }), data: data(), runDir: dir, trainers: withTrainers(REGISTRY, [['counting', late]]) }).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(ConfigError);
    const named = path.join(dir, 'checkpoints', 'step-00000002');
    expect((err2 as Error).message).toMatch(/^epoch 1, step 4: the loss is Infinity; training diverged/);
    expect((err2 as Error).message).toContain(`The last checkpoint before it is ${named}`);
    expect(existsSync(path.join(named, 'state.json'))).toBe(true);
  });

  it('refuses --epochs below the run\'s progress on resume, stating it, and changes nothing', async () => {
    const dir = path.join(tmp, 'shrink');
    const abort = new AbortController();
    let steps = 0;
    const progress = { ...SILENT_PROGRESS, step: () => (++steps === 6 ? abort.abort() : undefined) };
    await expect(train({ config: config({ epochs: 3 }), data: data(), runDir: dir, trainers: REGISTRY, signal: abort.signal, progress })).rejects.toThrow(/interrupted at epoch 2, batch 2, step 6/);
    const before = snapshot(dir);
    const err = await train({ config: config({ epochs: 1 }), data: data(), runDir: dir, trainers: REGISTRY, resume: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(
      `epochs: 1 is below the progress of ${dir} (checkpoint step-00000006): 1 epoch(s) done and batch 2 of 4 of epoch 2 (step 6); continue it with --epochs 2 or more (nothing was changed)`,
    );
    expect(snapshot(dir)).toEqual(before); // config.json still says 3 epochs; no model/ made final
    expect(existsSync(path.join(dir, 'model'))).toBe(false);
    const r = await train({ config: config({ epochs: 2 }), data: data(), runDir: dir, trainers: REGISTRY, resume: true });
    expect(r.steps).toBe(8); // the smallest epochs that continues it is accepted
  });

  it('on resume removes the temporary files a killed writer left (final model save, checkpoint, config)', async () => {
    const dir = path.join(tmp, 'litter');
    await train({ config: config({ epochs: 1 }), data: data(), runDir: dir, trainers: REGISTRY });
    const litter = ['model/.weights.bin.999999.m1.tmp', '.config.json.999999.m1.tmp', '.q.npy.999999.m1.tmp', 'checkpoints/.tmp-step-00000004-999999/weights.bin'];
    for (const f of litter) {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      writeFileSync(path.join(dir, f), 'partial');
    }
    await train({ config: config({ epochs: 2 }), data: data(), runDir: dir, trainers: REGISTRY, resume: true });
    for (const f of litter) expect(existsSync(path.join(dir, f)), f).toBe(false);
    expect(existsSync(path.join(dir, 'checkpoints', '.tmp-step-00000004-999999'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]); // nor a lock file
  });

  it('refuses a run folder another writer holds (LockedError), writing nothing', async () => {
    const dir = path.join(tmp, 'held');
    const lock = await lockRunDir(dir);
    try {
      const err = await train({ config: config(), data: data(), runDir: dir, trainers: REGISTRY }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LockedError);
      expect((err as Error).message).toContain(`${dir} is being written by another scaat process (pid ${process.pid}`);
      expect(readdirSync(dir)).toEqual([path.basename(lock.file)]);
    } finally {
      lock.release();
    }
  });

  it('reads the first batch before creating the run folder: unreadable data leaves nothing behind', async () => {
    const good = data();
    const broken = {
      ...good,
      train: {
        ...good.train,
        // eslint-disable-next-line require-yield
        async *batches() {
          throw new DataError('train/b/0007.jpg: expected a decodable JPEG image, found a corrupt one');
        },
      },
    };
    const dir = path.join(tmp, 'unreadable');
    await expect(train({ config: config(), data: broken, runDir: dir, trainers: REGISTRY })).rejects.toThrow(/0007\.jpg: expected a decodable JPEG/);
    expect(existsSync(dir)).toBe(false);
  });

  it('rejects a saved model that does not fit the data (ShapeError) before creating the run folder', async () => {
    const modelDir = path.join(tmp, 'other-model');
    await saveClassifier(MODELS.get('mlp')!.create({ inputShape: [5, 5, 1], numClasses: 3, width: 0.1 }), modelDir);
    const dir = path.join(tmp, 'never');
    await expect(train({ config: config({ model: modelDir }), data: data(), runDir: dir, trainers: REGISTRY })).rejects.toThrow(ShapeError);
    expect(existsSync(dir)).toBe(false);
    await expect(train({ config: config({ model: 'no-such-model' }), data: data(), runDir: dir, trainers: REGISTRY })).rejects.toThrow(/neither a zoo model/);
    expect(existsSync(dir)).toBe(false);
  });
});

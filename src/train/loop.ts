/**
 * The shared training loop, read top to bottom (nanoGPT train.py):
 *
 *   1. check everything that can fail (config, data shapes, model, checkpoint) before writing
 *   2. build the model, optimizer, trainer and its Rng; restore a checkpoint when resuming
 *   3. for each epoch, for each batch (order = f(seed, epoch), resumable mid-epoch):
 *        lr ← schedule(step) → trainer.step → log every `logEvery` → checkpoint every `checkpointEvery`
 *        → on abort (Ctrl-C): checkpoint, then throw ScaatError code 'INTERRUPTED'
 *   4. end of epoch: trainer.epochSummary → test evaluation → 'epoch' log record → checkpoint
 *   5. save the final model to <run>/model
 *
 * A non-finite loss stops the run with ScaatError code 'DIVERGED' (nothing after the last
 * checkpoint is kept).
 *
 * Runs are reproducible: with the same config and seed, a run that was killed and resumed ends
 * with the same weights, bit for bit, as one that never stopped (data order, learning rate and
 * every random seed are functions of (seed, epoch, step) or of checkpointed RNG state).
 */
import * as tf from '@tensorflow/tfjs';
import { promises as fsp } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setupBackend } from '../engine/backend.js';
import type { BackendInfo } from '../engine/backend.js';
import { deriveSeed, Rng } from '../engine/random.js';
import { ConfigError, DataError, ScaatError, ShapeError } from '../errors.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { writeNpy } from '../io/npy.js';
import path from 'node:path';
import { toTensors } from '../datasets/dataset.js';
import type { Dataset } from '../datasets/dataset.js';
import { countBatches } from '../datasets/epoch-order.js';
import type { Classifier } from '../models/classifier.js';
import { loadClassifier, saveClassifier } from '../models/io.js';
import { MODELS } from '../models/registry.js';
import { readLatestCheckpoint, removeStaleTemporaries, restoreModelWeights, writeCheckpoint } from './checkpoint.js';
import type { LoopState } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import { evaluateClean } from './evaluate.js';
import type { CleanEvaluation } from './evaluate.js';
import { createOptimizer } from './optimizers.js';
import { SILENT_PROGRESS } from './progress.js';
import type { ProgressSink } from './progress.js';
import { TRAINERS } from './registry.js';
import type { TrainerRegistry } from './registry.js';
import { assertFreshRunDir, RunLog, runPaths } from './run-dir.js';
import { learningRateAt } from './schedule.js';
import { checkModelPin, resolveSourceDir, startingPoint } from './source-model.js';

/** Inputs of {@link train}. */
export interface TrainOptions {
  /** The resolved config (config.ts); on resume, the run's config.json (possibly with more epochs). */
  readonly config: TrainConfig;
  /** Training split, and the test split evaluated each `evalEvery` epochs (optional). */
  readonly data: { readonly train: Dataset; readonly test?: Dataset };
  /** The run folder (created; must not hold another run unless `resume`). */
  readonly runDir: string;
  /** Continue the run in `runDir` from its latest checkpoint. @default false */
  readonly resume?: boolean;
  /** Trainer registry (the CLI adds SCAAT). @default TRAINERS */
  readonly trainers?: TrainerRegistry;
  /** Abort → finish the current step, write a checkpoint, throw ScaatError code 'INTERRUPTED'. */
  readonly signal?: AbortSignal;
  /** Display. @default silent */
  readonly progress?: ProgressSink;
}

/** What {@link train} returns. */
export interface TrainResult {
  readonly runDir: string;
  readonly classifier: Classifier;
  readonly backend: BackendInfo;
  /** Global steps done. */
  readonly steps: number;
  /** The last epoch's test evaluation (undefined when never evaluated). */
  readonly test: CleanEvaluation | undefined;
  /** The last epoch's mean training metrics. */
  readonly train: Readonly<Record<string, number>>;
}

/** Trains per `config` in `runDir`; see the module header. */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const { config, data, runDir, resume = false, signal } = options;
  const trainers = options.trainers ?? TRAINERS;
  const progress = options.progress ?? SILENT_PROGRESS;
  const paths = runPaths(runDir);

  // 1) checks before anything is written
  if (!resume) assertFreshRunDir(runDir);
  const spec = trainers.get(config.trainer);
  if (!spec) throw new ConfigError(`trainer: unknown '${config.trainer}'; expected one of ${[...trainers.keys()].join(', ')}`);
  const backend = await setupBackend({ backend: config.backend });
  const trainSet = data.train;
  const testSet = config.evalEvery > 0 ? data.test : undefined;
  checkSplits(trainSet, testSet);
  const trainSize = config.trainLimit > 0 ? Math.min(config.trainLimit, trainSet.size) : trainSet.size;
  const trainIndices = config.trainLimit > 0 ? Int32Array.from({ length: trainSize }, (_, i) => i) : undefined;
  const stepsPerEpoch = countBatches(trainSize, config.batchSize, config.dropLast);
  if (stepsPerEpoch === 0) {
    throw new ConfigError(`batchSize: ${config.batchSize} with dropLast leaves no batch of the ${trainSize} training samples`);
  }

  // 2) model, optimizer, trainer, Rng (and the checkpoint, verified before it is used). Saved
  //    starting weights (fine-tuning) fill in modelSha256 and the source run's architecture keys;
  //    their pin is checked once it is known whether a checkpoint replaces them.
  const start = await startingPoint(config);
  const runConfig = start.config;
  const classifier = await buildClassifier(config, trainSet);
  const optimizer = createOptimizer(classifier.trainableVariables(), config);
  const trainer = spec.create({
    config,
    options: config.trainerOptions[config.trainer] ?? {},
    trainSize, // the limited set: per-sample state covers only the samples trained on (indices 0..trainSize-1)
    inputShape: trainSet.shape,
    numClasses: trainSet.numClasses,
  });
  const rng = new Rng(deriveSeed(config.seed, 'trainer'));
  const log = new RunLog(paths.log);
  let loop: LoopState = { epoch: 0, batch: 0, step: 0, rng: rng.getState(), epochSums: {}, epochSamples: 0, epochSeconds: 0, logBytes: 0 };
  if (resume) {
    const ckpt = await readLatestCheckpoint(paths.checkpoints);
    if (ckpt) {
      await restoreModelWeights(classifier, ckpt.modelDir);
      optimizer.setState(ckpt.optimizer);
      const keys = Object.keys(ckpt.trainerState);
      if (trainer.setState) trainer.setState(ckpt.trainerState);
      else if (keys.length > 0) throw new DataError(`checkpoint ${ckpt.dir} holds trainer state (${keys.join(', ')}) that trainer '${trainer.name}' cannot take`);
      rng.setState(ckpt.loop.rng);
      loop = ckpt.loop;
    } else {
      checkModelPin(config, start.source);
    }
    // Everything loaded: now drop log lines written after the checkpoint (they are redone) and
    // temporary folders of a checkpoint write that was killed.
    log.truncate(loop.logBytes);
    removeStaleTemporaries(paths.checkpoints);
    await writeJsonAtomic(paths.config, runConfig);
    log.write({ type: 'resume', time: new Date().toISOString(), checkpoint: ckpt?.name ?? null, epoch: loop.epoch, batch: loop.batch, step: loop.step, backend: backend.name });
    progress.message(`resuming ${runDir} at epoch ${loop.epoch + 1}, batch ${loop.batch}, step ${loop.step}${ckpt ? ` (checkpoint ${ckpt.name})` : ' (no checkpoint yet: from the start)'}`);
  } else {
    checkModelPin(config, start.source);
    await fsp.mkdir(runDir, { recursive: true });
    await writeJsonAtomic(paths.config, runConfig);
  }
  if (loop.step === 0 && loop.logBytes === 0) {
    const params = classifier.trainableVariables().reduce((s, v) => s + v.size, 0);
    log.write({
      type: 'start',
      time: new Date().toISOString(),
      trainer: trainer.name,
      model: config.model,
      parameters: params,
      trainSize,
      testSize: testSet ? evalSize(config, testSet) : 0,
      stepsPerEpoch,
      totalSteps: stepsPerEpoch * config.epochs,
      backend,
    });
    progress.message(
      `${trainer.name} on ${config.model} (${params} parameters), ${trainSize} samples, ${stepsPerEpoch} steps/epoch × ${config.epochs} epochs, backend ${backend.name}`,
    );
  }

  // 3) epochs
  let lastTest: CleanEvaluation | undefined;
  let lastTrain: Record<string, number> = {};
  let step = loop.step;
  const checkpoint = async (state: Omit<LoopState, 'rng' | 'logBytes' | 'step'>): Promise<string> => {
    const name = await writeCheckpoint(paths.checkpoints, {
      classifier,
      optimizer,
      trainerState: trainer.getState?.(),
      loop: { ...state, step, rng: rng.getState(), logBytes: log.size() },
      keep: config.keepCheckpoints,
    });
    return name;
  };
  const interrupt = async (epoch: number, batch: number, state: Omit<LoopState, 'rng' | 'logBytes' | 'step'>): Promise<never> => {
    const name = await checkpoint(state);
    log.write({ type: 'interrupted', time: new Date().toISOString(), epoch, batch, step, checkpoint: name });
    progress.stop();
    throw new ScaatError(`interrupted at epoch ${epoch + 1}, batch ${batch}, step ${step}; checkpoint ${name} written; continue with: scaat train --resume ${runDir}`, 'INTERRUPTED');
  };

  for (let epoch = loop.epoch; epoch < config.epochs; epoch++) {
    const resumed = epoch === loop.epoch;
    let batchIdx = resumed ? loop.batch : 0;
    const sums: Record<string, number> = resumed ? { ...loop.epochSums } : {};
    let samples = resumed ? loop.epochSamples : 0;
    const secondsBefore = resumed ? loop.epochSeconds : 0;
    const t0 = performance.now();
    const seconds = () => secondsBefore + (performance.now() - t0) / 1000;
    let lr = learningRateAt(config, { step, stepsPerEpoch, epochs: config.epochs });
    progress.epochStart(epoch, config.epochs, stepsPerEpoch, batchIdx);

    const batches = trainSet.batches({
      batchSize: config.batchSize,
      shuffle: true,
      seed: config.seed,
      epoch,
      startBatch: batchIdx,
      dropLast: config.dropLast,
      augment: config.augment,
      ...(trainIndices ? { indices: trainIndices } : {}),
    });
    for await (const batch of batches) {
      // one step
      lr = learningRateAt(config, { step, stepsPerEpoch, epochs: config.epochs });
      optimizer.learningRate = lr;
      const { x, y } = toTensors(batch);
      let metrics: Readonly<Record<string, number>>;
      try {
        metrics = trainer.step({ x, y, index: batch.index }, { classifier, optimizer, epoch, step, rng });
      } finally {
        tf.dispose([x, y]);
      }
      if (!Number.isFinite(metrics['loss'])) {
        progress.stop();
        throw new ScaatError(
          `epoch ${epoch + 1}, step ${step + 1}: the loss is ${metrics['loss']}; training diverged (try a lower lr). The last good checkpoint is in ${paths.checkpoints}`,
          'DIVERGED',
        );
      }
      const b = batch.y.length;
      for (const [k, v] of Object.entries(metrics)) sums[k] = (sums[k] ?? 0) + v * b;
      samples += b;
      step += 1;
      batchIdx += 1;
      progress.step(batchIdx, metrics, lr);
      if (config.logEvery > 0 && step % config.logEvery === 0) {
        log.write({ type: 'step', epoch, batch: batchIdx, step, lr, ...metrics });
      }
      const state = { epoch, batch: batchIdx, epochSums: sums, epochSamples: samples, epochSeconds: seconds() };
      if (signal?.aborted) await interrupt(epoch, batchIdx, state);
      if (config.checkpointEvery > 0 && step % config.checkpointEvery === 0 && batchIdx < stepsPerEpoch) await checkpoint(state);
    }

    // 4) end of epoch: summary, evaluation, log, checkpoint
    const trainMeans: Record<string, number> = {};
    for (const [k, v] of Object.entries(sums)) trainMeans[k] = samples > 0 ? v / samples : NaN;
    lastTrain = trainMeans;
    const trainerSummary = trainer.epochSummary?.(epoch);
    const evalNow = testSet && config.evalEvery > 0 && ((epoch + 1) % config.evalEvery === 0 || epoch === config.epochs - 1);
    const test = evalNow ? await evaluateClean(classifier, testSet, { batchSize: config.evalBatchSize, limit: config.evalLimit }) : undefined;
    if (test) lastTest = test;
    const secs = seconds();
    log.write({
      type: 'epoch',
      epoch,
      step,
      lr,
      seconds: secs,
      samplesPerSecond: samples / Math.max(secs, 1e-9),
      train: trainMeans,
      ...(test ? { test } : {}),
      ...(trainerSummary ? { trainer: trainerSummary } : {}),
      backend: backend.name,
    });
    progress.epochEnd(
      `train ${Object.entries(trainMeans).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' ')}` +
        (test ? ` | test loss ${test.loss.toFixed(4)} acc ${test.acc.toFixed(4)}` : '') +
        ` | ${secs.toFixed(1)} s`,
    );
    const next = { epoch: epoch + 1, batch: 0, epochSums: {}, epochSamples: 0, epochSeconds: 0 };
    if (signal?.aborted) await interrupt(epoch + 1, 0, next);
    await checkpoint(next);
  }

  // 5) final model, and every per-sample state array (SCAAT's q_i) as <name>.npy for NumPy users
  await saveClassifier(classifier, paths.model);
  for (const [name, values] of Object.entries(trainer.getState?.() ?? {})) {
    await writeNpy(path.join(runDir, `${name}.npy`), values, [values.length]);
  }
  log.write({ type: 'end', time: new Date().toISOString(), step, ...(lastTest ? { test: lastTest } : {}) });
  progress.stop();
  optimizer.dispose();
  return { runDir, classifier, backend, steps: step, test: lastTest, train: lastTrain };
}

function evalSize(config: TrainConfig, test: Dataset): number {
  return config.evalLimit > 0 ? Math.min(config.evalLimit, test.size) : test.size;
}

/** The test split must have the training split's image shape and classes. */
function checkSplits(trainSet: Dataset, testSet: Dataset | undefined): void {
  if (!testSet) return;
  if (testSet.shape.join(',') !== trainSet.shape.join(',') || testSet.numClasses !== trainSet.numClasses) {
    throw new ShapeError(
      `data: the test split (${testSet.source}) has images [${testSet.shape.join(', ')}] and ${testSet.numClasses} classes, the training split [${trainSet.shape.join(', ')}] and ${trainSet.numClasses}`,
    );
  }
}

/**
 * A zoo model (by name) for the data's shape, or a saved model (by path: see source-model.ts; a
 * run folder's final model) that must match it.
 * @throws ConfigError for an unknown name; DataError for a run folder without a final model;
 *   ShapeError when a saved model does not fit the data.
 */
export async function buildClassifier(config: TrainConfig, info: Pick<Dataset, 'shape' | 'numClasses'>): Promise<Classifier> {
  const spec = MODELS.get(config.model);
  if (spec) {
    return spec.create({
      inputShape: info.shape,
      numClasses: info.numClasses,
      seed: deriveSeed(config.seed, 'init'),
      width: config.width,
      ...(config.normalizeMean.length > 0 ? { normalize: { mean: config.normalizeMean, std: config.normalizeStd } } : {}),
    });
  }
  const clf = await loadClassifier(resolveSourceDir(config.model).dir);
  if (clf.inputShape.join(',') !== info.shape.join(',') || clf.numClasses !== info.numClasses) {
    throw new ShapeError(
      `model ${config.model} takes [${clf.inputShape.join(', ')}] images and predicts ${clf.numClasses} classes, but the data has [${info.shape.join(', ')}] and ${info.numClasses}`,
    );
  }
  return clf;
}

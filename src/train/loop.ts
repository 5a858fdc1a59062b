/**
 * The shared training loop, read top to bottom (nanoGPT train.py):
 *
 *   1. check everything that can fail (config, data shapes, model, the first batches decoded,
 *      checkpoint, progress vs epochs) before writing
 *   2. lock the run folder (one writer per run: run-dir.ts lockRunDir, released however train
 *      ends); build the model, optimizer, trainer and its Rng; restore a checkpoint when resuming
 *   3. for each epoch, for each batch (order = f(seed, epoch), resumable mid-epoch):
 *        lr ← schedule(step) → trainer.step (the regular step in the first `cleanEpochs` epochs)
 *        → log every `logEvery` → checkpoint every `checkpointEvery`
 *        → on abort (Ctrl-C): checkpoint, then throw ScaatError code 'INTERRUPTED'
 *   4. end of epoch: trainer.epochSummary → test evaluation → 'epoch' log record → checkpoint
 *   5. save the final model to <run>/model
 *
 * A non-finite loss stops the run with a ConfigError (lower the lr; nothing after the last
 * checkpoint, if there is one, is kept).
 *
 * Runs are reproducible: with the same config and seed, a run that was killed and resumed ends
 * with the same weights, bit for bit, as one that never stopped (data order, learning rate and
 * every random seed are functions of (seed, epoch, step) or of checkpointed RNG state).
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { setupBackend } from '../engine/backend.js';
import type { BackendInfo } from '../engine/backend.js';
import { isWasmHeapExhausted, WASM_HEAP_LIMIT_BYTES } from '../engine/memory.js';
import { deriveSeed, Rng } from '../engine/random.js';
import { ConfigError, DataError, HeapLimitError, ScaatError, ShapeError } from '../errors.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { writeNpy } from '../io/npy.js';
import path from 'node:path';
import { toTensors } from '../datasets/dataset.js';
import type { Batch, Dataset } from '../datasets/dataset.js';
import { countBatches } from '../datasets/epoch-order.js';
import { drawSubset } from '../datasets/subset.js';
import type { Classifier } from '../models/classifier.js';
import type { ModelWeights } from '../models/io.js';
import { loadClassifier, readLatestName, saveClassifier } from '../models/io.js';
import { MODELS } from '../models/registry.js';
import { readLatestCheckpoint, restoreModelWeights, writeCheckpoint } from './checkpoint.js';
import type { LoopState } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import { evaluateClean } from './evaluate-clean.js';
import type { CleanEvaluation } from './evaluate-clean.js';
import { createOptimizer } from './optimizers.js';
import { SILENT_PROGRESS } from './progress.js';
import type { ProgressSink } from './progress.js';
import { BASELINE_TRAINERS } from './registry.js';
import type { TrainerRegistry } from './registry.js';
import { assertFreshRunDir, lockRunDir, removeRunTemporaries, RunLog, runPaths } from './run-dir.js';
import type { RunLock } from './run-dir.js';
import { regularTrainer } from './regular.js';
import { learningRateAt } from './schedule.js';
import { checkModelPin, resolveSourceDir, startingPoint } from './source-model.js';

/** Inputs of {@link train}. */
export interface TrainOptions {
  /** The resolved config (config.ts); on resume, the run's config.json (possibly with more epochs). */
  readonly config: TrainConfig;
  /** Training split, and the test split evaluated each `evalEvery` epochs (optional). */
  readonly data: { readonly train: Dataset; readonly test?: Dataset };
  /** The run folder (created; must not hold another run unless `resume`; locked while training). */
  readonly runDir: string;
  /** Continue the run in `runDir` from its latest checkpoint. @default false */
  readonly resume?: boolean;
  /** Trainer registry: pass ALL_TRAINERS (scaat/registry.ts) for SCAAT. @default BASELINE_TRAINERS (no 'scaat') */
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
  /** Which weights the final model in `<run>/model` holds (its SHA-256). */
  readonly weights: ModelWeights;
  readonly backend: BackendInfo;
  /** Global steps done. */
  readonly steps: number;
  /** The last epoch's test evaluation (undefined when never evaluated). */
  readonly test: CleanEvaluation | undefined;
  /** The last epoch's mean training metrics. */
  readonly train: Readonly<Record<string, number>>;
}

/**
 * Trains per `config` in `runDir`; see the module header.
 * @throws LockedError when another process is writing `runDir`; ConfigError / DataError /
 *   ShapeError for bad settings or files (before anything is written); ScaatError code
 *   'INTERRUPTED' after the checkpoint of an abort.
 */
export function train(options: TrainOptions): Promise<TrainResult> {
  const held: RunLock[] = [];
  return trainHolding(options, held).finally(() => held.forEach((lock) => lock.release()));
}

/** {@link train}'s body; the run folder's lock goes into `held`, released by train() however this ends. */
async function trainHolding(options: TrainOptions, held: RunLock[]): Promise<TrainResult> {
  const { config, data, runDir, resume = false, signal } = options;
  const trainers = options.trainers ?? BASELINE_TRAINERS;
  const progress = options.progress ?? SILENT_PROGRESS;
  const paths = runPaths(runDir);

  // 1) checks before anything is written
  if (!resume) assertFreshRunDir(runDir);
  else if (!existsSync(runDir)) throw new DataError(`--resume ${runDir}: no such run folder`);
  const spec = trainers.get(config.trainer);
  if (!spec) throw new ConfigError(`trainer: unknown '${config.trainer}'; expected one of ${[...trainers.keys()].join(', ')}`);
  const backend = await setupBackend({ backend: config.backend });
  const trainSet = data.train;
  const testSet = config.evalEvery > 0 ? data.test : undefined;
  checkSplits(trainSet, testSet);
  // limited sets: class-stratified samples seeded by the run's seed (datasets/subset.ts), from labels only
  const trainSample = await drawSubset(trainSet, config.trainLimit > 0 ? config.trainLimit : undefined, config.seed);
  const testSample = testSet ? await drawSubset(testSet, config.evalLimit > 0 ? config.evalLimit : undefined, config.seed) : undefined;
  const trainIndices = trainSample.info.rule === 'all' ? undefined : trainSample.indices;
  const trainSize = trainSample.indices.length;
  // the trainer's per-sample state covers the samples trained on: it sees positions in the sorted sample
  const position = trainIndices ? positionsIn(trainIndices, trainSet.size) : undefined;
  const stepsPerEpoch = countBatches(trainSize, config.batchSize, config.dropLast);
  const epochBatches = (epoch: number, startBatch: number): AsyncIterable<Batch> =>
    trainSet.batches({
      batchSize: config.batchSize,
      shuffle: true,
      seed: config.seed,
      epoch,
      startBatch,
      dropLast: config.dropLast,
      augment: config.augment,
      ...(trainIndices ? { indices: trainIndices } : {}),
    });
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
    trainSize, // per-sample state covers only the samples trained on (StepInput.index: positions in trainIndices)
    inputShape: trainSet.shape,
    numClasses: trainSet.numClasses,
    ...(trainSet.augmentation ? { augmentation: trainSet.augmentation } : {}), // batches' augmentation, when config.augment
  });
  const cleanTrainer = regularTrainer(); // the step of the first `cleanEpochs` epochs (stateless)
  const rng = new Rng(deriveSeed(config.seed, 'trainer'));
  const log = new RunLog(paths.log);
  let loop: LoopState = { epoch: 0, batch: 0, step: 0, rng: rng.getState(), epochSums: {}, epochSamples: 0, epochSeconds: 0, logBytes: 0 };
  // unreadable data fails here, before a new run's folder exists
  // (and a fine-tuning run's pinned source weights are checked)
  if (!resume) {
    await readFirstBatches(epochBatches(0, 0), testSet, testSample?.indices, config);
    checkModelPin(config, start.source);
  }
  held.push(await lockRunDir(runDir));
  if (resume) {
    const ckpt = await readLatestCheckpoint(paths.checkpoints);
    if (ckpt) {
      checkProgress(config, ckpt.loop, stepsPerEpoch, `${runDir} (checkpoint ${ckpt.name})`);
      await readFirstBatches(epochBatches(ckpt.loop.epoch, ckpt.loop.batch), testSet, testSample?.indices, config);
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
    // the temporary files of a writer that was killed (this process holds the lock: none is live).
    log.truncate(loop.logBytes);
    removeRunTemporaries(runDir);
    await writeJsonAtomic(paths.config, runConfig);
    log.write({ type: 'resume', time: new Date().toISOString(), checkpoint: ckpt?.name ?? null, epoch: loop.epoch, batch: loop.batch, step: loop.step, backend: backend.name });
    progress.message(`resuming ${runDir} at epoch ${loop.epoch + 1}, batch ${loop.batch}, step ${loop.step}${ckpt ? ` (checkpoint ${ckpt.name})` : ' (no checkpoint yet: from the start)'}`);
  } else {
    assertFreshRunDir(runDir); // again under the lock: another process may have started a run here meanwhile
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
      testSize: testSample?.info.size ?? 0,
      trainSample: trainSample.info,
      ...(testSample ? { testSample: testSample.info } : {}),
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
  // the run's latest checkpoint on disk (for the errors that stop training: what is left to go back to)
  const latestCheckpoint = (): string | undefined =>
    existsSync(paths.latest) ? path.join(paths.checkpoints, readLatestName(paths.latest)) : undefined;
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

    for await (const batch of epochBatches(epoch, batchIdx)) {
      // one step
      lr = learningRateAt(config, { step, stepsPerEpoch, epochs: config.epochs });
      optimizer.learningRate = lr;
      const { x, y } = toTensors(batch);
      let metrics: Readonly<Record<string, number>>;
      try {
        const index = position ? Int32Array.from(batch.index, (i) => position[i]!) : batch.index;
        const stepper = epoch < config.cleanEpochs ? cleanTrainer : trainer;
        metrics = stepper.step({ x, y, index }, { classifier, optimizer, epoch, step, rng });
      } catch (e) {
        if (!isWasmHeapExhausted(e)) throw e;
        progress.stop();
        throw heapLimitError(e, { trainer: epoch < config.cleanEpochs ? `${trainer.name} run's clean` : trainer.name, batchSize: config.batchSize, inputShape: x.shape.slice(1), epoch, step, latest: latestCheckpoint() });
      } finally {
        tf.dispose([x, y]);
      }
      if (!Number.isFinite(metrics['loss'])) {
        progress.stop();
        throw new ConfigError(
          `epoch ${epoch + 1}, step ${step + 1}: the loss is ${metrics['loss']}; training diverged at lr ${lr} (try a lower lr in a new run: a resume would repeat the same steps). ` +
            checkpointBefore(latestCheckpoint()),
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
      await nextTurn(); // a turn of the event loop, so that a signal handler (Ctrl-C → abort) runs between steps
      if (signal?.aborted) await interrupt(epoch, batchIdx, state);
      if (config.checkpointEvery > 0 && step % config.checkpointEvery === 0 && batchIdx < stepsPerEpoch) await checkpoint(state);
    }

    // 4) end of epoch: summary, evaluation, log, checkpoint
    const trainMeans: Record<string, number> = {};
    for (const [k, v] of Object.entries(sums)) trainMeans[k] = samples > 0 ? v / samples : NaN;
    lastTrain = trainMeans;
    const trainerSummary = trainer.epochSummary?.(epoch);
    const evalNow = testSet && config.evalEvery > 0 && ((epoch + 1) % config.evalEvery === 0 || epoch === config.epochs - 1);
    const test = evalNow ? await evaluateClean(classifier, testSet, { batchSize: config.evalBatchSize, indices: testSample!.indices }) : undefined;
    if (test) lastTest = test;
    const constant = test ? constantPredictorWarning(test, epoch, config) : undefined;
    const overfit = epoch < config.cleanEpochs ? undefined : attackOverfitWarning(trainMeans, epoch);
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
      ...(epoch < config.cleanEpochs ? { clean: true } : {}),
      backend: backend.name,
    });
    for (const [code, message] of [['constant-predictor', constant], ['attack-overfit', overfit]] as const) {
      if (!message) continue;
      log.write({ type: 'warning', epoch, code, message });
      progress.message(`warning: ${message}`);
    }
    progress.epochEnd(
      `train ${Object.entries(trainMeans).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' ')}` +
        (test ? ` | test loss ${test.loss.toFixed(4)} acc ${test.acc.toFixed(4)}` : '') +
        ` | ${secs.toFixed(1)} s`,
    );
    const next = { epoch: epoch + 1, batch: 0, epochSums: {}, epochSamples: 0, epochSeconds: 0 };
    if (signal?.aborted) await interrupt(epoch + 1, 0, next);
    await checkpoint(next);
  }

  // 5) final model, and every per-sample state array (SCAAT's q_i) as <name>.npy for NumPy users;
  //    with trainLimit, entry k belongs to sample train-indices.npy[k]
  const weights = await saveClassifier(classifier, paths.model);
  for (const [name, values] of Object.entries(trainer.getState?.() ?? {})) {
    await writeNpy(path.join(runDir, `${name}.npy`), values, [values.length]);
  }
  if (trainIndices) await writeNpy(path.join(runDir, TRAIN_INDICES_FILE), trainIndices, [trainIndices.length]);
  log.write({ type: 'end', time: new Date().toISOString(), step, ...(lastTest ? { test: lastTest } : {}) });
  progress.stop();
  optimizer.dispose();
  return { runDir, classifier, weights, backend, steps: step, test: lastTest, train: lastTrain };
}

/**
 * Refuses a resume whose `epochs` ends before the checkpoint's progress (it would make a
 * mid-epoch or later model the final one and shrink config.json).
 * @throws ConfigError stating the run's progress and the smallest epochs that continues it.
 */
function checkProgress(config: TrainConfig, at: LoopState, stepsPerEpoch: number, where: string): void {
  const atLeast = at.epoch + (at.batch > 0 ? 1 : 0);
  if (config.epochs >= atLeast) return;
  throw new ConfigError(
    `epochs: ${config.epochs} is below the progress of ${where}: ${at.epoch} epoch(s) done` +
      `${at.batch > 0 ? ` and batch ${at.batch} of ${stepsPerEpoch} of epoch ${at.epoch + 1}` : ''} (step ${at.step}); ` +
      `continue it with --epochs ${atLeast} or more (nothing was changed)`,
  );
}

/**
 * Decodes the first training batch the run will take and the first test batch, so that data that
 * cannot be read fails (DataError) before anything is written.
 */
async function readFirstBatches(train: AsyncIterable<Batch>, test: Dataset | undefined, testIndices: Int32Array | undefined, config: TrainConfig): Promise<void> {
  const it = train[Symbol.asyncIterator]();
  await it.next();
  await it.return?.();
  // the first evaluation batch: the start of the (sorted) test sample
  if (test && testIndices && testIndices.length > 0) await test.get(testIndices.subarray(0, Math.min(config.evalBatchSize, testIndices.length)));
}

/** Where a run trained on a `trainLimit` sample lists its sample indices (sorted; int32 .npy). */
export const TRAIN_INDICES_FILE = 'train-indices.npy';

/** position[i] = k where sorted[k] = i (−1 for indices not in `sorted`), over a split of `size` samples. */
function positionsIn(sorted: Int32Array, size: number): Int32Array {
  const position = new Int32Array(size).fill(-1);
  sorted.forEach((i, k) => (position[i] = k));
  return position;
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

/** How far the training attack's accuracy may exceed the clean accuracy before `attackOverfitWarning` speaks. */
export const ATTACK_OVERFIT_MARGIN = 0.02;

/**
 * The training attack has stopped working: the epoch's accuracy on its adversarial examples
 * (`advAcc`, SCAAT's masked or PGD-AT's whole-image attack) exceeds the clean accuracy (`acc`) by more
 * than ATTACK_OVERFIT_MARGIN. An attack that works leaves a model less accurate on its examples than
 * on clean inputs; FGSM-RS at a large ε stops working once it overfits catastrophically (Wong et al.
 * 2020), and the run's saliency effect is lost with it. On the CIFAR-10 ε axis (docs/results.md) the
 * runs past the margin (by 0.07–0.21 in some epoch) were all overfitted (0–0.4 % accuracy under PGD-7
 * at their ε), and in no epoch of any other run of the study's logs then at hand (233 epochs: MNIST,
 * CIFAR-10, synthetic) was advAcc above acc. The converse does not hold (an overfitted run can stay
 * below the margin), so a run without the warning is not shown robust. undefined where the trainer
 * logs no `advAcc` or the margin is not passed.
 */
export function attackOverfitWarning(train: Readonly<Record<string, number>>, epoch: number): string | undefined {
  const { acc, advAcc } = train;
  if (acc === undefined || advAcc === undefined || !(advAcc > acc + ATTACK_OVERFIT_MARGIN)) return undefined; // NaN compares false
  return (
    `epoch ${epoch + 1}: the accuracy on the training attack's examples (advAcc ${advAcc.toFixed(4)}) is above the clean accuracy (${acc.toFixed(4)}): ` +
    `the attack no longer finds adversarial examples, the mark of catastrophic overfitting (FGSM-RS at a large ε); ` +
    `check the run's robustness at its ε (scaat evaluate --metrics robustness-attack) and prefer attack 'pgd' or a smaller ε`
  );
}

/**
 * The warning for a model that predicts one class for every evaluated test sample (from an
 * adversarial trainer's first epochs on random weights, the constant predictor can be a stable
 * point: docs/method.md §7, `cleanEpochs`; saliency guided training with k = 0.5 fell there after
 * clean epochs on the synthetic set: docs/results.md), or undefined, with a hint for the case.
 */
export function constantPredictorWarning(test: CleanEvaluation, epoch: number, config: Pick<TrainConfig, 'trainer' | 'cleanEpochs'>): string | undefined {
  if (test.samples < 2 || test.mode.count < test.samples) return undefined;
  const strength = config.trainer === 'sgt' ? 'its masked share or KL weight (trainerOptions.sgt.k, .lambda)' : 'ε';
  const hint = epoch < config.cleanEpochs || config.trainer === 'regular'
    ? ''
    : config.cleanEpochs > 0
      ? `: the ${config.trainer} step took it there after ${config.cleanEpochs} clean epoch${config.cleanEpochs > 1 ? 's' : ''}; lower ${strength} or the learning rate`
      : `: ${config.trainer === 'sgt' ? 'saliency guided' : 'adversarial'} training from random weights can settle there; start every compared trainer with clean epochs (cleanEpochs, docs/method.md §7) or lower ${strength} or the learning rate`;
  return `epoch ${epoch + 1}: the model predicts class ${test.mode.label} for all ${test.samples} test samples (a constant predictor, test accuracy ${test.acc.toFixed(4)})${hint}`;
}

/** Where a training step ran out of the wasm heap: what {@link heapLimitError} names. */
export interface HeapLimitContext {
  readonly trainer: string;
  readonly batchSize: number;
  /** One sample's shape, e.g. [96, 96, 3]. */
  readonly inputShape: readonly number[];
  /** 0-based, as the loop counts. */
  readonly epoch: number;
  readonly step: number;
  /** The run's latest checkpoint, if one was written. */
  readonly latest?: string | undefined;
}

/**
 * The named error for a training step that needed more than the wasm backend's heap: the step,
 * the batch and a batch that needs half the memory (activations grow with it), the checkpoint left.
 */
export function heapLimitError(cause: unknown, c: HeapLimitContext): HeapLimitError {
  const gib = WASM_HEAP_LIMIT_BYTES / 1024 ** 3;
  const half = Math.max(1, Math.floor(c.batchSize / 2));
  return new HeapLimitError(
    `epoch ${c.epoch + 1}, step ${c.step + 1}: the ${c.trainer} training step at batchSize ${c.batchSize} on ${c.inputShape.join('×')} inputs needs more memory than ` +
      `the wasm backend's ${gib} GiB heap (wasm32's limit; wasm said: ${cause instanceof Error ? cause.message : String(cause)}); train with a smaller batch (e.g. --set batchSize=${half}, or batchSize in the config or the grid's base) in a new run: ` +
      `a resume keeps the run's batchSize. ` +
      checkpointBefore(c.latest),
    { cause },
  );
}

/** The sentence that ends a stopped run's error: the checkpoint it can go back to, if any. */
function checkpointBefore(latest: string | undefined): string {
  return latest ? `The last checkpoint before it is ${latest}` : 'No checkpoint was written before it';
}

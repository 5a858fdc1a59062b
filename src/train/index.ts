// Training: the shared loop (loop.ts: data order, optimizer, lr schedule, evaluation, log,
// resumable checkpoints), its config (config.ts) and the baseline trainers (regular, pgd-at, sgt).
// SCAAT's step lives in `scaat/` and plugs in through the Trainer contract (types.ts) and a
// TrainerSpec (registry.ts); the CLI composes the full registry. Public API (re-exports only).
export type { Trainer, TrainerState, StateArray, StepInput, StepContext, StepMetrics } from './types.js';
export { train, buildClassifier } from './loop.js';
export type { TrainOptions, TrainResult } from './loop.js';
export { DEFAULT_TRAIN_CONFIG, TRAIN_CONFIG_SCHEMA, resolveConfig, parseSetOverrides } from './config.js';
export type { TrainConfig, TrainerOptionsResolver } from './config.js';
export { BASELINE_TRAINERS, withTrainers, optionsResolver, extensionDiffers } from './registry.js';
export type { TrainerSpec, TrainerInit, TrainerRegistry } from './registry.js';
export { regularTrainer } from './regular.js';
export { pgdAtTrainer, resolvePgdAtOptions, PGD_AT_SCHEMA, PGD_AT_DEFAULTS } from './pgd-at.js';
export type { PgdAtOptions } from './pgd-at.js';
export { ADVERSARIAL_LOSSES } from './_loss.js';
export type { AdversarialLoss } from './_loss.js';
export { sgtTrainer, resolveSgtOptions, maskedFill, SGT_SCHEMA, SGT_DEFAULTS } from './sgt.js';
export type { SgtOptions } from './sgt.js';
export { createOptimizer, SgdMomentum, Adam, TrainOptimizer } from './optimizers.js';
export type { OptimizerName, OptimizerOptions, OptimizerState } from './optimizers.js';
export { learningRateAt } from './schedule.js';
export type { ScheduleName, ScheduleOptions } from './schedule.js';
export { writeCheckpoint, readCheckpoint, readLatestCheckpoint, restoreModelWeights, checkpointName, CHECKPOINT_SCHEMA } from './checkpoint.js';
export type { Checkpoint, LoopState } from './checkpoint.js';
export { evaluateClean } from './evaluate-clean.js';
export type { CleanEvaluation } from './evaluate-clean.js';
export { consoleProgress, SILENT_PROGRESS } from './progress.js';
export type { ProgressSink } from './progress.js';
export { runPaths, RUN_FILES, assertFreshRunDir, readRunConfig, RunLog, lockRunDir, removeRunTemporaries } from './run-dir.js';
export type { RunLock, RunLockOwner } from './run-dir.js';
export { startingPoint, checkModelPin, resolveSourceDir, weightsSha256, isZooModel } from './source-model.js';
export type { SourceModel } from './source-model.js';

// The SCAAT trainer (Xu et al., BMVC 2023; method.md §2): per step, saliency → low-saliency mask →
// masked attack → CE(f(x)) + λ·CE(f(x_adv)) → per-sample ratio search. It builds masks from
// saliency maps (attacks/masks.ts) and runs on the shared training loop's Trainer contract; the
// loop, optimizers and baselines live in train/. Public API of the scaat room (re-exports only).
export { SCAAT_CONFIG_SCHEMA, DEFAULT_SCAAT_CONFIG, resolveScaatConfig, resolveScaatConfigAt, effectiveAlpha, effectiveRatioStep, effectiveSteps, pgdAtControlOptions } from './config.js';
export type { ScaatConfig, ScaatAttack, SaliencySource, ScaatLoss, RatioFeedback, RatioSearch } from './config.js';
export { IrrelevantRatios, nextIrrelevantRatio, nextBisection, summarizeRatios, snapRatio, RATIO_RESOLUTION } from './sample-state.js';
export type { RatioBracket, RatioSearchStep, RatioSearchParams, RatioSummary } from './sample-state.js';
export { scaatStep, createScaatAttack, createSearchProbe, maskSaliency } from './step.js';
export type { ScaatStepArgs, ScaatStepResult } from './step.js';
export { createScaatTrainer, SCAAT_TRAINER_SPEC } from './trainer.js';
export type { ScaatTrainer, ScaatTrainerOptions, ScaatEpochSummary } from './trainer.js';
export { ALL_TRAINERS } from './registry.js';

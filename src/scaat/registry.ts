/**
 * Every trainer scaat ships: the baselines of `train/registry.ts` (regular, pgd-at, sgt) plus
 * SCAAT. The training loop cannot import this room (it sits below it), so pass it explicitly:
 * `train({config, data, runDir, trainers: ALL_TRAINERS})`; the CLI does the same.
 */
import { BASELINE_TRAINERS, withTrainers } from '../train/registry.js';
import type { TrainerRegistry } from '../train/registry.js';
import { SCAAT_TRAINER_SPEC } from './trainer.js';

export const ALL_TRAINERS: TrainerRegistry = withTrainers(BASELINE_TRAINERS, [['scaat', SCAAT_TRAINER_SPEC]]);

/**
 * The contract between the shared training loop (`train/loop.ts`) and a trainer's step
 * (regular, PGD adversarial training, saliency guided training, SCAAT).
 *
 * The loop owns data order, the optimizer, learning-rate schedule, evaluation, logging and
 * checkpoints; a `Trainer` owns one optimisation step and any per-sample state (SCAAT's q_i),
 * which it keeps in plain typed arrays so checkpoints can save it and nothing leaks.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Rng } from '../engine/random.js';
import type { Classifier } from '../models/classifier.js';

export interface StepInput {
  /** NHWC float32 in [0, 1]; owned by the loop (do not dispose). */
  readonly x: tf.Tensor4D;
  /** int32 labels; owned by the loop. */
  readonly y: tf.Tensor1D;
  /**
   * Stable sample positions: indices in the training split, or with `trainLimit` positions in
   * its sorted sample (0..trainSize−1), so per-sample state covers only the samples trained on.
   */
  readonly index: Int32Array;
}

export interface StepContext {
  readonly classifier: Classifier;
  readonly optimizer: tf.Optimizer;
  /** 0-based epoch. */
  readonly epoch: number;
  /** Global step count (0-based) before this step. */
  readonly step: number;
  /** Randomness for this trainer (attack starts, masks' noise); its state is checkpointed. */
  readonly rng: Rng;
}

/** Numbers a step reports; the loop averages them per epoch (weighted by batch size). */
export type StepMetrics = Readonly<Record<string, number>>;

/** A typed array of trainer state, checkpointed as its raw bytes with its type (train/checkpoint.ts). */
export type StateArray = Float32Array | Int8Array | Uint8Array | Uint16Array | Int32Array | Uint32Array;
/** A trainer's checkpointed state, by key. */
export type TrainerState = Record<string, StateArray>;

export interface Trainer {
  /** 'regular' | 'pgd-at' | 'sgt' | 'scaat' | … */
  readonly name: string;
  /** One optimisation step; returns at least `loss` and `acc` (clean accuracy on the batch). */
  step(input: StepInput, ctx: StepContext): StepMetrics;
  /**
   * Per-sample state to checkpoint (e.g. {q: Float32Array}, cached maps and attack directions);
   * absent when stateless. The arrays are read while the checkpoint is written, not copied.
   */
  getState?(): TrainerState;
  /** Restores state saved by `getState` (each array as it was written: same type and length). */
  setState?(state: TrainerState): void;
  /** Extra per-epoch summary for the log (e.g. q_i distribution). Called after each epoch. */
  epochSummary?(epoch: number): Record<string, unknown>;
}

/**
 * Learning-rate schedules, as a pure function of the global step (nanoGPT `get_lr`):
 *
 *   0) warm-up: linear from η/W to η over the first W = warmupEpochs·stepsPerEpoch steps
 *   'constant': η
 *   'step':     η · γ^(number of milestones ≤ current epoch)        (PyTorch MultiStepLR)
 *   'cosine':   η_min + ½(η − η_min)(1 + cos(π · (t − W) / (T − W))) (SGDR without restarts, T = all steps)
 *
 * @example
 * learningRateAt({schedule: 'cosine', lr: 0.1, minLr: 0, warmupEpochs: 0, lrMilestones: [], lrGamma: 0.1},
 *   {step: 50, stepsPerEpoch: 10, epochs: 10});   // 0.05
 */

export type ScheduleName = 'constant' | 'step' | 'cosine';

/** The schedule's config keys. */
export interface ScheduleOptions {
  schedule: ScheduleName;
  /** η, peak learning rate. */
  lr: number;
  /** η_min, the cosine schedule's final value. */
  minLr: number;
  /** Epochs of linear warm-up (may be fractional). */
  warmupEpochs: number;
  /** Epochs at which 'step' multiplies the rate by γ. */
  lrMilestones: readonly number[];
  /** γ of 'step'. */
  lrGamma: number;
}

/** η for the update made at global step `step` (0-based). */
export function learningRateAt(o: ScheduleOptions, at: { step: number; stepsPerEpoch: number; epochs: number }): number {
  const { step, stepsPerEpoch, epochs } = at;
  const total = Math.max(1, epochs * stepsPerEpoch);
  const warmup = Math.round(o.warmupEpochs * stepsPerEpoch);
  // 0) linear warm-up
  if (step < warmup) return (o.lr * (step + 1)) / warmup;
  switch (o.schedule) {
    case 'constant':
      return o.lr;
    case 'step': {
      const epoch = Math.floor(step / Math.max(1, stepsPerEpoch));
      const passed = o.lrMilestones.filter((m) => m <= epoch).length;
      return o.lr * Math.pow(o.lrGamma, passed);
    }
    case 'cosine': {
      const progress = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
      return o.minLr + 0.5 * (o.lr - o.minLr) * (1 + Math.cos(Math.PI * progress));
    }
  }
}

/**
 * Per-sample irrelevant-feature ratios q_i and the poster's update rule ("Irrelevant Feature Ratio
 * Searching", SCAAT, Xu et al. BMVC 2023; method.md §2.5).
 *
 * q_i is indexed by the sample's position in the training split and lives in a Float32Array (no
 * tensors), so it is checkpointed with `getState()` / `setState()` and summarised each epoch.
 *
 * Resolution: q_i is kept on a grid of 1e-6 (each update is rounded to it). Float32 cannot hold
 * 0.52 exactly (it stores 0.51999998), so without the grid repeated ±γ steps would drift and
 * floor(q·H·W) would lose a pixel; see `irrelevantCount` in attacks/masks.ts, which reads q on
 * the same grid.
 */
import { ConfigError, ShapeError } from '../errors.js';

/** Resolution of q_i (see the module header). */
export const RATIO_RESOLUTION = 1e-6;

/** Inputs of one application of the update rule. */
export interface RatioSearchStep {
  /** 0-based epoch of the step that produced `advCorrect`. */
  readonly epoch: number;
  /** N_warm-up in epochs: q is kept while `epoch < warmupEpochs`. */
  readonly warmupEpochs: number;
  /** Whether f(x_adv) predicted the true label y_i. */
  readonly advCorrect: boolean;
  /** γ. */
  readonly ratioStep: number;
  /** q_min. */
  readonly ratioMin: number;
  /** q_max. */
  readonly ratioMax: number;
}

/**
 * The update rule for q_i. Pure; no tensors.
 * @example
 * nextIrrelevantRatio(0.5, {epoch: 2, warmupEpochs: 2, advCorrect: true, ratioStep: 0.02, ratioMin: 0.05, ratioMax: 0.95}); // 0.52
 */
export function nextIrrelevantRatio(q: number, s: RatioSearchStep): number {
  // 1) warm-up (the first N_warm-up epochs): keep q_i
  if (s.epoch < s.warmupEpochs) return q;
  // 2) f(x_adv) still predicts y_i → more features can be treated as irrelevant; else fewer
  const next = s.advCorrect ? q + s.ratioStep : q - s.ratioStep;
  // 3) clip to [q_min, q_max] (on the 1e-6 grid, see the module header)
  return snapRatio(Math.min(Math.max(next, s.ratioMin), s.ratioMax));
}

/** q rounded to the {@link RATIO_RESOLUTION} grid. */
export function snapRatio(q: number): number {
  return Math.round(q / RATIO_RESOLUTION) * RATIO_RESOLUTION;
}

/** Hyperparameters of the search (the matching fields of ScaatConfig). */
export interface RatioSearchParams {
  readonly warmupEpochs: number;
  readonly ratioStep: number;
  readonly ratioMin: number;
  readonly ratioMax: number;
}

/** Distribution of q over the training set, for the per-epoch log and the report. */
export interface RatioSummary {
  /** Number of samples. */
  readonly count: number;
  /** Mean of q_i. */
  readonly mean: number;
  /** Standard deviation of q_i (population). */
  readonly std: number;
  /** Quantiles of q_i (linear interpolation between order statistics, NumPy's default). */
  readonly quantiles: {
    readonly min: number;
    readonly p05: number;
    readonly p25: number;
    readonly median: number;
    readonly p75: number;
    readonly p95: number;
    readonly max: number;
  };
  /** Histogram on [0, 1]: `counts[j]` samples in [edges[j], edges[j+1]) (the last bin includes 1). */
  readonly histogram: { readonly edges: number[]; readonly counts: number[] };
}

/**
 * The per-sample ratios of a training split.
 * @example
 * const q = new IrrelevantRatios(50_000, 0.5);
 * q.gather(batch.index);                                  // Float32Array of the batch's q_i
 * q.update(batch.index, advCorrect, epoch, params);       // after the step
 * q.summarize(20);                                        // {mean, quantiles, histogram}
 */
export class IrrelevantRatios {
  private values: Float32Array;

  /** `size` samples, all at `init` (q_init). */
  constructor(size: number, init: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new ConfigError(`IrrelevantRatios: expected the training-set size to be a positive integer, got ${size}`);
    }
    this.values = new Float32Array(size).fill(snapRatio(init));
  }

  /** Number of samples. */
  get size(): number {
    return this.values.length;
  }

  /** q_i of the given samples, in order (a copy). */
  gather(index: ArrayLike<number>): Float32Array {
    const out = new Float32Array(index.length);
    for (let b = 0; b < index.length; b++) out[b] = this.values[this.checkIndex(index[b]!)]!;
    return out;
  }

  /** Applies {@link nextIrrelevantRatio} to each sample of a step. `advCorrect[b]` ≠ 0: f(x_adv_b) predicted y_b. */
  update(index: ArrayLike<number>, advCorrect: ArrayLike<number | boolean>, epoch: number, p: RatioSearchParams): void {
    if (advCorrect.length !== index.length) {
      throw new ShapeError(`IrrelevantRatios.update: expected ${index.length} adversarial outcomes, got ${advCorrect.length}`);
    }
    for (let b = 0; b < index.length; b++) {
      const i = this.checkIndex(index[b]!);
      this.values[i] = nextIrrelevantRatio(this.values[i]!, { ...p, epoch, advCorrect: Boolean(advCorrect[b]) });
    }
  }

  /** A copy of all q_i (for checkpoints and the .npy file). */
  getState(): Float32Array {
    return this.values.slice();
  }

  /** Restores q from {@link getState}. @throws ShapeError when the length differs from the training-set size. */
  setState(q: Float32Array): void {
    if (q.length !== this.values.length) {
      throw new ShapeError(`IrrelevantRatios.setState: expected ${this.values.length} ratios (the training-set size), got ${q.length}`);
    }
    for (let i = 0; i < q.length; i++) {
      const v = q[i]!;
      if (!(v >= 0 && v <= 1)) throw new ShapeError(`IrrelevantRatios.setState: q[${i}] = ${v} is outside [0, 1]`);
    }
    this.values = q.slice();
  }

  /** Mean, std, quantiles and a `bins`-bin histogram on [0, 1] of all q_i. */
  summarize(bins = 20): RatioSummary {
    return summarizeRatios(this.values, bins);
  }

  private checkIndex(i: number): number {
    if (!(Number.isInteger(i) && i >= 0 && i < this.values.length)) {
      throw new ShapeError(`IrrelevantRatios: sample index ${i} is outside the training split [0, ${this.values.length})`);
    }
    return i;
  }
}

/** Summary of a set of ratios in [0, 1] (see {@link RatioSummary}). Pure. */
export function summarizeRatios(q: Float32Array, bins = 20): RatioSummary {
  const n = q.length;
  const sorted = q.slice().sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  const mean = n > 0 ? sum / n : NaN;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (sorted[i]! - mean) ** 2;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < n; i++) {
    // Bins are read on the 1e-6 grid too, so 0.6 (stored 0.60000002) lands in [0.6, 0.65).
    const j = Math.min(bins - 1, Math.max(0, Math.floor(snapRatio(sorted[i]!) * bins + 1e-9)));
    counts[j]!++;
  }
  const r = (v: number): number => Number(v.toFixed(6));
  return {
    count: n,
    mean: r(mean),
    std: r(n > 0 ? Math.sqrt(ss / n) : NaN),
    quantiles: {
      min: r(quantile(sorted, 0)),
      p05: r(quantile(sorted, 0.05)),
      p25: r(quantile(sorted, 0.25)),
      median: r(quantile(sorted, 0.5)),
      p75: r(quantile(sorted, 0.75)),
      p95: r(quantile(sorted, 0.95)),
      max: r(quantile(sorted, 1)),
    },
    histogram: { edges: Array.from({ length: bins + 1 }, (_, j) => r(j / bins)), counts },
  };
}

/** Quantile of sorted values, linear interpolation between order statistics (NumPy's default). */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

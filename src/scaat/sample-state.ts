/**
 * Per-sample irrelevant-feature ratios q_i and their update rules after each visit of a sample:
 * - 'ramp': the poster's rule ("Irrelevant Feature Ratio Searching", SCAAT, Xu et al. BMVC 2023;
 *   method.md §2.5): q_i ± γ, clipped ({@link nextIrrelevantRatio});
 * - 'bisect': bisection on the boundary between the masked attack failing and succeeding, with a
 *   per-sample bracket [lo_i, hi_i] that stops shrinking at 2γ, from where it moves like the ramp
 *   and follows a boundary that drifts as the model trains ({@link nextBisection}).
 *
 * q_i (and the brackets) are indexed by the sample's position in the training split and live in
 * Float32Arrays (no tensors), so they are checkpointed with `getState()` / `setState()` (and
 * `getBrackets()` / `setBrackets()`) and summarised each epoch.
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

/** A bisection bracket [lo, hi] of q (see {@link nextBisection}). */
export interface RatioBracket {
  readonly lo: number;
  readonly hi: number;
}

/**
 * The bisection rule for q_i, one visit at ratio q with bracket [lo, hi] (initially [q_min, q_max]).
 * Pure; no tensors.
 *
 *   1) warm-up (epoch < N_warm-up): keep q and the bracket
 *   2) the attack failed at q (f(x_adv) predicts y): the boundary lies above q, lo ← q;
 *      it succeeded: the boundary lies at or below q, hi ← q
 *   3) the bracket stays at least w = 2γ wide: hi ← max(hi, lo + w), resp. lo ← min(lo, hi − w)
 *   4) next q = (lo + hi)/2, clipped to [q_min, q_max]; the stored bracket is clipped too
 *
 * Against a fixed boundary q_min ≤ q* < q_max (the attack succeeds iff q > q*) the bracket keeps
 * lo ≤ q* < hi, and from q_init = (q_min + q_max)/2 its width after k visits is at most
 * max((q_max − q_min)/2^k, 2γ), so |q − q*| ≤ max((q_max − q_min)/2^(k+1), γ). Once it is 2γ wide, step 3 makes each visit move q by
 * exactly ±γ, as the ramp does, so q keeps following a boundary that moves during training; γ = 0
 * gives plain bisection, which stops moving once converged.
 * @example
 * nextBisection(0.5, {lo: 0.05, hi: 0.95}, {epoch: 2, warmupEpochs: 2, advCorrect: true, ratioStep: 0.02, ratioMin: 0.05, ratioMax: 0.95});
 * // {q: 0.725, lo: 0.5, hi: 0.95}
 */
export function nextBisection(q: number, bracket: RatioBracket, s: RatioSearchStep): { q: number } & RatioBracket {
  // 1) warm-up: keep q_i and its bracket
  if (s.epoch < s.warmupEpochs) return { q, lo: bracket.lo, hi: bracket.hi };
  const clip = (v: number): number => Math.min(Math.max(v, s.ratioMin), s.ratioMax);
  const at = clip(q);
  const width = 2 * s.ratioStep;
  let { lo, hi } = bracket;
  // 2)–3) move the bound on q's side of the boundary to q; keep the bracket at least 2γ wide
  if (s.advCorrect) {
    lo = at;
    hi = Math.max(hi, at + width);
  } else {
    hi = at;
    lo = Math.min(lo, at - width);
  }
  // 4) the midpoint, and the bracket, in [q_min, q_max] on the 1e-6 grid
  return { q: snapRatio(clip((lo + hi) / 2)), lo: snapRatio(clip(lo)), hi: snapRatio(clip(hi)) };
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
 * The per-sample ratios of a training split, searched by the ramp, or by bisection when
 * constructed with a bracket.
 * @example
 * const q = new IrrelevantRatios(50_000, 0.5);            // ramp; bisection: (50_000, 0.5, {lo: 0.05, hi: 0.95})
 * q.gather(batch.index);                                  // Float32Array of the batch's q_i
 * q.update(batch.index, advCorrect, epoch, params);       // after the step
 * q.summarize(20);                                        // {mean, quantiles, histogram}
 */
export class IrrelevantRatios {
  private values: Float32Array;
  /** Per-sample bisection brackets ('bisect'); undefined for the ramp. */
  private brackets: { lo: Float32Array; hi: Float32Array } | undefined;

  /**
   * `size` samples, all at `init` (q_init). With `bracket` ([q_min, q_max]), each sample is
   * searched by {@link nextBisection} from its own copy of it; without, by {@link nextIrrelevantRatio}.
   */
  constructor(size: number, init: number, bracket?: RatioBracket) {
    if (!Number.isInteger(size) || size < 1) {
      throw new ConfigError(`IrrelevantRatios: expected the training-set size to be a positive integer, got ${size}`);
    }
    this.values = new Float32Array(size).fill(snapRatio(init));
    if (bracket) {
      if (!(bracket.lo >= 0 && bracket.lo <= bracket.hi && bracket.hi <= 1)) {
        throw new ConfigError(`IrrelevantRatios: expected a bracket with 0 ≤ lo ≤ hi ≤ 1, got [${bracket.lo}, ${bracket.hi}]`);
      }
      this.brackets = { lo: new Float32Array(size).fill(snapRatio(bracket.lo)), hi: new Float32Array(size).fill(snapRatio(bracket.hi)) };
    }
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

  /**
   * Applies {@link nextIrrelevantRatio} (ramp) or {@link nextBisection} (with brackets) to each
   * sample of a step. `advCorrect[b]` ≠ 0: f(x_adv_b) predicted y_b.
   */
  update(index: ArrayLike<number>, advCorrect: ArrayLike<number | boolean>, epoch: number, p: RatioSearchParams): void {
    if (advCorrect.length !== index.length) {
      throw new ShapeError(`IrrelevantRatios.update: expected ${index.length} adversarial outcomes, got ${advCorrect.length}`);
    }
    const br = this.brackets;
    for (let b = 0; b < index.length; b++) {
      const i = this.checkIndex(index[b]!);
      const step = { ...p, epoch, advCorrect: Boolean(advCorrect[b]) };
      if (!br) {
        this.values[i] = nextIrrelevantRatio(this.values[i]!, step);
        continue;
      }
      const next = nextBisection(this.values[i]!, { lo: br.lo[i]!, hi: br.hi[i]! }, step);
      this.values[i] = next.q;
      br.lo[i] = next.lo;
      br.hi[i] = next.hi;
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

  /** Copies of the bisection brackets (lo_i, hi_i), or undefined for the ramp (for checkpoints and .npy files). */
  getBrackets(): { lo: Float32Array; hi: Float32Array } | undefined {
    return this.brackets && { lo: this.brackets.lo.slice(), hi: this.brackets.hi.slice() };
  }

  /**
   * Restores the brackets from {@link getBrackets}.
   * @throws ShapeError without brackets (a ramp search), for a length other than the training-set
   *   size, or a bracket outside 0 ≤ lo ≤ hi ≤ 1.
   */
  setBrackets(b: { readonly lo: Float32Array; readonly hi: Float32Array }): void {
    if (!this.brackets) throw new ShapeError('IrrelevantRatios.setBrackets: this search is the ramp, which keeps no brackets');
    const n = this.values.length;
    if (b.lo.length !== n || b.hi.length !== n) {
      throw new ShapeError(`IrrelevantRatios.setBrackets: expected ${n} brackets (the training-set size), got ${b.lo.length} lo and ${b.hi.length} hi`);
    }
    for (let i = 0; i < n; i++) {
      const lo = b.lo[i]!;
      const hi = b.hi[i]!;
      if (!(lo >= 0 && lo <= hi && hi <= 1)) throw new ShapeError(`IrrelevantRatios.setBrackets: bracket ${i} = [${lo}, ${hi}] is not within 0 ≤ lo ≤ hi ≤ 1`);
    }
    this.brackets = { lo: b.lo.slice(), hi: b.hi.slice() };
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

/**
 * AOPC, the area over the perturbation curve (Samek et al., 2017, https://arxiv.org/abs/1509.06321),
 * as method.md §4 defines it:
 *
 * 1. split the image into non-overlapping P×P patches (edge patches smaller when P ∤ H or W);
 *    order them by summed saliency, most relevant first (MoRF) or least relevant first (LeRF),
 *    ties to the lower patch index (row-major);
 * 2. x^(0) = x; x^(k) = x^(k−1) with the k-th patch of the order replaced by the fill
 *    (uniform random values in [0, 1] by default, drawn once per image, seeded);
 * 3. AOPC = 1/(L+1) Σ_{k=0..L} (p_c(x^(0)) − p_c(x^(k))), p_c the softmax probability of the
 *    explained class c; the metric is its mean over images.
 *
 * AOPC_rel = mean AOPC_morf / mean AOPC_lerf (undefined when the AOPC_lerf mean is ≤ 1e-5; see
 * _summary.ts). The three rows share one computation ({@link AOPC_CURVES}): each batch's MoRF and
 * LeRF curves are computed once per fill, whichever of the rows are requested; with a list of fills
 * (`aopc.fill: ['uniform', 'black']`) every row gives one summary per fill.
 *
 * Regime (method.md §4): perturb a small part of the image, as Samek et al. do (100 regions of 9×9
 * on 224² ≈ 16 %). Defaults: P = max(1, round(max(H, W) / 28)), so every image size gets a grid of
 * about 28 × 28 patches (28/32 px → P = 1, 96 px → 3, 224 px → 8); L = round(fraction · number of
 * patches) with fraction 0.1, so MoRF and LeRF each remove about 10 % of the pixels (28² → 78 steps,
 * 32² → 102, 96² → 102, 224² → 78). fraction = 1 gives the whole-image curve (every patch replaced,
 * MoRF and LeRF end on the same fully filled image, which caps AOPC_rel near 2). Fill 'uniform'.
 * Memory: at most `internalBatchSize` perturbed images per forward pass.
 *
 * @example
 * const r = aopc(classifier, x, target, scores, { order: 'morf', seeds: [11, 12] });
 * r.values   // Float64Array [B]: AOPC of each image
 * r.curves   // Float64Array [B·(L+1)]: p_c(x⁰) − p_c(xᵏ) for k = 0..L
 */
import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../models/classifier.js';
import { deriveSeed } from '../engine/random.js';
import { ConfigError, ShapeError } from '../errors.js';
import { aopcRel, fromFixed, meanOf, meanSummary, toFixed } from './_summary.js';
import { assertFiniteRows } from './finite.js';
import type { AopcResult, MetricSummary } from './evaluation-result.js';
import { FILL_BACKGROUND_WARNING } from './evaluation-result.js';
import type { Accumulator, MetricCompute, SummaryContext } from './types.js';

/** Perturbation order. */
export type AopcOrder = 'morf' | 'lerf';
/** What replaces a removed patch: uniform noise in [0, 1], black (0), or a constant value. */
export type AopcFill = 'uniform' | 'black' | number;
/**
 * The evaluation setting `aopc.fill`: one fill, or a list of at least two distinct fills, each
 * evaluated in turn (a full AOPC pass each; evaluation-options.ts reads a list of one as that fill).
 */
export type AopcFills = AopcFill | readonly AopcFill[];

/** The fills of an `aopc.fill` setting, in order: [fill] for one fill. */
export function fillsOf(fill: AopcFills): AopcFill[] {
  return typeof fill === 'object' ? [...fill] : [fill];
}

/**
 * A fill as the results name it: the AOPC rows' `variant`, and the suffix of the per-image keys of
 * every fill after the first ('aopc-morf (black fill)').
 * @example fillVariant(0.5)   // 'constant 0.5 fill'
 */
export function fillVariant(fill: string | number): string {
  return `${typeof fill === 'number' ? `constant ${fill}` : fill} fill`;
}

/** The per-image key of row `name` ('aopc-morf', 'aopc-lerf') for the fill at `position` of the list: the bare key for the first. */
export function aopcPerImageKey(name: string, fills: readonly AopcFill[], position: number): string {
  return position === 0 ? name : `${name} (${fillVariant(fills[position]!)})`;
}

export interface AopcOptions {
  /** Most relevant first or least relevant first. */
  order: AopcOrder;
  /** Patch side P in pixels. @default max(1, round(max(H, W) / 28)) ({@link defaultPatchSize}) */
  patchSize?: number;
  /**
   * Fraction of the image's patches removed at the end, in (0, 1]: L = max(1, round(fraction ·
   * patches)). Ignored when `steps` is given. @default 0.1 ({@link DEFAULT_AOPC_FRACTION})
   */
  fraction?: number;
  /** Number of perturbation steps L (overrides `fraction`). @default from `fraction` */
  steps?: number;
  /** Fill of removed patches. @default 'uniform' */
  fill?: AopcFill;
  /** Seed of the uniform fill of each image (length B). @default deriveSeed(seed, b) */
  seeds?: ArrayLike<number>;
  /** Base seed when `seeds` is absent. @default 0 */
  seed?: number;
  /** Most perturbed images per forward pass. @default 256 */
  internalBatchSize?: number;
}

export interface AopcOutput {
  /** AOPC of each image, [B]. */
  readonly values: Float64Array;
  /** p_c(x⁰) − p_c(xᵏ), k = 0..L, row-major [B, L+1]. */
  readonly curves: Float64Array;
  /** L, the number of patches removed at the end. */
  readonly steps: number;
  /** P, the patch side used. */
  readonly patchSize: number;
}

/** Default fraction of the image perturbed by AOPC (method.md §4: about 10 %). */
export const DEFAULT_AOPC_FRACTION = 0.1;

/** Patches per side that {@link defaultPatchSize} aims at, whatever the image size. */
export const AOPC_GRID_SIDE = 28;

/**
 * The default patch side for an image: max(1, round(max(H, W) / 28)), a grid of about 28 × 28
 * patches at every size (28 and 32 px → 1, 96 px → 3, 224 px → 8; method.md §4).
 */
export function defaultPatchSize(height: number, width: number): number {
  return Math.max(1, Math.round(Math.max(height, width) / AOPC_GRID_SIDE));
}

/**
 * The number of steps L that removes `fraction` of the patches: max(1, round(fraction · patches)),
 * at most all of them.
 * @throws ConfigError unless 0 < fraction ≤ 1.
 */
export function stepsForFraction(patches: number, fraction: number): number {
  if (!(fraction > 0 && fraction <= 1)) throw new ConfigError(`aopc: expected fraction in (0, 1], got ${fraction}`);
  return Math.min(patches, Math.max(1, Math.round(fraction * patches)));
}

/** Number of patches of side P in an H×W image (edge patches included). */
export function patchCount(height: number, width: number, patchSize: number): number {
  return Math.ceil(height / patchSize) * Math.ceil(width / patchSize);
}

/**
 * Patch ids (row-major over the patch grid) in perturbation order for one image's scores
 * (row-major H·W): by summed score, descending for MoRF, ascending for LeRF; ties to the lower id.
 * @example patchOrder([1, 0, 0, 2], 2, 2, 1, 'morf')   // Int32Array [3, 0, 1, 2]
 */
export function patchOrder(scores: ArrayLike<number>, height: number, width: number, patchSize: number, order: AopcOrder): Int32Array {
  const pw = Math.ceil(width / patchSize);
  const sums = new Float64Array(patchCount(height, width, patchSize));
  for (let i = 0; i < height; i++) {
    const row = Math.floor(i / patchSize) * pw;
    for (let j = 0; j < width; j++) sums[row + Math.floor(j / patchSize)]! += scores[i * width + j]!;
  }
  const ids = Int32Array.from(sums, (_, k) => k);
  const sign = order === 'morf' ? -1 : 1;
  // Array.prototype.sort is stable; the id tie-break makes the order explicit anyway.
  return Int32Array.from(Array.from(ids).sort((a, b) => sign * (sums[a]! - sums[b]!) || a - b));
}

/**
 * AOPC of each image for one order. `scores` are per-pixel saliency scores [B·H·W] (e.g. Σ_c|A|),
 * `target` the explained classes. Does not dispose its inputs; returns plain arrays.
 * @throws ShapeError for mismatched sizes; ConfigError for bad options.
 */
export function aopc(
  classifier: Classifier,
  x: tf.Tensor4D,
  target: tf.Tensor1D,
  scores: ArrayLike<number>,
  options: AopcOptions,
): AopcOutput {
  const [b, h, w, c] = x.shape;
  const { order, fill = 'uniform', seed = 0, internalBatchSize = 256 } = options;
  const patchSize = options.patchSize ?? defaultPatchSize(h, w);
  if (order !== 'morf' && order !== 'lerf') throw new ConfigError(`aopc: expected order 'morf' or 'lerf', got '${String(order)}'`);
  if (!(Number.isInteger(patchSize) && patchSize >= 1)) throw new ConfigError(`aopc: expected patchSize a positive integer, got ${patchSize}`);
  const patches = patchCount(h, w, patchSize);
  const steps = options.steps ?? stepsForFraction(patches, options.fraction ?? DEFAULT_AOPC_FRACTION);
  if (!(Number.isInteger(steps) && steps >= 0 && steps <= patches)) {
    throw new ConfigError(`aopc: expected steps an integer in [0, ${patches}] (the number of ${patchSize}×${patchSize} patches), got ${steps}`);
  }
  if (!(Number.isInteger(internalBatchSize) && internalBatchSize >= 1)) {
    throw new ConfigError(`aopc: expected internalBatchSize a positive integer, got ${internalBatchSize}`);
  }
  if (scores.length !== b * h * w) throw new ShapeError(`aopc: expected ${b}·${h}·${w} scores, got ${scores.length}`);
  if (target.shape[0] !== b) throw new ShapeError(`aopc: expected target of shape [${b}], got [${target.shape.join(', ')}]`);
  if (options.seeds && options.seeds.length !== b) throw new ShapeError(`aopc: expected ${b} seeds, got ${options.seeds.length}`);

  // 1) rank of each pixel's patch in the order (pixel removed at step k iff rank < k)
  const rank = new Float32Array(b * h * w);
  const pw = Math.ceil(w / patchSize);
  for (let i = 0; i < b; i++) {
    const ord = patchOrder(sliceOf(scores, i * h * w, (i + 1) * h * w), h, w, patchSize, order);
    const rankOfPatch = new Int32Array(patches);
    ord.forEach((p, r) => (rankOfPatch[p] = r));
    for (let y = 0; y < h; y++) {
      for (let z = 0; z < w; z++) rank[i * h * w + y * w + z] = rankOfPatch[Math.floor(y / patchSize) * pw + Math.floor(z / patchSize)]!;
    }
  }

  // 2) p_c(x^(k)) for k = 0..L, at most `internalBatchSize` images per forward pass. The perturbed
  //    images are built on the host, one step from the previous: x^(k) = x^(k−1) with the pixels
  //    of rank k − 1 set to fl(x + fl(fill − x)), the float32 value of x + (fill − x)·[rank < k].
  const xs = x.dataSync() as Float32Array;
  const pix = h * w;
  const probs = new Float64Array(b * (steps + 1)); // [B, L+1]
  const sub = Math.min(b, internalBatchSize);
  const perPass = Math.max(1, Math.floor(internalBatchSize / sub));
  const f32 = Math.fround;
  for (let s = 0; s < b; s += sub) {
    const n = Math.min(sub, b - s);
    const size = n * pix * c;
    const x0 = xs.subarray(s * pix * c, (s + n) * pix * c);
    // the removed value of every element: fl(x + fl(fill − x))
    const removed = new Float32Array(size);
    if (fill === 'uniform') {
      for (let i = 0; i < n; i++) {
        const sd = options.seeds ? options.seeds[s + i]! : deriveSeed(seed, s + i);
        const u = tf.randomUniform([1, h, w, c], 0, 1, 'float32', sd);
        removed.set(u.dataSync(), i * pix * c);
        u.dispose();
      }
    } else {
      removed.fill(fill === 'black' ? 0 : fillValue(fill));
    }
    for (let e = 0; e < size; e++) removed[e] = f32(x0[e]! + f32(removed[e]! - x0[e]!));
    // the sub-batch's pixels grouped by rank: byRank[start[r] .. start[r+1]) (a counting sort)
    const start = new Int32Array(patches + 1);
    const rk = rank.subarray(s * pix, (s + n) * pix);
    for (let q = 0; q < rk.length; q++) start[rk[q]! + 1]!++;
    for (let r = 0; r < patches; r++) start[r + 1]! += start[r]!;
    const byRank = new Int32Array(rk.length);
    const fillAt = start.slice(0, patches);
    for (let q = 0; q < rk.length; q++) byRank[fillAt[rk[q]!]!++] = q;
    const cur = Float32Array.from(x0); // x^(k) of the sub-batch
    const pick = tf.tidy(() => tf.oneHot(tf.slice(target, [s], [n]).toInt(), classifier.numClasses).toFloat());
    try {
      for (let k0 = 0; k0 <= steps; k0 += perPass) {
        const k = Math.min(perPass, steps + 1 - k0);
        const images = new Float32Array(k * size);
        for (let j = 0; j < k; j++) {
          const step = k0 + j;
          if (step > 0) {
            for (let t = start[step - 1]!; t < start[step]!; t++) {
              const e0 = byRank[t]! * c;
              for (let ch = 0; ch < c; ch++) cur[e0 + ch] = removed[e0 + ch]!;
            }
          }
          images.set(cur, j * size);
        }
        const p = tf.tidy(() => {
          const xk = tf.tensor4d(images, [k * n, h, w, c]);
          const pr = tf.softmax(classifier.logits(xk));
          return tf.sum(tf.mul(pr, tf.tile(pick, [k, 1])), 1); // [k·n], step-major
        });
        const v = p.dataSync();
        p.dispose();
        for (let j = 0; j < k; j++) for (let i = 0; i < n; i++) probs[(s + i) * (steps + 1) + k0 + j] = v[j * n + i]!;
      }
    } finally {
      pick.dispose();
    }
  }

  // 3) curves p⁰ − pᵏ and their means
  const curves = new Float64Array(b * (steps + 1));
  const values = new Float64Array(b);
  for (let i = 0; i < b; i++) {
    const p0 = probs[i * (steps + 1)]!;
    let sum = 0;
    for (let k = 0; k <= steps; k++) {
      const d = p0 - probs[i * (steps + 1) + k]!;
      curves[i * (steps + 1) + k] = d;
      sum += d;
    }
    values[i] = sum / (steps + 1);
  }
  return { values, curves, steps, patchSize };
}

function fillValue(v: number): number {
  if (!Number.isFinite(v)) throw new ConfigError(`aopc: expected fill 'uniform', 'black' or a number, got ${v}`);
  return v;
}

function sliceOf(a: ArrayLike<number>, start: number, end: number): ArrayLike<number> {
  return ArrayBuffer.isView(a) ? (a as unknown as Float32Array).subarray(start, end) : Array.prototype.slice.call(a, start, end);
}

/** One fill's AOPC state of one method: per-image values and, from the first batch on, the fixed-point curve sums. */
interface AopcFillState {
  readonly morf: Array<number | null>;
  readonly lerf: Array<number | null>;
  sums?: { patchSize: number; steps: number; fill: AopcResult['fill']; morf: bigint[]; lerf: bigint[] };
}

/** Pixel values equal to a constant fill, and all seen. */
interface Coverage {
  equal: number;
  total: number;
}

/**
 * State of the AOPC rows: the fills (config order); per method, one part per fill; per constant
 * fill, its pixel coverage (undefined for 'uniform', and before the first image).
 */
interface AopcState {
  readonly fills: readonly AopcFill[];
  readonly coverage: Array<Coverage | undefined>;
  readonly methods: AopcFillState[][];
}

/** The empty state of `methods` methods for `fills`. */
function emptyState(fills: readonly AopcFill[], methods: number): AopcState {
  return { fills, coverage: fills.map(() => undefined), methods: Array.from({ length: methods }, () => fills.map(() => ({ morf: [], lerf: [] }))) };
}

/** Coverage `b` added to `a` (either may be absent). */
function addCoverage(a: Coverage | undefined, b: Coverage | undefined): Coverage | undefined {
  return b ? { equal: (a?.equal ?? 0) + b.equal, total: (a?.total ?? 0) + b.total } : a;
}

/**
 * The computation shared by AOPC_morf, AOPC_lerf and AOPC_rel: per batch, method and fill both
 * curves (the uniform fill of an image seeded by (seed, its dataset index), shared by MoRF, LeRF and
 * all methods, whatever the other fills), exact fixed-point curve sums; for a constant fill, how
 * many pixel values already equal it. Several fills: each computed as it would be alone, and its
 * parts of the result written under its own names (the first fill's under the names of one fill:
 * {@link aopcPerImageKey}, `aopc` then `aopcMore`, `fillCoverage` then `fillCoverageMore`).
 */
export const AOPC_CURVES: Accumulator<AopcState> = {
  start: ({ config, methods }) => emptyState(fillsOf(config.aopc.fill), methods),
  addImages: (state, b) => {
    state.fills.forEach((fill, f) => {
      if (fill === 'uniform') return;
      // the fill as the float32 value the perturbed images get (0.9 is no float32; the pixels are)
      const v = Math.fround(fill === 'black' ? 0 : fill);
      let equal = 0;
      for (const p of b.pixels) if (p === v) equal++;
      state.coverage[f] = addCoverage(state.coverage[f], { equal, total: b.pixels.length });
    });
  },
  add: (state, b) => {
    const { aopc: settings, seed } = b.config;
    const common = {
      seeds: Array.from(b.index, (idx) => deriveSeed(seed, 'aopc', idx)), internalBatchSize: settings.internalBatchSize, fraction: settings.fraction,
      ...(settings.patchSize !== null ? { patchSize: settings.patchSize } : {}),
      ...(settings.steps !== null ? { steps: settings.steps } : {}),
    };
    state.fills.forEach((fill, f) => {
      const morf = aopc(b.classifier, b.x, b.target, b.scores, { order: 'morf', fill, ...common });
      const lerf = aopc(b.classifier, b.x, b.target, b.scores, { order: 'lerf', fill, ...common });
      const what = `${b.method.name} AOPC probabilities${state.fills.length > 1 ? ` (${fillVariant(fill)})` : ''}`;
      for (const c of [morf, lerf]) assertFiniteRows(c.curves, c.steps + 1, b.index, what);
      const m = state.methods[b.methodIndex]![f]!;
      const sums = (m.sums ??= { patchSize: morf.patchSize, steps: morf.steps, fill, morf: new Array<bigint>(morf.steps + 1).fill(0n), lerf: new Array<bigint>(morf.steps + 1).fill(0n) });
      m.morf.push(...morf.values);
      m.lerf.push(...lerf.values);
      for (let i = 0; i < b.shape[0]; i++) {
        for (let k = 0; k <= morf.steps; k++) {
          sums.morf[k]! += toFixed(morf.curves[i * (morf.steps + 1) + k]!);
          sums.lerf[k]! += toFixed(lerf.curves[i * (lerf.steps + 1) + k]!);
        }
      }
    });
  },
  merge: (state, next) => {
    next.coverage.forEach((c, f) => (state.coverage[f] = addCoverage(state.coverage[f], c)));
    next.methods.forEach((parts, mi) => {
      parts.forEach((n, f) => {
        const m = state.methods[mi]![f]!;
        m.morf.push(...n.morf);
        m.lerf.push(...n.lerf);
        if (!n.sums) return;
        if (!m.sums) m.sums = n.sums;
        else n.sums.morf.forEach((s, k) => ((m.sums!.morf[k]! += s), (m.sums!.lerf[k]! += n.sums!.lerf[k]!)));
      });
    });
  },
  methodParts: (state, mi, n) => {
    const parts = state.methods[mi]!;
    const key = (name: string, f: number): string => aopcPerImageKey(name, state.fills, f);
    const more = parts.slice(1).flatMap((p) => (p.sums ? [curvesOf(p.sums, n)] : []));
    return {
      perImage: Object.fromEntries(parts.flatMap((p, f) => [[key('aopc-morf', f), p.morf], [key('aopc-lerf', f), p.lerf]])),
      ...(parts[0]!.sums ? { fields: { aopc: curvesOf(parts[0]!.sums, n), ...(more.length > 0 ? { aopcMore: more } : {}) } } : {}),
    };
  },
  resultParts: (state) => {
    const constant = state.fills.flatMap((fill, f) => (state.coverage[f] ? [{ fill, ...state.coverage[f] }] : []));
    if (constant.length === 0) return {};
    const [{ fill: _first, ...first }, ...more] = constant;
    return { fillCoverage: first, ...(more.length > 0 ? { fillCoverageMore: more } : {}) };
  },
  warnings: (state) =>
    state.fills.flatMap((fill, f) => {
      const c = state.coverage[f];
      if (fill === 'uniform' || !(c && c.total > 0 && c.equal / c.total >= FILL_BACKGROUND_WARNING)) return [];
      return [
        `AOPC fill ${fill === 'black' ? "'black'" : `constant ${fill}`} equals the data's background: ${((100 * c.equal) / c.total).toFixed(1)} % of the ` +
          `evaluated pixel values already are ${fill === 'black' ? 0 : fill}, so replacing them changes nothing and AOPC_lerf (and AOPC_rel) ` +
          `mostly measure where the background is; use the uniform fill ('--aopc-fill uniform') on such data`,
      ];
    }),
  read: (r) => {
    const fills = fillsOf(r.config.aopc.fill);
    const state = emptyState(fills, 0);
    // the first constant fill's coverage is `fillCoverage`, the others' `fillCoverageMore` (by fill)
    const first = fills.findIndex((fill) => fill !== 'uniform');
    fills.forEach((fill, f) => {
      const c = f === first ? r.fillCoverage : r.fillCoverageMore?.find((x) => x.fill === fill);
      if (c) state.coverage[f] = { equal: c.equal, total: c.total };
    });
    r.methods.forEach((m) => {
      state.methods.push(
        fills.map((fill, f) => {
          const curves = f === 0 ? m.aopc : m.aopcMore?.find((a) => a.fill === fill);
          return {
            morf: [...(m.perImage[aopcPerImageKey('aopc-morf', fills, f)] ?? [])],
            lerf: [...(m.perImage[aopcPerImageKey('aopc-lerf', fills, f)] ?? [])],
            ...(curves ? { sums: { patchSize: curves.patchSize, steps: curves.steps, fill: curves.fill, morf: curves.morf.sumFixed.map(BigInt), lerf: curves.lerf.sumFixed.map(BigInt) } } : {}),
          };
        }),
      );
    });
    return state;
  },
};

/** The mean curves over n images with their exact sums. */
function curvesOf(s: NonNullable<AopcFillState['sums']>, n: number): AopcResult {
  const curve = (sums: bigint[]): { mean: number[]; sumFixed: string[] } => ({
    mean: sums.map((v) => (n > 0 ? fromFixed(v) / n : 0)),
    sumFixed: sums.map((v) => v.toString()),
  });
  return { patchSize: s.patchSize, steps: s.steps, fill: s.fill, n, morf: curve(s.morf), lerf: curve(s.lerf) };
}

/**
 * The variant ('uniform fill', 'constant 0.5 fill') and params every AOPC row records; before any
 * image, none (one fill, as the results of one fill always were) or the fill's variant (several).
 */
function aopcExtra(state: AopcState, f: number, m: AopcFillState): { variant?: string; params: Record<string, unknown> } {
  if (!m.sums) return state.fills.length > 1 ? { variant: fillVariant(state.fills[f]!), params: {} } : { params: {} };
  const { patchSize, steps, fill } = m.sums;
  return { variant: fillVariant(fill), params: { patchSize, steps, fill } };
}

/** An AOPC row of one order: per fill, the mean of its per-image values. */
function aopcRow(order: AopcOrder): MetricCompute<AopcState> {
  return {
    accumulator: AOPC_CURVES,
    summarise: (state, at) => state.methods[at.method]!.map((m, f) => meanSummary(at, m[order], aopcExtra(state, f, m))),
  };
}

/** The 'aopc-morf' row (one summary per fill). */
export const AOPC_MORF = aopcRow('morf');
/** The 'aopc-lerf' row (one summary per fill). */
export const AOPC_LERF = aopcRow('lerf');
/** The 'aopc-rel' row, per fill: mean AOPC_morf / mean AOPC_lerf, or null with its reason ({@link aopcRel}). */
export const AOPC_REL: MetricCompute<AopcState> = {
  accumulator: AOPC_CURVES,
  summarise: (state: AopcState, at: SummaryContext): MetricSummary[] =>
    state.methods[at.method]!.map((m, f) => {
      const lerf = meanOf(m.lerf);
      const { value, undefinedReason } = aopcRel(meanOf(m.morf).value, lerf.value);
      const { variant, params } = aopcExtra(state, f, m);
      return {
        name: at.name, label: at.label, direction: at.direction, value, ...(undefinedReason ? { undefinedReason } : {}), n: lerf.n,
        ...(variant ? { variant } : {}), params,
      };
    }),
};

/**
 * Model-parameter randomisation test (Adebayo et al., 2018, "Sanity Checks for Saliency Maps",
 * https://arxiv.org/abs/1810.03292): a saliency method that explains the model must give
 * different maps when the model's weights are randomised. Reported per image as the Spearman
 * rank correlation between the per-pixel scores S = Σ_c|A| of the trained model and of the
 * randomised one (lower is better: 1 = the map ignores the weights).
 *
 * Randomisation: 'cascading' from the top, as in the paper: the trainable weights of the last
 * `layers` layers that have weights (all by default) are re-drawn, each tensor from a Gaussian
 * with that tensor's own mean and standard deviation (so a zero-initialised bias stays at its
 * mean and a scale keeps its size); non-trainable state (batch-norm moving statistics) is kept.
 *
 * The randomised weights are drawn once ({@link drawRandomWeights}) and swapped into the model
 * only for the synchronous duration of one call ({@link withWeights}), then restored in a
 * `finally`; nothing else can run in between (single-threaded JS, no await inside).
 *
 * @example
 * const rnd = drawRandomWeights(classifier, { seed: 1 });
 * const rho = randomizationSimilarity(classifier, x, target, saliencyFn, rnd);   // Float64Array [B]
 * disposeRandomWeights(rnd);
 */
import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../models/classifier.js';
import type { SaliencyFn } from '../saliency/types.js';
import { deriveSeed } from '../engine/random.js';
import { ConfigError } from '../errors.js';
import { meanSummary } from './_summary.js';
import type { MetricCompute } from './types.js';

/** Minimal view of a tfjs-layers weight (LayersVariable). */
interface WeightVar {
  readonly name: string;
  read(): tf.Tensor;
  write(v: tf.Tensor): unknown;
}

/** Replacement values for some of a model's weights; dispose with {@link disposeRandomWeights}. */
export interface RandomWeights {
  readonly vars: readonly WeightVar[];
  readonly values: readonly tf.Tensor[];
  /** Names of the randomised layers, top first. */
  readonly layers: readonly string[];
}

export interface RandomizationOptions {
  /** How many layers with weights to randomise, from the output down. @default all */
  layers?: number;
  /** Seed of the new weights. @default 0 */
  seed?: number;
}

/** Draws the randomised weights of the top `layers` weighted layers (caller disposes). */
export function drawRandomWeights(classifier: Classifier, { layers, seed = 0 }: RandomizationOptions = {}): RandomWeights {
  const weighted = classifier.model.layers.filter((l) => l.trainableWeights.length > 0).reverse();
  const count = layers ?? weighted.length;
  if (!(Number.isInteger(count) && count >= 1 && count <= weighted.length)) {
    throw new ConfigError(`randomization: expected layers an integer in [1, ${weighted.length}] (layers with weights), got ${count}`);
  }
  const chosen = weighted.slice(0, count);
  const vars: WeightVar[] = [];
  const values: tf.Tensor[] = [];
  // seeds by position (layer from the top, weight within it): variable names are not stable across
  // loads of the same model in one process (TF.js makes them unique)
  for (const [li, layer] of chosen.entries()) {
    for (const [wi, wv] of (layer.trainableWeights as unknown as WeightVar[]).entries()) {
      vars.push(wv);
      values.push(
        tf.tidy(() => {
          const v = wv.read();
          const { mean, variance } = tf.moments(v);
          const std = Math.sqrt(variance.dataSync()[0]!);
          return tf.add(tf.randomNormal(v.shape, 0, std > 0 ? std : 0, 'float32', deriveSeed(seed, li, wi)), mean);
        }),
      );
    }
  }
  return { vars, values, layers: chosen.map((l) => l.name) };
}

/** Disposes the tensors of {@link drawRandomWeights}. */
export function disposeRandomWeights(r: RandomWeights): void {
  tf.dispose([...r.values]);
}

/** Runs `fn` (synchronous) with `weights` swapped into the model; restores the originals after. */
export function withWeights<T>(weights: RandomWeights, fn: () => T): T {
  const saved = weights.vars.map((v) => tf.clone(v.read()));
  try {
    weights.vars.forEach((v, i) => v.write(weights.values[i]!));
    return fn();
  } finally {
    weights.vars.forEach((v, i) => v.write(saved[i]!));
    tf.dispose(saved);
  }
}

/**
 * Spearman rank correlation (ties get average ranks) between two equally long arrays; null when
 * either is constant.
 * @example spearman([1, 2, 3], [10, 20, 30])   // 1
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number | null {
  return pearson(averageRanks(a), averageRanks(b));
}

/**
 * Pearson correlation between two equally long arrays; null when either is constant.
 * @example pearson([1, 2, 3], [2, 4, 7])   // ≈ 0.993
 */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number | null {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : null;
}

function averageRanks(v: ArrayLike<number>): Float64Array {
  const n = v.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((i, j) => v[i]! - v[j]! || i - j);
  const r = new Float64Array(n);
  for (let s = 0; s < n; ) {
    let e = s;
    while (e + 1 < n && v[idx[e + 1]!] === v[idx[s]!]) e++;
    const avg = (s + e) / 2;
    for (let k = s; k <= e; k++) r[idx[k]!] = avg;
    s = e + 1;
  }
  return r;
}

/**
 * Per image, Spearman ρ between Σ_c|A| of the model and of the model with `weights` swapped in
 * (null for a constant map). `seed` is passed to both saliency calls. Does not dispose its inputs.
 */
export function randomizationSimilarity(
  classifier: Classifier,
  x: tf.Tensor4D,
  target: tf.Tensor1D,
  saliency: SaliencyFn,
  weights: RandomWeights,
  { seed, original }: { seed?: number; original?: ArrayLike<number> } = {},
): Array<number | null> {
  const [b, h, w] = x.shape;
  const call = seed === undefined ? {} : { seed };
  const mapOf = (): Float32Array =>
    tf.tidy(() => tf.sum(tf.abs(saliency(classifier, x, target, call)), 3).dataSync() as Float32Array);
  const before = original ?? mapOf();
  const after = withWeights(weights, mapOf);
  const n = h * w;
  return Array.from({ length: b }, (_, i) =>
    spearman(sub(before, i * n, (i + 1) * n), after.subarray(i * n, (i + 1) * n)),
  );
}

function sub(a: ArrayLike<number>, s: number, e: number): ArrayLike<number> {
  return ArrayBuffer.isView(a) ? (a as unknown as Float32Array).subarray(s, e) : Array.prototype.slice.call(a, s, e);
}

/** State of the randomisation row: the random weights (drawn once per run) and per-method values. */
interface RandomizationState {
  readonly weights?: RandomWeights;
  readonly values: Array<Array<number | null>>;
}

/** The 'randomization-similarity' row: weights from (seed, 'randomization'), the top config.randomization.layers. */
export const RANDOMIZATION_SIMILARITY: MetricCompute<RandomizationState> = {
  accumulator: {
    start: ({ classifier, config, methods }) => ({
      weights: drawRandomWeights(classifier, { seed: deriveSeed(config.seed, 'randomization'), ...(config.randomization.layers !== null ? { layers: config.randomization.layers } : {}) }),
      values: Array.from({ length: methods }, () => []),
    }),
    add: (state, b) =>
      void state.values[b.methodIndex]!.push(
        ...randomizationSimilarity(b.classifier, b.x, b.target, b.method.saliency, state.weights!, {
          seed: b.seed, ...(b.config.reduction === 'sum-abs' ? { original: b.scores } : {}),
        }),
      ),
    dispose: (state) => {
      if (state.weights) disposeRandomWeights(state.weights);
    },
    merge: (state, next) => next.values.forEach((v, mi) => state.values[mi]!.push(...v)),
    methodParts: (state, mi) => ({ perImage: { 'randomization-similarity': state.values[mi]! } }),
    read: (r) => ({ values: r.methods.map((m) => [...(m.perImage['randomization-similarity'] ?? [])]) }),
  },
  summarise: (state, at) => meanSummary(at, state.values[at.method]!, { params: { ...at.config.randomization } }),
};

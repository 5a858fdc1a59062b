/**
 * The evaluation pipeline: a classifier, a dataset split and saliency methods in, one plain-JSON
 * {@link EvaluationResult} out (metrics of method.md §4 and beyond).
 *
 * Typical steps:
 * 1. `const config = resolveEvaluationConfig(options, dataset)`: every default filled in;
 * 2. the index range: every sample, or with `limit` a class-stratified sample of `limit` drawn
 *    with `seed` from the labels (datasets/subset.ts; sorted indices), cut into `batchSize`
 *    batches, and for `shard: {index: i, count: n}` the i-th of n contiguous runs of whole batches
 *    of that sorted list ({@link shardRange}), so a shard sees exactly the batches (and seeds) of
 *    the unsharded run;
 * 3. per batch (bounded memory; tensors freed before the next batch): clean correctness; per
 *    method the attribution → per-pixel scores Σ_c|A| (its 8-bit map computed once, on demand),
 *    handed to the accumulator of each requested registry row (registry.ts; rows that share a
 *    computation, as AOPC's three, share one accumulator); the first `examples` images with each
 *    method's 8-bit map;
 * 4. the accumulators keep per-image values and exact sums; summaries are built from them by the
 *    same code that `mergeEvaluations` uses, so merged shards equal the unsharded result.
 *
 * Seeds: SmoothGrad noise and attack starts from (seed, method, global batch index); the AOPC
 * fill of an image from (seed, its dataset index), shared by MoRF/LeRF and all methods.
 *
 * @example
 * const result = await evaluate(classifier, dataset, {
 *   methods: saliencyMethods(['vanilla-gradient', 'integrated-gradients']),
 *   limit: 1000, shard: { index: 0, count: 4 }, seed: 1,
 * });
 * await writeJsonAtomic('eval.shard0.json', result);
 */
import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../models/classifier.js';
import type { Dataset } from '../datasets/dataset.js';
import { toTensors } from '../datasets/dataset.js';
import { drawSubset } from '../datasets/subset.js';
import type { SaliencyFn, TargetMode } from '../saliency/types.js';
import { toSaliencyMap } from '../saliency/postprocess.js';
import type { ChannelReduction } from '../saliency/postprocess.js';
import type { AttackFn } from '../attacks/types.js';
import { pgd } from '../attacks/pgd.js';
import { backendInfo } from '../engine/backend.js';
import { scaatVersion } from '../io/package-version.js';
import { deriveSeed } from '../engine/random.js';
import { ConfigError, DataError } from '../errors.js';
import { correctPredictions } from './accuracy.js';
import { DEFAULT_AOPC_FRACTION } from './aopc.js';
import type { AopcFill } from './aopc.js';
import { toUint8Map } from './uint8-map.js';
import { exampleImage, exampleMap } from './evaluation-examples.js';
import { METRICS } from './registry.js';
import type { EvaluationConfig, EvaluationExample, EvaluationResult, WeightsIdentity } from './evaluation-result.js';
import { assertFiniteRows } from './finite.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DEFAULT_RATIOS } from './robustness.js';
import type { NoiseMode } from './robustness.js';
import type { SizeFormat } from './saliency-size.js';
import { accumulatorsOf, buildResult } from './_assemble.js';
import type { RawEvaluation } from './_assemble.js';
import type { EvaluationBatch, MethodBatch, RunSetup } from './types.js';

/** A saliency method to evaluate, injected by the caller (see saliency/registry.ts `saliencyMethods`). */
export interface EvaluateMethod {
  /** Registry key (the results key). */
  readonly name: string;
  /** Display name. @default name */
  readonly label?: string;
  /** Resolved hyperparameters, recorded in the result. @default {} */
  readonly params?: Readonly<Record<string, unknown>>;
  /** The attribution function. */
  readonly saliency: SaliencyFn;
}

/** Options of {@link evaluate}; every field but `methods` has a documented default. */
export interface EvaluateOptions {
  /** Saliency methods, in result order. */
  methods: readonly EvaluateMethod[];
  /** Metric keys (METRICS). @default all, minus localisation when the dataset has no masks */
  metrics?: readonly string[];
  /** Class explained. @default 'label' (method.md §3) */
  target?: TargetMode;
  /**
   * Evaluate a class-stratified sample of `limit` samples, drawn with `seed` (datasets/subset.ts),
   * recorded in the result's `sample`. @default all
   */
  limit?: number;
  /** Evaluate the `index`-th of `count` parts. @default the whole range */
  shard?: { index: number; count: number };
  /** Images per batch. @default 32 */
  batchSize?: number;
  /** Seed of all randomness. @default 0 */
  seed?: number;
  /** Channel reduction to per-pixel scores. @default 'sum-abs' (method.md §4) */
  reduction?: ChannelReduction;
  /** Upper clipping percentile of the 8-bit map. @default 99 (method.md §4) */
  clipPercentile?: number;
  /** Size metric codec. @default {format: 'jpeg', quality: 75} (method.md §4) */
  size?: { format?: SizeFormat; quality?: number };
  /**
   * AOPC settings. @default the paper's regime (aopc.ts): P by image size (about 28 × 28 patches),
   * `fraction` 0.1 of them removed (L = round(0.1 · patches); `steps` overrides it, `fraction: 1` is
   * the whole-image curve), fill 'uniform', 256 rows per pass
   */
  aopc?: { patchSize?: number; fraction?: number; steps?: number; fill?: AopcFill; internalBatchSize?: number };
  /**
   * Robustness settings. @default ratios 0, 0.1, …, 0.9; PGD ε = 8/255, K = 7 steps, α = 2.5·ε/K
   * (Madry et al.: the attack can reach ε whatever K), random start (method.md §2.3); noise 'replace'
   */
  robustness?: { ratios?: readonly number[]; attack?: { epsilon?: number; alpha?: number; steps?: number; randomStart?: boolean }; noise?: NoiseMode };
  /** Pointing-game tolerance in pixels. @default 0 */
  localization?: { tolerance?: number };
  /** Randomised layers from the top. @default all */
  randomization?: { layers?: number };
  /**
   * Keep the first `examples` evaluated images (lowest indices) with each method's 8-bit map in
   * the result, for the report's example grid (0 = none). @default 4
   */
  examples?: number;
  /** Where the model came from (recorded). @default 'in-memory' */
  modelSource?: string;
  /** Which weights the model holds (models/io.ts loadModel), recorded as `model.weights`. @default not recorded */
  modelWeights?: WeightsIdentity;
  /** Replaces the PGD attack of the robustness curve (tests, other attacks). */
  attack?: AttackFn;
  /** Called after each batch. */
  onProgress?: (p: { done: number; total: number }) => void;
  /** Recorded in provenance. */
  command?: string;
}

/**
 * The sample positions [start, end) of shard `index` of `count` over the first `total` samples:
 * the i-th of `count` near-equal runs of whole batches of `batchSize`.
 * @example shardRange(100, 32, {index: 1, count: 2})   // {start: 64, end: 100} (batches 2..3 of 4)
 */
export function shardRange(total: number, batchSize: number, shard?: { index: number; count: number }): { start: number; end: number } {
  if (!shard) return { start: 0, end: total };
  const { index, count } = shard;
  if (!(Number.isInteger(count) && count >= 1 && Number.isInteger(index) && index >= 0 && index < count)) {
    throw new ConfigError(`shard: expected i/n with integers 0 ≤ i < n, got ${index}/${count}`);
  }
  const batches = Math.ceil(total / batchSize);
  const b0 = Math.floor((index * batches) / count);
  const b1 = Math.floor(((index + 1) * batches) / count);
  return { start: Math.min(b0 * batchSize, total), end: Math.min(b1 * batchSize, total) };
}

/**
 * The robustness attack's default step size for budget ε and K steps: α = 2.5·ε/K (Madry et al.
 * 2018), so K steps can travel 2.5ε and reach the ε-ball's boundary from any start.
 * @example robustnessAlpha(0.3, 7)   // 0.107…
 */
export function robustnessAlpha(epsilon: number, steps: number): number {
  return (2.5 * epsilon) / steps;
}

/** Fills in and checks every setting. @throws ConfigError naming the option. */
export function resolveEvaluationConfig(options: EvaluateOptions, dataset: Pick<Dataset, 'size' | 'hasMask'>): EvaluationConfig {
  const { methods, target = 'label', batchSize = 32, seed = 0, reduction = 'sum-abs', clipPercentile = 99 } = options;
  if (methods.length === 0 && (options.metrics ?? []).some((m) => METRICS.get(m)?.perMethod)) {
    throw new ConfigError('evaluate: per-method metrics need at least one saliency method');
  }
  const names = methods.map((m) => m.name);
  if (new Set(names).size !== names.length) throw new ConfigError(`evaluate: methods must be distinct, got ${names.join(', ')}`);
  if (target !== 'label' && target !== 'predicted') throw new ConfigError(`evaluate: expected target 'label' or 'predicted', got '${String(target)}'`);
  const posInt = (v: number, what: string): void => {
    if (!(Number.isInteger(v) && v >= 1)) throw new ConfigError(`evaluate: expected ${what} to be a positive integer, got ${v}`);
  };
  posInt(batchSize, 'batchSize');
  if (!Number.isInteger(seed)) throw new ConfigError(`evaluate: expected seed to be an integer, got ${seed}`);
  if (options.limit !== undefined) posInt(options.limit, 'limit');
  if (!(clipPercentile > 0 && clipPercentile <= 100)) throw new ConfigError(`evaluate: expected clipPercentile in (0, 100], got ${clipPercentile}`);
  const hasMask = dataset.hasMask === true;
  let metrics: string[];
  if (options.metrics) {
    for (const m of options.metrics) {
      const spec = METRICS.get(m);
      if (!spec) throw new ConfigError(`evaluate: unknown metric '${m}'; expected one of ${[...METRICS.keys()].join(', ')}`);
      if (spec.needsMasks && !hasMask) throw new ConfigError(`evaluate: metric '${m}' needs ground-truth masks, which this dataset does not have`);
    }
    // registry order, always with clean accuracy
    metrics = [...METRICS.keys()].filter((k) => k === 'clean-accuracy' || options.metrics!.includes(k));
  } else {
    metrics = [...METRICS.entries()].filter(([, s]) => !s.needsMasks || hasMask).map(([k]) => k);
  }
  const size = { format: options.size?.format ?? 'jpeg', quality: options.size?.quality ?? 75 };
  if (size.format !== 'jpeg' && size.format !== 'png') throw new ConfigError(`evaluate: expected size format 'jpeg' or 'png', got '${String(size.format)}'`);
  const a = options.aopc ?? {};
  const fill = a.fill ?? 'uniform';
  if (!(fill === 'uniform' || fill === 'black' || (typeof fill === 'number' && Number.isFinite(fill)))) {
    throw new ConfigError(`evaluate: expected AOPC fill 'uniform', 'black' or a number, got ${JSON.stringify(fill)}`);
  }
  if (a.patchSize !== undefined) posInt(a.patchSize, 'aopc.patchSize');
  if (a.steps !== undefined && !(Number.isInteger(a.steps) && a.steps >= 0)) throw new ConfigError(`evaluate: expected aopc.steps ≥ 0, got ${a.steps}`);
  const fraction = a.fraction ?? DEFAULT_AOPC_FRACTION;
  if (!(fraction > 0 && fraction <= 1)) throw new ConfigError(`evaluate: expected aopc.fraction in (0, 1], got ${fraction}`);
  const r = options.robustness ?? {};
  const ratios = [...(r.ratios ?? DEFAULT_RATIOS)];
  if (ratios.some((q) => !(q >= 0 && q <= 1))) throw new ConfigError(`evaluate: robustness ratios must lie in [0, 1], got ${ratios.join(', ')}`);
  const epsilon = r.attack?.epsilon ?? 8 / 255;
  const attackSteps = r.attack?.steps ?? 7;
  if (!(epsilon > 0 && epsilon <= 1)) throw new ConfigError(`evaluate: expected robustness.attack.epsilon in (0, 1], got ${epsilon}`);
  if (!(Number.isInteger(attackSteps) && attackSteps >= 1)) throw new ConfigError(`evaluate: expected robustness.attack.steps to be an integer ≥ 1, got ${attackSteps}`);
  const attack = { epsilon, alpha: r.attack?.alpha ?? robustnessAlpha(epsilon, attackSteps), steps: attackSteps, randomStart: r.attack?.randomStart ?? true };
  if (!(attack.alpha > 0)) throw new ConfigError(`evaluate: expected robustness.attack.alpha > 0, got ${attack.alpha}`);
  const noise = r.noise ?? 'replace';
  if (noise !== 'replace' && noise !== 'additive') throw new ConfigError(`evaluate: expected robustness noise 'replace' or 'additive', got '${String(noise)}'`);
  const examples = options.examples ?? 4;
  if (!(Number.isInteger(examples) && examples >= 0)) throw new ConfigError(`evaluate: expected examples to be an integer ≥ 0, got ${examples}`);
  const layers = options.randomization?.layers ?? null;
  if (layers !== null) posInt(layers, 'randomization.layers');
  return {
    methods: methods.map((m) => ({ name: m.name, params: { ...(m.params ?? {}) } })),
    metrics,
    target,
    limit: options.limit ?? null,
    batchSize,
    seed,
    reduction,
    clipPercentile,
    size,
    aopc: { patchSize: a.patchSize ?? null, fraction, steps: a.steps ?? null, fill, internalBatchSize: a.internalBatchSize ?? 256 },
    robustness: { ratios, attack, noise },
    localization: { tolerance: options.localization?.tolerance ?? 0 },
    randomization: { layers },
    examples,
  };
}

/**
 * Evaluates `methods` on `dataset` with `classifier` (see the module header). Streams the
 * dataset batch by batch; leaves no tensor behind.
 * @throws ConfigError for bad options; DataError when the dataset does not match the model.
 */
export async function evaluate(classifier: Classifier, dataset: Dataset, options: EvaluateOptions): Promise<EvaluationResult> {
  const started = Date.now();
  const config = resolveEvaluationConfig(options, dataset);
  const [mh, mw, mc] = classifier.inputShape;
  const [dh, dw, dc] = dataset.shape;
  if (mh !== dh || mw !== dw || mc !== dc) {
    throw new DataError(`evaluate: the model expects images [${classifier.inputShape.join(', ')}] but the dataset has [${dataset.shape.join(', ')}]`);
  }
  if (dataset.numClasses > classifier.numClasses) {
    throw new DataError(`evaluate: the dataset has ${dataset.numClasses} classes but the model only ${classifier.numClasses}`);
  }
  const sample = await drawSubset(dataset, config.limit ?? undefined, config.seed);
  const total = sample.indices.length;
  const { start, end } = shardRange(total, config.batchSize, options.shard);
  const accumulators = accumulatorsOf(config);

  const raw: RawEvaluation = {
    config,
    model: {
      source: options.modelSource ?? 'in-memory', inputShape: [...classifier.inputShape], numClasses: classifier.numClasses,
      ...(options.modelWeights ? { weights: options.modelWeights } : {}),
    },
    dataset: datasetSummary(dataset),
    sample: { rule: sample.info.rule, seed: sample.info.seed, size: sample.info.size, classHistogram: sample.info.classHistogram },
    shard: options.shard ? { index: options.shard.index, count: options.shard.count } : null,
    range: { start, end, total },
    images: { index: [], label: [], correct: [] },
    methods: options.methods.map((m) => ({ method: m.name, label: m.label ?? m.name, params: { ...(m.params ?? {}) } })),
    states: new Map(),
    examples: [],
    provenance: { startedAt: new Date(started).toISOString(), seconds: { total: 0 }, backend: backendInfo() ? { ...backendInfo() } : null, scaatVersion: scaatVersion() ?? 'unknown', ...(options.command ? { command: options.command } : {}) },
  };
  const seconds: Record<string, number> = Object.fromEntries(options.methods.map((m) => [m.name, 0]));
  const setup: RunSetup = { classifier, config, methods: options.methods.length, attack: options.attack ?? pgd({ ...config.robustness.attack }) };
  const indices = sample.indices.slice(start, end);
  let done = 0;
  try {
    for (const a of accumulators) raw.states.set(a, a.start(setup));
    if (indices.length > 0) {
      for await (const batch of dataset.batches({ batchSize: config.batchSize, indices })) {
        const globalBatch = Math.floor((start + done) / config.batchSize);
        const bad = batch.y.findIndex((v) => !(v >= 0 && v < classifier.numClasses));
        if (bad >= 0) {
          throw new DataError(`evaluate: sample ${batch.index[bad]} of '${dataset.source}' has label ${batch.y[bad]}; evaluation needs labels in [0, ${classifier.numClasses})`);
        }
        const [b, h, w] = batch.shape;
        const { x, y } = toTensors(batch);
        try {
          const correct = correctPredictions(classifier, x, y, batch.index);
          raw.images.index.push(...batch.index);
          raw.images.label.push(...batch.y);
          raw.images.correct.push(...correct);
          // the first `examples` evaluated images (ascending index): image now, maps per method below
          const nExamples = Math.max(0, Math.min(b, (config.examples ?? 0) - done));
          const batchExamples: Array<EvaluationExample & { maps: Record<string, EvaluationExample['image']> }> = [];
          if (nExamples > 0) {
            const predicted = tf.tidy(() => Array.from(tf.argMax(classifier.logits(x.slice(0, nExamples)), 1).dataSync()));
            const px = h * w * batch.shape[3];
            for (let i = 0; i < nExamples; i++) {
              const label = batch.y[i]!;
              const className = dataset.classNames[label];
              batchExamples.push({
                index: batch.index[i]!, label, ...(className !== undefined ? { className } : {}), predicted: predicted[i]!,
                image: exampleImage(batch.x.subarray(i * px, (i + 1) * px), w, h, batch.shape[3]), maps: {},
              });
            }
            raw.examples.push(...batchExamples);
          }
          const target = config.target === 'predicted' ? tf.tidy(() => tf.argMax(classifier.logits(x), 1).toInt() as tf.Tensor1D) : y;
          try {
            const images: EvaluationBatch = {
              classifier, config, x, y, target, pixels: batch.x, index: batch.index, ...(batch.mask ? { mask: batch.mask } : {}),
              shape: batch.shape, globalBatch, source: dataset.source,
            };
            for (const a of accumulators) a.addImages?.(raw.states.get(a), images);
            options.methods.forEach((method, mi) => {
              const t0 = Date.now();
              const seed = deriveSeed(config.seed, 'saliency', method.name, globalBatch);
              // per-pixel scores [B·H·W]
              const scores = tf.tidy(() => toSaliencyMap(method.saliency(classifier, x, target, { seed }), config.reduction as ChannelReduction).dataSync() as Float32Array);
              const n = h * w;
              assertFiniteRows(scores, n, batch.index, `${method.name} attributions`);
              const maps: Uint8Array[] = [];
              const u8 = (i: number): Uint8Array => (maps[i] ??= toUint8Map(scores.subarray(i * n, (i + 1) * n), { clipPercentile: config.clipPercentile }));
              const methodBatch: MethodBatch = { ...images, method, methodIndex: mi, seed, scores, u8 };
              for (const a of accumulators) a.add(raw.states.get(a), methodBatch);
              for (let i = 0; i < nExamples; i++) batchExamples[i]!.maps[method.name] = exampleMap(u8(i), w, h);
              seconds[method.name]! += (Date.now() - t0) / 1000;
            });
          } finally {
            if (target !== y) target.dispose();
          }
        } finally {
          x.dispose();
          y.dispose();
        }
        done += b;
        options.onProgress?.({ done, total: indices.length });
        await nextTurn(); // a turn of the event loop between batches: lets a signal (Ctrl-C, SIGTERM) be handled
      }
    }
  } finally {
    for (const [a, state] of raw.states) a.dispose?.(state);
  }
  if (done !== indices.length) {
    throw new DataError(`evaluate: dataset '${dataset.source}' yielded ${done} samples for ${indices.length} requested indices`);
  }
  raw.provenance = { ...raw.provenance, seconds: { total: (Date.now() - started) / 1000, ...seconds } };
  return buildResult(raw);
}

function datasetSummary(d: Dataset): Record<string, unknown> {
  return {
    format: d.format, source: d.source, split: d.split, size: d.size, shape: [...d.shape], numClasses: d.numClasses,
    classNames: [...d.classNames], hasMask: d.hasMask === true,
  };
}


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
 *    computation, as AOPC's three, share one accumulator); `examples` images (one per class
 *    first: evaluation-examples.ts exampleIndices) with each method's 8-bit map;
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
import type { SaliencyFn } from '../saliency/types.js';
import { toSaliencyMap } from '../saliency/postprocess.js';
import type { ChannelReduction } from '../saliency/postprocess.js';
import type { AttackFn } from '../attacks/types.js';
import { pgd } from '../attacks/pgd.js';
import { backendInfo } from '../engine/backend.js';
import { scaatVersion } from '../io/package-version.js';
import { deriveSeed } from '../engine/random.js';
import { ConfigError, DataError } from '../errors.js';
import { correctPredictions } from './accuracy.js';
import { toUint8Map } from './uint8-map.js';
import { exampleImage, exampleIndices, exampleMap } from './evaluation-examples.js';
import { METRICS } from './registry.js';
import type { EvaluationConfig, EvaluationExample, EvaluationResult, WeightsIdentity } from './evaluation-result.js';
import { assertFiniteRows } from './finite.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { EVALUATION_FLAGS, EVALUATION_SETTINGS } from './evaluation-options.js';
import type { EvaluationSettings } from './evaluation-options.js';
import { resolveLayers } from '../io/config-schema.js';
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

/**
 * Options of {@link evaluate}: the saliency methods (functions), what to record, and the settings of
 * {@link EvaluationSettings} (each documented, with its default, in evaluation-options.ts).
 */
export interface EvaluateOptions extends EvaluationSettings {
  /** Saliency methods, in result order. */
  methods: readonly EvaluateMethod[];
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

/**
 * Fills in and checks every setting (the checks and defaults of evaluation-options.ts), then the
 * methods and metrics against the registry and the dataset.
 * @throws ConfigError naming the setting (and its `scaat evaluate` flag), what was expected and what was found.
 */
export function resolveEvaluationConfig(options: EvaluateOptions, dataset: Pick<Dataset, 'size' | 'hasMask'>): EvaluationConfig {
  const { methods, modelSource: _source, modelWeights: _weights, attack: _attack, onProgress: _progress, command: _command, ...settings } = options;
  const s = resolveLayers(EVALUATION_SETTINGS, [{ source: 'evaluate', values: settings }], { where: 'evaluate', flagOf: (key) => EVALUATION_FLAGS.get(key) });
  if (methods.length === 0 && (s.metrics ?? []).some((m) => METRICS.get(m)?.perMethod)) {
    throw new ConfigError('evaluate: per-method metrics need at least one saliency method');
  }
  const names = methods.map((m) => m.name);
  if (new Set(names).size !== names.length) throw new ConfigError(`evaluate: methods must be distinct, got ${names.join(', ')}`);
  const hasMask = dataset.hasMask === true;
  let metrics: string[];
  if (s.metrics) {
    for (const m of s.metrics) {
      const spec = METRICS.get(m);
      if (!spec) throw new ConfigError(`evaluate: unknown metric '${m}'; expected one of ${[...METRICS.keys()].join(', ')}`);
      if (spec.needsMasks && !hasMask) throw new ConfigError(`evaluate: metric '${m}' needs ground-truth masks, which this dataset does not have`);
    }
    // registry order, always with clean accuracy
    metrics = [...METRICS.keys()].filter((k) => k === 'clean-accuracy' || s.metrics!.includes(k));
  } else {
    metrics = [...METRICS.entries()].filter(([, spec]) => !spec.needsMasks || hasMask).map(([k]) => k);
  }
  const { aopc: a, robustness: r } = s;
  const attack = { ...r.attack, alpha: r.attack.alpha ?? robustnessAlpha(r.attack.epsilon, r.attack.steps) };
  return {
    methods: methods.map((m) => ({ name: m.name, params: { ...(m.params ?? {}) } })),
    metrics,
    target: s.target,
    limit: s.limit ?? null,
    batchSize: s.batchSize,
    seed: s.seed,
    reduction: s.reduction,
    clipPercentile: s.clipPercentile,
    size: { format: s.size.format, quality: s.size.quality },
    aopc: { patchSize: a.patchSize ?? null, fraction: a.fraction, steps: a.steps ?? null, fill: a.fill, internalBatchSize: a.internalBatchSize },
    robustness: {
      ratios: r.ratios,
      attack: { epsilon: attack.epsilon, alpha: attack.alpha, steps: attack.steps, randomStart: attack.randomStart },
      noise: r.noise,
    },
    localization: { tolerance: s.localization.tolerance },
    randomization: { layers: s.randomization.layers ?? null },
    examples: s.examples,
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
  // the report's examples: one image per class first, chosen from the whole sample (every shard alike)
  const examples = new Set(exampleIndices(sample.indices, sample.labels, config.examples ?? 0));
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
          // the batch's examples (exampleIndices): image now, maps per method below
          const at: number[] = [];
          for (let i = 0; i < b; i++) if (examples.has(batch.index[i]!)) at.push(i);
          const batchExamples: Array<EvaluationExample & { maps: Record<string, EvaluationExample['image']> }> = [];
          if (at.length > 0) {
            const predicted = tf.tidy(() => Array.from(tf.argMax(classifier.logits(tf.gather(x, at)), 1).dataSync()));
            const px = h * w * batch.shape[3];
            at.forEach((i, e) => {
              const label = batch.y[i]!;
              const className = dataset.classNames[label];
              batchExamples.push({
                index: batch.index[i]!, label, ...(className !== undefined ? { className } : {}), predicted: predicted[e]!,
                image: exampleImage(batch.x.subarray(i * px, (i + 1) * px), w, h, batch.shape[3]), maps: {},
              });
            });
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
              at.forEach((i, e) => (batchExamples[e]!.maps[method.name] = exampleMap(u8(i), w, h)));
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


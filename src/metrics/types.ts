/**
 * The metric contract: every saliency-quality metric is a pure function of explicit inputs
 * (per-pixel scores, 8-bit maps, masks, or a classifier and images) in its own file, and is
 * one {@link MetricSpec} row in registry.ts: its metadata and its {@link MetricCompute} (the
 * {@link Accumulator} it reads and how it summarises it). evaluate() runs the accumulators of the
 * requested rows over the batches; merge runs their `merge`; both summarise with the same rows.
 * Metrics receive saliency maps or saliency functions by injection; they never import a method.
 */
import type * as tf from '@tensorflow/tfjs';
import type { AttackFn } from '../attacks/types.js';
import type { Classifier } from '../models/classifier.js';
import type { SaliencyFn } from '../saliency/types.js';
import type { EvaluationConfig, EvaluationResult, MethodEvaluation, MetricSummary } from './evaluation-result.js';

/** Which way a metric improves; the report renders ↓ / ↑ from it (Quantus, SCAAT's table). */
export type Direction = 'lower-is-better' | 'higher-is-better';

/** What a metric measures (Quantus-style grouping). */
export type MetricCategory = 'accuracy' | 'sparsity' | 'faithfulness' | 'robustness' | 'localisation' | 'randomisation';

/** What an accumulator's `start` gets: the run's model and settings. */
export interface RunSetup {
  readonly classifier: Classifier;
  readonly config: EvaluationConfig;
  /** Number of saliency methods (states hold one part per method, in config order). */
  readonly methods: number;
  /** The robustness rows' attack (EvaluateOptions.attack, else PGD with config.robustness.attack). */
  readonly attack: AttackFn;
}

/** One batch of evaluated images as every accumulator sees it (evaluate() owns the tensors). */
export interface EvaluationBatch {
  readonly classifier: Classifier;
  readonly config: EvaluationConfig;
  /** Images [B, H, W, C] in [0, 1]. */
  readonly x: tf.Tensor4D;
  /** Labels [B]. */
  readonly y: tf.Tensor1D;
  /** The explained class of each image (config.target) [B]. */
  readonly target: tf.Tensor1D;
  /** The images' values, B·H·W·C. */
  readonly pixels: Float32Array;
  /** Dataset indices of the images [B]. */
  readonly index: Int32Array;
  /** Ground-truth masks [B·H·W], when the dataset has them. */
  readonly mask?: Uint8Array;
  /** [B, H, W, C]. */
  readonly shape: readonly [number, number, number, number];
  /** Position of the batch in the unsharded run (seeds do not depend on sharding). */
  readonly globalBatch: number;
  /** The dataset's source, for error messages. */
  readonly source: string;
}

/** One batch with one saliency method's maps. */
export interface MethodBatch extends EvaluationBatch {
  readonly method: { readonly name: string; readonly saliency: SaliencyFn };
  /** Position of the method in config.methods. */
  readonly methodIndex: number;
  /** Seed of the batch's saliency call (SmoothGrad noise), from (seed, method, global batch). */
  readonly seed: number;
  /** Per-pixel scores (config.reduction of the attribution), B·H·W, finite. */
  readonly scores: Float32Array;
  /** The 8-bit map of image i (postprocess.ts, config.clipPercentile), computed once per batch. */
  u8(i: number): Uint8Array;
}

/** The parts of one method's result an accumulator writes, in result order. */
export interface MethodParts {
  /** Per-image values by metric key (MethodEvaluation.perImage). */
  readonly perImage?: Readonly<Record<string, Array<number | null>>>;
  /** Further fields of the method's result. */
  readonly fields?: Partial<Pick<MethodEvaluation, 'entropyHistogram' | 'aopc' | 'aopcMore' | 'robustness'>>;
}

/**
 * The exact, mergeable state behind one or more metric rows (AOPC_morf, AOPC_lerf and AOPC_rel
 * share one), for all methods of a run: start, per batch, merge, finish (the result's parts),
 * and back from a result file. The state must round-trip through the result JSON, so that merged
 * shards equal the unsharded run.
 */
export interface Accumulator<S> {
  /** The empty state before the first batch (it may hold tensors: see dispose). */
  start(run: RunSetup): S;
  /** Adds a batch's images once, whatever the methods (e.g. AOPC's fill coverage). */
  addImages?(state: S, batch: EvaluationBatch): void;
  /** Adds one method's pass over a batch. */
  add(state: S, batch: MethodBatch): void;
  /** Frees what start allocated; called once, also after an error. */
  dispose?(state: S): void;
  /** Appends `next`, the state of the following index range. */
  merge(state: S, next: S): void;
  /** Method `method`'s parts of the result over `n` images. */
  methodParts(state: S, method: number, n: number): MethodParts;
  /** Its fields of the whole result (e.g. fillCoverage). */
  resultParts?(state: S): Partial<Pick<EvaluationResult, 'fillCoverage' | 'fillCoverageMore'>>;
  /** Its warnings on the whole result. */
  warnings?(state: S, config: EvaluationConfig): string[];
  /** The state back from a result file (for merging). */
  read(result: EvaluationResult): S;
}

/** What a row's summary gets besides its accumulator's state. */
export interface SummaryContext {
  /** The row: its key, label and direction. */
  readonly name: string;
  readonly label: string;
  readonly direction: Direction;
  readonly config: EvaluationConfig;
  /** Number of evaluated images. */
  readonly n: number;
  /** Of them, classified correctly (clean accuracy). */
  readonly correct: number;
  /** Position of the summarised method (−1 for a metric of the model alone). */
  readonly method: number;
}

/** How a row is computed: the accumulator it reads (none: the images' correctness alone) and its summary. */
export interface MetricCompute<S> {
  readonly accumulator?: Accumulator<S>;
  /**
   * The row's summary of method `at.method`; a row evaluated in several variants gives one per
   * variant, in order, each naming its `variant` (AOPC's rows: one per fill of `aopc.fill`).
   */
  summarise(state: S, at: SummaryContext): MetricSummary | readonly MetricSummary[];
}

/** A registry row. */
export interface MetricSpec {
  /** Display name, e.g. 'AOPC_lerf'. */
  readonly label: string;
  readonly direction: Direction;
  readonly category: MetricCategory;
  /** Unit of the value, e.g. 'bits', 'KB', 'fraction', 'Δ probability', 'ρ'. */
  readonly unit: string;
  /** One line: what it is and where it comes from. */
  readonly description: string;
  /** Needs ground-truth relevance masks in the dataset. */
  readonly needsMasks?: boolean;
  /** Needs a saliency method (false: a property of the model alone, e.g. clean accuracy). */
  readonly perMethod: boolean;
  /** Its computation. */
  readonly compute: MetricCompute<unknown>;
}

/**
 * `EvaluationResult`: the JSON that `scaat evaluate` writes and `scaat merge` combines
 * (schemaVersion 1). Plain JSON types only (no imports), so the report room can read or copy it.
 *
 * Everything except `provenance` is a deterministic function of (model, dataset, config): a shard
 * holds the per-image values and exact accumulators of its index range, and merging the shards of
 * one run gives, field for field, the result of the unsharded run (provenance aside: it records
 * where and when each part ran). Summaries (`metrics`, `accuracy` of curves…) are recomputed from
 * the raw parts by the same code on both paths.
 *
 * The `methods[i]` objects follow the report's `MethodResults` shape (method, label, params,
 * metrics[], perImage, robustness[]), so a report run's `evaluation` can be filled from
 * {@link EvaluationResult.evaluation} directly.
 */

/** Version of this format; bump on an incompatible change. */
export const EVALUATION_SCHEMA_VERSION = 1;

/** A metric's display metadata, copied from the metrics registry into each result. */
export interface MetricInfo {
  /** Display name, e.g. 'AOPC_lerf'. */
  readonly label: string;
  /** 'lower-is-better' or 'higher-is-better'. */
  readonly direction: 'lower-is-better' | 'higher-is-better';
  /** 'accuracy' | 'sparsity' | 'faithfulness' | 'robustness' | 'localisation' | 'randomisation'. */
  readonly category: string;
  /** Unit of the value ('bits', 'KB', 'fraction', …). */
  readonly unit: string;
}

/** One metric's summary over the evaluated images. */
export interface MetricSummary {
  /** Registry key, e.g. 'entropy', 'aopc-lerf'. */
  readonly name: string;
  /** Display name. */
  readonly label: string;
  /** Which way it improves. */
  readonly direction: 'lower-is-better' | 'higher-is-better';
  /**
   * Mean over the images where it is defined; null when defined for none, or for AOPC_rel when the
   * AOPC_lerf mean is ≤ {@link AOPC_REL_MIN_LERF} (then `undefinedReason` says why).
   */
  readonly value: number | null;
  /** Why `value` is null when it is a ratio whose denominator is not meaningful (AOPC_rel). */
  readonly undefinedReason?: string;
  /** Population standard deviation over the same images (absent for ratios and curve areas). */
  readonly std?: number;
  /** Number of images the value averages. */
  readonly n: number;
  /** Setting that distinguishes variants of one metric, e.g. 'uniform fill', 'jpeg q75'. */
  readonly variant?: string;
  /** The hyperparameters it was computed with. */
  readonly params?: Readonly<Record<string, unknown>>;
}

/** Accuracy against q for the low-saliency robustness curve of one method. */
export interface RobustnessCurveResult {
  /** 'attack' (masked attack of method.md §2.3) or 'noise'. */
  readonly kind: 'attack' | 'noise';
  /** Fractions q of pixels perturbed. */
  readonly ratios: readonly number[];
  /** Accuracy in [0, 1] at each q (correct / n). */
  readonly accuracy: readonly number[];
  /** Number of correctly classified images at each q (the exact, mergeable part). */
  readonly correct: readonly number[];
  /** Number of images. */
  readonly n: number;
  /** Attack or noise settings. */
  readonly params: Readonly<Record<string, unknown>>;
}

/** The mean AOPC curve of one order, with its exact accumulator. */
export interface AopcCurveResult {
  /** Mean over images of p_c(x⁰) − p_c(xᵏ), k = 0..L. */
  readonly mean: readonly number[];
  /**
   * Σ over images of p_c(x⁰) − p_c(xᵏ) in fixed point (units of 2⁻³² as decimal integer strings),
   * k = 0..L: exact and order-independent, so shard sums add up to the unsharded sum.
   */
  readonly sumFixed: readonly string[];
}

/** AOPC curves of one method. */
export interface AopcResult {
  /** Patch side P in pixels. */
  readonly patchSize: number;
  /** Number of removal steps L. */
  readonly steps: number;
  /** Fill of removed patches ('uniform', 'black' or a constant). */
  readonly fill: string | number;
  /** Number of images. */
  readonly n: number;
  /** Most relevant first. */
  readonly morf: AopcCurveResult;
  /** Least relevant first. */
  readonly lerf: AopcCurveResult;
}

/** What evaluation measured for one saliency method. */
export interface MethodEvaluation {
  /** Saliency registry key, e.g. 'integrated-gradients'. */
  readonly method: string;
  /** Display name. */
  readonly label: string;
  /** The method's resolved hyperparameters (SaliencySpec.describe()). */
  readonly params: Readonly<Record<string, unknown>>;
  /**
   * Summaries of the requested per-method metrics, in registry order; a row evaluated in several
   * variants has one summary per variant, each naming it (AOPC with a list of fills: one per fill,
   * in the list's order).
   */
  readonly metrics: readonly MetricSummary[];
  /**
   * Per-image values by metric key ('entropy', 'size', 'aopc-morf', 'aopc-lerf',
   * 'relevance-mass-accuracy', 'pointing-game', 'randomization-similarity'), aligned with
   * {@link EvaluationResult.images}.index; null where undefined for that image. With a list of AOPC
   * fills, the first fill's under 'aopc-morf' and 'aopc-lerf', each other fill's under
   * 'aopc-morf (<variant>)' and 'aopc-lerf (<variant>)', e.g. 'aopc-lerf (black fill)'.
   */
  readonly perImage: Readonly<Record<string, readonly (number | null)[]>>;
  /** Histogram of per-image entropy: 32 bins of 0.25 bit over [0, 8] (edges has 33 entries). */
  readonly entropyHistogram?: { readonly edges: readonly number[]; readonly counts: readonly number[] };
  /** AOPC curves (when an AOPC metric was requested); of the first fill when there are several. */
  readonly aopc?: AopcResult;
  /** The AOPC curves of each fill after the first, in the list's order (absent with one fill). */
  readonly aopcMore?: readonly AopcResult[];
  /** Low-saliency robustness curves (when requested). */
  readonly robustness?: readonly RobustnessCurveResult[];
}

/** An 8-bit image or map, row-major [height, width, channels], base64 of the raw bytes (the report's Image8). */
export interface ExampleImage {
  readonly width: number;
  readonly height: number;
  /** 1 (gray, or a saliency map) or 3 (RGB). */
  readonly channels: 1 | 3;
  /** base64 of width·height·channels bytes. */
  readonly data: string;
}

/** One example of the report's grid: an evaluated image and each method's 8-bit map (the report's Example). */
export interface EvaluationExample {
  /** Sample index in the split. */
  readonly index: number;
  /** True label. */
  readonly label: number;
  /** Class name of the label, when the dataset has names. */
  readonly className?: string;
  /** The model's predicted class. */
  readonly predicted: number;
  /** The input image, round(255·x). */
  readonly image: ExampleImage;
  /** Per method key: the 8-bit map U8 of method.md §4 (the metrics' post-processing, uint8-map.ts). */
  readonly maps: Readonly<Record<string, ExampleImage>>;
}

/** Which samples of the split an evaluation covers (datasets/subset.ts `SubsetInfo`, less the limit, which is in the config). */
export interface EvaluationSample {
  /** 'all': every sample of the split; 'class-stratified': a seeded sample of `config.limit` with the split's class frequencies. */
  readonly rule: 'all' | 'class-stratified';
  /** Seed of the draw (config.seed); null for 'all'. */
  readonly seed: number | null;
  /** Number of samples (= range.total). */
  readonly size: number;
  /** Samples per class in the whole sample (every shard's), index = label. */
  readonly classHistogram: readonly number[];
}

/** The resolved evaluation settings (every default filled in). */
export interface EvaluationConfig {
  /** Saliency methods in order, with their resolved options. */
  readonly methods: ReadonlyArray<{ readonly name: string; readonly params: Readonly<Record<string, unknown>> }>;
  /** Metric keys computed. */
  readonly metrics: readonly string[];
  /** Class explained: the true label or the predicted class. */
  readonly target: 'label' | 'predicted';
  /** Evaluate a class-stratified sample of `limit` samples of the split, drawn with `seed` (null = all; see {@link EvaluationResult.sample}). */
  readonly limit: number | null;
  /** Images per batch; shards are aligned to it. */
  readonly batchSize: number;
  /** Seed of every random choice (SmoothGrad noise, AOPC fill, attack starts, randomised weights). */
  readonly seed: number;
  /** Channel reduction of attributions to per-pixel scores (method.md §4: 'sum-abs'). */
  readonly reduction: string;
  /** Upper clipping percentile of the 8-bit map (method.md §4: 99). */
  readonly clipPercentile: number;
  /** Codec and quality of the size metric. */
  readonly size: { readonly format: 'jpeg' | 'png'; readonly quality: number };
  /**
   * AOPC settings; null patchSize means the per-image-size default (aopc.ts defaultPatchSize); null
   * steps means L = round(fraction · patches) (fraction 1 = the whole-image curve).
   */
  readonly aopc: {
    readonly patchSize: number | null;
    readonly fraction: number;
    readonly steps: number | null;
    /**
     * One fill, or a list of at least two distinct fills, each evaluated in turn (its rows named by
     * their `variant`; the first fill's per-image values and curves under the names of one fill, the
     * others' under their own: {@link MethodEvaluation.perImage}, {@link MethodEvaluation.aopcMore}).
     */
    readonly fill: 'uniform' | 'black' | number | ReadonlyArray<'uniform' | 'black' | number>;
    readonly internalBatchSize: number;
  };
  /** Robustness-curve settings. */
  readonly robustness: {
    readonly ratios: readonly number[];
    /** The masked attack: L∞ PGD of method.md §2.3. */
    readonly attack: { readonly epsilon: number; readonly alpha: number; readonly steps: number; readonly randomStart: boolean };
    /** 'replace' (uniform noise in [0, 1]) or 'additive' (U(−ε, ε), ε = attack.epsilon). */
    readonly noise: 'replace' | 'additive';
  };
  /** Pointing-game tolerance in pixels. */
  readonly localization: { readonly tolerance: number };
  /** Layers randomised from the top (null = all). */
  readonly randomization: { readonly layers: number | null };
  /** Examples kept: the first `examples` evaluated images (0 = none; absent in older files = none). */
  readonly examples?: number;
}

/** Where and when (part of) a result was computed; not part of the deterministic result. */
export interface Provenance {
  /** ISO time the evaluation started. */
  readonly startedAt: string;
  /** Wall-clock seconds in total and per method. */
  readonly seconds: { readonly total: number; readonly [method: string]: number };
  /** Backend info (name, tfjsVersion, threads, accelerator, machine, node). */
  readonly backend: Readonly<Record<string, unknown>> | null;
  /** scaat package version. */
  readonly scaatVersion: string;
  /** The command line, when run from the CLI. */
  readonly command?: string;
  /** For a merged result: the provenance of each shard, in shard order. */
  readonly shards?: readonly Provenance[];
}

/** Which weights a result was computed from (models/io.ts ModelWeights, as recorded). */
export interface WeightsIdentity {
  /** SHA-256 (hex) of the weight bytes (`sha256sum weights.bin`). */
  readonly sha256: string;
  /** The checkpoint the weights came from (no final model yet), else null. */
  readonly checkpoint: { readonly name: string; readonly step: number } | null;
}

/** The results file of `scaat evaluate` (one shard or the whole run) and of `scaat merge`. */
export interface EvaluationResult {
  /** {@link EVALUATION_SCHEMA_VERSION}. */
  readonly schemaVersion: number;
  /** Always 'scaat-evaluation' (tells this file from a report's results.json). */
  readonly kind: 'scaat-evaluation';
  /** Resolved settings; equal across the shards of one run. */
  readonly config: EvaluationConfig;
  /**
   * The model evaluated: where it was loaded from, its input/output sizes and which weights it held
   * (`weights`, absent in files written before it was recorded, and for in-memory models).
   */
  readonly model: { readonly source: string; readonly inputShape: readonly number[]; readonly numClasses: number; readonly weights?: WeightsIdentity };
  /** The dataset split evaluated (format, source, split, size, shape, numClasses, hasMask). */
  readonly dataset: Readonly<Record<string, unknown>>;
  /** The evaluated samples (absent in files written before it was recorded, which used the first `limit`). */
  readonly sample?: EvaluationSample;
  /** Which shard this file holds ({index, count}), or null for a complete run (unsharded or merged). */
  readonly shard: { readonly index: number; readonly count: number } | null;
  /** Positions [start, end) of this file's samples in the sorted index list of `sample` (`total` samples). */
  readonly range: { readonly start: number; readonly end: number; readonly total: number };
  /** Per-image identity and clean correctness, in evaluation order (ascending index). */
  readonly images: {
    /** Sample index in the split. */
    readonly index: readonly number[];
    /** True label. */
    readonly label: readonly number[];
    /** 1 if the model predicts the label, else 0. */
    readonly correct: readonly number[];
  };
  /** Clean accuracy over the evaluated images. */
  readonly cleanAccuracy: MetricSummary;
  /** Registry metadata of every metric present (label, direction, category, unit). */
  readonly metricInfo: Readonly<Record<string, MetricInfo>>;
  /** One entry per saliency method, in config order. */
  readonly methods: readonly MethodEvaluation[];
  /**
   * The first `config.examples` evaluated images (lowest indices) with each method's map, in
   * ascending index; absent when config.examples is 0. A shard keeps the first of its own range,
   * merge the lowest across shards.
   */
  readonly examples?: readonly EvaluationExample[];
  /**
   * For a constant AOPC fill ('black' or a number): how many of the evaluated pixel values (all
   * channels) already equal the fill. Exact integers, summed by merge.
   */
  readonly fillCoverage?: { readonly equal: number; readonly total: number };
  /**
   * With a list of AOPC fills, {@link fillCoverage} is the first constant fill's; this holds each
   * later constant fill's, in the list's order (absent with fewer than two constant fills).
   */
  readonly fillCoverageMore?: ReadonlyArray<{ readonly fill: string | number; readonly equal: number; readonly total: number }>;
  /** Warnings about what the numbers can mean (e.g. a fill equal to the data's background); shown by the CLI and the report. */
  readonly warnings?: readonly string[];
  /** Where and when it ran (excluded from shard/merge equality). */
  readonly provenance: Provenance;
}

/**
 * AOPC_rel is undefined when the AOPC_lerf mean is at or below this: 100 float32 steps of a
 * probability near 1 (2^-23 ≈ 1.2e-7 each). Below it, p_c(x⁰) − p_c(xᵏ) can be the rounding of the
 * forward pass (e.g. another batch composition), not an effect, and the ratio is noise over noise;
 * the poster's smallest AOPC_lerf (0.21e-3) is 20× above it.
 */
export const AOPC_REL_MIN_LERF = 1e-5;

/**
 * A constant AOPC fill that at least this fraction of the evaluated pixel values already equal
 * (black fill on MNIST: about 80 %) gets a warning: replacing those pixels changes nothing.
 */
export const FILL_BACKGROUND_WARNING = 0.25;

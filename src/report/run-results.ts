/**
 * `RunResults`: the JSON contract the report renders (schemaVersion 1).
 *
 * One file describes one or more runs. Each run carries what a reader needs to trust and rerun it
 * (trainer, resolved config, seed, backend, versions, timings), what training did (per-epoch
 * curves, SCAAT's q_i histograms) and what evaluation measured (clean accuracy; per saliency
 * method the metrics with their direction, per-image entropies, low-saliency robustness curves;
 * example saliency maps). Every part except the run's identity is optional: the report shows what
 * is there and says what is missing.
 *
 * Plain JSON only (no TF.js here). Producers: `scaat evaluate` / `scaat demo` (through the CLI's
 * adapter, load-results.ts). Consumers: render-html.ts, figures.ts, table.ts.
 *
 * Validation: {@link parseResults} checks types and names the offending path
 * ("runs[1].evaluation.methods[0].metrics[2].value: expected number or null, got string").
 * Unknown keys are kept (forward compatible); a newer schemaVersion is rejected.
 */
import { z } from 'zod';
import { jsonTypeOf, valueAt } from '../io/json-values.js';
import { DataError } from '../errors.js';

/** The version this code writes and reads. Bump on an incompatible change. */
export const RESULTS_SCHEMA_VERSION = 1;

/** Which way a metric improves; the report renders ↓ / ↑ from it and marks the best value. */
export type Direction = 'lower-is-better' | 'higher-is-better';

const direction = z.enum(['lower-is-better', 'higher-is-better']);
const finite = z.number().refine(Number.isFinite, { message: 'expected a finite number' });
const jsonObject = z.record(z.string(), z.unknown());

/** A histogram: `counts[i]` values fell in [edges[i], edges[i+1]) (the last bin is closed). */
const histogram = z
  .looseObject({
    edges: z.array(finite).min(2),
    counts: z.array(finite.nonnegative()),
  })
  .refine((h) => h.edges.length === h.counts.length + 1, {
    message: 'edges must have one more entry than counts',
  });

/** An 8-bit image, row-major H×W×C, base64 of the raw bytes (no PNG: the report encodes). */
const image8 = z
  .looseObject({
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    channels: z.union([z.literal(1), z.literal(3)]),
    data: z.string(),
  })
  .refine((im) => base64Length(im.data) === im.width * im.height * im.channels, {
    message: 'data must hold width·height·channels bytes (base64)',
  });

const metricValue = z.looseObject({
  name: z.string().min(1),
  label: z.string().optional(),
  direction: direction.optional(),
  value: finite.nullable(),
  std: finite.optional(),
  n: z.number().int().nonnegative().optional(),
  variant: z.string().optional(),
  params: jsonObject.optional(),
  undefinedReason: z.string().optional(),
});

const robustnessCurve = z
  .looseObject({
    kind: z.string().min(1),
    ratios: z.array(finite),
    accuracy: z.array(finite.nullable()),
    params: jsonObject.optional(),
  })
  .refine((c) => c.ratios.length === c.accuracy.length, { message: 'ratios and accuracy must have the same length' });

const aopcCurves = z.looseObject({
  patchSize: finite,
  steps: finite,
  fill: z.union([z.string(), finite]),
  morf: z.array(finite),
  lerf: z.array(finite),
});

const methodResults = z.looseObject({
  method: z.string().min(1),
  label: z.string().optional(),
  params: jsonObject.optional(),
  metrics: z.array(metricValue),
  perImage: z.record(z.string(), z.array(finite.nullable())).optional(),
  robustness: z.array(robustnessCurve).optional(),
  aopc: aopcCurves.optional(),
  aopcMore: z.array(aopcCurves).optional(),
  seconds: finite.optional(),
});

const trainingWarning = z.looseObject({
  code: z.string().min(1),
  epochs: z.array(z.number().int().nonnegative()),
  message: z.string(),
});

const epochRecord = z.looseObject({ epoch: z.number().int().nonnegative() }).catchall(z.unknown());

const qEpoch = z.looseObject({
  epoch: z.number().int().nonnegative(),
  histogram,
  mean: finite.optional(),
  median: finite.optional(),
});

const example = z.looseObject({
  index: z.number().int().nonnegative(),
  label: z.number().int().optional(),
  className: z.string().optional(),
  predicted: z.number().int().optional(),
  image: image8,
  maps: z.record(z.string(), image8),
});

const runResult = z.looseObject({
  id: z.string().min(1),
  trainer: z.string().min(1),
  label: z.string().optional(),
  model: z.string().optional(),
  dataset: jsonObject.optional(),
  config: jsonObject,
  seed: z.number().int().nullable(),
  backend: jsonObject.optional(),
  versions: z.record(z.string(), z.string()).optional(),
  timings: z.record(z.string(), finite).optional(),
  createdAt: z.string().optional(),
  command: z.string().optional(),
  source: z.string().optional(),
  weights: z
    .looseObject({
      sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits'),
      checkpoint: z.looseObject({ name: z.string(), step: z.number().int().nonnegative() }).nullable(),
    })
    .optional(),
  training: z
    .looseObject({
      epochs: z.array(epochRecord),
      q: z.array(qEpoch).optional(),
    })
    .optional(),
  trainingWarnings: z.array(trainingWarning).optional(),
  evaluation: z
    .looseObject({
      split: z.string().optional(),
      numImages: z.number().int().nonnegative().optional(),
      cleanAccuracy: finite.nullable().optional(),
      params: jsonObject.optional(),
      methods: z.array(methodResults),
      warnings: z.array(z.string()).optional(),
    })
    .optional(),
  examples: z.array(example).optional(),
});

const runResults = z.looseObject({
  schemaVersion: z.number().int(),
  title: z.string().optional(),
  createdAt: z.string().optional(),
  command: z.string().optional(),
  notes: z.array(z.string()).optional(),
  runs: z.array(runResult).min(1),
});

/** `counts[i]` values in [edges[i], edges[i+1]); `edges.length === counts.length + 1`. */
export interface Histogram {
  readonly edges: readonly number[];
  readonly counts: readonly number[];
}

/**
 * An 8-bit image or map, row-major [height, width, channels], as base64 of the raw bytes.
 * Saliency maps are 1-channel U8 maps after method.md §4's post-processing (0 = least salient).
 */
export interface Image8 {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  /** base64 of width·height·channels bytes. */
  readonly data: string;
}

/** One metric of one saliency method on one run. */
export interface MetricValue {
  /** Registry key (metrics/registry.ts), e.g. 'entropy', 'size', 'aopc-lerf', 'aopc-morf', 'aopc-rel'. */
  readonly name: string;
  /** Display name (default: from {@link METRIC_INFO}, else the key). */
  readonly label?: string;
  /** Default: from {@link METRIC_INFO}; absent and unknown → no best value is marked. */
  readonly direction?: Direction;
  /** Mean over the evaluated images; null when undefined (e.g. AOPC_rel with AOPC_lerf ≤ float noise). */
  readonly value: number | null;
  /** Why the value is undefined (not merely missing), e.g. AOPC_rel over an AOPC_lerf at float noise. */
  readonly undefinedReason?: string;
  /** Standard deviation over images, when the producer computed it. */
  readonly std?: number;
  /** Number of images the value averages. */
  readonly n?: number;
  /** Distinguishes settings of the same metric, e.g. 'noise fill' vs 'black fill' for AOPC. */
  readonly variant?: string;
  /** Resolved hyperparameters (patch size, fill, steps…). */
  readonly params?: Readonly<Record<string, unknown>>;
}

/** Accuracy when the q lowest-saliency pixels are attacked (or replaced by noise). */
export interface RobustnessCurve {
  /** 'attack' (masked PGD of method.md §2.3) or 'noise' (uniform noise), or another named kind. */
  readonly kind: string;
  /** Fractions q of pixels perturbed, e.g. [0, 0.1, …, 0.9]. */
  readonly ratios: readonly number[];
  /** Accuracy in [0, 1] at each ratio (null where not measured). */
  readonly accuracy: readonly (number | null)[];
  readonly params?: Readonly<Record<string, unknown>>;
}

/**
 * Mean AOPC curves of one fill: p_c(x⁰) − p_c(xᵏ) averaged over images for k = 0..steps, removing
 * patches most relevant first (morf) and least relevant first (lerf).
 */
export interface AopcMeanCurves {
  readonly patchSize: number;
  readonly steps: number;
  /** 'uniform', 'black' or a constant. */
  readonly fill: string | number;
  readonly morf: readonly number[];
  readonly lerf: readonly number[];
}

/** What evaluation measured for one saliency method. */
export interface MethodResults {
  /** Registry key, e.g. 'vanilla-gradient', 'smooth-grad', 'integrated-gradients'. */
  readonly method: string;
  /** Display name (default: from {@link METHOD_LABELS}, else the key). */
  readonly label?: string;
  /** Resolved hyperparameters of the method (SaliencySpec.describe()). */
  readonly params?: Readonly<Record<string, unknown>>;
  /**
   * The metrics' values; a metric evaluated in several variants (AOPC with several fills) once per
   * variant, each naming it. Where the report shows one value of a metric per method (the headline
   * table, the comparison against the poster, the fronts), it is the metric's first entry here.
   */
  readonly metrics: readonly MetricValue[];
  /**
   * Per-image values by metric key (e.g. {entropy: [...]}) for the distribution figures; an AOPC
   * fill after the first has its own keys ('aopc-lerf (black fill)').
   */
  readonly perImage?: Readonly<Record<string, readonly (number | null)[]>>;
  readonly robustness?: readonly RobustnessCurve[];
  /** Mean AOPC curves (of the first fill, when the evaluation had several). */
  readonly aopc?: AopcMeanCurves;
  /** The mean AOPC curves of each further fill, in the evaluation's order. */
  readonly aopcMore?: readonly AopcMeanCurves[];
  /** Wall-clock seconds this method's evaluation took. */
  readonly seconds?: number;
}

/** One training epoch: `epoch` (0-based) plus any numbers the trainer logged (loss, acc, lr, seconds…). */
export interface EpochRecord {
  readonly epoch: number;
  readonly [key: string]: unknown;
}

/**
 * A warning training logged (log.jsonl's `type: 'warning'` records of train/loop.ts), once per
 * code: e.g. 'constant-predictor' (the model predicted one class for every test sample).
 */
export interface TrainingWarning {
  /** The record's `code`, e.g. 'constant-predictor'. */
  readonly code: string;
  /** The epochs it was logged at, 0-based as the log records them (messages say `epoch + 1`), ascending, distinct. */
  readonly epochs: readonly number[];
  /** The last record's message. */
  readonly message: string;
}

/** SCAAT's q_i (irrelevant-pixel ratio) distribution at the end of an epoch. */
export interface QEpoch {
  readonly epoch: number;
  readonly histogram: Histogram;
  readonly mean?: number;
  readonly median?: number;
}

/** One example image with a run's saliency maps of it. */
export interface Example {
  /** Index in the evaluation split; the report aligns examples of different runs by it. */
  readonly index: number;
  readonly label?: number;
  readonly className?: string;
  /** The run's predicted class. */
  readonly predicted?: number;
  readonly image: Image8;
  /** Saliency map per method key. */
  readonly maps: Readonly<Record<string, Image8>>;
}

/** One trained model and what was measured on it. */
export interface RunResult {
  /** Unique within a report (e.g. the run folder's name). */
  readonly id: string;
  /** 'regular' | 'scaat' | 'pgd-at' | 'sgt' | … */
  readonly trainer: string;
  /** Column header (default: {@link runLabel}). */
  readonly label?: string;
  /** Architecture name. */
  readonly model?: string;
  /** Dataset description (name, split, size, shape, classes), as the producer wrote it. */
  readonly dataset?: Readonly<Record<string, unknown>>;
  /** The resolved configuration, verbatim (rerun with it). */
  readonly config: Readonly<Record<string, unknown>>;
  /** Seed of the run; null if the producer did not record one. */
  readonly seed: number | null;
  /** BackendInfo of the run (name, tfjsVersion, threads, accelerator, machine, node). */
  readonly backend?: Readonly<Record<string, unknown>>;
  /** Package versions, e.g. {scaat: '0.1.0', tfjs: '4.22.0', node: 'v20…'}. */
  readonly versions?: Readonly<Record<string, string>>;
  /** Seconds by phase, e.g. {train: 412.3, evaluate: 95.1}. */
  readonly timings?: Readonly<Record<string, number>>;
  /** ISO date of the run. */
  readonly createdAt?: string;
  /** The command line that produced the run. */
  readonly command?: string;
  /** Where the results were read from. */
  readonly source?: string;
  /**
   * The weights the evaluation was computed from (`scaat evaluate`'s model.weights): SHA-256 of the
   * weight bytes, and the checkpoint when the run had no final model yet.
   */
  readonly weights?: {
    readonly sha256: string;
    readonly checkpoint: { readonly name: string; readonly step: number } | null;
  };
  readonly training?: {
    readonly epochs: readonly EpochRecord[];
    readonly q?: readonly QEpoch[];
  };
  /** The warnings its training logged (a constant predictor…), one per code; absent when none. */
  readonly trainingWarnings?: readonly TrainingWarning[];
  readonly evaluation?: {
    readonly split?: string;
    readonly numImages?: number;
    /** Clean test accuracy in [0, 1]. */
    readonly cleanAccuracy?: number | null;
    readonly params?: Readonly<Record<string, unknown>>;
    readonly methods: readonly MethodResults[];
    /** What the numbers cannot say (e.g. an AOPC fill equal to the data's background), from the evaluation. */
    readonly warnings?: readonly string[];
  };
  readonly examples?: readonly Example[];
}

/** The document the report renders. */
export interface RunResults {
  readonly schemaVersion: number;
  readonly title?: string;
  readonly createdAt?: string;
  /** The command that produced this file (e.g. 'scaat demo --quick'). */
  readonly command?: string;
  /** Free-text remarks shown under the title (e.g. "quick demo: small subsets, read as directions"). */
  readonly notes?: readonly string[];
  readonly runs: readonly RunResult[];
}

/** Display name, direction and table order of the known metrics (keys as the metrics registry). */
export const METRIC_INFO: Readonly<Record<string, { label: string; direction?: Direction; order: number }>> = {
  entropy: { label: 'Entropy (bits)', direction: 'lower-is-better', order: 0 },
  size: { label: 'Size (KB)', direction: 'lower-is-better', order: 1 },
  'aopc-lerf': { label: 'AOPC_lerf', direction: 'lower-is-better', order: 2 },
  'aopc-rel': { label: 'AOPC_rel', direction: 'higher-is-better', order: 3 },
  'aopc-morf': { label: 'AOPC_morf', direction: 'higher-is-better', order: 4 },
  'robustness-attack': { label: 'Low-saliency robustness (attack)', direction: 'higher-is-better', order: 5 },
  'robustness-noise': { label: 'Low-saliency robustness (noise)', direction: 'higher-is-better', order: 6 },
  'relevance-mass-accuracy': { label: 'Relevance mass accuracy', direction: 'higher-is-better', order: 7 },
  'pointing-game': { label: 'Pointing game', direction: 'higher-is-better', order: 8 },
  'randomization-similarity': { label: 'Randomisation similarity (ρ)', direction: 'lower-is-better', order: 9 },
};

/** Metrics of the paper's table, in its order. */
export const HEADLINE_METRICS: readonly string[] = ['entropy', 'size', 'aopc-lerf', 'aopc-rel'];

/** Display names of the known saliency methods (keys as the saliency registry). */
export const METHOD_LABELS: Readonly<Record<string, string>> = {
  'vanilla-gradient': 'Vanilla Gradient',
  'smooth-grad': 'SmoothGrad',
  'integrated-gradients': 'Integrated Gradients',
};

/** Short names of the known saliency methods (VG/SG/IG, as the paper's table). */
export const METHOD_SHORT: Readonly<Record<string, string>> = {
  'vanilla-gradient': 'VG',
  'smooth-grad': 'SG',
  'integrated-gradients': 'IG',
};

/**
 * Display names of the known trainers, their column order (regular first, SCAAT next) and what
 * each trains on (the report's legend under its runs table; each run's exact settings are in its
 * resolved config).
 */
export const TRAINER_INFO: Readonly<Record<string, { label: string; order: number; description: string }>> = {
  regular: { label: 'Regular', order: 0, description: 'cross-entropy CE(f(x), y) on the clean images.' },
  scaat: {
    label: 'SCAAT',
    order: 1,
    description:
      "CE(f(x), y) + λ·CE(f(x_adv), y), x_adv the L∞ attack confined to each image's floor(q_i·H·W) least salient pixels, q_i adapted per sample (docs/method.md §2).",
  },
  'pgd-at': {
    label: 'PGD-AT',
    order: 2,
    description:
      "SCAAT's whole-image control: the same attack on every pixel and, by default, the same loss CE(f(x), y) + λ·CE(f(x_adv), y), so with the SCAAT run's settings the two differ only in the mask (loss 'adv-only': Madry et al.'s CE(f(x_adv), y)).",
  },
  sgt: {
    label: 'Saliency guided',
    order: 3,
    description: 'saliency guided training (Ismail et al. 2021): the k lowest-saliency pixels filled with uniform noise, CE(f(x), y) + λ·KL(f(x) ‖ f(x̃)).',
  },
};

/** The metric's direction: its own, else the known one, else undefined. */
export function metricDirection(m: Pick<MetricValue, 'name' | 'direction'>): Direction | undefined {
  return m.direction ?? METRIC_INFO[m.name]?.direction;
}

/**
 * Each metric's first entry of a method's list: what the report shows where it has one value of a
 * metric per method (the headline tables; a metric evaluated in several variants, as AOPC with
 * several fills, keeps its first: the first fill).
 * @example firstVariants([{name: 'aopc-rel', variant: 'uniform fill', …}, {name: 'aopc-rel', variant: 'black fill', …}])   // the first only
 */
export function firstVariants<M extends Pick<MetricValue, 'name'>>(metrics: readonly M[]): M[] {
  return metrics.filter((v, i) => metrics.findIndex((x) => x.name === v.name) === i);
}

/** The metric's display name. */
export function metricLabel(m: Pick<MetricValue, 'name' | 'label'>): string {
  return m.label ?? METRIC_INFO[m.name]?.label ?? m.name;
}

/** A metric value's key among its method's: its name, with the variant in brackets when it has one ('aopc-rel (black fill)'). */
export function metricKey(m: Pick<MetricValue, 'name' | 'variant'>): string {
  return m.variant ? `${m.name} (${m.variant})` : m.name;
}

/** A metric value's column label: {@link metricLabel}, with the variant in brackets when it has one ('AOPC_rel (black fill)'). */
export function metricVariantLabel(m: Pick<MetricValue, 'name' | 'label' | 'variant'>): string {
  return m.variant ? `${metricLabel(m)} (${m.variant})` : metricLabel(m);
}

/** The method's display name. */
export function methodLabel(m: Pick<MethodResults, 'method' | 'label'>): string {
  return m.label ?? METHOD_LABELS[m.method] ?? m.method;
}

/** The run's column header: its label, else the trainer's display name. */
export function runLabel(r: Pick<RunResult, 'trainer' | 'label'>): string {
  return r.label ?? TRAINER_INFO[r.trainer]?.label ?? r.trainer;
}

/**
 * Validates plain JSON as {@link RunResults}.
 * @param source where the JSON came from, for messages (a file name).
 * @throws DataError naming the source, the path inside the JSON, what was expected and what was found.
 */
export function parseResults(json: unknown, source = 'results'): RunResults {
  if (typeof json === 'object' && json !== null && 'schemaVersion' in json) {
    const v = (json as { schemaVersion: unknown }).schemaVersion;
    if (typeof v === 'number' && v > RESULTS_SCHEMA_VERSION) {
      throw new DataError(
        `${source}: schemaVersion ${v} is newer than this scaat reads (${RESULTS_SCHEMA_VERSION}); upgrade scaat`,
      );
    }
  }
  const parsed = runResults.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.slice(0, 5).map((i) => `  ${formatPath(i.path)}: ${describeIssue(i, json)}`);
    const more = parsed.error.issues.length > 5 ? `\n  … and ${parsed.error.issues.length - 5} more` : '';
    throw new DataError(`${source}: not a valid scaat results file:\n${lines.join('\n')}${more}`);
  }
  const ids = new Set<string>();
  for (const r of parsed.data.runs) {
    if (ids.has(r.id)) throw new DataError(`${source}: two runs have the id '${r.id}'; ids must be unique`);
    ids.add(r.id);
  }
  return parsed.data as RunResults;
}

/** Merges several results documents into one (runs concatenated; ids made unique with a suffix). */
export function mergeResults(docs: readonly RunResults[], extra: Partial<Omit<RunResults, 'runs'>> = {}): RunResults {
  const seen = new Map<string, number>();
  const runs: RunResult[] = [];
  for (const doc of docs) {
    for (const r of doc.runs) {
      const n = seen.get(r.id) ?? 0;
      seen.set(r.id, n + 1);
      runs.push(n === 0 ? r : { ...r, id: `${r.id}-${n + 1}` });
    }
  }
  const notes = docs.flatMap((d) => d.notes ?? []);
  const first = docs[0];
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    ...(first?.title !== undefined ? { title: first.title } : {}),
    ...(first?.command !== undefined ? { command: first.command } : {}),
    ...(notes.length > 0 ? { notes: [...new Set(notes)] } : {}),
    ...extra,
    runs,
  };
}

/** Bytes encoded by a base64 string (without decoding it). */
function base64Length(s: string): number {
  const clean = s.replace(/\s/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0) return -1;
  const pad = clean.endsWith('==') ? 2 : clean.endsWith('=') ? 1 : 0;
  return (clean.length / 4) * 3 - pad;
}

/** Decodes an {@link Image8}'s bytes. */
export function decodeImage8(im: Image8): Uint8Array {
  return new Uint8Array(Buffer.from(im.data, 'base64'));
}

/** Encodes bytes (row-major H×W×C) as an {@link Image8}. */
export function encodeImage8(data: Uint8Array, width: number, height: number, channels: 1 | 3): Image8 {
  if (data.length !== width * height * channels) {
    throw new DataError(`encodeImage8: expected ${width}×${height}×${channels} = ${width * height * channels} bytes, got ${data.length}`);
  }
  return { width, height, channels, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') };
}

function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? String(p) : `.${String(p)}`;
  return s === '' ? '(top level)' : s;
}

function describeIssue(issue: z.core.$ZodIssue, root: unknown): string {
  const found = valueAt(root, issue.path);
  if (issue.code === 'invalid_type') {
    const got = found === undefined ? 'nothing (missing)' : jsonTypeOf(found);
    return `expected ${issue.expected}, got ${got}`;
  }
  if (issue.code === 'invalid_value' || issue.code === 'invalid_union') {
    return `${issue.message}, got ${JSON.stringify(found)?.slice(0, 60) ?? 'nothing'}`;
  }
  return issue.message;
}

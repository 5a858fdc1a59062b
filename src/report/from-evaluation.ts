/**
 * Adapter: the `EvaluationResult` JSON of `scaat evaluate` / `scaat merge` (metrics/evaluation-result.ts,
 * `kind: 'scaat-evaluation'`) → one {@link RunResult} the report renders.
 *
 * The evaluation says what was measured; who trained the model (trainer, config, seed, training
 * curves) comes from the run folder, when the caller finds one (see load-results.ts). Only the
 * fields the report uses are checked here; the rest of the file is kept out of the report.
 */
import { z } from 'zod';
import { DataError } from '../errors.js';
import type { AopcMeanCurves, Example, MethodResults, RunResult } from './run-results.js';

/** The marker of an evaluation file. */
export const EVALUATION_KIND = 'scaat-evaluation';

const num = z.number();
const aopcCurves = z.looseObject({
  patchSize: num,
  steps: num,
  fill: z.union([z.string(), num]),
  morf: z.looseObject({ mean: z.array(num) }),
  lerf: z.looseObject({ mean: z.array(num) }),
});
const evaluationSchema = z.looseObject({
  schemaVersion: z.number().int(),
  kind: z.literal(EVALUATION_KIND),
  config: z.record(z.string(), z.unknown()),
  model: z.looseObject({
    source: z.string(),
    inputShape: z.array(num).optional(),
    numClasses: num.optional(),
    weights: z.looseObject({ sha256: z.string(), checkpoint: z.looseObject({ name: z.string(), step: num }).nullable() }).optional(),
  }),
  dataset: z.record(z.string(), z.unknown()),
  shard: z.looseObject({ index: num, count: num }).nullable(),
  images: z.looseObject({ index: z.array(num), label: z.array(num), correct: z.array(num) }),
  cleanAccuracy: z.looseObject({ value: num.nullable() }),
  warnings: z.array(z.string()).optional(),
  methods: z.array(
    z.looseObject({
      method: z.string(),
      label: z.string().optional(),
      params: z.record(z.string(), z.unknown()).optional(),
      metrics: z.array(z.looseObject({ name: z.string(), value: num.nullable() })),
      perImage: z.record(z.string(), z.array(num.nullable())).optional(),
      aopc: aopcCurves.optional(),
      aopcMore: z.array(aopcCurves).optional(),
      robustness: z.array(z.looseObject({ kind: z.string(), ratios: z.array(num), accuracy: z.array(num), params: z.record(z.string(), z.unknown()).optional() })).optional(),
    }),
  ),
  examples: z
    .array(
      z.looseObject({
        index: num,
        image: z.looseObject({ width: num, height: num, channels: num, data: z.string() }),
        maps: z.record(z.string(), z.looseObject({ width: num, height: num, channels: num, data: z.string() })),
      }),
    )
    .optional(),
  provenance: z.looseObject({
    startedAt: z.string().optional(),
    seconds: z.record(z.string(), num).optional(),
    backend: z.record(z.string(), z.unknown()).nullable().optional(),
    scaatVersion: z.string().optional(),
    command: z.string().optional(),
  }),
});

/** An evaluation's AOPC curves of one fill as the report keeps them (the means; the exact sums stay in the file). */
function curvesOf(a: z.infer<typeof aopcCurves>): AopcMeanCurves {
  return { patchSize: a.patchSize, steps: a.steps, fill: a.fill, morf: a.morf.mean, lerf: a.lerf.mean };
}

/** Whether `json` is an evaluation file (by its `kind`). */
export function isEvaluationJson(json: unknown): boolean {
  return typeof json === 'object' && json !== null && (json as { kind?: unknown }).kind === EVALUATION_KIND;
}

/** What the run folder adds to an evaluation (all optional). */
export interface RunContext {
  readonly id?: string;
  readonly trainer?: string;
  readonly model?: string;
  readonly config?: Readonly<Record<string, unknown>>;
  readonly seed?: number | null;
  readonly training?: RunResult['training'];
  /** The warnings the training log holds (load-results.ts readTrainLog). */
  readonly trainingWarnings?: RunResult['trainingWarnings'];
  readonly timings?: Readonly<Record<string, number>>;
  readonly createdAt?: string;
  readonly command?: string;
  /** BackendInfo of the training run (the evaluation's own is preferred). */
  readonly backend?: Readonly<Record<string, unknown>>;
}

/**
 * Converts an evaluation file's JSON to a report run.
 * @param source the file it came from (messages, `source`).
 * @throws DataError naming the source and the offending path.
 */
export function fromEvaluation(json: unknown, source: string, context: RunContext = {}): RunResult {
  const parsed = evaluationSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new DataError(`${source}: not a valid scaat evaluation file: ${i.path.map(String).join('.') || '(top level)'}: ${i.message}`);
  }
  const e = parsed.data;
  const seconds = e.provenance.seconds ?? {};
  const backend = e.provenance.backend ?? context.backend ?? undefined;
  const methods: MethodResults[] = e.methods.map((m) => ({
    ...(m as unknown as MethodResults),
    method: m.method,
    ...(m.label !== undefined ? { label: m.label } : {}),
    ...(m.params !== undefined ? { params: m.params } : {}),
    metrics: m.metrics as unknown as MethodResults['metrics'],
    ...(m.perImage !== undefined ? { perImage: m.perImage } : {}),
    ...(m.robustness !== undefined ? { robustness: m.robustness.map((c) => ({ kind: c.kind, ratios: c.ratios, accuracy: c.accuracy, ...(c.params ? { params: c.params } : {}) })) } : {}),
    ...(m.aopc !== undefined ? { aopc: curvesOf(m.aopc) } : {}),
    ...(m.aopcMore !== undefined ? { aopcMore: m.aopcMore.map(curvesOf) } : {}),
    ...(seconds[m.method] !== undefined ? { seconds: seconds[m.method]! } : {}),
  }));
  const versions: Record<string, string> = {};
  if (e.provenance.scaatVersion) versions['scaat'] = e.provenance.scaatVersion;
  if (typeof backend?.['tfjsVersion'] === 'string') versions['tfjs'] = backend['tfjsVersion'];
  if (typeof backend?.['node'] === 'string') versions['node'] = backend['node'];
  const shardNote = e.shard ? ` (shard ${e.shard.index + 1} of ${e.shard.count} only)` : '';
  return {
    id: context.id ?? source,
    trainer: context.trainer ?? 'unknown',
    ...(context.model !== undefined ? { model: context.model } : {}),
    dataset: e.dataset,
    config: context.config ?? {},
    seed: context.seed ?? null,
    ...(backend ? { backend } : {}),
    ...(Object.keys(versions).length > 0 ? { versions } : {}),
    timings: { ...(context.timings ?? {}), ...(seconds['total'] !== undefined ? { evaluate: seconds['total'] } : {}) },
    ...(context.createdAt ?? e.provenance.startedAt ? { createdAt: (context.createdAt ?? e.provenance.startedAt)! } : {}),
    ...(context.command ?? e.provenance.command ? { command: (context.command ?? e.provenance.command)! } : {}),
    source: `${source}${shardNote}`,
    ...(e.model.weights ? { weights: { sha256: e.model.weights.sha256, checkpoint: e.model.weights.checkpoint ? { name: e.model.weights.checkpoint.name, step: e.model.weights.checkpoint.step } : null } } : {}),
    ...(context.training ? { training: context.training } : {}),
    ...(context.trainingWarnings && context.trainingWarnings.length > 0 ? { trainingWarnings: context.trainingWarnings } : {}),
    evaluation: {
      ...(typeof e.dataset['split'] === 'string' ? { split: e.dataset['split'] } : {}),
      numImages: e.images.index.length,
      cleanAccuracy: e.cleanAccuracy.value,
      params: e.config,
      methods,
      ...(e.warnings && e.warnings.length > 0 ? { warnings: e.warnings } : {}),
    },
    // same shape as the report's Example (metrics/evaluation-result.ts EvaluationExample)
    ...(e.examples && e.examples.length > 0 ? { examples: e.examples as unknown as Example[] } : {}),
  };
}

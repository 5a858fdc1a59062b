/**
 * The registry's rows run together (shared by evaluate() and merge): the accumulators of the
 * requested rows, the raw mergeable parts of an evaluation, the result built from them by one
 * path ({@link buildResult}), and the raw parts read back from a result ({@link readRaw}).
 */
import { METRICS } from './registry.js';
import type { EvaluationConfig, EvaluationExample, EvaluationResult, MethodEvaluation, MetricInfo, MetricSummary, Provenance } from './evaluation-result.js';
import { EVALUATION_SCHEMA_VERSION } from './evaluation-result.js';
import type { Accumulator, MetricSpec, SummaryContext } from './types.js';

/** Raw, mergeable parts of an evaluation: the images, and the state of each accumulator. */
export interface RawEvaluation {
  config: EvaluationConfig;
  model: EvaluationResult['model'];
  dataset: Record<string, unknown>;
  sample?: EvaluationResult['sample'];
  shard: EvaluationResult['shard'];
  range: EvaluationResult['range'];
  images: { index: number[]; label: number[]; correct: number[] };
  methods: Array<{ method: string; label: string; params: Record<string, unknown> }>;
  /** The state of each of {@link accumulatorsOf}(config). */
  states: Map<Accumulator<unknown>, unknown>;
  /** Example images with maps, ascending index (at most config.examples). */
  examples: EvaluationExample[];
  provenance: Provenance;
}

/** The requested rows (config.metrics, registry order). */
function rowsOf(config: EvaluationConfig): Array<[string, MetricSpec]> {
  return config.metrics.map((name) => [name, METRICS.get(name)!]);
}

/** The distinct accumulators of the requested rows, in registry order (AOPC's three rows share one). */
export function accumulatorsOf(config: EvaluationConfig): Array<Accumulator<unknown>> {
  return [...new Set(rowsOf(config).flatMap(([, s]) => (s.compute.accumulator ? [s.compute.accumulator] : [])))];
}

/** Builds the result (summaries included) from raw parts; the one path for evaluate and merge. */
export function buildResult(raw: RawEvaluation): EvaluationResult {
  const { config, states } = raw;
  const n = raw.images.index.length;
  const correct = raw.images.correct.reduce((s, v) => s + v, 0);
  const rows = rowsOf(config);
  const accumulators = accumulatorsOf(config);
  const metricInfo: Record<string, MetricInfo> = Object.fromEntries(rows.map(([name, s]) => [name, { label: s.label, direction: s.direction, category: s.category, unit: s.unit }]));
  // a row's summaries of a method: one, or one per variant (AOPC's rows with several fills)
  const summaries = (name: string, s: MetricSpec, method: number): MetricSummary[] => {
    const at: SummaryContext = { name, label: s.label, direction: s.direction, config, n, correct, method };
    return ([] as MetricSummary[]).concat(s.compute.summarise(s.compute.accumulator ? states.get(s.compute.accumulator) : undefined, at));
  };
  const cleanAccuracy = summaries('clean-accuracy', METRICS.get('clean-accuracy')!, -1)[0]!;

  const methods: MethodEvaluation[] = raw.methods.map((rm, mi) => {
    const parts = accumulators.map((a) => a.methodParts(states.get(a), mi, n));
    return {
      method: rm.method,
      label: rm.label,
      params: rm.params,
      metrics: rows.filter(([, s]) => s.perMethod).flatMap(([name, s]) => summaries(name, s, mi)),
      perImage: Object.assign({}, ...parts.map((p) => p.perImage ?? {})) as MethodEvaluation['perImage'],
      ...Object.assign({}, ...parts.map((p) => p.fields ?? {})),
    };
  });

  const warnings = accumulators.flatMap((a) => a.warnings?.(states.get(a), config) ?? []);
  return {
    schemaVersion: EVALUATION_SCHEMA_VERSION,
    kind: 'scaat-evaluation',
    config,
    model: raw.model,
    dataset: raw.dataset,
    ...(raw.sample ? { sample: raw.sample } : {}),
    shard: raw.shard,
    range: raw.range,
    images: raw.images,
    cleanAccuracy,
    metricInfo,
    methods,
    ...((config.examples ?? 0) > 0 ? { examples: raw.examples } : {}),
    ...Object.assign({}, ...accumulators.map((a) => a.resultParts?.(states.get(a)) ?? {})),
    ...(warnings.length > 0 ? { warnings } : {}),
    provenance: raw.provenance,
  };
}

/** Raw parts back from a result (for merging). */
export function readRaw(r: EvaluationResult): RawEvaluation {
  return {
    config: r.config,
    model: r.model,
    dataset: { ...r.dataset },
    ...(r.sample ? { sample: r.sample } : {}),
    shard: r.shard,
    range: r.range,
    images: { index: [...r.images.index], label: [...r.images.label], correct: [...r.images.correct] },
    methods: r.methods.map((m) => ({ method: m.method, label: m.label, params: { ...m.params } })),
    states: new Map(accumulatorsOf(r.config).map((a) => [a, a.read(r)])),
    examples: [...(r.examples ?? [])],
    provenance: r.provenance,
  };
}

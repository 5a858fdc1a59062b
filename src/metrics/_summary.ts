/**
 * Exact, order-independent accumulation and the summaries shared by evaluate() and merge:
 * both build an {@link EvaluationResult} from the same raw parts with {@link buildResult}.
 */
import { METRICS } from './registry.js';
import type {
  AopcResult, EvaluationConfig, EvaluationExample, EvaluationResult, MethodEvaluation, MetricInfo, MetricSummary, Provenance, RobustnessCurveResult,
} from './evaluation-result.js';
import { AOPC_REL_MIN_LERF, EVALUATION_SCHEMA_VERSION, FILL_BACKGROUND_WARNING } from './evaluation-result.js';

/** 2^32: fixed-point scale of the AOPC curve sums. */
const FIXED_SCALE = 4294967296;

/** A value in [−2^20, 2^20] as a fixed-point BigInt of 2^-32 units (rounded to nearest). */
export function toFixed(v: number): bigint {
  return BigInt(Math.round(v * FIXED_SCALE));
}

/** A fixed-point BigInt back to a float. */
export function fromFixed(v: bigint): number {
  return Number(v) / FIXED_SCALE;
}

/** Neumaier-compensated sum (deterministic for a given order). */
export function accurateSum(values: Iterable<number>): number {
  let s = 0;
  let c = 0;
  for (const v of values) {
    const t = s + v;
    c += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
    s = t;
  }
  return s + c;
}

/** Raw, mergeable parts of one method's evaluation. */
export interface RawMethod {
  method: string;
  label: string;
  params: Record<string, unknown>;
  perImage: Record<string, Array<number | null>>;
  aopc?: { patchSize: number; steps: number; fill: string | number; morf: bigint[]; lerf: bigint[] };
  robustness?: Array<{ kind: 'attack' | 'noise'; ratios: number[]; correct: number[]; params: Record<string, unknown> }>;
}

/** Raw, mergeable parts of an evaluation. */
export interface RawEvaluation {
  config: EvaluationConfig;
  model: EvaluationResult['model'];
  dataset: Record<string, unknown>;
  sample?: EvaluationResult['sample'];
  shard: EvaluationResult['shard'];
  range: EvaluationResult['range'];
  images: { index: number[]; label: number[]; correct: number[] };
  methods: RawMethod[];
  /** Example images with maps, ascending index (at most config.examples). */
  examples: EvaluationExample[];
  /** Pixel values equal to a constant AOPC fill, and all pixel values seen (absent for 'uniform'). */
  fillCoverage?: { equal: number; total: number };
  provenance: Provenance;
}

function info(name: string): MetricInfo {
  const m = METRICS.get(name)!;
  return { label: m.label, direction: m.direction, category: m.category, unit: m.unit };
}

function meanSummary(name: string, values: ReadonlyArray<number | null>, extra: Partial<MetricSummary> = {}): MetricSummary {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const n = xs.length;
  const mean = n > 0 ? accurateSum(xs) / n : null;
  const std = mean !== null ? Math.sqrt(accurateSum(xs.map((v) => (v - mean) ** 2)) / n) : undefined;
  const i = info(name);
  return { name, label: i.label, direction: i.direction, value: mean, ...(std !== undefined ? { std } : {}), n, ...extra };
}

/** Histogram of per-image entropies: 32 bins of 0.25 bit over [0, 8], last bin closed. */
export function entropyHistogram(values: ReadonlyArray<number | null>): { edges: number[]; counts: number[] } {
  const edges = Array.from({ length: 33 }, (_, i) => i * 0.25);
  const counts = new Array<number>(32).fill(0);
  for (const v of values) if (v !== null) counts[Math.min(31, Math.max(0, Math.floor(v / 0.25)))]! += 1;
  return { edges, counts };
}

/** Builds the result (summaries included) from raw parts; the one path for evaluate and merge. */
export function buildResult(raw: RawEvaluation): EvaluationResult {
  const { config } = raw;
  const wanted = new Set(config.metrics);
  const n = raw.images.index.length;
  const metricInfo: Record<string, MetricInfo> = {};
  for (const m of config.metrics) metricInfo[m] = info(m);
  const correct = raw.images.correct.reduce((s, v) => s + v, 0);
  const ca = info('clean-accuracy');
  const cleanAccuracy: MetricSummary = { name: 'clean-accuracy', label: ca.label, direction: ca.direction, value: n > 0 ? correct / n : null, n };

  const methods: MethodEvaluation[] = raw.methods.map((rm) => {
    const metrics: MetricSummary[] = [];
    let aopc: AopcResult | undefined;
    let robustness: RobustnessCurveResult[] | undefined;
    if (rm.aopc) {
      const a = rm.aopc;
      const curve = (sums: bigint[]): { mean: number[]; sumFixed: string[] } => ({
        mean: sums.map((s) => (n > 0 ? fromFixed(s) / n : 0)),
        sumFixed: sums.map((s) => s.toString()),
      });
      aopc = { patchSize: a.patchSize, steps: a.steps, fill: a.fill, n, morf: curve(a.morf), lerf: curve(a.lerf) };
    }
    const aopcParams = aopc ? { patchSize: aopc.patchSize, steps: aopc.steps, fill: aopc.fill } : {};
    const fillVariant = aopc ? `${typeof aopc.fill === 'number' ? `constant ${aopc.fill}` : aopc.fill} fill` : undefined;
    if (rm.robustness) {
      robustness = rm.robustness.map((r) => ({
        kind: r.kind, ratios: r.ratios, accuracy: r.correct.map((c) => (n > 0 ? c / n : 0)), correct: r.correct, n, params: r.params,
      }));
    }
    for (const name of config.metrics) {
      const spec = METRICS.get(name)!;
      if (!spec.perMethod) continue;
      if (name === 'aopc-rel') {
        const morf = meanSummary('aopc-morf', rm.perImage['aopc-morf'] ?? []);
        const lerf = meanSummary('aopc-lerf', rm.perImage['aopc-lerf'] ?? []);
        const { value, undefinedReason } = aopcRel(morf.value, lerf.value);
        const i = info(name);
        metrics.push({
          name, label: i.label, direction: i.direction, value, ...(undefinedReason ? { undefinedReason } : {}), n: lerf.n,
          ...(fillVariant ? { variant: fillVariant } : {}), params: aopcParams,
        });
      } else if (name === 'robustness-attack' || name === 'robustness-noise') {
        const curve = robustness?.find((r) => r.kind === (name === 'robustness-attack' ? 'attack' : 'noise'));
        const i = info(name);
        const value = curve && curve.accuracy.length > 0 && n > 0 ? accurateSum(curve.accuracy) / curve.accuracy.length : null;
        metrics.push({ name, label: i.label, direction: i.direction, value, n, params: curve ? { ratios: curve.ratios, ...curve.params } : {} });
      } else {
        const extra: Partial<MetricSummary> =
          name === 'aopc-morf' || name === 'aopc-lerf'
            ? { ...(fillVariant ? { variant: fillVariant } : {}), params: aopcParams }
            : name === 'size'
              ? { variant: config.size.format === 'jpeg' ? `jpeg q${config.size.quality}` : 'png', params: { ...config.size } }
              : name === 'pointing-game'
                ? { params: { ...config.localization } }
                : name === 'randomization-similarity'
                  ? { params: { ...config.randomization } }
                  : {};
        metrics.push(meanSummary(name, rm.perImage[name] ?? [], extra));
      }
    }
    return {
      method: rm.method,
      label: rm.label,
      params: rm.params,
      metrics,
      perImage: rm.perImage,
      ...(wanted.has('entropy') ? { entropyHistogram: entropyHistogram(rm.perImage['entropy'] ?? []) } : {}),
      ...(aopc ? { aopc } : {}),
      ...(robustness ? { robustness } : {}),
    };
  });

  const warnings = warningsOf(raw);
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
    ...(raw.fillCoverage ? { fillCoverage: { ...raw.fillCoverage } } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
    provenance: raw.provenance,
  };
}

/**
 * AOPC_rel = mean AOPC_morf / mean AOPC_lerf, or null with the reason when the AOPC_lerf mean is
 * ≤ {@link AOPC_REL_MIN_LERF} (at or below float noise, zero or negative: the ratio means nothing).
 * @example aopcRel(0.2, 0.001)   // {value: 200}
 * @example aopcRel(0.2, -3e-7)   // {value: null, undefinedReason: 'AOPC_lerf mean -3.0e-7 ≤ 1e-5 …'}
 */
export function aopcRel(morf: number | null, lerf: number | null): { value: number | null; undefinedReason?: string } {
  if (morf === null || lerf === null) return { value: null };
  if (!(lerf > AOPC_REL_MIN_LERF)) {
    return {
      value: null,
      undefinedReason:
        `AOPC_lerf mean ${lerf.toExponential(1)} ≤ ${AOPC_REL_MIN_LERF.toExponential(0)}: removing the least relevant patches ` +
        `did not lower p_c beyond float noise${lerf < 0 ? ' (it raised it)' : ''}, so the ratio MoRF/LeRF is undefined`,
    };
  }
  return { value: morf / lerf };
}

/** Warnings derived from the raw parts (the same for a merged result as for the unsharded one). */
function warningsOf(raw: RawEvaluation): string[] {
  const out: string[] = [];
  const c = raw.fillCoverage;
  if (c && c.total > 0 && c.equal / c.total >= FILL_BACKGROUND_WARNING) {
    const fill = raw.config.aopc.fill;
    out.push(
      `AOPC fill ${fill === 'black' ? "'black'" : `constant ${fill}`} equals the data's background: ${((100 * c.equal) / c.total).toFixed(1)} % of the ` +
        `evaluated pixel values already are ${fill === 'black' ? 0 : fill}, so replacing them changes nothing and AOPC_lerf (and AOPC_rel) ` +
        `mostly measure where the background is; use the uniform fill ('--aopc-fill uniform') on such data`,
    );
  }
  return out;
}

/** Raw parts back from a result (for merging). */
export function toRaw(r: EvaluationResult): RawEvaluation {
  return {
    config: r.config,
    model: r.model,
    dataset: { ...r.dataset },
    ...(r.sample ? { sample: r.sample } : {}),
    shard: r.shard,
    range: r.range,
    images: { index: [...r.images.index], label: [...r.images.label], correct: [...r.images.correct] },
    methods: r.methods.map((m) => ({
      method: m.method,
      label: m.label,
      params: { ...m.params },
      perImage: Object.fromEntries(Object.entries(m.perImage).map(([k, v]) => [k, [...v]])),
      ...(m.aopc
        ? { aopc: { patchSize: m.aopc.patchSize, steps: m.aopc.steps, fill: m.aopc.fill, morf: m.aopc.morf.sumFixed.map(BigInt), lerf: m.aopc.lerf.sumFixed.map(BigInt) } }
        : {}),
      ...(m.robustness ? { robustness: m.robustness.map((c) => ({ kind: c.kind, ratios: [...c.ratios], correct: [...c.correct], params: { ...c.params } })) } : {}),
    })),
    examples: [...(r.examples ?? [])],
    ...(r.fillCoverage ? { fillCoverage: { ...r.fillCoverage } } : {}),
    provenance: r.provenance,
  };
}

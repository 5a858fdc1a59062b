/**
 * Exact, order-independent accumulation and the summaries the metric rows share (no registry
 * here: the rows import it): fixed-point sums, means, the per-image and sparsity accumulators, AOPC_rel.
 */
import type { EvaluationConfig, MetricSummary } from './evaluation-result.js';
import { AOPC_REL_MIN_LERF } from './evaluation-result.js';
import type { Accumulator, MethodBatch, MethodParts, SummaryContext } from './types.js';
import { isConstantMap } from './uint8-map.js';

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

/** Mean and population standard deviation over the finite values (null values and NaN left out). */
function stats(values: ReadonlyArray<number | null>): { mean: number | null; std?: number; n: number } {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const n = xs.length;
  const mean = n > 0 ? accurateSum(xs) / n : null;
  return mean !== null ? { mean, std: Math.sqrt(accurateSum(xs.map((v) => (v - mean) ** 2)) / n), n } : { mean, n };
}

/** The mean of per-image values over the images where it is defined, and their count. */
export function meanOf(values: ReadonlyArray<number | null>): { value: number | null; n: number } {
  const { mean, n } = stats(values);
  return { value: mean, n };
}

/** A row's summary as the mean (± std) of its per-image values. */
export function meanSummary(at: SummaryContext, values: ReadonlyArray<number | null>, extra: Partial<MetricSummary> = {}): MetricSummary {
  const { mean, std, n } = stats(values);
  return { name: at.name, label: at.label, direction: at.direction, value: mean, ...(std !== undefined ? { std } : {}), n, ...extra };
}

/** Histogram of per-image entropies: 32 bins of 0.25 bit over [0, 8], last bin closed. */
export function entropyHistogram(values: ReadonlyArray<number | null>): { edges: number[]; counts: number[] } {
  const edges = Array.from({ length: 33 }, (_, i) => i * 0.25);
  const counts = new Array<number>(32).fill(0);
  for (const v of values) if (v !== null) counts[Math.min(31, Math.max(0, Math.floor(v / 0.25)))]! += 1;
  return { edges, counts };
}

/**
 * The accumulator of a metric with one value per image (`perImage[name]`, per method):
 * `perBatch` gives the batch's values; merging concatenates in index order.
 * @example perImageAccumulator('entropy', (b) => Array.from({ length: b.shape[0] }, (_, i) => saliencyEntropy(b.u8(i))))
 */
export function perImageAccumulator(
  name: string,
  perBatch: (batch: MethodBatch) => ArrayLike<number | null>,
  fields?: (values: ReadonlyArray<number | null>) => NonNullable<MethodParts['fields']>,
): Accumulator<Array<Array<number | null>>> {
  return {
    start: (run) => Array.from({ length: run.methods }, () => []),
    add: (state, batch) => void state[batch.methodIndex]!.push(...Array.from(perBatch(batch))),
    merge: (state, next) => next.forEach((v, mi) => state[mi]!.push(...v)),
    methodParts: (state, mi) => ({ perImage: { [name]: state[mi]! }, ...(fields ? { fields: fields(state[mi]!) } : {}) }),
    read: (r) => r.methods.map((m) => [...(m.perImage[name] ?? [])]),
  };
}

/**
 * The warnings of a per-image sparsity metric (entropy, size) whose value is null for a constant map
 * (isConstantMap): per method with such maps, how many, and that the mean leaves them out.
 */
function constantMapWarnings(label: string, state: ReadonlyArray<ReadonlyArray<number | null>>, config: EvaluationConfig): string[] {
  return state.flatMap((values, mi) => {
    const constant = values.filter((v) => v === null).length;
    if (constant === 0) return [];
    return [
      `${label}, ${config.methods[mi]?.name ?? `method ${mi}`}: ${constant} of ${values.length} maps are constant (every score equal, e.g. a gradient ` +
        `that is zero everywhere): no pixel is ranked above another, so the value is undefined for them and the mean is over the other ${values.length - constant}`,
    ];
  });
}

/**
 * The accumulator of a per-image sparsity metric (entropy, size; method.md §4.2): `value` of each
 * image's 8-bit map, or null for a constant map (isConstantMap: every score equal, no pixel ranked,
 * e.g. a gradient zero everywhere), with a warning per method counting them.
 * @example sparsityAccumulator('entropy', (u8) => saliencyEntropy(u8))
 */
export function sparsityAccumulator(
  name: string,
  value: (u8: Uint8Array, batch: MethodBatch) => number,
  fields?: (values: ReadonlyArray<number | null>) => NonNullable<MethodParts['fields']>,
): Accumulator<Array<Array<number | null>>> {
  return {
    ...perImageAccumulator(
      name,
      (b) => Array.from({ length: b.shape[0] }, (_, i) => (isConstantMap(b.u8(i)) ? null : value(b.u8(i), b))),
      fields,
    ),
    warnings: (state, config) => constantMapWarnings(name, state, config),
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

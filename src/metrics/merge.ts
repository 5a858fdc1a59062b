/**
 * Merging the shard results of one evaluation (`scaat evaluate --shard i/n`, e.g. a Slurm array
 * job or a Kubernetes indexed Job) into exactly the result of the unsharded run: per-image values
 * are concatenated in index order and each requested row's accumulator merges its state (counts
 * and fixed-point curve sums added), example images cut to the `config.examples` lowest indices
 * across shards, and the summaries rebuilt by the same code evaluate() uses. Only `provenance` differs (it lists the shards').
 *
 * @example
 * const merged = mergeEvaluations([shard0, shard1, shard2]);   // any order
 */
import { DataError } from '../errors.js';
import type { EvaluationResult } from './evaluation-result.js';
import { EVALUATION_SCHEMA_VERSION } from './evaluation-result.js';
import { buildResult, readRaw } from './_assemble.js';
import { lowestExamples } from './evaluation-examples.js';

/**
 * Combines all `count` shards of one run (any order).
 * @throws DataError when the parts are not the shards of one run: different weights (their
 *   SHA-256, `model.weights`), settings, model or dataset, a missing or repeated shard, or a newer schema.
 */
export function mergeEvaluations(parts: readonly EvaluationResult[], sources: readonly string[] = []): EvaluationResult {
  const name = (i: number): string => sources[i] ?? `part ${i + 1}`;
  if (parts.length === 0) throw new DataError('merge: expected at least one evaluation result');
  parts.forEach((p, i) => {
    if (p?.kind !== 'scaat-evaluation') throw new DataError(`merge: ${name(i)} is not a scaat evaluation result (kind '${String(p?.kind)}')`);
    if (p.schemaVersion !== EVALUATION_SCHEMA_VERSION) {
      throw new DataError(`merge: ${name(i)} has schemaVersion ${p.schemaVersion}; this scaat reads ${EVALUATION_SCHEMA_VERSION}`);
    }
  });
  const first = parts[0]!;
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  const weights = (p: EvaluationResult): string => p.model?.weights?.sha256 ?? 'not recorded';
  parts.forEach((p, i) => {
    if (weights(p) !== weights(first)) {
      throw new DataError(
        `merge: ${name(i)} was computed from other weights than ${name(0)} (SHA-256 ${weights(p)} vs ${weights(first)}, model ${p.model?.source} vs ${first.model?.source}); shards must come from the same weights`,
      );
    }
  });
  parts.forEach((p, i) => {
    for (const key of ['config', 'model', 'dataset', 'sample'] as const) {
      if (!same(p[key], first[key])) throw new DataError(`merge: ${name(i)} has a different ${key} from ${name(0)}; shards must come from one run`);
    }
    if (p.range.total !== first.range.total) throw new DataError(`merge: ${name(i)} covers a different total (${p.range.total} vs ${first.range.total})`);
  });
  if (parts.length === 1 && first.shard === null) return first;
  const count = first.shard?.count;
  if (count === undefined || parts.some((p) => p.shard === null || p.shard.count !== count)) {
    throw new DataError(`merge: expected shards of one split into n parts, got ${parts.map((p, i) => `${name(i)}: ${p.shard ? `${p.shard.index}/${p.shard.count}` : 'complete'}`).join(', ')}`);
  }
  const order = [...parts.keys()].sort((a, b) => parts[a]!.shard!.index - parts[b]!.shard!.index);
  const seen = order.map((i) => parts[i]!.shard!.index);
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.includes(i));
  const repeated = seen.filter((v, i) => seen.indexOf(v) !== i);
  if (missing.length > 0 || repeated.length > 0) {
    throw new DataError(`merge: shards of ${count}: ${missing.length ? `missing ${missing.join(', ')}` : ''}${missing.length && repeated.length ? '; ' : ''}${repeated.length ? `repeated ${repeated.join(', ')}` : ''}`);
  }
  const raws = order.map((i) => readRaw(parts[i]!));
  for (let k = 1; k < raws.length; k++) {
    if (raws[k]!.range.start !== raws[k - 1]!.range.end) {
      throw new DataError(`merge: shard ranges are not contiguous (${raws[k - 1]!.range.end} then ${raws[k]!.range.start})`);
    }
  }
  const out = raws[0]!;
  for (const r of raws.slice(1)) {
    out.images.index.push(...r.images.index);
    out.images.label.push(...r.images.label);
    out.images.correct.push(...r.images.correct);
    for (const [a, state] of out.states) a.merge(state, r.states.get(a));
  }
  out.examples = lowestExamples(raws.map((r) => r.examples), first.config.examples ?? 0);
  out.shard = null;
  out.range = { start: raws[0]!.range.start, end: raws[raws.length - 1]!.range.end, total: first.range.total };
  const shardProv = raws.map((r) => r.provenance);
  out.provenance = {
    startedAt: shardProv.map((p) => p.startedAt).sort()[0]!,
    seconds: { total: shardProv.reduce((s, p) => s + p.seconds.total, 0) },
    backend: shardProv[0]!.backend,
    scaatVersion: shardProv[0]!.scaatVersion,
    shards: shardProv,
  };
  return buildResult(out);
}

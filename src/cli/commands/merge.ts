/**
 * `scaat merge SHARDS... --out FILE`: combines the shard files of one `scaat evaluate --shard i/n`
 * run into exactly the result of the unsharded run (provenance aside), or fails with a DataError
 * that names the missing, repeated or mismatching shard (e.g. one computed from other weights:
 * their SHA-256 differs, whatever the model path).
 */
import type { Command } from 'commander';
import { promises as fsp } from 'node:fs';
import { mergeEvaluations } from '../../metrics/merge.js';
import type { EvaluationResult } from '../../metrics/evaluation-result.js';
import { writeJsonAtomic } from '../../io/atomic.js';
import { DataError } from '../../errors.js';
import { summaryText } from './evaluate.js';

/** Adds `scaat merge`. */
export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description('combine the shard results of scaat evaluate --shard i/n into the result of one unsharded run')
    .argument('<shards...>', 'shard result files (any order)')
    .requiredOption('-o, --out <file.json>', 'merged results JSON')
    .option('-q, --quiet', 'no summary output')
    .action(async (shards: string[], opts: { out: string; quiet?: boolean }) => {
      await runMerge(shards, opts);
    });
}

/** Reads, merges and writes; returns the merged result. */
export async function runMerge(files: readonly string[], o: { out: string; quiet?: boolean }): Promise<EvaluationResult> {
  const parts: EvaluationResult[] = [];
  for (const f of files) {
    let json: unknown;
    try {
      json = JSON.parse(await fsp.readFile(f, 'utf8'));
    } catch (err) {
      throw new DataError(`merge: cannot read ${f}: ${(err as Error).message}`, { cause: err });
    }
    parts.push(json as EvaluationResult);
  }
  const merged = mergeEvaluations(parts, files);
  await writeJsonAtomic(o.out, merged);
  if (!o.quiet) process.stdout.write(summaryText(merged, o.out));
  return merged;
}

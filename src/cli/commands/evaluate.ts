/**
 * `scaat evaluate`: saliency-quality metrics (method.md §4) of a model on a dataset, as one JSON
 * file (metrics/evaluation-result.ts, `EvaluationResult`). `--shard i/n` evaluates the i-th of n parts
 * (whole batches) so a cluster scheduler can run the parts in parallel; `scaat merge` combines
 * them into exactly the unsharded result.
 *
 *   scaat evaluate -m runs/scaat -d data/cifar-10-batches-bin --limit 1000 \
 *     --methods vanilla-gradient,smooth-grad,integrated-gradients --out runs/scaat/eval.json
 *   # Slurm array job: one shard per task, then merge
 *   scaat evaluate ... --shard $SLURM_ARRAY_TASK_ID/8 --out eval.$SLURM_ARRAY_TASK_ID.json
 *   scaat merge eval.*.json --out eval.json
 *
 * The result names the weights evaluated (`model.weights`: their SHA-256, and the checkpoint when
 * a run folder has no final model yet; merge refuses shards of different weights).
 */
import type { Command } from 'commander';
import { evaluate } from '../../metrics/evaluate.js';
import { EVALUATION_FLAGS, EVALUATION_SCHEMA } from '../../metrics/evaluation-options.js';
import type { EvaluationResult, MetricSummary } from '../../metrics/evaluation-result.js';
import { saliencyMethods } from '../../saliency/registry.js';
import { writeJsonAtomic } from '../../io/atomic.js';
import { resolveLayers } from '../../io/config-schema.js';
import type { InputOptions } from './_inputs.js';
import { addInputOptions, loadInputs, progressPrinter } from './_inputs.js';
import { addSettingOptions, settingsFrom } from './_settings.js';

/** Options of `scaat evaluate`: the inputs, the output and the settings (EVALUATION_SCHEMA's flags, as commander gives them). */
export type EvaluateCommandOptions = InputOptions & { out: string; quiet?: boolean } & Readonly<Record<string, unknown>>;

/** Adds `scaat evaluate`: the input options, then one option per evaluation setting (metrics/evaluation-options.ts). */
export function registerEvaluate(program: Command): void {
  const cmd = addInputOptions(program.command('evaluate').description('measure saliency quality (entropy, size, AOPC, robustness curves, localisation, randomisation) and accuracy; writes JSON'));
  addSettingOptions(cmd, EVALUATION_SCHEMA)
    .requiredOption('-o, --out <file.json>', 'results JSON (one shard or the whole run)')
    .option('-q, --quiet', 'no progress output')
    .addHelpText('after', '\nEach metric with its formula and regime, and the saliency methods\' options: docs/method.md §4 and §3.')
    .action(async (opts: EvaluateCommandOptions) => {
      await runEvaluate(opts);
    });
}

/** Runs `scaat evaluate`; returns the result written. */
export async function runEvaluate(o: EvaluateCommandOptions): Promise<EvaluationResult> {
  const written = settingsFrom(o, EVALUATION_SCHEMA);
  const { methods: methodNames, methodOptions, ...settings } = resolveLayers(EVALUATION_SCHEMA, [{ source: 'evaluate', values: written }], {
    where: 'evaluate',
    flagOf: (key) => EVALUATION_FLAGS.get(key),
  });
  const methods = saliencyMethods(methodNames, methodOptions ?? {}); // validates before any loading
  const { classifier, weights, dataset } = await loadInputs(o);
  try {
    const result = await evaluate(classifier, dataset, {
      ...settings,
      methods,
      modelSource: o.model,
      modelWeights: weights,
      command: `scaat ${process.argv.slice(2).join(' ')}`,
      ...(o.quiet ? {} : { onProgress: progressPrinter(`evaluate${settings.shard ? ` shard ${settings.shard.index}/${settings.shard.count}` : ''}`) }),
    });
    await writeJsonAtomic(o.out, result);
    for (const w of result.warnings ?? []) process.stderr.write(`evaluate: warning: ${w}\n`);
    if (!o.quiet) process.stdout.write(summaryText(result, o.out));
    return result;
  } finally {
    await dataset.close?.();
  }
}

/** A short text summary: clean accuracy and each method's metrics with ↓/↑. */
export function summaryText(r: EvaluationResult, file: string): string {
  const fmt = (v: number | null): string => (v === null ? 'n/a' : Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4));
  const lines = [
    `evaluate: ${r.images.index.length} images [${r.range.start}, ${r.range.end}) of ${r.range.total}${r.shard ? ` (shard ${r.shard.index}/${r.shard.count})` : ''} → ${file}`,
    `  clean accuracy ${fmt(r.cleanAccuracy.value)}`,
  ];
  for (const m of r.methods) {
    // a row given in several variants (AOPC with several fills) names each: 'aopc-lerf (black fill)'
    const name = (s: MetricSummary): string => (s.variant && m.metrics.filter((x) => x.name === s.name).length > 1 ? `${s.name} (${s.variant})` : s.name);
    lines.push(`  ${m.label}: ${m.metrics.map((s) => `${name(s)} ${s.direction === 'lower-is-better' ? '↓' : '↑'} ${s.undefinedReason ? 'undefined' : fmt(s.value)}`).join(', ')}`);
    for (const s of m.metrics) if (s.undefinedReason) lines.push(`    ${name(s)} undefined: ${s.undefinedReason}`);
  }
  return lines.join('\n') + '\n';
}

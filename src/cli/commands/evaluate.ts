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
import type { EvaluateOptions } from '../../metrics/evaluate.js';
import { METRICS } from '../../metrics/registry.js';
import type { EvaluationResult } from '../../metrics/evaluation-result.js';
import { saliencyMethods, SALIENCY } from '../../saliency/registry.js';
import { CHANNEL_REDUCTIONS } from '../../saliency/postprocess.js';
import type { ChannelReduction } from '../../saliency/postprocess.js';
import { writeJsonAtomic } from '../../io/atomic.js';
import { ConfigError } from '../../errors.js';
import type { InputOptions } from './_inputs.js';
import {
  addInputOptions, loadInputs, parseJsonObject, parseList, parseNonNegativeInt, parsePositiveInt, parseShard, progressPrinter,
} from './_inputs.js';
import { parseNumber } from '../../io/numbers.js';

/** Options of `scaat evaluate` (strings as commander gives them). */
export interface EvaluateCommandOptions extends InputOptions {
  methods: string;
  methodOptions?: string;
  metrics?: string;
  target: string;
  limit?: string;
  shard?: string;
  batchSize: string;
  seed: string;
  reduction: string;
  sizeFormat: string;
  jpegQuality: string;
  aopcPatchSize?: string;
  aopcFraction: string;
  aopcSteps?: string;
  aopcFill: string;
  ratios?: string;
  epsilon: string;
  alpha?: string;
  attackSteps: string;
  noise: string;
  tolerance: string;
  randomizeLayers?: string;
  examples?: string;
  out: string;
  quiet?: boolean;
}

/** Adds `scaat evaluate`. */
export function registerEvaluate(program: Command): void {
  addInputOptions(program.command('evaluate').description('measure saliency quality (entropy, size, AOPC, robustness curves, localisation, randomisation) and accuracy; writes JSON'))
    .option('--methods <list>', `saliency methods, comma-separated (${[...SALIENCY.keys()].join(', ')})`, 'vanilla-gradient,smooth-grad,integrated-gradients')
    .option('--method-options <json>', 'options per method as JSON, e.g. \'{"smooth-grad":{"samples":25},"integrated-gradients":{"steps":100}}\'')
    .option('--metrics <list>', `metrics, comma-separated (default: all that apply): ${[...METRICS.keys()].join(', ')}`)
    .option('--target <which>', 'class to explain: label or predicted', 'label')
    .option('--limit <n>', 'only a class-stratified sample of n samples of the split (drawn with --seed)')
    .option('--shard <i/n>', 'evaluate only the i-th of n parts (0-based; whole batches); combine with scaat merge')
    .option('--batch-size <n>', 'images per batch (shards align to it)', '32')
    .option('--seed <n>', 'seed of all randomness', '0')
    .option('--reduction <how>', `channel reduction to per-pixel scores: ${CHANNEL_REDUCTIONS.join(', ')}`, 'sum-abs')
    .option('--size-format <fmt>', 'codec of the size metric: jpeg or png', 'jpeg')
    .option('--jpeg-quality <q>', 'JPEG quality of the size metric', '75')
    .option('--aopc-fraction <f>', 'AOPC regime: perturb this fraction of the image, as Samek et al. (L = round(f · patches); 1 = whole-image curve)', '0.1')
    .option('--aopc-patch-size <p>', 'AOPC patch side in pixels (default max(1, round(side / 28)): 1 at 28–32 px, 3 at 96, 8 at 224)')
    .option('--aopc-steps <l>', 'AOPC steps L, overrides --aopc-fraction')
    .option('--aopc-fill <fill>', 'AOPC fill: uniform, black or a number', 'uniform')
    .option('--ratios <list>', 'robustness ratios q, comma-separated (default 0,0.1,…,0.9)')
    .option('--epsilon <e>', 'robustness attack L∞ budget (pixel units; fractions allowed)', '8/255')
    .option('--alpha <a>', 'robustness attack step size (default 2.5·epsilon/attack-steps, so the attack reaches epsilon)')
    .option('--attack-steps <k>', 'robustness attack steps', '7')
    .option('--noise <mode>', 'robustness noise: replace (uniform [0,1]) or additive (±epsilon)', 'replace')
    .option('--tolerance <px>', 'pointing-game tolerance in pixels', '0')
    .option('--randomize-layers <n>', 'randomisation test: layers re-drawn from the top (default all)')
    .option('--examples <n>', 'keep the first n images with each method\'s 8-bit map for the report\'s example grid (0 = none)', '4')
    .requiredOption('-o, --out <file.json>', 'results JSON (one shard or the whole run)')
    .option('-q, --quiet', 'no progress output')
    .addHelpText('after', '\nEach metric with its formula and regime, and the saliency methods\' options: docs/method.md §4 and §3.')
    .action(async (opts: EvaluateCommandOptions) => {
      await runEvaluate(opts);
    });
}

/** Turns command options into {@link EvaluateOptions} (without methods' functions built). */
export function evaluateOptionsFrom(o: EvaluateCommandOptions): Omit<EvaluateOptions, 'methods'> & { methodNames: string[]; methodOptions: Record<string, Record<string, unknown>> } {
  const methodNames = parseList(o.methods);
  const methodOptions = o.methodOptions ? (parseJsonObject(o.methodOptions, '--method-options') as Record<string, Record<string, unknown>>) : {};
  if (o.target !== 'label' && o.target !== 'predicted') throw new ConfigError(`--target: expected label or predicted, got '${o.target}'`);
  if (!(CHANNEL_REDUCTIONS as readonly string[]).includes(o.reduction)) throw new ConfigError(`--reduction: expected one of ${CHANNEL_REDUCTIONS.join(', ')}, got '${o.reduction}'`);
  if (o.sizeFormat !== 'jpeg' && o.sizeFormat !== 'png') throw new ConfigError(`--size-format: expected jpeg or png, got '${o.sizeFormat}'`);
  if (o.noise !== 'replace' && o.noise !== 'additive') throw new ConfigError(`--noise: expected replace or additive, got '${o.noise}'`);
  const seed = Number(o.seed);
  if (!Number.isInteger(seed)) throw new ConfigError(`--seed: expected an integer, got '${o.seed}'`);
  const fill = o.aopcFill === 'uniform' || o.aopcFill === 'black' ? o.aopcFill : parseNumber(o.aopcFill, '--aopc-fill');
  return {
    methodNames,
    methodOptions,
    ...(o.metrics ? { metrics: parseList(o.metrics) } : {}),
    target: o.target,
    ...(o.limit !== undefined ? { limit: parsePositiveInt(o.limit, '--limit') } : {}),
    ...(o.shard ? { shard: parseShard(o.shard) } : {}),
    batchSize: parsePositiveInt(o.batchSize, '--batch-size'),
    seed,
    reduction: o.reduction as ChannelReduction,
    size: { format: o.sizeFormat, quality: parsePositiveInt(o.jpegQuality, '--jpeg-quality') },
    aopc: {
      fill,
      fraction: parseNumber(o.aopcFraction, '--aopc-fraction'),
      ...(o.aopcPatchSize !== undefined ? { patchSize: parsePositiveInt(o.aopcPatchSize, '--aopc-patch-size') } : {}),
      ...(o.aopcSteps !== undefined ? { steps: parseNonNegativeInt(o.aopcSteps, '--aopc-steps') } : {}),
    },
    robustness: {
      ...(o.ratios ? { ratios: parseList(o.ratios).map((v) => parseNumber(v, '--ratios')) } : {}),
      attack: {
        epsilon: parseNumber(o.epsilon, '--epsilon'),
        ...(o.alpha !== undefined ? { alpha: parseNumber(o.alpha, '--alpha') } : {}),
        steps: parsePositiveInt(o.attackSteps, '--attack-steps'),
      },
      noise: o.noise,
    },
    localization: { tolerance: parseNumber(o.tolerance, '--tolerance') },
    ...(o.randomizeLayers !== undefined ? { randomization: { layers: parsePositiveInt(o.randomizeLayers, '--randomize-layers') } } : {}),
    examples: parseNonNegativeInt(o.examples ?? '4', '--examples'),
  };
}

/** Runs `scaat evaluate`; returns the result written. */
export async function runEvaluate(o: EvaluateCommandOptions): Promise<EvaluationResult> {
  const { methodNames, methodOptions, ...rest } = evaluateOptionsFrom(o);
  const methods = saliencyMethods(methodNames, methodOptions); // validates before any loading
  const { classifier, weights, dataset } = await loadInputs(o);
  try {
    const result = await evaluate(classifier, dataset, {
      ...rest,
      methods,
      modelSource: o.model,
      modelWeights: weights,
      command: `scaat ${process.argv.slice(2).join(' ')}`,
      ...(o.quiet ? {} : { onProgress: progressPrinter(`evaluate${rest.shard ? ` shard ${rest.shard.index}/${rest.shard.count}` : ''}`) }),
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
    lines.push(`  ${m.label}: ${m.metrics.map((s) => `${s.name} ${s.direction === 'lower-is-better' ? '↓' : '↑'} ${s.undefinedReason ? 'undefined' : fmt(s.value)}`).join(', ')}`);
    for (const s of m.metrics) if (s.undefinedReason) lines.push(`    ${s.name} undefined: ${s.undefinedReason}`);
  }
  return lines.join('\n') + '\n';
}

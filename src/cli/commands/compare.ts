/**
 * `scaat compare RUNS...`: several runs side by side in the terminal: the paper's table
 * (metrics ↓/↑ per saliency method, clean accuracy, best marked with '*'), as text, Markdown or
 * the merged results JSON.
 *
 * A run folder from `scaat train` that has no evaluation yet (no results.json and no evaluation
 * JSON at its top level) is evaluated first with the metrics room's `evaluate()` on a
 * class-stratified sample of `--limit` images of `--split` of its own dataset (config.json
 * `data`, or `--data`; drawn with `--seed`, so every run gets the same images), and the
 * evaluation is written atomically to `<run>/eval.json`, so the next compare reuses it, as long
 * as it was made from the weights the run holds (the SHA-256 it records): after the run has
 * trained on (a resumed run, a final model where a checkpoint was evaluated) compare evaluates it
 * again and says why; with --no-evaluate it warns that the numbers are not the model's. The
 * evaluation's flags (--limit, --methods, --eval-metrics, --batch-size, --seed, --epsilon) are the
 * evaluation schema's settings (metrics/evaluation-options.ts), with compare's own defaults for
 * --limit (64) and --epsilon (the runs' training ε) in {@link COMPARE_SETTING_FLAGS}.
 *
 *   scaat compare runs/regular runs/scaat                 # evaluates either run if needed (64 images)
 *   scaat compare runs/* --limit 1000 --format markdown
 *   scaat compare runs/* --no-evaluate                    # only read existing evaluations
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { existsSync, statSync } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { setupBackend } from '../../engine/backend.js';
import { writeJsonAtomic } from '../../io/atomic.js';
import { evaluate } from '../../metrics/evaluate.js';
import { loadModel, modelWeightsSha256 } from '../../models/io.js';
import { findEvaluations, loadResults, RESULTS_FILE, RUN_CONFIG_FILE } from '../../report/load-results.js';
import { buildTable, formatTableMarkdown, formatTableText, tableCaveats } from '../../report/table.js';
import { saliencyMethods } from '../../saliency/registry.js';
import { lockRunDir, readRunConfig } from '../../train/run-dir.js';
import { ConfigError, DataError } from '../../errors.js';
import { checkpointNote, openDataSource, progressPrinter } from './_inputs.js';
import { resolveLayers } from '../../io/config-schema.js';
import { EVALUATION_SCHEMA } from '../../metrics/evaluation-options.js';
import type { SettingFlags } from './_settings.js';
import { addSettingOptions, settingFlags, settingsFrom } from './_settings.js';

/** Where compare writes the evaluation of a run folder. */
export const RUN_EVALUATION_FILE = 'eval.json';

/** Defaults of compare's own evaluation options, not settings of the evaluation (documented in --help). */
export const COMPARE_EVALUATION_DEFAULTS = Object.freeze({
  split: 'test',
  backend: 'auto',
});

/**
 * The evaluation settings `scaat compare` takes as flags (metrics/evaluation-options.ts declares
 * each one), in its --help order, with its own defaults: 64 images per run; the robustness ε of
 * the runs' training ({@link trainingEpsilon}); its table's `--metrics` makes the evaluation's `--eval-metrics`.
 */
export const COMPARE_SETTING_FLAGS: SettingFlags = {
  keys: ['limit', 'methods', 'metrics', 'batchSize', 'seed', 'robustness.attack.epsilon'],
  flags: { metrics: '--eval-metrics <list>' },
  defaults: { limit: '64' },
  defaultTexts: { 'robustness.attack.epsilon': 'the ε the compared runs were trained with; 8/255 when none has one' },
  help: { limit: 'images evaluated per run (a class-stratified sample drawn with --seed, the same for every run)' },
};

/**
 * Options of `scaat compare`: the table's, the evaluation's own (data, split, backend) and the
 * settings of {@link COMPARE_SETTING_FLAGS} (as commander gives them).
 */
export type CompareCommandOptions = {
  metrics: 'headline' | 'all';
  format: 'text' | 'markdown' | 'json';
  save?: string;
  /** false (`--no-evaluate`): never evaluate, only read. @default true */
  evaluate?: boolean;
  data?: string;
  split?: string;
  backend?: string;
  quiet?: boolean;
} & Readonly<Record<string, unknown>>;

/** The evaluation settings of compare's flags (compare's defaults where not given); `epsilon` only when --epsilon is given. */
export interface CompareSettings {
  readonly methods: string[];
  readonly metrics?: string[];
  readonly limit: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly epsilon?: number;
}

/**
 * Checks compare's evaluation flags with the evaluation schema.
 * @throws ConfigError "compare: '<key>' (<flag>) must be <expected>, got <found>".
 */
export function compareSettings(opts: CompareCommandOptions): CompareSettings {
  const flags = settingFlags(EVALUATION_SCHEMA, COMPARE_SETTING_FLAGS);
  const written = settingsFrom(opts, EVALUATION_SCHEMA, COMPARE_SETTING_FLAGS);
  const s = resolveLayers(EVALUATION_SCHEMA, [{ source: 'compare', values: written }], { where: 'compare', flagOf: (key) => flags.get(key) });
  const given = (written['robustness'] as { attack?: { epsilon?: unknown } } | undefined)?.attack?.epsilon !== undefined;
  return {
    methods: s.methods,
    ...(s.metrics ? { metrics: s.metrics } : {}),
    limit: s.limit!, // compare's default: 64
    batchSize: s.batchSize,
    seed: s.seed,
    ...(given ? { epsilon: s.robustness.attack.epsilon } : {}),
  };
}

/** Adds `scaat compare`. */
export function registerCompare(program: Command): void {
  const d = COMPARE_EVALUATION_DEFAULTS;
  const cmd = program
    .command('compare')
    .description('compare runs side by side: the paper\'s table of saliency metrics per method and trainer (run folders without an evaluation are evaluated first)')
    .argument('<runs...>', 'results JSON files, folders holding results.json, or run folders')
    .addOption(new Option('--metrics <set>', "'headline' (entropy, size, AOPC_lerf, AOPC_rel) or 'all'").choices(['headline', 'all']).default('headline'))
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'markdown', 'json']).default('text'))
    .option('--save <file>', 'also write the merged results JSON here (input to scaat report)')
    .option('--no-evaluate', `do not evaluate run folders that have no evaluation yet (default: evaluate them into <run>/${RUN_EVALUATION_FILE})`)
    .option('--data <name|path>', "dataset of those evaluations (default: each run's own, config.json 'data')")
    .option('--split <name>', 'split evaluated', d.split);
  addSettingOptions(cmd, EVALUATION_SCHEMA, 'value', COMPARE_SETTING_FLAGS)
    .option('--backend <name>', 'TF.js backend of the evaluation: auto, wasm, cpu, tensorflow', d.backend)
    .option('-q, --quiet', 'no progress output')
    .action(async (runs: string[], opts: CompareCommandOptions) => {
      await runCompare(runs, opts);
    });
}

/** The evaluation files of `p` (findEvaluations), or null when `p` is not a run folder of `scaat train`. */
async function runFolderEvaluations(p: string): Promise<string[] | null> {
  if (!existsSync(p) || !statSync(p).isDirectory() || !existsSync(path.join(p, RUN_CONFIG_FILE))) return null;
  return findEvaluations(p);
}

/**
 * True when `p` is a run folder of `scaat train` with nothing that {@link loadResults} would read
 * as an evaluation. `files`: its evaluation files when the caller has listed them already.
 */
export async function needsEvaluation(p: string, files?: readonly string[] | null): Promise<boolean> {
  const found = files === undefined ? await runFolderEvaluations(p) : files;
  return found !== null && found.length === 0 && !existsSync(path.join(p, RESULTS_FILE));
}

/** An evaluation of a run folder made from other weights than the run holds now. */
export interface StaleEvaluation {
  readonly file: string;
  /** SHA-256 of the weights the evaluation records. */
  readonly recorded: string;
  /** SHA-256 of the weights the run folder holds now (its final model, else its latest checkpoint). */
  readonly current: string;
}

/**
 * The run folder's one evaluation file, when it records the SHA-256 of the weights it was made
 * from and the run now holds other weights; null when it matches, records none (files written
 * before it was recorded) or `p` is not a run folder with exactly one evaluation. `files`: its
 * evaluation files when the caller has listed them already.
 */
export async function staleEvaluation(p: string, files?: readonly string[] | null): Promise<StaleEvaluation | null> {
  const found = files === undefined ? await runFolderEvaluations(p) : files;
  if (found === null || found.length !== 1) return null;
  const file = found[0]!;
  let recorded: unknown;
  try {
    recorded = (JSON.parse(await fsp.readFile(file, 'utf8')) as { model?: { weights?: { sha256?: unknown } } }).model?.weights?.sha256;
  } catch {
    return null; // loadResults reports an unreadable file
  }
  if (typeof recorded !== 'string') return null;
  let current: string;
  try {
    current = await modelWeightsSha256(p);
  } catch (err) {
    if (err instanceof DataError) return null; // no model left to compare with: the file is all there is
    throw err;
  }
  return current === recorded ? null : { file, recorded, current };
}

/** The attack budget of a run folder's trainer (SCAAT's or PGD-AT's `epsilon`), or null (regular, SGT, no run folder). */
export function runEpsilon(dir: string): number | null {
  if (!existsSync(path.join(dir, RUN_CONFIG_FILE))) return null;
  const config = readRunConfig(dir);
  const trainer = config['trainer'];
  const options = (config['trainerOptions'] as Record<string, Record<string, unknown>> | undefined)?.[String(trainer)];
  const eps = options?.['epsilon'];
  return (trainer === 'scaat' || trainer === 'pgd-at') && typeof eps === 'number' ? eps : null;
}

/**
 * The ε of the robustness curve for a comparison: `--epsilon` when given, else the one ε the
 * adversarially trained runs among `runs` share (so the curve attacks at the budget the models
 * were trained for, and every run is attacked alike), else 8/255.
 * @throws ConfigError when the runs were trained at different ε and no --epsilon is given.
 */
export function trainingEpsilon(runs: readonly string[], given?: number): number {
  if (given !== undefined) return given;
  const found = new Map<number, string>();
  for (const r of runs) {
    const eps = runEpsilon(r);
    if (eps !== null && !found.has(eps)) found.set(eps, r);
  }
  if (found.size > 1) {
    throw new ConfigError(
      `--epsilon: the runs were trained at different ε (${[...found].map(([e, r]) => `${r}: ${e.toPrecision(4)}`).join(', ')}); pass --epsilon to attack them all at one budget`,
    );
  }
  return found.size === 1 ? [...found.keys()][0]! : 8 / 255;
}

/**
 * Evaluates the run folder `runDir` (its model, a class-stratified sample of `settings.limit`
 * images of its own dataset or `data`) and writes `<runDir>/eval.json` atomically; the robustness
 * attack uses `epsilon` (default 8/255) with α = 2.5ε/K. The backend must be set up, and the
 * caller must hold the run's lock (see {@link runCompare}).
 */
export async function evaluateRun(runDir: string, opts: CompareCommandOptions, settings: CompareSettings, epsilon = 8 / 255): Promise<string> {
  const d = COMPARE_EVALUATION_DEFAULTS;
  const methods = saliencyMethods(settings.methods);
  const { limit, batchSize, seed } = settings;
  let spec = opts.data;
  let option = '--data';
  if (spec === undefined) {
    const data = readRunConfig(runDir)['data'];
    option = `${path.join(runDir, RUN_CONFIG_FILE)} 'data' (or pass --data)`;
    if (typeof data !== 'string' || data.length === 0) throw new DataError(`${option}: expected a dataset name or path, found ${JSON.stringify(data)}`);
    spec = data;
  }
  const { classifier, weights } = await loadModel(runDir);
  if (weights.checkpoint) process.stderr.write(`${checkpointNote(runDir, weights)}\n`);
  const dataset = await openDataSource(spec, { option, split: opts.split ?? d.split }).catch((e: unknown) => {
    classifier.model.dispose();
    throw e;
  });
  const out = path.join(runDir, RUN_EVALUATION_FILE);
  try {
    if (!opts.quiet) process.stderr.write(`compare: evaluating ${runDir} on ${spec} (${opts.split ?? d.split}, a class-stratified sample of ${Math.min(limit, dataset.size)} images; robustness attack ε = ${epsilon.toPrecision(4)}) → ${out}\n`);
    const result = await evaluate(classifier, dataset, {
      methods,
      ...(settings.metrics ? { metrics: settings.metrics } : {}),
      limit,
      batchSize,
      seed,
      robustness: { attack: { epsilon } },
      modelSource: runDir,
      modelWeights: weights,
      command: `scaat ${process.argv.slice(2).join(' ')}`,
      ...(opts.quiet ? {} : { onProgress: progressPrinter(`evaluate ${path.basename(runDir)}`) }),
    });
    await writeJsonAtomic(out, result);
    return out;
  } finally {
    classifier.model.dispose();
    await dataset.close?.();
  }
}

/** Evaluates the run folders that need it (unless `--no-evaluate`), loads the runs and prints the comparison. */
export async function runCompare(runs: readonly string[], opts: CompareCommandOptions): Promise<void> {
  const pending: string[] = [];
  for (const r of runs) {
    const files = await runFolderEvaluations(r); // listed once for both checks
    if (await needsEvaluation(r, files)) {
      pending.push(r);
      continue;
    }
    const stale = await staleEvaluation(r, files);
    if (!stale) continue;
    const which = `${stale.file} was made from weights ${stale.recorded.slice(0, 12)}…, but ${r} now holds ${stale.current.slice(0, 12)}…`;
    if (opts.evaluate !== false && path.basename(stale.file) === RUN_EVALUATION_FILE) {
      if (!opts.quiet) process.stderr.write(`compare: ${which}; evaluating it again\n`);
      pending.push(r);
    } else {
      process.stderr.write(`compare: warning: ${which}: its numbers are not this model's (${opts.evaluate === false ? 'run without --no-evaluate' : `remove ${stale.file}`} to evaluate it again)\n`);
    }
  }
  if (opts.evaluate !== false) {
    if (pending.length > 0) {
      const settings = compareSettings(opts);
      saliencyMethods(settings.methods); // validates before any loading
      const epsilon = trainingEpsilon(runs, settings.epsilon);
      await setupBackend({ backend: opts.backend ?? COMPARE_EVALUATION_DEFAULTS.backend });
      for (const r of pending) {
        // one writer per run folder: not while it trains (LockedError, exit 4)
        const lock = await lockRunDir(r);
        try {
          await evaluateRun(r, opts, settings, epsilon);
        } finally {
          lock.release();
        }
      }
    }
  }
  const results = await loadResults(runs);
  if (opts.save) await writeJsonAtomic(opts.save, results);
  if (opts.format === 'json') {
    process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    return;
  }
  const table = buildTable(results, { metrics: opts.metrics });
  process.stdout.write((opts.format === 'markdown' ? formatTableMarkdown(table) : formatTableText(table)) + '\n');
  if (opts.format === 'text') process.stdout.write("\n(* = best in row; ↓ lower is better, ↑ higher is better)\n");
  const caveats = tableCaveats(table, results);
  if (caveats.length > 0) process.stdout.write(`\n${caveats.join('\n')}\n`);
}

/**
 * `scaat train`: train a model with one of the trainers (regular, pgd-at, sgt, scaat) into a run
 * folder, or continue one with --resume. Thin: it resolves the config, opens the data, installs
 * the Ctrl-C handler and calls `train()` (src/train/loop.ts).
 *
 *   scaat train --trainer pgd-at --model resnet-20 --data cifar10-jpg \
 *     --config configs/cifar10-resnet20.json --set pgd-at.epsilon=8/255 --out runs/pgd-at
 *   scaat train --resume runs/pgd-at            # after a crash or Ctrl-C; --epochs N extends it
 *                                               # (the lr schedule is then recomputed for the new length)
 *   scaat train --trainer scaat --model runs/regular --epochs 2 --out runs/scaat-ft
 *                                               # fine-tune: start from a finished run's final weights
 *
 * Config layers, later winning: defaults ← --config FILE ← flags (--trainer, --model, --data,
 * --epochs, --seed, --backend) ← --set key=value. Ctrl-C (SIGTERM) finishes the current step,
 * writes a checkpoint and exits with code 130 (143); a second signal exits at once (signals.ts).
 * One process writes a run folder at a time (its lock: train/run-dir.ts lockRunDir; another
 * process gets exit code 4). Data is opened by the datasets room (`openDataset`), so `--data`
 * takes whatever `scaat data inspect` takes.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../errors.js';
import type { Dataset } from '../../datasets/dataset.js';
import { ALL_TRAINERS } from '../../scaat/registry.js';
import { parseSetOverrides, resolveConfig, TRAIN_CONFIG_SCHEMA } from '../../train/config.js';
import type { TrainConfig } from '../../train/config.js';
import { describeSettings } from '../../io/config-schema.js';
import type { ConfigLayer } from '../../io/config-schema.js';
import { train } from '../../train/loop.js';
import { consoleProgress } from '../../train/progress.js';
import { extensionDiffers, optionsResolver } from '../../train/registry.js';
import { readRunConfig } from '../../train/run-dir.js';
import { onInterrupt } from '../signals.js';
import { openDataSource } from './_inputs.js';
import { addSettingOptions, settingsFrom } from './_settings.js';

/**
 * Options of `scaat train` as commander gives them: the command's own, and the config keys that
 * have a flag in TRAIN_CONFIG_SCHEMA (`trainer`, `model`, `data`, `epochs`, `seed`, `backend`).
 */
export type TrainFlags = {
  config?: string;
  set: string[];
  out?: string;
  resume?: string;
  helpConfig?: boolean;
} & Readonly<Record<string, unknown>>;

export function registerTrain(program: Command): void {
  const cmd = program.command('train').description('train a classifier (regular, pgd-at, sgt, scaat) into a run folder, or resume one');
  // the config keys' flags: one layer over --config, so their defaults are only shown
  addSettingOptions(cmd, TRAIN_CONFIG_SCHEMA, 'text')
    .option('--config <file>', 'preset JSON file (e.g. configs/cifar10-resnet20.json)')
    .option('--set <key=value>', 'override a config key (repeatable); trainer options as <trainer>.<option>=value', collect, [])
    .option('--out <dir>', 'run folder (default runs/<trainer>-<model>-<date>)')
    .option('--resume <dir>', 'continue the run in <dir> from its latest checkpoint (--epochs may grow, --backend may change)')
    .option('--help-config', 'list every config key with its default and exit')
    .addHelpText('after', '\nWhat each trainer does and every option with its default: docs/method.md §2 (the training loop\'s keys: §7).')
    .action(async (flags: TrainFlags) => {
      if (flags.helpConfig) {
        process.stdout.write(`config keys (set with --config FILE or --set key=value; explained in docs/method.md §2 and §7):\n${describeSettings(TRAIN_CONFIG_SCHEMA)}\n${describeTrainers()}`);
        return;
      }
      const { config, runDir, resume } = resolveRun(flags);
      const grows = resume ? lengthGrowth(runDir, config) : undefined;
      if (grows) process.stderr.write(`train: warning: ${grows}\n`);
      const data = {
        train: await openDataSplit(config.data, 'train'),
        ...(config.evalEvery > 0 ? { test: await openDataSplit(config.data, 'test') } : {}),
      };
      const abort = new AbortController();
      const progress = consoleProgress();
      const stopOnSignal = onInterrupt((sig) => {
        progress.message(`${sig}: finishing the current step and writing a checkpoint (again to stop at once)`);
        abort.abort();
      });
      try {
        const r = await train({ config, data, runDir, resume, trainers: ALL_TRAINERS, signal: abort.signal, progress });
        const test = r.test ? `, test accuracy ${(100 * r.test.acc).toFixed(2)} % on ${r.test.samples} samples` : '';
        process.stdout.write(`trained ${r.steps} steps${test}; model in ${path.join(runDir, 'model')}, log in ${path.join(runDir, 'log.jsonl')}\n`);
      } finally {
        stopOnSignal();
        await Promise.all([data.train.close?.(), data.test?.close?.()]);
      }
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The resolved config and run folder of a new or resumed run. */
export function resolveRun(flags: TrainFlags): { config: TrainConfig; runDir: string; resume: boolean } {
  const resolver = optionsResolver(ALL_TRAINERS);
  const flagValues = settingsFrom(flags, TRAIN_CONFIG_SCHEMA);

  if (flags.resume !== undefined) {
    const changing = Object.keys(flagValues).filter((k) => k !== 'epochs' && k !== 'backend');
    if (changing.length > 0 || flags.config !== undefined || flags.set.length > 0 || flags.out !== undefined) {
      const what = [...changing.map((k) => `--${k}`), ...(flags.config ? ['--config'] : []), ...(flags.set.length ? ['--set'] : []), ...(flags.out ? ['--out'] : [])];
      throw new ConfigError(`--resume continues a run with its own config.json; only --epochs and --backend may change, got ${what.join(', ')}`);
    }
    const saved = readRunConfig(flags.resume);
    const config = resolveConfig([{ source: path.join(flags.resume, 'config.json'), values: saved }, { source: 'command line', values: flagValues }], resolver);
    return { config, runDir: flags.resume, resume: true };
  }

  const layers: ConfigLayer[] = [];
  if (flags.config !== undefined) layers.push({ source: flags.config, values: readPreset(flags.config) });
  layers.push({ source: 'command line', values: flagValues });
  layers.push({ source: '--set', values: parseSetOverrides(flags.set, ALL_TRAINERS.keys()) });
  const config = resolveConfig(layers, resolver);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const runDir = flags.out ?? path.join('runs', `${config.trainer}-${path.basename(config.model)}-${stamp}`);
  return { config, runDir, resume: false };
}

/**
 * Why resuming `runDir` with `config.epochs` above its recorded epochs does not give the longer run
 * trained from scratch (train/registry.ts extensionDiffers), or undefined (no growth, or exact).
 */
function lengthGrowth(runDir: string, config: TrainConfig): string | undefined {
  const before = readRunConfig(runDir)['epochs'];
  if (typeof before !== 'number' || config.epochs <= before) return undefined;
  const why = extensionDiffers(config, ALL_TRAINERS);
  return why === undefined ? undefined : `--epochs ${config.epochs} extends a run of ${before} epochs whose steps depend on its length (${why}): the result is not the run of ${config.epochs} epochs trained from scratch`;
}

/** Reads a preset JSON file (ConfigError naming the file when unreadable or not an object). */
function readPreset(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`--config ${file}: cannot read: ${(err as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`--config ${file}: not valid JSON: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`--config ${file}: expected a JSON object of config keys`);
  const { $comment: _comment, ...values } = v as Record<string, unknown>;
  return values;
}

/** Opens the train or test split of `--data` (a DATASETS name, `name:key=value,…`, or a path). */
export async function openDataSplit(spec: string, split: 'train' | 'test'): Promise<Dataset> {
  return openDataSource(spec, { option: "--data (config key 'data')", split });
}

/** Each trainer and its options (from its schema), as `--help-config` lists them. */
function describeTrainers(): string {
  const lines = [...ALL_TRAINERS].map(([name, spec]) => {
    const options = describeSettings(spec.options, { indent: '    ', width: 22 });
    return `  ${name.padEnd(8)} ${spec.label}; ${options ? `options (--set ${name}.<option>=value):\n${options}` : 'no options'}`;
  });
  return `trainers:\n${lines.join('\n')}\n`;
}

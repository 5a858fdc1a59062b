/**
 * The training run's configuration: one resolved, validated object, defaults in one place
 * (nanoGPT config, ky `@default`):
 *
 *   DEFAULT_TRAIN_CONFIG  ←  preset file (configs/*.json)  ←  CLI flags and `--set key=value`
 *
 * Later layers win. Unknown keys and wrong types are a ConfigError that names the key and the
 * layer it came from. Trainer-specific options live under `trainerOptions.<trainer>` and are
 * validated by that trainer's spec (see registry.ts); on the command line `--set sgt.k=0.3` is
 * short for `--set trainerOptions.sgt.k=0.3`.
 *
 * @example
 * const cfg = resolveConfig([{source: 'configs/cifar10-small.json', values: preset},
 *                            {source: '--set', values: parseSetOverrides(['lr=0.05'])}]);
 */
import { ConfigError } from '../errors.js';
import { readNumber } from '../io/numbers.js';
import type { ScheduleName } from './schedule.js';
import type { OptimizerName } from './optimizers.js';

/** A JSON value a config may hold. */
export type ConfigValue = string | number | boolean | number[];

export interface TrainConfig {
  /** Trainer name in the registry: 'regular' | 'pgd-at' | 'sgt' (| 'scaat' when registered). @default 'regular' */
  trainer: string;
  /** Options of each trainer, by trainer name, resolved by the trainer's spec. @default {} (the trainer's defaults) */
  trainerOptions: Record<string, Record<string, unknown>>;
  /** A zoo model name (models/registry.ts), or a saved model to start from (fine-tuning): a model.json,
   *  a model folder, or a finished run folder (its final model; see source-model.ts). @default 'small-cnn' */
  model: string;
  /** SHA-256 (hex) of the saved model's weights the run starts from: filled in by train() when
   *  `model` is a path (recorded in config.json); set it to pin them (a mismatch is a DataError).
   *  '' for zoo models. @default '' */
  modelSha256: string;
  /** Width multiplier of zoo models (filters/units × width). @default 1 */
  width: number;
  /** In-model normalisation: per-channel mean of the [0, 1] input; [] = none. @default [] */
  normalizeMean: number[];
  /** In-model normalisation: per-channel standard deviation (same length as normalizeMean). @default [] */
  normalizeStd: number[];
  /** Training data: a dataset name or path, opened by the datasets room (recorded for reproducibility). @default 'synthetic' */
  data: string;
  /**
   * Train on a class-stratified sample of N training samples, drawn with `seed` (datasets/subset.ts;
   * recorded in log.jsonl's start record, its indices in train-indices.npy) (0 = all). @default 0
   */
  trainLimit: number;
  /** Passes over the training set. @default 10 */
  epochs: number;
  /** Samples per training step. @default 128 */
  batchSize: number;
  /** Drop the last incomplete batch of each epoch. @default false */
  dropLast: boolean;
  /** Dataset augmentation (random crop + flip, as the dataset defines it). @default false */
  augment: boolean;
  /** Seed of everything random: initial weights, data order, attacks, masks. @default 0 */
  seed: number;
  /** 'sgd' (momentum) or 'adam'. @default 'sgd' (the CIFAR ResNet recipe of He et al., 2016) */
  optimizer: OptimizerName;
  /** η, peak learning rate. @default 0.1 (SGD on CIFAR ResNets; use ~1e-3 with Adam) */
  lr: number;
  /** μ, SGD momentum. @default 0.9 */
  momentum: number;
  /** Nesterov momentum (SGD). @default false */
  nesterov: boolean;
  /** λ, L2 weight decay on every trainable variable (PyTorch `weight_decay`). @default 5e-4 */
  weightDecay: number;
  /** Adam β1. @default 0.9 */
  beta1: number;
  /** Adam β2. @default 0.999 */
  beta2: number;
  /** Adam ε. @default 1e-8 */
  adamEpsilon: number;
  /** Learning-rate schedule: 'constant' | 'step' | 'cosine' (schedule.ts). @default 'cosine' */
  schedule: ScheduleName;
  /** η_min at the end of the cosine schedule. @default 0 */
  minLr: number;
  /** Linear warm-up length in epochs (may be fractional). @default 0 */
  warmupEpochs: number;
  /** Epochs at which the 'step' schedule multiplies η by lrGamma. @default [] */
  lrMilestones: number[];
  /** γ of the 'step' schedule. @default 0.1 */
  lrGamma: number;
  /** Evaluate on the test split every N epochs (0 = never; the last epoch always, when N > 0). @default 1 */
  evalEvery: number;
  /** Batch size of evaluation. @default 256 */
  evalBatchSize: number;
  /** Evaluate on a class-stratified sample of N test samples, drawn with `seed` (0 = all). @default 0 */
  evalLimit: number;
  /** Write a 'step' log record every N steps (0 = never). @default 50 */
  logEvery: number;
  /** Also checkpoint every N steps (0 = only at the end of each epoch and on Ctrl-C). @default 0 */
  checkpointEvery: number;
  /** Checkpoints kept in the run folder (older ones are deleted). @default 2 */
  keepCheckpoints: number;
  /** TF.js backend: 'auto' (tfjs-node if installed, else wasm) | 'wasm' | 'cpu' | 'tensorflow'. @default 'auto' */
  backend: string;
}

export const DEFAULT_TRAIN_CONFIG: Readonly<TrainConfig> = Object.freeze({
  trainer: 'regular',
  trainerOptions: {},
  model: 'small-cnn',
  modelSha256: '',
  width: 1,
  normalizeMean: [],
  normalizeStd: [],
  data: 'synthetic',
  trainLimit: 0,
  epochs: 10,
  batchSize: 128,
  dropLast: false,
  augment: false,
  seed: 0,
  optimizer: 'sgd',
  lr: 0.1,
  momentum: 0.9,
  nesterov: false,
  weightDecay: 5e-4,
  beta1: 0.9,
  beta2: 0.999,
  adamEpsilon: 1e-8,
  schedule: 'cosine',
  minLr: 0,
  warmupEpochs: 0,
  lrMilestones: [],
  lrGamma: 0.1,
  evalEvery: 1,
  evalBatchSize: 256,
  evalLimit: 0,
  logEvery: 50,
  checkpointEvery: 0,
  keepCheckpoints: 2,
  backend: 'auto',
} satisfies TrainConfig);

type Kind =
  | { type: 'string'; nonEmpty?: boolean; pattern?: RegExp; expected?: string }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'number'; min?: number; max?: number; integer?: boolean; exclusiveMin?: boolean }
  | { type: 'boolean' }
  | { type: 'number[]'; min?: number };

/** How each key is checked, with a one-line doc for `scaat train --help-config`. */
export const TRAIN_CONFIG_FIELDS: Readonly<Record<Exclude<keyof TrainConfig, 'trainerOptions'>, Kind & { doc: string }>> = {
  trainer: { type: 'string', nonEmpty: true, doc: "trainer name: 'regular', 'pgd-at', 'sgt', 'scaat'" },
  model: { type: 'string', nonEmpty: true, doc: 'zoo model name, or a saved model to start from: model.json, model folder or finished run folder' },
  modelSha256: { type: 'string', pattern: /^([0-9a-f]{64})?$/, expected: "'' or 64 lowercase hex digits", doc: "SHA-256 of a saved model's weights (filled in by train; set to pin them)" },
  width: { type: 'number', min: 0, exclusiveMin: true, doc: 'width multiplier of zoo models' },
  normalizeMean: { type: 'number[]', doc: 'in-model per-channel mean ([] = no normalisation)' },
  normalizeStd: { type: 'number[]', min: 0, doc: 'in-model per-channel std' },
  data: { type: 'string', nonEmpty: true, doc: 'dataset name or path' },
  trainLimit: { type: 'number', integer: true, min: 0, doc: 'train on a class-stratified sample of N training samples, drawn with seed (0 = all)' },
  epochs: { type: 'number', integer: true, min: 1, doc: 'passes over the training set' },
  batchSize: { type: 'number', integer: true, min: 1, doc: 'samples per step' },
  dropLast: { type: 'boolean', doc: 'drop the last incomplete batch' },
  augment: { type: 'boolean', doc: 'random crop + flip augmentation' },
  seed: { type: 'number', integer: true, min: 0, doc: 'seed of weights, data order, attacks, masks' },
  optimizer: { type: 'enum', values: ['sgd', 'adam'], doc: 'sgd (momentum) or adam' },
  lr: { type: 'number', min: 0, doc: 'peak learning rate η' },
  momentum: { type: 'number', min: 0, max: 1, doc: 'SGD momentum μ' },
  nesterov: { type: 'boolean', doc: 'Nesterov momentum' },
  weightDecay: { type: 'number', min: 0, doc: 'L2 weight decay λ' },
  beta1: { type: 'number', min: 0, max: 1, doc: 'Adam β1' },
  beta2: { type: 'number', min: 0, max: 1, doc: 'Adam β2' },
  adamEpsilon: { type: 'number', min: 0, exclusiveMin: true, doc: 'Adam ε' },
  schedule: { type: 'enum', values: ['constant', 'step', 'cosine'], doc: 'learning-rate schedule' },
  minLr: { type: 'number', min: 0, doc: 'final η of the cosine schedule' },
  warmupEpochs: { type: 'number', min: 0, doc: 'linear warm-up, in epochs' },
  lrMilestones: { type: 'number[]', min: 0, doc: "epochs where 'step' multiplies η by lrGamma" },
  lrGamma: { type: 'number', min: 0, doc: "γ of the 'step' schedule" },
  evalEvery: { type: 'number', integer: true, min: 0, doc: 'evaluate every N epochs (0 = never)' },
  evalBatchSize: { type: 'number', integer: true, min: 1, doc: 'evaluation batch size' },
  evalLimit: { type: 'number', integer: true, min: 0, doc: 'evaluate on a class-stratified sample of N test samples, drawn with seed (0 = all)' },
  logEvery: { type: 'number', integer: true, min: 0, doc: 'log a step record every N steps (0 = never)' },
  checkpointEvery: { type: 'number', integer: true, min: 0, doc: 'checkpoint every N steps too (0 = per epoch)' },
  keepCheckpoints: { type: 'number', integer: true, min: 1, doc: 'checkpoints kept' },
  backend: { type: 'enum', values: ['auto', 'wasm', 'cpu', 'tensorflow'], doc: 'TF.js backend' },
};

/** One layer of configuration and where it came from (for error messages). */
export interface ConfigLayer {
  /** e.g. 'configs/cifar10-small.json', '--set', 'command line'. */
  readonly source: string;
  readonly values: Readonly<Record<string, unknown>>;
}

/** What resolveConfig needs to know about trainers: their names and option resolvers. */
export interface TrainerOptionsResolver {
  has(name: string): boolean;
  keys(): Iterable<string>;
  /** Validates and completes one trainer's options (ConfigError naming the key). */
  resolveOptions(name: string, raw: Readonly<Record<string, unknown>>): Record<string, unknown>;
}

/**
 * Merges `layers` over {@link DEFAULT_TRAIN_CONFIG} and validates the result.
 * Values may be strings (from the CLI): "0.3", "8/255", "true", "30,60" / "[30, 60]".
 * @throws ConfigError naming the key, the layer, what was expected and what was found.
 */
export function resolveConfig(layers: readonly ConfigLayer[], trainers?: TrainerOptionsResolver): TrainConfig {
  const out: Record<string, unknown> = { ...DEFAULT_TRAIN_CONFIG, trainerOptions: {} };
  const rawOptions: Record<string, Record<string, unknown>> = {};
  for (const { source, values } of layers) {
    if (typeof values !== 'object' || values === null || Array.isArray(values)) {
      throw new ConfigError(`${source}: expected an object of config keys, got ${show(values)}`);
    }
    for (const [key, raw] of Object.entries(values)) {
      if (raw === undefined) continue;
      if (key === 'trainerOptions') {
        mergeTrainerOptions(rawOptions, raw, source, trainers);
        continue;
      }
      if (!Object.hasOwn(TRAIN_CONFIG_FIELDS, key)) {
        throw new ConfigError(`${source}: unknown config key '${key}'${suggest(key, [...Object.keys(TRAIN_CONFIG_FIELDS), 'trainerOptions'])}`);
      }
      out[key] = coerce(key, TRAIN_CONFIG_FIELDS[key as keyof typeof TRAIN_CONFIG_FIELDS], raw, source);
    }
  }
  const cfg = out as unknown as TrainConfig;
  if (cfg.normalizeMean.length !== cfg.normalizeStd.length) {
    throw new ConfigError(`config: 'normalizeMean' (${cfg.normalizeMean.length} values) and 'normalizeStd' (${cfg.normalizeStd.length}) must have the same length`);
  }
  if (trainers) {
    if (!trainers.has(cfg.trainer)) {
      throw new ConfigError(`config: unknown trainer '${cfg.trainer}'; expected one of ${[...trainers.keys()].join(', ')}`);
    }
    const names = new Set([cfg.trainer, ...Object.keys(rawOptions)]);
    for (const name of names) cfg.trainerOptions[name] = trainers.resolveOptions(name, rawOptions[name] ?? {});
  } else {
    cfg.trainerOptions = rawOptions;
  }
  return cfg;
}

function mergeTrainerOptions(
  into: Record<string, Record<string, unknown>>,
  raw: unknown,
  source: string,
  trainers: TrainerOptionsResolver | undefined,
): void {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${source}: 'trainerOptions' must be an object {<trainer>: {<option>: value}}, got ${show(raw)}`);
  }
  for (const [name, opts] of Object.entries(raw)) {
    if (trainers && !trainers.has(name)) {
      throw new ConfigError(`${source}: 'trainerOptions.${name}': unknown trainer; expected one of ${[...trainers.keys()].join(', ')}`);
    }
    if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
      throw new ConfigError(`${source}: 'trainerOptions.${name}' must be an object of options, got ${show(opts)}`);
    }
    into[name] = { ...(into[name] ?? {}), ...(opts as Record<string, unknown>) };
  }
}

function coerce(key: string, kind: Kind, raw: unknown, source: string): ConfigValue {
  const fail = (expected: string): never => {
    throw new ConfigError(`${source}: '${key}' must be ${expected}, got ${show(raw)}`);
  };
  switch (kind.type) {
    case 'string':
      if (typeof raw !== 'string' || (kind.nonEmpty && raw.length === 0)) fail(kind.nonEmpty ? 'a non-empty string' : 'a string');
      if (kind.pattern && !kind.pattern.test(raw as string)) fail(kind.expected ?? `a string matching ${String(kind.pattern)}`);
      return raw as string;
    case 'enum':
      if (typeof raw !== 'string' || !kind.values.includes(raw)) fail(`one of ${kind.values.map((v) => `'${v}'`).join(', ')}`);
      return raw as string;
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === 'false') return raw === 'true';
      return fail('true or false');
    case 'number': {
      const n = readNumber(raw) ?? NaN;
      const range = describeRange(kind);
      if (!Number.isFinite(n)) fail(`a number${range}`);
      if (kind.integer && !Number.isInteger(n)) fail(`an integer${range}`);
      if (kind.min !== undefined && (kind.exclusiveMin ? !(n > kind.min) : !(n >= kind.min))) fail(`a number${range}`);
      if (kind.max !== undefined && !(n <= kind.max)) fail(`a number${range}`);
      return n;
    }
    case 'number[]': {
      let arr: unknown = raw;
      if (typeof raw === 'string') {
        const t = raw.trim();
        arr = t === '' || t === '[]' ? [] : t.startsWith('[') ? safeJson(t) : t.split(',');
      }
      if (!Array.isArray(arr)) return fail('a list of numbers (JSON array or comma-separated)');
      const nums = arr.map((v: unknown) => readNumber(v) ?? NaN);
      if (nums.some((n) => !Number.isFinite(n) || (kind.min !== undefined && n < kind.min))) {
        fail(`a list of numbers${kind.min !== undefined ? ` ≥ ${kind.min}` : ''}`);
      }
      return nums;
    }
  }
}

function describeRange(k: { min?: number; max?: number; exclusiveMin?: boolean }): string {
  if (k.min !== undefined && k.max !== undefined) return ` in [${k.min}, ${k.max}]`;
  if (k.min !== undefined) return k.exclusiveMin ? ` > ${k.min}` : ` ≥ ${k.min}`;
  return '';
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  return JSON.stringify(v) ?? String(v);
}

/** ", did you mean 'x'?" for a close key (edit distance ≤ 2), else a list hint. */
function suggest(key: string, known: readonly string[]): string {
  let best = '';
  let bestD = 3;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best ? `; did you mean '${best}'?` : `; known keys: ${known.join(', ')}`;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i]![j] = Math.min(dp[i - 1]![j]! + 1, dp[i]![j - 1]! + 1, dp[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return dp[a.length]![b.length]!;
}

/**
 * `--set key=value` pairs → a config layer. Dotted keys nest: `trainerOptions.sgt.k=0.3`; a first
 * segment that is a trainer name is short for `trainerOptions.<name>` (`sgt.k=0.3`).
 * @throws ConfigError for a pair without '=' or an empty key.
 */
export function parseSetOverrides(pairs: readonly string[], trainerNames: Iterable<string> = []): Record<string, unknown> {
  const trainers = new Set(trainerNames);
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--set: expected key=value, got '${pair}'`);
    let path = pair.slice(0, eq).trim().split('.');
    const value = pair.slice(eq + 1);
    if (path.some((p) => p === '')) throw new ConfigError(`--set: empty key segment in '${pair}'`);
    if (path.length >= 2 && trainers.has(path[0]!)) path = ['trainerOptions', ...path];
    if (path.length > 1 && path[0] !== 'trainerOptions') {
      throw new ConfigError(`--set: '${path.join('.')}' is not a config key; nested keys are 'trainerOptions.<trainer>.<option>' or '<trainer>.<option>'`);
    }
    if (path[0] === 'trainerOptions' && path.length !== 3) {
      throw new ConfigError(`--set: expected 'trainerOptions.<trainer>.<option>=value', got '${pair}'`);
    }
    let node = out;
    for (const seg of path.slice(0, -1)) {
      const next = node[seg];
      node = (typeof next === 'object' && next !== null ? next : (node[seg] = {})) as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = value;
  }
  return out;
}

/** Help text: one line per key with its default (for `scaat train --help-config`). */
export function describeConfig(): string {
  const lines = Object.entries(TRAIN_CONFIG_FIELDS).map(([k, f]) => {
    const d = JSON.stringify(DEFAULT_TRAIN_CONFIG[k as keyof TrainConfig]);
    return `  ${k.padEnd(16)} ${f.doc} (default ${d})`;
  });
  return lines.join('\n');
}

/**
 * Helper for trainers' option sections: completes `raw` over `defaults` and coerces each value to
 * its default's type (numbers accept "8/255"; booleans "true"/"false"; strings in `choices`).
 * @throws ConfigError "<where>: unknown option 'x'" / "'x' must be …".
 */
export function resolveOptionSection<T extends { [K in keyof T]: number | boolean | string }>(
  where: string,
  defaults: Readonly<T>,
  raw: Readonly<Record<string, unknown>>,
  checks: { readonly [K in keyof T]?: (v: T[K]) => string | undefined } = {},
): T {
  const out: Record<string, number | boolean | string> = { ...defaults };
  for (const [key, v] of Object.entries(raw)) {
    if (!Object.hasOwn(defaults, key)) {
      throw new ConfigError(`${where}: unknown option '${key}'${suggest(key, Object.keys(defaults))}`);
    }
    const def = (defaults as Readonly<Record<string, number | boolean | string>>)[key];
    let value: number | boolean | string;
    if (typeof def === 'number') {
      value = readNumber(v) ?? NaN;
      if (!Number.isFinite(value)) throw new ConfigError(`${where}: '${key}' must be a number, got ${show(v)}`);
    } else if (typeof def === 'boolean') {
      if (typeof v === 'boolean') value = v;
      else if (v === 'true' || v === 'false') value = v === 'true';
      else throw new ConfigError(`${where}: '${key}' must be true or false, got ${show(v)}`);
    } else {
      if (typeof v !== 'string') throw new ConfigError(`${where}: '${key}' must be a string, got ${show(v)}`);
      value = v;
    }
    out[key] = value;
  }
  for (const [key, check] of Object.entries(checks) as Array<[string, ((v: unknown) => string | undefined) | undefined]>) {
    const problem = check?.(out[key]);
    if (problem) throw new ConfigError(`${where}: '${key}' must be ${problem}, got ${show(out[key])}`);
  }
  return out as T;
}

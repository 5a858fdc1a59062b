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
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { amount, amounts, choice, flag, defaultsOf, resolveLayers, setting, show, text } from '../io/config-schema.js';
import type { ConfigLayer } from '../io/config-schema.js';
import { DATASETS } from '../datasets/registry.js';
import { MODELS } from '../models/registry.js';
import type { ScheduleName } from './schedule.js';
import type { OptimizerName } from './optimizers.js';

/**
 * Every key of the training run's config, declared once: its check, its default and its one-line
 * description (`scaat train --help-config`). `trainerOptions` holds each trainer's own options,
 * checked by that trainer's schema (registry.ts).
 */
export const TRAIN_CONFIG_SCHEMA = z
  .strictObject({
    /** Trainer name in the registry: 'regular' | 'pgd-at' | 'sgt' (| 'scaat' when registered). @default 'regular' */
    trainer: setting(text({ nonEmpty: true }), 'regular', {
      description: "trainer name: 'regular', 'pgd-at', 'sgt', 'scaat'", help: 'trainer: regular, pgd-at, sgt, scaat', flag: '--trainer <name>',
    }),
    /** Options of each trainer, by trainer name, resolved by the trainer's spec (resolveConfig). @default {} (the trainer's defaults) */
    trainerOptions: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
    /** A zoo model name (models/registry.ts), or a saved model to start from (fine-tuning): a model.json,
     *  a model folder, or a finished run folder (its final model; see source-model.ts). @default 'small-cnn' */
    model: setting(text({ nonEmpty: true }), 'small-cnn', {
      description: 'zoo model name, or a saved model to start from: model.json, model folder or finished run folder',
      help:
        `zoo model (${[...MODELS.keys()].join(', ')}), or saved weights to start from (fine-tuning): a finished run folder (its final model; ` +
        "architecture and width/normalisation from it), a model folder or model.json; the weights' SHA-256 is recorded as modelSha256 in config.json",
      flag: '--model <name|path>',
    }),
    /** SHA-256 (hex) of the saved model's weights the run starts from: filled in by train() when
     *  `model` is a path (recorded in config.json); set it to pin them (a mismatch is a DataError).
     *  '' for zoo models. @default '' */
    modelSha256: setting(text({ pattern: /^([0-9a-f]{64})?$/, expected: "'' or 64 lowercase hex digits" }), '', "SHA-256 of a saved model's weights (filled in by train; set to pin them)"),
    /** Width multiplier of zoo models (filters/units × width). @default 1 */
    width: setting(amount({ above: 0 }), 1, 'width multiplier of zoo models'),
    /** In-model normalisation: per-channel mean of the [0, 1] input; [] = none. @default [] */
    normalizeMean: setting(amounts(), [], 'in-model per-channel mean ([] = no normalisation)'),
    /** In-model normalisation: per-channel standard deviation (same length as normalizeMean). @default [] */
    normalizeStd: setting(amounts({ min: 0 }), [], 'in-model per-channel std'),
    /** Training data: a dataset name or path, opened by the datasets room (recorded for reproducibility). @default 'synthetic' */
    data: setting(text({ nonEmpty: true }), 'synthetic', {
      description: 'dataset name or path',
      help: `dataset: ${[...DATASETS.keys()].join(', ')} (options as name:key=value,…), or a path (IDX files, CIFAR-10 binary, PCAM, image folder with train/ and test/)`,
      flag: '--data <name|path>',
    }),
    /** Train on a class-stratified sample of N training samples, drawn with `seed` (datasets/subset.ts;
     *  recorded in log.jsonl's start record, its indices in train-indices.npy) (0 = all). @default 0 */
    trainLimit: setting(amount({ integer: true, min: 0 }), 0, 'train on a class-stratified sample of N training samples, drawn with seed (0 = all)'),
    /** Passes over the training set. @default 10 */
    epochs: setting(amount({ integer: true, min: 1 }), 10, { description: 'passes over the training set', flag: '--epochs <n>' }),
    /**
     * The first N epochs take the regular step (clean cross-entropy) whatever the trainer; the
     * trainer's own step from epoch N on. From random weights, adversarial training (SCAAT and the
     * PGD-AT control alike) can settle at the constant predictor before the model has found the
     * label's signal (measured on the synthetic set, docs/results.md); a clean start, the same for
     * every trainer, avoids it. SCAAT's `warmupEpochs` still counts from epoch 0. @default 0
     */
    cleanEpochs: setting(amount({ integer: true, min: 0 }), 0, 'the first N epochs take the regular step (clean cross-entropy), whatever the trainer'),
    /** Samples per training step. @default 128 */
    batchSize: setting(amount({ integer: true, min: 1 }), 128, 'samples per step (on wasm one step must fit the backend\'s 4 GiB heap: a larger step stops with HeapLimitError)'),
    /** Drop the last incomplete batch of each epoch. @default false */
    dropLast: setting(flag(), false, 'drop the last incomplete batch'),
    /** Dataset augmentation (random crop + flip, as the dataset defines it). @default false */
    augment: setting(flag(), false, 'random crop + flip augmentation'),
    /** Seed of everything random: initial weights, data order, attacks, masks. @default 0 */
    seed: setting(amount({ integer: true, min: 0 }), 0, { description: 'seed of weights, data order, attacks, masks', flag: '--seed <n>' }),
    /** 'sgd' (momentum) or 'adam'. @default 'sgd' (the CIFAR ResNet recipe of He et al., 2016) */
    optimizer: setting(choice<OptimizerName>(['sgd', 'adam']), 'sgd', 'sgd (momentum) or adam'),
    /** η, peak learning rate. @default 0.1 (SGD on CIFAR ResNets; use ~1e-3 with Adam) */
    lr: setting(amount({ min: 0 }), 0.1, 'peak learning rate η'),
    /** μ, SGD momentum. @default 0.9 */
    momentum: setting(amount({ min: 0, max: 1 }), 0.9, 'SGD momentum μ'),
    /** Nesterov momentum (SGD). @default false */
    nesterov: setting(flag(), false, 'Nesterov momentum'),
    /** λ, L2 weight decay on every trainable variable (PyTorch `weight_decay`). @default 5e-4 */
    weightDecay: setting(amount({ min: 0 }), 5e-4, 'L2 weight decay λ'),
    /** Adam β1. @default 0.9 */
    beta1: setting(amount({ min: 0, max: 1 }), 0.9, 'Adam β1'),
    /** Adam β2. @default 0.999 */
    beta2: setting(amount({ min: 0, max: 1 }), 0.999, 'Adam β2'),
    /** Adam ε. @default 1e-8 */
    adamEpsilon: setting(amount({ above: 0 }), 1e-8, 'Adam ε'),
    /** Learning-rate schedule: 'constant' | 'step' | 'cosine' (schedule.ts). @default 'cosine' */
    schedule: setting(choice<ScheduleName>(['constant', 'step', 'cosine']), 'cosine', 'learning-rate schedule'),
    /** η_min at the end of the cosine schedule. @default 0 */
    minLr: setting(amount({ min: 0 }), 0, 'final η of the cosine schedule'),
    /** Linear warm-up length in epochs (may be fractional). @default 0 */
    warmupEpochs: setting(amount({ min: 0 }), 0, 'linear warm-up, in epochs'),
    /** Epochs at which the 'step' schedule multiplies η by lrGamma. @default [] */
    lrMilestones: setting(amounts({ min: 0 }), [], "epochs where 'step' multiplies η by lrGamma"),
    /** γ of the 'step' schedule. @default 0.1 */
    lrGamma: setting(amount({ min: 0 }), 0.1, "γ of the 'step' schedule"),
    /** Evaluate on the test split every N epochs (0 = never; the last epoch always, when N > 0). @default 1 */
    evalEvery: setting(amount({ integer: true, min: 0 }), 1, 'evaluate every N epochs (0 = never)'),
    /** Batch size of evaluation. @default 256 */
    evalBatchSize: setting(amount({ integer: true, min: 1 }), 256, 'evaluation batch size'),
    /** Evaluate on a class-stratified sample of N test samples, drawn with `seed` (0 = all). @default 0 */
    evalLimit: setting(amount({ integer: true, min: 0 }), 0, 'evaluate on a class-stratified sample of N test samples, drawn with seed (0 = all)'),
    /** Write a 'step' log record every N steps (0 = never). @default 50 */
    logEvery: setting(amount({ integer: true, min: 0 }), 50, 'log a step record every N steps (0 = never)'),
    /** Also checkpoint every N steps (0 = only at the end of each epoch and on Ctrl-C). @default 0 */
    checkpointEvery: setting(amount({ integer: true, min: 0 }), 0, 'checkpoint every N steps too (0 = per epoch)'),
    /** Checkpoints kept in the run folder (older ones are deleted). @default 2 */
    keepCheckpoints: setting(amount({ integer: true, min: 1 }), 2, 'checkpoints kept'),
    /** TF.js backend: 'auto' (tfjs-node if installed, else wasm) | 'wasm' | 'cpu' | 'tensorflow'. @default 'auto' */
    backend: setting(choice(['auto', 'wasm', 'cpu', 'tensorflow']), 'auto', {
      description: 'TF.js backend', help: 'TF.js backend: auto (tfjs-node if installed, else wasm), wasm, cpu or tensorflow', flag: '--backend <name>',
    }),
  })
  .superRefine((c, ctx) => {
    if (c.normalizeMean.length !== c.normalizeStd.length) {
      ctx.addIssue({ code: 'custom', message: `'normalizeMean' (${c.normalizeMean.length} values) and 'normalizeStd' (${c.normalizeStd.length}) must have the same length` });
    }
    if (c.cleanEpochs > 0 && c.cleanEpochs >= c.epochs) {
      ctx.addIssue({ code: 'custom', message: `'cleanEpochs' (${c.cleanEpochs}) must be below 'epochs' (${c.epochs}): the trainer's own step would never run` });
    }
  });

/** The training run's resolved configuration (the keys of {@link TRAIN_CONFIG_SCHEMA}, documented there). */
export type TrainConfig = z.output<typeof TRAIN_CONFIG_SCHEMA>;

export const DEFAULT_TRAIN_CONFIG: Readonly<TrainConfig> = Object.freeze(defaultsOf(TRAIN_CONFIG_SCHEMA));

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
  const rawOptions: Record<string, Record<string, unknown>> = {};
  const plain = layers.map(({ source, values }) => {
    if (typeof values !== 'object' || values === null || Array.isArray(values)) {
      throw new ConfigError(`${source}: expected an object of config keys, got ${show(values)}`);
    }
    const { trainerOptions, ...rest } = values;
    if (trainerOptions !== undefined) mergeTrainerOptions(rawOptions, trainerOptions, source, trainers);
    return { source, values: rest };
  });
  const cfg = resolveLayers(TRAIN_CONFIG_SCHEMA, plain, { where: 'config', noun: 'config key' });
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

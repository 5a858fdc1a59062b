/**
 * The trainers by name (`--trainer`, `config.trainer`). Each entry resolves its own options
 * section (`trainerOptions.<name>`) and builds a {@link Trainer} for the shared loop.
 *
 * SCAAT lives in `src/scaat/` (one level up in the dependency chain would be circular), so this
 * room's map, {@link BASELINE_TRAINERS}, holds the baselines only; scaat/registry.ts composes
 * every trainer (ALL_TRAINERS, what the CLI and `train({trainers})` use):
 *
 *   const ALL_TRAINERS = withTrainers(BASELINE_TRAINERS, [['scaat', SCAAT_TRAINER_SPEC]]);
 */
import type { Augmentation } from '../datasets/transforms.js';
import type { TrainConfig, TrainerOptionsResolver } from './config.js';
import { z } from 'zod';
import { resolveLayers } from '../io/config-schema.js';
import { PGD_AT_SCHEMA, pgdAtTrainer, resolvePgdAtOptions } from './pgd-at.js';
import type { PgdAtOptions } from './pgd-at.js';
import { regularTrainer } from './regular.js';
import { resolveSgtOptions, SGT_SCHEMA, sgtTrainer } from './sgt.js';
import type { SgtOptions } from './sgt.js';
import type { Trainer } from './types.js';

/** What a trainer factory is given. */
export interface TrainerInit {
  /** The resolved run config. */
  readonly config: TrainConfig;
  /** This trainer's resolved options (`config.trainerOptions[name]`). */
  readonly options: Readonly<Record<string, unknown>>;
  /** Samples trained on: the split, or its `trainLimit` sample (length of per-sample state, indexed by StepInput.index). */
  readonly trainSize: number;
  /** [H, W, C] of the images. */
  readonly inputShape: readonly [number, number, number];
  /** K. */
  readonly numClasses: number;
  /**
   * The training split's declared augmentation (Dataset.augmentation), which the batches get when
   * `config.augment` is on, drawn from `config.seed`; absent when the dataset does not declare one.
   */
  readonly augmentation?: Augmentation;
}

/** A registered trainer. */
export interface TrainerSpec {
  /** Display name. */
  readonly label: string;
  /** The schema of its options section (io/config-schema.ts): every option's check, default and description. */
  readonly options: z.ZodObject;
  /** Validates and completes the options section; throws ConfigError naming the key. */
  resolveOptions(raw: Readonly<Record<string, unknown>>): Record<string, unknown>;
  create(init: TrainerInit): Trainer;
  /**
   * Why, with these options, resuming a finished run's final checkpoint with more epochs would not
   * give the longer run trained from scratch, or undefined when it would (the default): the steps
   * depend on the total number of epochs (SCAAT's `ratioStep: 'auto'` scales γ to it). Every
   * trainer's state (SCAAT's q_i, cached maps and kept attack directions) is checkpointed.
   */
  extensionDiffers?(options: Readonly<Record<string, unknown>>): string | undefined;
}

export type TrainerRegistry = ReadonlyMap<string, TrainerSpec>;

/** The regular trainer has no options. */
const REGULAR_SCHEMA = z.strictObject({});

/** The baselines: regular, pgd-at, sgt (no SCAAT: see scaat/registry.ts ALL_TRAINERS). */
export const BASELINE_TRAINERS: TrainerRegistry = new Map<string, TrainerSpec>([
  [
    'regular',
    {
      label: 'Regular (cross-entropy)',
      options: REGULAR_SCHEMA,
      resolveOptions: (raw) => resolveLayers(REGULAR_SCHEMA, [{ source: 'trainerOptions.regular', values: raw }], { where: 'trainerOptions.regular', noun: 'option' }),
      create: () => regularTrainer(),
    },
  ],
  [
    'pgd-at',
    {
      label: 'PGD adversarial training (Madry)',
      options: PGD_AT_SCHEMA,
      resolveOptions: (raw) => ({ ...resolvePgdAtOptions(raw) }),
      create: ({ options, trainSize, inputShape, config, augmentation }) =>
        pgdAtTrainer(options as unknown as PgdAtOptions, {
          trainSize,
          inputShape,
          augment: config?.augment === true,
          // the loop's batches: the dataset's augmentation drawn from the run's seed (loop.ts)
          ...(augmentation && config ? { augmentation: { augmentation, seed: config.seed } } : {}),
        }),
    },
  ],
  [
    'sgt',
    {
      label: 'Saliency guided training (Ismail et al.)',
      options: SGT_SCHEMA,
      resolveOptions: (raw) => ({ ...resolveSgtOptions(raw) }),
      create: ({ options }) => sgtTrainer(options as unknown as SgtOptions),
    },
  ],
]);

/** A registry with extra entries (e.g. SCAAT), later entries replacing earlier ones of the same name. */
export function withTrainers(base: TrainerRegistry, extra: Iterable<readonly [string, TrainerSpec]>): TrainerRegistry {
  return new Map([...base, ...extra]);
}

/**
 * Why resuming the final checkpoint of a run of `config` with a larger `epochs` would not give, bit
 * for bit, the longer run trained from scratch; undefined when it would: every step (the learning
 * rate, the trainer's update, the batches, the augmentation) is then a function of the step and
 * of checkpointed state alone, not of the total. The learning rate depends on the total under
 * 'cosine' (constant and step do not, nor does the linear warm-up); the trainer says for itself
 * ({@link TrainerSpec.extensionDiffers}).
 */
export function extensionDiffers(config: TrainConfig, registry: TrainerRegistry): string | undefined {
  if (config.schedule === 'cosine') return "schedule 'cosine' sets each step's learning rate from the run's total length";
  return registry.get(config.trainer)?.extensionDiffers?.(config.trainerOptions[config.trainer] ?? {});
}

/** The registry as the {@link TrainerOptionsResolver} that resolveConfig takes. */
export function optionsResolver(registry: TrainerRegistry): TrainerOptionsResolver {
  return {
    has: (name) => registry.has(name),
    keys: () => registry.keys(),
    resolveOptions: (name, raw) => registry.get(name)!.resolveOptions(raw),
  };
}

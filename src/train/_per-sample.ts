/**
 * Helpers of the per-sample state that SCAAT and pgd-at keep from one visit of a sample to the
 * next (internal to train/ and scaat/): the cached saliency maps (scaat/_mask-source.ts) and the
 * kept attack directions (train/_gradient-signs.ts).
 */
import { ConfigError, DataError } from '../errors.js';
import type { StateArray, TrainerState } from './types.js';

/**
 * The refusal of state kept across visits with batches augmented in a way not declared: the kept
 * `what` (e.g. 'map') was made on the sample's crop/flip at that visit and could not follow it.
 * @param where the config section named in the message ('scaat config', 'trainerOptions.pgd-at')
 * @param key the option, its value and the value that keeps nothing (`'fresh'`)
 */
export function undeclaredAugmentationError(where: string, key: string, value: string, what: string): ConfigError {
  return new ConfigError(
    `${where}: '${key}' '${value}' keeps each sample's ${what} for its next visit, but 'augment' is on and the training data ` +
      `does not declare its augmentation (Dataset.augmentation), so the ${what} cannot follow the image's crop/flip; use ${key} 'fresh' or augment false`,
  );
}

/** A state array's type and length, for errors ('absent' when missing). */
export function describeArray(a: ArrayLike<number> | undefined): string {
  return a ? `${Object.prototype.toString.call(a).slice(8, -1)} of ${a.length}` : 'absent';
}

/** What {@link readPerSampleRows} checks a cache's checkpointed rows against. */
export interface PerSampleRows<T extends StateArray> {
  /** The state keys of the rows [size·width] and of each sample's epoch, int32 [size]. */
  readonly rowsKey: string;
  readonly epochKey: string;
  /** Rows kept (the training samples). */
  readonly size: number;
  /** Whether `rows` has the cache's element type for rows of `width` values. */
  readonly isRows: (rows: StateArray, width: number) => rows is T;
  /** The type and the unit of a row, for the error ('int8', 'values'). */
  readonly type: string;
  readonly unit: string;
  /** The config section or trainer named in errors. */
  readonly where: string;
}

/**
 * A per-sample cache's part of a checkpoint state, checked: the rows, each sample's epoch and the
 * row width; undefined when the state holds neither key (a checkpoint written before the cache
 * was kept, or before its first step).
 * @throws DataError when either array is missing or of the wrong type or length.
 */
export function readPerSampleRows<T extends StateArray>(
  state: Readonly<TrainerState>,
  spec: PerSampleRows<T>,
): { rows: T; epochs: Int32Array; width: number } | undefined {
  const { rowsKey, epochKey, size } = spec;
  const [rows, epochs] = [state[rowsKey], state[epochKey]];
  if (!rows && !epochs) return undefined;
  const width = rows ? rows.length / size : 0;
  if (!rows || !spec.isRows(rows, width) || !(epochs instanceof Int32Array) || epochs.length !== size || !Number.isInteger(width) || width === 0) {
    throw new DataError(
      `${spec.where}: checkpoint state '${rowsKey}' / '${epochKey}' should be ${spec.type} [${size}·${spec.unit}] / int32 [${size}], ` +
        `found ${describeArray(rows)} / ${describeArray(epochs)}`,
    );
  }
  return { rows, epochs, width };
}

/**
 * Helpers of the per-sample state that SCAAT and pgd-at keep from one visit of a sample to the
 * next (internal to train/ and scaat/): the cached saliency maps (scaat/_mask-source.ts) and the
 * kept attack directions (train/_gradient-signs.ts).
 */
import { ConfigError } from '../errors.js';

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

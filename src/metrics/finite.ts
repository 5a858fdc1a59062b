/**
 * Values scored must be finite: a NaN attribution map would otherwise come out as a perfect map
 * (entropy 0: every pixel in one bin) and a NaN probability as a plausible AOPC, so scoring stops
 * with a DataError naming the image and what was not finite.
 */
import { DataError } from '../errors.js';

/**
 * Checks `values`, rows of `rowLength` values for the images `indices` (dataset indices, in row
 * order). `what` names the values, e.g. "vanilla-gradient attributions".
 * @throws DataError naming the first non-finite value's image, its position in the row and `what`.
 */
export function assertFiniteRows(values: ArrayLike<number>, rowLength: number, indices: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) continue;
    const row = Math.floor(i / rowLength);
    throw new DataError(
      `${what} of image ${indices[row]} are not finite (${v} at position ${i % rowLength} of ${rowLength}); ` +
        'a model or input that gives non-finite values cannot be scored',
    );
  }
}

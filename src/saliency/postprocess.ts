/**
 * From attributions [B, H, W, C] to per-pixel scores [B, H, W] (channels reduced).
 *
 *   'sum-abs'  S = Σ_c |A|      (default; method.md §2.1 and §4)
 *   'max-abs'  S = max_c |A|
 *   'mean'     S = 1/C Σ_c A    (signed)
 *   'sum'      S = Σ_c A        (signed)
 *
 * The 8-bit map of the image-based metrics (percentile clip, quantisation) is in
 * metrics/uint8-map.ts; it works on these scores.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';

export type ChannelReduction = 'sum-abs' | 'max-abs' | 'mean' | 'sum';
export const CHANNEL_REDUCTIONS: readonly ChannelReduction[] = ['sum-abs', 'max-abs', 'mean', 'sum'];

/**
 * Per-pixel scores [B, H, W] from an attribution [B, H, W, C]. Caller owns the result; the
 * attribution is not disposed.
 * @example toSaliencyMap(a)            // Σ_c |a|, [B, H, W]
 */
export function toSaliencyMap(attribution: tf.Tensor4D, reduction: ChannelReduction = 'sum-abs'): tf.Tensor3D {
  return tf.tidy(() => {
    switch (reduction) {
      case 'sum-abs':
        return tf.sum(tf.abs(attribution), 3) as tf.Tensor3D;
      case 'max-abs':
        return tf.max(tf.abs(attribution), 3) as tf.Tensor3D;
      case 'mean':
        return tf.mean(attribution, 3) as tf.Tensor3D;
      case 'sum':
        return tf.sum(attribution, 3) as tf.Tensor3D;
      default:
        throw new ConfigError(`toSaliencyMap: expected reduction in ${CHANNEL_REDUCTIONS.join(', ')}, got '${String(reduction)}'`);
    }
  });
}

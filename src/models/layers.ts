/**
 * Custom layers of the model zoo. They are registered with TF.js serialization so that a saved
 * model.json that uses them loads with `tf.loadLayersModel` after `registerCustomLayers()`
 * (which `loadClassifier` calls).
 */
import * as tf from '@tensorflow/tfjs';

/** tfjs-layers' LayerArgs (name, inputShape, batchInputShape, …), which tfjs does not export by name. */
type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** Arguments of {@link ChannelNormalization} (plus the usual layer arguments such as `inputShape`). */
export interface ChannelNormalizationArgs extends LayerArgs {
  /** Per-channel mean μ_c of the [0, 1] input (length C, or 1 for all channels). */
  mean: number[];
  /** Per-channel standard deviation σ_c > 0 (same length as `mean`). */
  std: number[];
}

/**
 * In-model input normalisation y = (x − μ_c) / σ_c over the last (channel) axis, with fixed,
 * non-trainable constants stored in the layer config. Keeping it inside the model means images
 * stay in [0, 1] everywhere else (attacks, saliency, metrics), as method.md §2 requires.
 */
export class ChannelNormalization extends tf.layers.Layer {
  static readonly className = 'ChannelNormalization';
  readonly mean: number[];
  readonly std: number[];

  constructor(args: ChannelNormalizationArgs) {
    const { mean, std, ...base } = args;
    super(base);
    if (mean.length !== args.std.length || args.mean.length === 0) {
      throw new RangeError(`ChannelNormalization: mean (${args.mean.length}) and std (${args.std.length}) must have the same non-zero length`);
    }
    if (std.some((s) => !(s > 0))) throw new RangeError(`ChannelNormalization: std must be > 0, got ${JSON.stringify(std)}`);
    this.mean = [...mean];
    this.std = [...std];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      return tf.div(tf.sub(x, tf.tensor1d(this.mean)), tf.tensor1d(this.std));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mean: this.mean, std: this.std };
  }
}

let registered = false;
/** Registers the zoo's custom layers with TF.js serialization (idempotent). */
export function registerCustomLayers(): void {
  if (registered) return;
  tf.serialization.registerClass(ChannelNormalization);
  registered = true;
}
registerCustomLayers();

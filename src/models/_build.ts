/**
 * Shared pieces of the model zoo (internal): the factory options, seeded initialisers, the optional
 * input normalisation and ResNet basic blocks.
 */
import * as tf from '@tensorflow/tfjs';
import { deriveSeed } from '../engine/random.js';
import { ConfigError } from '../errors.js';
import { ChannelNormalization } from './layers.js';

/** Options every zoo factory takes. */
export interface ModelOptions {
  /** [H, W, C] of the input images (NHWC, values in [0, 1]). */
  inputShape: readonly [number, number, number];
  /** Number of classes K (the logits' width). */
  numClasses: number;
  /** Seed of the weight initialisers (every layer derives its own). @default 0 */
  seed?: number;
  /** Width multiplier on every layer's filter/unit count (rounded, at least 1). @default 1 */
  width?: number;
  /**
   * In-model input normalisation (x − mean_c) / std_c, per channel (see {@link ChannelNormalization}).
   * Images stay in [0, 1] outside the model. @default none
   */
  normalize?: { readonly mean: readonly number[]; readonly std: readonly number[] };
}

/** Validated options with defaults applied. */
export interface ResolvedModelOptions {
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  readonly seed: number;
  readonly width: number;
  readonly normalize: { readonly mean: readonly number[]; readonly std: readonly number[] } | undefined;
}

export function resolveModelOptions(where: string, o: ModelOptions): ResolvedModelOptions {
  const [h, w, c] = o.inputShape;
  if (![h, w, c].every((v) => Number.isInteger(v) && v > 0)) {
    throw new ConfigError(`${where}: inputShape must be three positive integers [H, W, C], got ${JSON.stringify(o.inputShape)}`);
  }
  if (!(Number.isInteger(o.numClasses) && o.numClasses >= 2)) {
    throw new ConfigError(`${where}: numClasses must be an integer ≥ 2, got ${o.numClasses}`);
  }
  const width = o.width ?? 1;
  if (!(width > 0 && Number.isFinite(width))) throw new ConfigError(`${where}: width must be > 0, got ${width}`);
  if (o.normalize) {
    const { mean, std } = o.normalize;
    if ((mean.length !== 1 && mean.length !== c) || mean.length !== std.length) {
      throw new ConfigError(`${where}: normalize.mean and normalize.std must both have 1 or ${c} (channels) entries, got ${mean.length} and ${std.length}`);
    }
    if (std.some((s) => !(s > 0))) throw new ConfigError(`${where}: normalize.std must be > 0, got ${JSON.stringify(std)}`);
  }
  return { inputShape: [h, w, c], numClasses: o.numClasses, seed: o.seed ?? 0, width, normalize: o.normalize };
}

/** Filters scaled by the width multiplier (at least 1). */
export function scaled(n: number, width: number): number {
  return Math.max(1, Math.round(n * width));
}

/** He-normal initialiser seeded from (model seed, layer name), so adding a layer shifts nothing else. */
export function heInit(seed: number, name: string): ReturnType<typeof tf.initializers.heNormal> {
  return tf.initializers.heNormal({ seed: deriveSeed(seed, name) });
}

/** Glorot-uniform initialiser seeded from (model seed, layer name). */
export function glorotInit(seed: number, name: string): ReturnType<typeof tf.initializers.heNormal> {
  return tf.initializers.glorotUniform({ seed: deriveSeed(seed, name) });
}

/** The input tensor and, when asked, the normalisation layer applied to it. */
export function inputWithNormalization(o: ResolvedModelOptions): { input: tf.SymbolicTensor; x: tf.SymbolicTensor } {
  const input = tf.input({ shape: [...o.inputShape], name: 'image' });
  if (!o.normalize) return { input, x: input };
  const x = new ChannelNormalization({ name: 'normalize', mean: [...o.normalize.mean], std: [...o.normalize.std] }).apply(input) as tf.SymbolicTensor;
  return { input, x };
}

/** conv (no bias) → batch norm, both named `${name}_conv` / `${name}_bn`. */
export function convBn(
  x: tf.SymbolicTensor,
  filters: number,
  kernelSize: number,
  strides: number,
  name: string,
  seed: number,
): tf.SymbolicTensor {
  const conv = tf.layers.conv2d({
    name: `${name}_conv`,
    filters,
    kernelSize,
    strides,
    padding: 'same',
    useBias: false,
    kernelInitializer: heInit(seed, `${name}_conv`),
  });
  const bn = tf.layers.batchNormalization({ name: `${name}_bn`, momentum: 0.9, epsilon: 1e-5 });
  return bn.apply(conv.apply(x)) as tf.SymbolicTensor;
}

export function relu(x: tf.SymbolicTensor, name: string): tf.SymbolicTensor {
  return tf.layers.reLU({ name }).apply(x) as tf.SymbolicTensor;
}

/**
 * ResNet basic block (He et al., 2016): relu(BN(conv3(relu(BN(conv3(x))))) + shortcut(x)), with a
 * 1×1 conv + BN projection shortcut when the stride or the width changes ("option B").
 */
export function basicBlock(x: tf.SymbolicTensor, filters: number, strides: number, name: string, seed: number): tf.SymbolicTensor {
  const inChannels = x.shape[x.shape.length - 1];
  let y = relu(convBn(x, filters, 3, strides, `${name}_a`, seed), `${name}_a_relu`);
  y = convBn(y, filters, 3, 1, `${name}_b`, seed);
  const shortcut = strides !== 1 || inChannels !== filters ? convBn(x, filters, 1, strides, `${name}_proj`, seed) : x;
  const sum = tf.layers.add({ name: `${name}_add` }).apply([y, shortcut]) as tf.SymbolicTensor;
  return relu(sum, `${name}_relu`);
}

/** Global average pooling → dense logits (no softmax). */
export function poolAndClassify(x: tf.SymbolicTensor, numClasses: number, seed: number): tf.SymbolicTensor {
  const pooled = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tf.SymbolicTensor;
  return tf.layers.dense({ name: 'logits', units: numClasses, kernelInitializer: glorotInit(seed, 'logits') }).apply(pooled) as tf.SymbolicTensor;
}

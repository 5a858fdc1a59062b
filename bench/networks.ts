/**
 * The networks the benchmarks time, built with tf.layers exactly as bench/peer_torch.py builds
 * them in PyTorch (same layers, shapes, padding and parameter counts), so the two can be compared.
 *
 *   small-cnn  32×32×3: conv32-conv32-maxpool2-conv64-conv64-maxpool2-dense128-dense10, ReLU,
 *              3×3 'same' convs with bias (591,274 parameters)
 *   resnet20   CIFAR ResNet-20 (He et al., 2016, §4.2): conv16-BN-ReLU, 3 stages × 3 basic blocks
 *              (16/32/64 channels, stride 2 at the start of stages 2 and 3, 1×1 conv + BN
 *              projection shortcuts there), global average pooling, dense10; convs without bias
 *              (272,474 trainable parameters)
 */
import * as tf from '@tensorflow/tfjs';

/** A benchmark network: a tf.layers model and the PyTorch peer's name for the same network. */
export interface BenchNetwork {
  readonly name: 'small-cnn' | 'resnet20';
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  build(seed?: number): tf.LayersModel;
}

const init = (seed: number) => tf.initializers.heNormal({ seed });

/** conv32-conv32-pool-conv64-conv64-pool-dense128-dense10 at 32×32×3. */
export function smallCnn(seed = 1): tf.LayersModel {
  let s = seed;
  const conv = (filters: number) =>
    tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(s++) });
  const input = tf.input({ shape: [32, 32, 3] });
  let h = conv(32).apply(input) as tf.SymbolicTensor;
  h = conv(32).apply(h) as tf.SymbolicTensor;
  h = tf.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor;
  h = conv(64).apply(h) as tf.SymbolicTensor;
  h = conv(64).apply(h) as tf.SymbolicTensor;
  h = tf.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
  h = tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init(s++) }).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 10, kernelInitializer: init(s++) }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'small_cnn' });
}

/** CIFAR ResNet-20 (3 stages × 3 basic blocks, 16/32/64 channels, batch norm, projection shortcuts). */
export function resnet20(seed = 1, { blocksPerStage = 3, inputSize = 32, numClasses = 10 } = {}): tf.LayersModel {
  let s = seed;
  const conv = (filters: number, kernelSize: number, strides: number) =>
    tf.layers.conv2d({ filters, kernelSize, strides, padding: 'same', useBias: false, kernelInitializer: init(s++) });
  // PyTorch BatchNorm2d defaults: momentum 0.1 (Keras 0.9), eps 1e-5.
  const bn = () => tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 });
  const relu = () => tf.layers.activation({ activation: 'relu' });
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor) => layer.apply(x) as tf.SymbolicTensor;

  const input = tf.input({ shape: [inputSize, inputSize, 3] });
  let h = apply(relu(), apply(bn(), apply(conv(16, 3, 1), input)));
  for (const [stage, filters] of [16, 32, 64].entries()) {
    for (let b = 0; b < blocksPerStage; b++) {
      const stride = stage > 0 && b === 0 ? 2 : 1;
      let y = apply(relu(), apply(bn(), apply(conv(filters, 3, stride), h)));
      y = apply(bn(), apply(conv(filters, 3, 1), y));
      const shortcut = stride !== 1 || (h.shape[3] as number) !== filters ? apply(bn(), apply(conv(filters, 1, stride), h)) : h;
      h = apply(relu(), tf.layers.add().apply([y, shortcut]) as tf.SymbolicTensor);
    }
  }
  h = apply(tf.layers.globalAveragePooling2d({}), h);
  const out = apply(tf.layers.dense({ units: numClasses, kernelInitializer: init(s++) }), h);
  return tf.model({ inputs: input, outputs: out, name: 'resnet20' });
}

/** The networks of the engine benchmark, in table order. */
export const NETWORKS: readonly BenchNetwork[] = [
  { name: 'small-cnn', inputShape: [32, 32, 3], numClasses: 10, build: (seed) => smallCnn(seed) },
  { name: 'resnet20', inputShape: [32, 32, 3], numClasses: 10, build: (seed) => resnet20(seed) },
];

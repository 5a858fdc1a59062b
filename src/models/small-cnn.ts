/**
 * A small VGG-style CNN for 28×28 / 32×32 images (MNIST, CIFAR-10), the kind used in the pilot
 * of method.md §2:
 *
 *   [conv3×3(32) relu] ×2 → maxpool2 → [conv3×3(64) relu] ×2 → maxpool2 → dense(128) relu → dense(K)
 *
 * Filter counts scale with `width`. Outputs logits (no softmax). Any input size divisible by 4
 * works (8×8 in tests). At 32×32×3, width 1, K = 10: 591,274 parameters.
 * @example
 * const clf = smallCnn({inputShape: [28, 28, 1], numClasses: 10, seed: 1});
 */
import * as tf from '@tensorflow/tfjs';
import { fromLayersModel } from './classifier.js';
import type { Classifier } from './classifier.js';
import { glorotInit, heInit, inputWithNormalization, resolveModelOptions, scaled } from './_build.js';
import type { ModelOptions } from './_build.js';

export function smallCnn(options: ModelOptions): Classifier {
  const o = resolveModelOptions('small-cnn', options);
  const { input, x: x0 } = inputWithNormalization(o);
  let x = x0;
  const conv = (filters: number, name: string) => {
    x = tf.layers.conv2d({ name, filters: scaled(filters, o.width), kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: heInit(o.seed, name) }).apply(x) as tf.SymbolicTensor;
  };
  conv(32, 'conv1');
  conv(32, 'conv2');
  x = tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2, strides: 2 }).apply(x) as tf.SymbolicTensor;
  conv(64, 'conv3');
  conv(64, 'conv4');
  x = tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2, strides: 2 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ name: 'fc1', units: scaled(128, o.width), activation: 'relu', kernelInitializer: heInit(o.seed, 'fc1') }).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ name: 'logits', units: o.numClasses, kernelInitializer: glorotInit(o.seed, 'logits') }).apply(x) as tf.SymbolicTensor;
  return fromLayersModel(tf.model({ inputs: input, outputs: logits, name: 'small-cnn' }));
}

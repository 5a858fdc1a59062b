/**
 * A multilayer perceptron: flatten → dense(256) relu → dense(K) logits. The fastest model for
 * smoke tests and the only zoo model whose training needs no convolution gradients.
 * @example
 * const clf = mlp({inputShape: [8, 8, 1], numClasses: 3, width: 0.125});   // 32 hidden units
 */
import * as tf from '@tensorflow/tfjs';
import { fromLayersModel } from './classifier.js';
import type { Classifier } from './classifier.js';
import { glorotInit, heInit, inputWithNormalization, resolveModelOptions, scaled } from './_build.js';
import type { ModelOptions } from './_build.js';

export function mlp(options: ModelOptions): Classifier {
  const o = resolveModelOptions('mlp', options);
  const { input, x } = inputWithNormalization(o);
  const flat = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  const hidden = tf.layers.dense({ name: 'fc1', units: scaled(256, o.width), activation: 'relu', kernelInitializer: heInit(o.seed, 'fc1') }).apply(flat) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ name: 'logits', units: o.numClasses, kernelInitializer: glorotInit(o.seed, 'logits') }).apply(hidden) as tf.SymbolicTensor;
  return fromLayersModel(tf.model({ inputs: input, outputs: logits, name: 'mlp' }));
}

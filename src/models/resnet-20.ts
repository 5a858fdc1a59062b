/**
 * ResNet-20 for CIFAR-10 (He et al., 2016, https://arxiv.org/abs/1512.03385, §4.2):
 *
 *   conv3×3(16) BN relu → 3 stages × 3 basic blocks (16, 32, 64 filters; stride 1, 2, 2) → GAP → dense(K)
 *
 * 6n + 2 = 20 weighted layers (n = 3). Shortcuts that change shape use a 1×1 conv + BN projection
 * (the paper's option B; the paper's CIFAR net uses zero-padding, option A, with slightly fewer
 * weights). 272,474 trainable parameters at width 1, K = 10 (269,722 with option A). Logits, no softmax.
 * @example
 * const clf = resnet20({inputShape: [32, 32, 3], numClasses: 10,
 *   normalize: {mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616]}});
 */
import * as tf from '@tensorflow/tfjs';
import { fromLayersModel } from './classifier.js';
import type { Classifier } from './classifier.js';
import { basicBlock, convBn, inputWithNormalization, poolAndClassify, relu, resolveModelOptions, scaled } from './_build.js';
import type { ModelOptions } from './_build.js';

export function resnet20(options: ModelOptions): Classifier {
  const o = resolveModelOptions('resnet-20', options);
  const { input, x: x0 } = inputWithNormalization(o);
  let x = relu(convBn(x0, scaled(16, o.width), 3, 1, 'stem', o.seed), 'stem_relu');
  [16, 32, 64].forEach((filters, s) => {
    for (let b = 0; b < 3; b++) x = basicBlock(x, scaled(filters, o.width), b === 0 && s > 0 ? 2 : 1, `s${s + 1}b${b + 1}`, o.seed);
  });
  return fromLayersModel(tf.model({ inputs: input, outputs: poolAndClassify(x, o.numClasses, o.seed), name: 'resnet-20' }));
}

/**
 * ResNet-18 for 224×224 images (ImageNet; He et al., 2016, https://arxiv.org/abs/1512.03385, Table 1):
 *
 *   conv7×7/2(64) BN relu → maxpool3×3/2 → 4 stages × 2 basic blocks (64, 128, 256, 512; stride 1, 2, 2, 2) → GAP → dense(K)
 *
 * 11,689,512 trainable parameters at width 1 with K = 1000 (1×1 projection shortcuts, option B, as torchvision resnet18). Logits, no softmax.
 * @example
 * const clf = resnet18({inputShape: [224, 224, 3], numClasses: 1000,
 *   normalize: {mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}});
 */
import * as tf from '@tensorflow/tfjs';
import { fromLayersModel } from './classifier.js';
import type { Classifier } from './classifier.js';
import { basicBlock, convBn, inputWithNormalization, poolAndClassify, relu, resolveModelOptions, scaled } from './_build.js';
import type { ModelOptions } from './_build.js';

export function resnet18(options: ModelOptions): Classifier {
  const o = resolveModelOptions('resnet-18', options);
  const { input, x: x0 } = inputWithNormalization(o);
  let x = relu(convBn(x0, scaled(64, o.width), 7, 2, 'stem', o.seed), 'stem_relu');
  x = tf.layers.maxPooling2d({ name: 'stem_pool', poolSize: 3, strides: 2, padding: 'same' }).apply(x) as tf.SymbolicTensor;
  [64, 128, 256, 512].forEach((filters, s) => {
    for (let b = 0; b < 2; b++) x = basicBlock(x, scaled(filters, o.width), b === 0 && s > 0 ? 2 : 1, `s${s + 1}b${b + 1}`, o.seed);
  });
  return fromLayersModel(tf.model({ inputs: input, outputs: poolAndClassify(x, o.numClasses, o.seed), name: 'resnet-18' }));
}

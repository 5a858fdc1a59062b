/**
 * A ResNet for 96×96 histology patches (PCAM): ResNet-18's layout at half width with a stride-2
 * 3×3 stem instead of the 224-px 7×7 stem and max-pool:
 *
 *   conv3×3/2(32) BN relu → 4 stages × 2 basic blocks (32, 64, 128, 256; stride 1, 2, 2, 2) → GAP → dense(K)
 *
 * Feature maps 48 → 48 → 24 → 12 → 6 at 96 px. 2,795,554 trainable parameters at width 1, K = 2. Logits, no softmax.
 * @example
 * const clf = resnetPcam({inputShape: [96, 96, 3], numClasses: 2});
 */
import * as tf from '@tensorflow/tfjs';
import { fromLayersModel } from './classifier.js';
import type { Classifier } from './classifier.js';
import { basicBlock, convBn, inputWithNormalization, poolAndClassify, relu, resolveModelOptions, scaled } from './_build.js';
import type { ModelOptions } from './_build.js';

export function resnetPcam(options: ModelOptions): Classifier {
  const o = resolveModelOptions('resnet-pcam', options);
  const { input, x: x0 } = inputWithNormalization(o);
  let x = relu(convBn(x0, scaled(32, o.width), 3, 2, 'stem', o.seed), 'stem_relu');
  [32, 64, 128, 256].forEach((filters, s) => {
    for (let b = 0; b < 2; b++) x = basicBlock(x, scaled(filters, o.width), b === 0 && s > 0 ? 2 : 1, `s${s + 1}b${b + 1}`, o.seed);
  });
  return fromLayersModel(tf.model({ inputs: input, outputs: poolAndClassify(x, o.numClasses, o.seed), name: 'resnet-pcam' }));
}

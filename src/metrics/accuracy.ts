/**
 * Clean accuracy: whether the classifier's arg-max prediction equals the label, per image.
 * The metric (always reported, method.md §4) is the mean of these flags over the test set.
 */
import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../models/classifier.js';
import { assertFiniteRows } from './finite.js';
import type { MetricCompute } from './types.js';

/**
 * 1 where argmax logits(x) = y, else 0; [B]. Inference mode; does not dispose its inputs.
 * @param indices dataset indices of the images, named when a logit is not finite. @default 0..B−1
 * @throws DataError when a logit is not finite (its arg-max would be a meaningless class).
 */
export function correctPredictions(classifier: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, indices?: ArrayLike<number>): Uint8Array {
  return tf.tidy(() => {
    const logits = classifier.logits(x);
    assertFiniteRows(logits.dataSync(), classifier.numClasses, indices ?? Array.from({ length: x.shape[0] }, (_, i) => i), 'the logits');
    return Uint8Array.from(tf.equal(tf.argMax(logits, 1), y.toInt()).dataSync());
  });
}

/** The 'clean-accuracy' row: the share of correctly classified images (evaluate() records each image's flag). */
export const CLEAN_ACCURACY: MetricCompute<undefined> = {
  summarise: (_, at) => ({ name: at.name, label: at.label, direction: at.direction, value: at.n > 0 ? at.correct / at.n : null, n: at.n }),
};

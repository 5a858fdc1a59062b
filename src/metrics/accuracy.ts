/**
 * Clean accuracy: whether the classifier's arg-max prediction equals the label, per image.
 * The metric (always reported, method.md §4) is the mean of these flags over the test set.
 */
import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../models/classifier.js';

/** 1 where argmax logits(x) = y, else 0; [B]. Inference mode; does not dispose its inputs. */
export function correctPredictions(classifier: Classifier, x: tf.Tensor4D, y: tf.Tensor1D): Uint8Array {
  return tf.tidy(() => Uint8Array.from(tf.equal(tf.argMax(classifier.logits(x), 1), y.toInt()).dataSync()));
}

/**
 * Clean test-split evaluation during training: mean cross-entropy and accuracy, inference mode,
 * in batches of bounded size (one batch of tensors alive at a time).
 */
import * as tf from '@tensorflow/tfjs';
import { toTensors } from '../datasets/dataset.js';
import type { Dataset } from '../datasets/dataset.js';
import type { Classifier } from '../models/classifier.js';

/** Result of {@link evaluateClean}. */
export interface CleanEvaluation {
  /** Mean cross-entropy over the evaluated samples. */
  readonly loss: number;
  /** Fraction correctly classified. */
  readonly acc: number;
  /** Number of samples evaluated. */
  readonly samples: number;
}

/**
 * Evaluates on the samples `indices` of `dataset` (default all), in that order; the loop passes
 * the class-stratified `evalLimit` sample (datasets/subset.ts).
 */
export async function evaluateClean(
  classifier: Classifier,
  dataset: Dataset,
  { batchSize = 256, indices }: { batchSize?: number; indices?: Int32Array } = {},
): Promise<CleanEvaluation> {
  let lossSum = 0;
  let correct = 0;
  let seen = 0;
  for await (const batch of dataset.batches({ batchSize, shuffle: false, ...(indices ? { indices } : {}) })) {
    const { x, y } = toTensors(batch);
    const [l, c] = tf.tidy(() => {
      const z = classifier.logits(x);
      const ce = tf.neg(tf.sum(tf.mul(tf.oneHot(y, classifier.numClasses).toFloat(), tf.logSoftmax(z))));
      const ok = tf.sum(tf.cast(tf.equal(tf.argMax(z, 1), y), 'float32'));
      return [ce.dataSync()[0]!, ok.dataSync()[0]!];
    });
    tf.dispose([x, y]);
    lossSum += l;
    correct += c;
    seen += batch.y.length;
  }
  return { loss: seen ? lossSum / seen : NaN, acc: seen ? correct / seen : NaN, samples: seen };
}

/**
 * Clean test-split evaluation during training: mean cross-entropy, accuracy and the most often
 * predicted class (the loop warns of a constant predictor), inference mode, in batches of bounded
 * size (one batch of tensors alive at a time).
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
  /** The class predicted most often (argmax of the logits) and how many samples it was predicted for. */
  readonly mode: { readonly label: number; readonly count: number };
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
  const predicted = new Float64Array(classifier.numClasses);
  for await (const batch of dataset.batches({ batchSize, shuffle: false, ...(indices ? { indices } : {}) })) {
    const { x, y } = toTensors(batch);
    const [l, labels] = tf.tidy(() => {
      const z = classifier.logits(x);
      const ce = tf.neg(tf.sum(tf.mul(tf.oneHot(y, classifier.numClasses).toFloat(), tf.logSoftmax(z))));
      return [ce.dataSync()[0]!, tf.argMax(z, 1).dataSync()] as const;
    });
    tf.dispose([x, y]);
    // the predictions read back give both the accuracy and the predicted-class counts
    labels.forEach((k, i) => {
      predicted[k]! += 1;
      if (k === batch.y[i]) correct += 1;
    });
    lossSum += l;
    seen += batch.y.length;
  }
  let label = 0;
  for (let k = 1; k < predicted.length; k++) if (predicted[k]! > predicted[label]!) label = k;
  return { loss: seen ? lossSum / seen : NaN, acc: seen ? correct / seen : NaN, samples: seen, mode: { label, count: predicted[label] ?? 0 } };
}

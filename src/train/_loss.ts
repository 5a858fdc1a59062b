/**
 * Losses and batch statistics shared by the trainers (internal).
 */
import * as tf from '@tensorflow/tfjs';

/** Mean cross-entropy CE(softmax(z), y) over the batch; `onehot` [B, K] float32. */
export function crossEntropy(onehot: tf.Tensor, logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1))));
}

/** Batch mean of KL(softmax(p) ‖ softmax(q)) = Σ_k P_k (log P_k − log Q_k); gradients flow into both. */
export function klDivergence(pLogits: tf.Tensor2D, qLogits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const logP = tf.logSoftmax(pLogits);
    return tf.mean(tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, tf.logSoftmax(qLogits))), 1));
  });
}

/** Fraction of rows whose argmax equals y (reads one number back). Does not dispose `logits`. */
export function accuracy(logits: tf.Tensor2D, y: tf.Tensor1D): number {
  return tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32')).dataSync()[0]!);
}

/** One-hot labels as float32 [B, K]; caller owns. */
export function oneHot(y: tf.Tensor1D, numClasses: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.cast(y, 'int32'), numClasses), 'float32') as tf.Tensor2D);
}

/**
 * Runs one optimizer update on `lossFn` over the classifier's trainable variables and returns the
 * loss value and the logits the closure chose to keep (for accuracies), which the caller disposes.
 */
export function minimizeKeeping(
  optimizer: tf.Optimizer,
  vars: tf.Variable[],
  lossFn: (keep: (t: tf.Tensor2D) => tf.Tensor2D) => tf.Scalar,
): { loss: number; kept: tf.Tensor2D[] } {
  const kept: tf.Tensor2D[] = [];
  const keep = (t: tf.Tensor2D): tf.Tensor2D => {
    kept.push(tf.keep(t));
    return t;
  };
  const cost = optimizer.minimize(() => lossFn(keep), true, vars);
  const loss = cost!.dataSync()[0]!;
  cost!.dispose();
  return { loss, kept };
}

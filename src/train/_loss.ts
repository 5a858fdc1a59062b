/**
 * Losses and batch statistics shared by the trainers (internal).
 */
import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../models/classifier.js';

/**
 * The training loss of the adversarial trainers, one definition for SCAAT (masked x_adv) and its
 * whole-image control pgd-at (method.md §2.4), so that the two differ only in the mask:
 * - 'clean+adv': CE(f(x), y) + λ·CE(f(x_adv), y)  (SCAAT's default; the control's too)
 * - 'adv-only':  CE(f(x_adv), y)                    (Madry et al.)
 * - 'clean+kl':  CE(f(x), y) + λ·KL(softmax f(x) ‖ softmax f(x_adv))
 */
export type AdversarialLoss = 'clean+adv' | 'adv-only' | 'clean+kl';

/** The {@link AdversarialLoss} forms, the default first. */
export const ADVERSARIAL_LOSSES: readonly AdversarialLoss[] = ['clean+adv', 'adv-only', 'clean+kl'];

/**
 * The {@link AdversarialLoss} `loss` with weight `lambda`, for use inside a gradient closure: the
 * training-mode forwards f(x_adv), then f(x) (skipped for 'adv-only'), then the batch-mean loss.
 * `keep` receives each logits tensor as it is made (e.g. to tf.keep it for the accuracies).
 */
export function adversarialLoss(
  classifier: Classifier,
  x: tf.Tensor4D,
  xAdv: tf.Tensor4D,
  onehot: tf.Tensor,
  { loss, lambda }: { readonly loss: AdversarialLoss; readonly lambda: number },
  keep: (logits: tf.Tensor2D, input: 'adv' | 'clean') => void = () => undefined,
): tf.Scalar {
  const za = classifier.logits(xAdv, { training: true });
  keep(za, 'adv');
  const ceAdv = tf.losses.softmaxCrossEntropy(onehot, za) as tf.Scalar;
  if (loss === 'adv-only') return ceAdv;
  const zc = classifier.logits(x, { training: true });
  keep(zc, 'clean');
  const ceClean = tf.losses.softmaxCrossEntropy(onehot, zc) as tf.Scalar;
  if (loss === 'clean+adv') return tf.add(ceClean, tf.mul(lambda, ceAdv));
  return tf.add(ceClean, tf.mul(lambda, klDivergence(zc, za)));
}

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

/** Per sample [argmax z_b = y_b] as 0/1 (read to the host); disposes z when `own`. */
export function correctness(z: tf.Tensor2D, y: tf.Tensor1D, own = false): Uint8Array {
  const hit = tf.tidy(() => tf.equal(tf.argMax(z, 1), y.toInt()));
  const out = Uint8Array.from(hit.dataSync());
  hit.dispose();
  if (own) z.dispose();
  return out;
}

/** Mean of a host array (NaN when empty): e.g. the fraction of 1s of {@link correctness}. */
export function meanOf(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return a.length > 0 ? s / a.length : NaN;
}

/** One-hot labels as float32 [B, K]; caller owns. */
export function oneHot(y: tf.Tensor1D, numClasses: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.cast(y, 'int32'), numClasses), 'float32') as tf.Tensor2D);
}

/**
 * optimizer.applyGradients for the variables' gradients of a `tf.engine().gradients(f, [...vars,
 * ...inputs])` result: its first `vars.length` entries, by variable name (those without a gradient
 * skipped), as optimizer.minimize applies them. The caller disposes `grads`.
 */
export function applyVariableGradients(optimizer: tf.Optimizer, vars: readonly tf.Variable[], grads: ReadonlyArray<tf.Tensor | null | undefined>): void {
  const named: tf.NamedTensorMap = {};
  vars.forEach((v, i) => {
    const g = grads[i];
    if (g) named[v.name] = g;
  });
  optimizer.applyGradients(named);
}

/**
 * Runs one optimizer update on `lossFn` over the classifier's trainable variables and returns the
 * loss value and the logits the closure chose to keep (for accuracies), which the caller disposes.
 * With `inputOf` (an input of the loss, e.g. x_adv) the same backward also returns ∂L/∂input
 * (zeros where the loss does not depend on it).
 */
export function minimizeKeeping(
  optimizer: tf.Optimizer,
  vars: tf.Variable[],
  lossFn: (keep: (t: tf.Tensor2D) => tf.Tensor2D) => tf.Scalar,
  inputOf?: tf.Tensor,
): { loss: number; kept: tf.Tensor2D[]; inputGradient?: Float32Array } {
  const kept: tf.Tensor2D[] = [];
  const keep = (t: tf.Tensor2D): tf.Tensor2D => {
    kept.push(tf.keep(t));
    return t;
  };
  if (inputOf === undefined) {
    const cost = optimizer.minimize(() => lossFn(keep), true, vars);
    const loss = cost!.dataSync()[0]!;
    cost!.dispose();
    return { loss, kept };
  }
  // as optimizer.minimize (gradients, then applyGradients), with ∂L/∂input from the same backward
  const { value, grads } = tf.engine().gradients(() => lossFn(keep), [...vars, inputOf], undefined, true);
  try {
    applyVariableGradients(optimizer, vars, grads);
    const dx = grads[vars.length];
    const inputGradient = dx ? (dx.dataSync() as Float32Array) : new Float32Array(inputOf.size);
    return { loss: value.dataSync()[0]!, kept, inputGradient };
  } finally {
    tf.dispose([value, ...grads.filter((g): g is tf.Tensor => g != null)]);
  }
}

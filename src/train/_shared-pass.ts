/**
 * The `sharedBackward` step of SCAAT and of its whole-image control pgd-at (internal): an FGSM-RS
 * adversarial step in two forward+backward passes, where the default step takes four (a saliency
 * pass for the mask, an attack pass, and the clean and adversarial training forwards with one
 * backward through both). A regular step is one pass, so this is about 2× a regular step.
 *
 *   pass 1  clean training forward f(x) (training mode), one backward of CE(f(x), y) yields both
 *           ∂CE/∂θ and ∂CE/∂x ("free" adversarial training's observation, Shafahi et al. 2019)
 *           → the mask: `maskFrom(∂CE/∂x)` (SCAAT: the floor(q·H·W) lowest |∂CE/∂x| pixels;
 *             pgd-at: none, the whole image)
 *           → x_adv: FGSM-RS from a random start along sign(∂CE/∂x) inside the mask
 *             (attacks/fgsm.ts `fgsmFromGradient`), a constant afterwards
 *   pass 2  adversarial training forward f(x_adv), backward of λ·CE(f(x_adv), y) → ∂/∂θ
 *   update  ∂CE/∂θ + λ·∂CE_adv/∂θ = ∂L/∂θ of L = CE(f(x)) + λ·CE(f(x_adv)): the gradient the
 *           default step takes for the same x_adv (loss 'clean+adv' only), one optimizer update
 *
 * What differs from the default step, so a study can tell whether it matters: the attack's
 * gradient is taken at x (not at x + δ_0), in training mode, with the loss (not in inference mode);
 * for SCAAT the mask's map is |∂CE/∂x| in training mode (as 'train-backward''s, but of this visit
 * and these parameters) instead of the true-class logit gradient in inference mode; and the two
 * training forwards run in the order x, x_adv (the default: x_adv, x), which is the order batch-norm
 * layers update their running statistics in. Each forward normalises by its own batch's statistics
 * in both steps.
 *
 * Memory: every tensor made here is disposed before returning; x and y are not disposed.
 */
import * as tf from '@tensorflow/tfjs';
import { fgsmFromGradient } from '../attacks/fgsm.js';
import type { ValidBox } from '../attacks/types.js';
import type { Classifier } from '../models/classifier.js';
import { correctness } from './_loss.js';

/** Inputs of {@link sharedBackwardStep}. */
export interface SharedBackwardArgs {
  readonly classifier: Classifier;
  readonly optimizer: tf.Optimizer;
  /** NHWC float32 in [0, 1]; not disposed. */
  readonly x: tf.Tensor4D;
  /** int32 labels [B]; not disposed. */
  readonly y: tf.Tensor1D;
  /** λ of L = CE(f(x)) + λ·CE(f(x_adv)). */
  readonly lambda: number;
  /** The FGSM-RS attack: ε, α (step), random start, valid-box mode. */
  readonly attack: { readonly epsilon: number; readonly alpha: number; readonly randomStart: boolean; readonly validBox: ValidBox };
  /** Seed of the attack's random start. */
  readonly seed: number;
  /**
   * The attack's mask from ∂CE/∂x of pass 1 ([B, H, W, C]; not to be disposed): 0/1 per pixel
   * [B·H·W], or undefined for the whole image. Called once, between the passes.
   */
  readonly maskFrom?: (inputGradient: tf.Tensor4D) => Uint8Array | undefined;
  /** Which prediction on x_adv is returned as `advCorrect`: pass 2's (free) or an inference forward after the update. */
  readonly feedback: 'training-pass' | 'post-step-inference';
}

/** What one {@link sharedBackwardStep} reports (numbers only). */
export interface SharedBackwardResult {
  /** L = CE(f(x)) + λ·CE(f(x_adv)) of the batch, before the update. */
  readonly loss: number;
  /** [argmax f(x_b) = y_b] from pass 1 (training mode). */
  readonly cleanCorrect: Uint8Array;
  /** [argmax f(x_adv_b) = y_b] from `feedback`'s source. */
  readonly advCorrect: Uint8Array;
}

/** One step; see the module header. Updates the classifier's variables through `optimizer`. */
export function sharedBackwardStep(args: SharedBackwardArgs): SharedBackwardResult {
  const { classifier, optimizer, x, y, lambda } = args;
  const vars = classifier.trainableVariables();
  const onehot = tf.tidy(() => tf.oneHot(y.toInt(), classifier.numClasses).toFloat());
  const kept: { clean?: tf.Tensor2D; adv?: tf.Tensor2D } = {};
  let clean: { value: tf.Scalar; grads: tf.Tensor[] } | undefined;
  let adv: { value: tf.Scalar; grads: tf.Tensor[] } | undefined;
  let xAdv: tf.Tensor4D | undefined;
  try {
    // pass 1: CE(f(x)) → ∂/∂θ and ∂/∂x in one backward
    clean = tf.engine().gradients(
      () => {
        const z = classifier.logits(x, { training: true });
        kept.clean = tf.keep(z);
        return tf.losses.softmaxCrossEntropy(onehot, z) as tf.Scalar;
      },
      [...vars, x],
      undefined,
      true,
    );
    const dx = (clean.grads[vars.length] as tf.Tensor4D | undefined) ?? tf.zerosLike(x);
    if (!clean.grads[vars.length]) clean.grads[vars.length] = dx;
    const mask = args.maskFrom?.(dx);
    xAdv = fgsmFromGradient(x, dx, { ...args.attack, seed: args.seed, ...(mask ? { mask } : {}) });
    // pass 2: λ·CE(f(x_adv)) → ∂/∂θ (x_adv is a constant)
    const input = xAdv;
    adv = tf.engine().gradients(
      () => {
        const z = classifier.logits(input, { training: true });
        kept.adv = tf.keep(z);
        return tf.mul(lambda, tf.losses.softmaxCrossEntropy(onehot, z)) as tf.Scalar;
      },
      vars,
      undefined,
      true,
    );
    // the update: the sum of the two passes' parameter gradients
    const named: tf.NamedTensorMap = {};
    const sums: tf.Tensor[] = [];
    vars.forEach((v, i) => {
      const a = clean!.grads[i];
      const b = adv!.grads[i];
      const g = a && b ? tf.add(a, b) : (a ?? b);
      if (g) {
        named[v.name] = g;
        if (a && b) sums.push(g);
      }
    });
    optimizer.applyGradients(named);
    tf.dispose(sums);

    const loss = clean.value.dataSync()[0]! + adv.value.dataSync()[0]!;
    const cleanCorrect = correctness(kept.clean!, y);
    const advCorrect = args.feedback === 'post-step-inference' ? correctness(classifier.logits(xAdv), y, true) : correctness(kept.adv!, y);
    return { loss, cleanCorrect, advCorrect };
  } finally {
    for (const r of [clean, adv]) if (r) tf.dispose([r.value, ...r.grads.filter((g): g is tf.Tensor => g != null)]);
    tf.dispose([onehot, ...(xAdv ? [xAdv] : []), ...(kept.clean ? [kept.clean] : []), ...(kept.adv ? [kept.adv] : [])]);
  }
}

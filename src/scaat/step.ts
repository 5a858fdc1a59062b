/**
 * One SCAAT training step (method.md §2), returning numbers:
 *
 *   1. saliency   S_b = aggregate_c |∂ logit_{y_b}(x_b) / ∂x_b|   (inference mode; or cached ranks)
 *   2. mask       M_b = the floor(q_b·H·W) lowest-S pixels, ties by flat index, all channels
 *   3. attack     x_adv = masked L∞ PGD (or FGSM-RS) inside M, a constant afterwards
 *   4. loss       L = CE(f(x), y) + λ·CE(f(x_adv), y)   (training mode; or adv-only / KL)
 *                 one backward pass, one optimizer update
 *   5. feedback   advCorrect_b = [argmax f(x_adv_b) = y_b], for the ratio search (trainer.ts); with
 *                 `ratioSearchEpsilon` a number, of the probe x_probe instead: the same masked
 *                 attack at that budget, from the same random draw (`probe`, after warm-up)
 *
 * Cost in passes (forward + backward): 1 saliency + `steps` attack + 2 training (clean and
 * adversarial forwards, one backward through both); 'previous-visit' and 'train-backward' skip
 * pass 1 when the batch's maps are cached, FGSM-RS has steps = 1 and none along kept signs
 * (`attackSigns`: `attackGradient: 'train-backward'`, train/_gradient-signs.ts). `sharedBackward` (FGSM-RS only)
 * takes steps 1–4 in two passes: the clean training backward yields the mask's map and the attack's
 * direction, then the adversarial pass (train/_shared-pass.ts).
 *
 * Memory: every tensor made here is disposed before returning; the result is plain numbers and
 * typed arrays. x and y are not disposed.
 */
import * as tf from '@tensorflow/tfjs';
import { pgd } from '../attacks/pgd.js';
import type { AttackFn } from '../attacks/types.js';
import { irrelevantCount, lowSaliencyMaskData, maskFromRanks, maskTensor, saliencyRanks } from '../attacks/masks.js';
import { ShapeError } from '../errors.js';
import { adversarialLoss, applyVariableGradients, correctness, meanOf } from '../train/_loss.js';
import { sharedBackwardStep } from '../train/_shared-pass.js';
import { fgsmAlongSigns } from '../train/_gradient-signs.js';
import type { Classifier } from '../models/classifier.js';
import { toSaliencyMap } from '../saliency/postprocess.js';
import { resolveTarget, vanillaGradient } from '../saliency/vanilla-gradient.js';
import type { ScaatConfig } from './config.js';
import { effectiveAlpha, effectiveSteps } from './config.js';
import { maskedPgd } from './_masked-pgd.js';

/** Inputs of {@link scaatStep}. */
export interface ScaatStepArgs {
  readonly classifier: Classifier;
  readonly optimizer: tf.Optimizer;
  /** NHWC float32 in [0, 1]; not disposed. */
  readonly x: tf.Tensor4D;
  /** int32 labels [B]; not disposed. */
  readonly y: tf.Tensor1D;
  /** q_b of each sample of the batch. */
  readonly ratios: ArrayLike<number>;
  readonly config: ScaatConfig;
  /** The masked attack, from {@link createScaatAttack}(config). */
  readonly attack: AttackFn;
  /** Seed of the attack's random start. */
  readonly seed: number;
  /** Cached pixel ranks [B·H·W] (attacks/masks.ts `saliencyRanks`) defining the mask; absent → fresh saliency. */
  readonly ranks?: Uint16Array | Uint32Array;
  /** Return the ranks of the fresh saliency (to cache them). */
  readonly returnRanks?: boolean;
  /** Return per-pixel scores of ∂L/∂x from the training backward pass (aggregated like the saliency). */
  readonly returnInputGradient?: boolean;
  /**
   * The search probe ({@link createSearchProbe}): when given, it attacks the same mask with the
   * step's seed and its prediction (inference mode) is `advCorrect`; absent → the training x_adv's.
   */
  readonly probe?: AttackFn;
  /**
   * `attackGradient: 'train-backward'`: the batch's kept FGSM-RS direction, sign(∂L/∂x_adv) of each
   * sample's previous training backward [B·H·W·C] (train/_gradient-signs.ts); x_adv is then
   * FGSM-RS along it inside the mask, with no attack pass. Absent: the attack of `attack`.
   */
  readonly attackSigns?: Float32Array;
  /** Return ∂L/∂x_adv of the training backward (for the next visit's direction). */
  readonly returnAttackGradient?: boolean;
}

/** What one step reports. */
export interface ScaatStepResult {
  /** Training loss L of the batch (before the update). */
  readonly loss: number;
  /** Clean accuracy on the batch (training-mode forward; inference mode for 'adv-only'). */
  readonly acc: number;
  /** Accuracy on x_adv (on the probe's x when `probe` ran), from the source `ratioFeedback` names. */
  readonly advAcc: number;
  /** Mean q_b of the batch (before the ratio update). */
  readonly q: number;
  /** Fraction of pixels in the masks, Σ_b k_b / (B·H·W). */
  readonly maskFraction: number;
  /** Whether a fresh saliency pass ran (1) or cached ranks were used (0). */
  readonly freshSaliency: number;
  /** advCorrect_b ∈ {0, 1} for the ratio search (of the probe when it ran). */
  readonly advCorrect: Uint8Array;
  /** Ranks of the fresh saliency (when computed and `returnRanks`). */
  readonly ranks?: Uint16Array | Uint32Array;
  /** Per-pixel scores [B·H·W] of ∂L/∂x (when `returnInputGradient`). */
  readonly inputGradient?: Float32Array;
  /** ∂L/∂x_adv of the training backward [B·H·W·C] (when `returnAttackGradient`). */
  readonly attackGradient?: Float32Array;
  /** Whether the attack ran its own pass (1) or followed kept signs (0). */
  readonly freshAttack: number;
}

/**
 * The attack of `config` with its mask supplied per call: the attacks room's `pgd` with K = steps
 * and α = effectiveAlpha, or one step with α = 1.25ε for 'fgsm-rs'; `validBox` as configured.
 */
export function createScaatAttack(config: ScaatConfig): AttackFn {
  return pgd({
    epsilon: config.epsilon,
    alpha: effectiveAlpha(config),
    steps: effectiveSteps(config),
    randomStart: config.randomStart,
    validBox: config.validBox,
  });
}

/**
 * The search probe of `ratioSearchEpsilon` (method.md §2.5), or undefined for 'training': the
 * training attack of {@link createScaatAttack} with ε = ratioSearchEpsilon and α scaled with it
 * ('auto' α by its rule, a fixed α by ε_probe/ε). Called with the training attack's seed it starts
 * from the same uniform draw scaled to its budget, so at ε_probe = ε it is the training attack.
 */
export function createSearchProbe(config: ScaatConfig): AttackFn | undefined {
  const e = config.ratioSearchEpsilon;
  if (e === 'training') return undefined;
  return createScaatAttack({ ...config, epsilon: e, alpha: config.alpha === 'auto' ? 'auto' : (config.alpha * e) / config.epsilon });
}

/**
 * Per-pixel saliency scores [B, H, W] for the mask: vanilla gradient of the target logit (true
 * label, or predicted class) in inference mode, channels reduced by `saliencyAggregation`.
 * Caller owns the result.
 */
export function maskSaliency(
  classifier: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  config: Pick<ScaatConfig, 'saliencyAggregation' | 'saliencyTarget'>,
): tf.Tensor3D {
  return tf.tidy(() => {
    const target = resolveTarget(classifier, x, y, config.saliencyTarget);
    const g = VANILLA(classifier, x, target);
    return toSaliencyMap(g, config.saliencyAggregation);
  });
}
const VANILLA = vanillaGradient();

/** One SCAAT step; see the module header. Updates the classifier's variables through `optimizer`. */
export function scaatStep(args: ScaatStepArgs): ScaatStepResult {
  const { classifier, optimizer, x, y, ratios, config } = args;
  const [batch, h, w] = x.shape;
  const numPixels = h * w;
  if (ratios.length !== batch) {
    throw new ShapeError(`scaatStep: expected ${batch} ratios (one per sample), got ${ratios.length}`);
  }

  if (config.sharedBackward) return sharedBackwardScaatStep(args);

  // 1–2) saliency → mask (CPU: exact floor(q·H·W) lowest pixels, ties by index)
  let ranks = args.ranks;
  let fresh = 0;
  let maskData: Uint8Array;
  if (ranks) {
    if (ranks.length !== batch * numPixels) {
      throw new ShapeError(`scaatStep: expected ${batch * numPixels} cached ranks, got ${ranks.length}`);
    }
    maskData = maskFromRanks(ranks, batch, numPixels, ratios);
  } else {
    fresh = 1;
    const s = maskSaliency(classifier, x, y, config);
    const scores = s.dataSync();
    s.dispose();
    if (args.returnRanks) {
      ranks = saliencyRanks(scores, batch, numPixels);
      maskData = maskFromRanks(ranks, batch, numPixels, ratios);
    } else {
      maskData = lowSaliencyMaskData(scores, batch, numPixels, ratios);
    }
  }
  let masked = 0;
  for (let b = 0; b < batch; b++) masked += irrelevantCount(ratios[b]!, numPixels);

  // 3) masked attack; x_adv is a constant for the update (and the search probe on the same mask)
  const mask = maskTensor(maskData, batch, h, w);
  let xAdv: tf.Tensor4D;
  let xProbe: tf.Tensor4D | undefined;
  try {
    xProbe = args.probe?.(classifier, x, y, { mask, seed: args.seed });
    xAdv = config.remaskEveryAttackStep
      ? maskedPgd(classifier, x, y, mask, {
          epsilon: config.epsilon,
          alpha: effectiveAlpha(config),
          steps: effectiveSteps(config),
          randomStart: config.randomStart,
          validBox: config.validBox,
          seed: args.seed,
          remask: (xt) => {
            const st = maskSaliency(classifier, xt, y, config);
            const m = lowSaliencyMaskData(st.dataSync(), batch, numPixels, ratios);
            st.dispose();
            return maskTensor(m, batch, h, w);
          },
        })
      : args.attackSigns
        ? fgsmAlongSigns(x, args.attackSigns, { epsilon: config.epsilon, alpha: effectiveAlpha(config), randomStart: config.randomStart, validBox: config.validBox }, args.seed, mask)
        : args.attack(classifier, x, y, { mask, seed: args.seed });
  } catch (err) {
    xProbe?.dispose();
    throw err;
  } finally {
    mask.dispose();
  }
  // 5, first half) the probe judged with the parameters the training pass sees
  let probeCorrect: Uint8Array | undefined;
  if (xProbe && config.ratioFeedback === 'training-pass') {
    probeCorrect = correctness(classifier.logits(xProbe), y, true);
    xProbe.dispose();
    xProbe = undefined;
  }

  // 4) loss in training mode, one backward pass, one update
  const onehot = tf.tidy(() => tf.oneHot(y.toInt(), classifier.numClasses).toFloat());
  const vars = classifier.trainableVariables();
  // ∂L/∂x for 'train-backward': of the clean input where the loss has a clean term (x_adv is a
  // constant), else ('adv-only') of the training input x_adv itself
  const wantDx = args.returnInputGradient === true;
  const wantDadv = args.returnAttackGradient === true;
  const xs: tf.Tensor[] = [...vars];
  if (wantDx) xs.push(config.loss === 'adv-only' ? xAdv : x);
  // ∂L/∂x_adv for the next visit's attack direction (with 'adv-only' the map's input is x_adv already)
  if (wantDadv && !xs.includes(xAdv)) xs.push(xAdv);
  const advAt = xs.indexOf(xAdv);
  // Logits of the training forwards, kept out of the gradient's tidy for the accuracies.
  const kept: { clean?: tf.Tensor2D; adv?: tf.Tensor2D } = {};
  // the loss of method.md §2.4, shared with the whole-image control pgd-at (train/_loss.ts)
  const lossFn = (): tf.Scalar =>
    adversarialLoss(classifier, x, xAdv, onehot, config, (z, input) => {
      kept[input] = tf.keep(z);
    });
  // engine().gradients rather than optimizer.minimize: one backward pass also yields ∂L/∂x
  // ('train-backward'); the update itself is optimizer.applyGradients, as minimize does.
  const { value, grads } = tf.engine().gradients(lossFn, xs, undefined, true);
  try {
    applyVariableGradients(optimizer, vars, grads);

    // numbers
    const loss = value.dataSync()[0]!;
    // 'adv-only' has no clean training forward: clean accuracy from an inference forward.
    // Taken after the update, like 'post-step-inference' below.
    const cleanCorrect = kept.clean ? correctness(kept.clean, y) : correctness(classifier.logits(x), y, true);
    // 5) feedback for the ratio search: the probe's when it ran, else x_adv's
    const advCorrect =
      probeCorrect ??
      (config.ratioFeedback === 'post-step-inference'
        ? correctness(classifier.logits(xProbe ?? xAdv), y, true)
        : correctness(kept.adv!, y));
    let inputGradient: Float32Array | undefined;
    if (wantDx) {
      const dx = grads[vars.length];
      if (dx) {
        const s = toSaliencyMap(dx as tf.Tensor4D, config.saliencyAggregation);
        inputGradient = s.dataSync() as Float32Array;
        s.dispose();
      } else {
        inputGradient = new Float32Array(batch * numPixels);
      }
    }
    let attackGradient: Float32Array | undefined;
    if (wantDadv) {
      const g = grads[advAt];
      attackGradient = g ? (g.dataSync() as Float32Array) : new Float32Array(xAdv.size);
    }
    return {
      loss,
      acc: meanOf(cleanCorrect),
      advAcc: meanOf(advCorrect),
      q: meanOf(ratios),
      maskFraction: masked / (batch * numPixels),
      freshSaliency: fresh,
      advCorrect,
      ...(fresh && args.returnRanks && ranks ? { ranks } : {}),
      ...(inputGradient ? { inputGradient } : {}),
      ...(attackGradient ? { attackGradient } : {}),
      freshAttack: args.attackSigns ? 0 : 1,
    };
  } finally {
    tf.dispose([value, ...grads.filter((g): g is tf.Tensor => g != null), onehot, xAdv]);
    xProbe?.dispose();
    if (kept.clean) kept.clean.dispose();
    if (kept.adv) kept.adv.dispose();
  }
}

/**
 * `sharedBackward` (train/_shared-pass.ts): the mask's map is |∂CE(f(x))/∂x| of the step's clean
 * training backward, channels reduced by `saliencyAggregation`, and x_adv one FGSM-RS step along
 * its sign; a sample whose map is all zero (saturated softmax: ∂CE/∂x = 0) takes its map from a
 * fresh saliency pass for the batch, as the default step would (`freshSaliency` 1).
 */
function sharedBackwardScaatStep(args: ScaatStepArgs): ScaatStepResult {
  const { classifier, x, y, ratios, config } = args;
  const [batch, h, w] = x.shape;
  const numPixels = h * w;
  let fresh = 0;
  let masked = 0;
  for (let b = 0; b < batch; b++) masked += irrelevantCount(ratios[b]!, numPixels);
  const r = sharedBackwardStep({
    classifier,
    optimizer: args.optimizer,
    x,
    y,
    lambda: config.lambda,
    attack: { epsilon: config.epsilon, alpha: effectiveAlpha(config), randomStart: config.randomStart, validBox: config.validBox },
    seed: args.seed,
    feedback: config.ratioFeedback,
    maskFrom: (dx) => {
      const s = toSaliencyMap(dx, config.saliencyAggregation);
      const scores = s.dataSync() as Float32Array;
      s.dispose();
      const zero: number[] = [];
      for (let b = 0; b < batch; b++) {
        let any = false;
        for (let i = b * numPixels; i < (b + 1) * numPixels && !any; i++) any = scores[i] !== 0;
        if (!any) zero.push(b);
      }
      if (zero.length > 0) {
        fresh = 1;
        const f = maskSaliency(classifier, x, y, config);
        const freshScores = f.dataSync();
        f.dispose();
        for (const b of zero) scores.set(freshScores.subarray(b * numPixels, (b + 1) * numPixels), b * numPixels);
      }
      return lowSaliencyMaskData(scores, batch, numPixels, ratios);
    },
  });
  return {
    loss: r.loss,
    acc: meanOf(r.cleanCorrect),
    advAcc: meanOf(r.advCorrect),
    q: meanOf(ratios),
    maskFraction: masked / (batch * numPixels),
    freshSaliency: fresh,
    freshAttack: 0,
    advCorrect: r.advCorrect,
  };
}

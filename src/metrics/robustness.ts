/**
 * The low-saliency robustness curve (method.md §4): for q in {0, 0.1, …, 0.9}, whether each image
 * is still classified correctly when its q lowest-saliency pixels (the SCAAT mask of §2.2, shared
 * by all channels) are
 *
 *   'attack': perturbed by the masked attack of §2.3 (an injected {@link AttackFn}, e.g. pgd());
 *   'noise':  replaced by uniform noise in [0, 1] (noise 'replace', default), or perturbed by
 *             x + U(−ε, ε) clipped to [0, 1] (noise 'additive': the attack's random start alone).
 *
 * At q = 0 nothing is perturbed and the image is scored as is (equal to clean accuracy). Accuracy
 * is against the true label y. The attack and the mask builder are injected, so this file knows
 * no specific attack.
 *
 * @example
 * const correct = lowSaliencyRobustness(classifier, x, y, scores, { kind: 'attack', attack: pgd(), ratios: [0, 0.5] });
 * correct[1]   // Uint8Array [B] of 0/1 at q = 0.5
 */
import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../models/classifier.js';
import type { AttackFn } from '../attacks/types.js';
import { maskFromRanks, maskTensor, saliencyRanks } from '../attacks/masks.js';
import { deriveSeed } from '../engine/random.js';
import { ConfigError, ShapeError } from '../errors.js';
import { accurateSum } from './_summary.js';
import type { EvaluationConfig } from './evaluation-result.js';
import type { MetricCompute } from './types.js';

/** The ratios q of method.md §4. */
export const DEFAULT_RATIOS: readonly number[] = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/** How the noise curve perturbs the masked pixels. */
export type NoiseMode = 'replace' | 'additive';

export interface RobustnessOptions {
  /** Perturb with the attack or with noise. */
  kind: 'attack' | 'noise';
  /** Fractions q of pixels perturbed. @default DEFAULT_RATIOS */
  ratios?: readonly number[];
  /** The masked attack (required for kind 'attack'). */
  attack?: AttackFn;
  /** Noise mode. @default 'replace' */
  noise?: NoiseMode;
  /** ε of the 'additive' noise. @default 8/255 */
  epsilon?: number;
  /** Seed of the attack starts and noise (one per ratio is derived from it). @default 0 */
  seed?: number;
}

/**
 * Per ratio, per image: 1 if classified as y after the perturbation, else 0. `scores` are the
 * per-pixel saliency scores [B·H·W]. Does not dispose its inputs.
 */
export function lowSaliencyRobustness(
  classifier: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  scores: ArrayLike<number>,
  options: RobustnessOptions,
): Uint8Array[] {
  const { kind, ratios = DEFAULT_RATIOS, attack, noise = 'replace', epsilon = 8 / 255, seed = 0 } = options;
  const [b, h, w, c] = x.shape;
  if (scores.length !== b * h * w) throw new ShapeError(`lowSaliencyRobustness: expected ${b}·${h}·${w} scores, got ${scores.length}`);
  if (kind === 'attack' && !attack) throw new ConfigError("lowSaliencyRobustness: kind 'attack' needs an attack");
  if (kind !== 'attack' && kind !== 'noise') throw new ConfigError(`lowSaliencyRobustness: expected kind 'attack' or 'noise', got '${String(kind)}'`);
  if (noise !== 'replace' && noise !== 'additive') throw new ConfigError(`lowSaliencyRobustness: expected noise 'replace' or 'additive', got '${String(noise)}'`);
  const ranks = saliencyRanks(scores, b, h * w);
  const correctOf = (xp: tf.Tensor4D): Uint8Array =>
    tf.tidy(() => {
      const pred = tf.argMax(classifier.logits(xp), 1);
      return Uint8Array.from(tf.equal(pred, y.toInt()).dataSync());
    });
  let clean: Uint8Array | undefined;
  return ratios.map((q, qi) => {
    if (!(q >= 0 && q <= 1)) throw new ConfigError(`lowSaliencyRobustness: ratios must lie in [0, 1], got ${q}`);
    const maskData = maskFromRanks(ranks, b, h * w, new Float64Array(b).fill(q));
    if (!maskData.includes(1)) return (clean ??= correctOf(x)).slice();
    const mask = maskTensor(maskData, b, h, w);
    try {
      const s = deriveSeed(seed, kind, qi);
      if (kind === 'attack') {
        const xAdv = attack!(classifier, x, y, { mask, seed: s });
        try {
          return correctOf(xAdv);
        } finally {
          xAdv.dispose();
        }
      }
      const xn = tf.tidy(() => {
        if (noise === 'replace') {
          const u = tf.randomUniform([b, h, w, c], 0, 1, 'float32', s);
          return tf.add(x, tf.mul(tf.sub(u, x), mask)) as tf.Tensor4D;
        }
        const u = tf.randomUniform([b, h, w, c], -epsilon, epsilon, 'float32', s);
        return tf.clipByValue(tf.add(x, tf.mul(u, mask)), 0, 1) as tf.Tensor4D;
      });
      try {
        return correctOf(xn);
      } finally {
        xn.dispose();
      }
    } finally {
      mask.dispose();
    }
  });
}

/** One method's curve of one kind: correct images per ratio (the exact, mergeable part). */
interface Curve {
  readonly kind: 'attack' | 'noise';
  readonly ratios: number[];
  readonly correct: number[];
  readonly params: Record<string, unknown>;
}

/** State of the robustness rows: the attack and, per method, the curves of the requested kinds. */
interface RobustnessState {
  readonly attack?: AttackFn;
  readonly curves: Curve[][];
}

const KINDS = [['robustness-attack', 'attack'], ['robustness-noise', 'noise']] as const;

/** The curves requested by config.metrics, all counts 0. */
function emptyCurves(config: EvaluationConfig): Curve[] {
  const { ratios, attack, noise } = config.robustness;
  return KINDS.filter(([name]) => config.metrics.includes(name)).map(([, kind]) => ({
    kind, ratios: [...ratios], correct: ratios.map(() => 0),
    params: kind === 'attack' ? { ...attack } : { noise, ...(noise === 'additive' ? { epsilon: attack.epsilon } : {}) },
  }));
}

/**
 * The computation shared by the two robustness rows: per batch and method, each requested curve
 * (the run's attack; seeds from (seed, method, global batch)).
 */
const ROBUSTNESS_CURVES: NonNullable<MetricCompute<RobustnessState>['accumulator']> = {
  start: ({ config, methods, attack }) => ({ attack, curves: Array.from({ length: methods }, () => emptyCurves(config)) }),
  add: (state, b) => {
    const { ratios, noise, attack } = b.config.robustness;
    for (const curve of state.curves[b.methodIndex]!) {
      const flags = lowSaliencyRobustness(b.classifier, b.x, b.y, b.scores, {
        kind: curve.kind, ratios, attack: state.attack!, noise, epsilon: attack.epsilon,
        seed: deriveSeed(b.config.seed, 'robustness', b.method.name, b.globalBatch),
      });
      flags.forEach((f, qi) => (curve.correct[qi]! += f.reduce((s, v) => s + v, 0)));
    }
  },
  merge: (state, next) => next.curves.forEach((cs, mi) => cs.forEach((c, ci) => c.correct.forEach((v, qi) => (state.curves[mi]![ci]!.correct[qi]! += v)))),
  methodParts: (state, mi, n) => ({
    fields: {
      robustness: state.curves[mi]!.map((r) => ({
        kind: r.kind, ratios: r.ratios, accuracy: r.correct.map((c) => (n > 0 ? c / n : 0)), correct: r.correct, n, params: r.params,
      })),
    },
  }),
  read: (r) => ({ curves: r.methods.map((m) => (m.robustness ?? []).map((c) => ({ kind: c.kind, ratios: [...c.ratios], correct: [...c.correct], params: { ...c.params } }))) }),
};

/** A robustness row: the mean accuracy over q of its curve. */
function robustnessRow(kind: 'attack' | 'noise'): MetricCompute<RobustnessState> {
  return {
    accumulator: ROBUSTNESS_CURVES,
    summarise: (state, at) => {
      const curve = state.curves[at.method]!.find((r) => r.kind === kind);
      const value = curve && curve.ratios.length > 0 && at.n > 0 ? accurateSum(curve.correct.map((c) => c / at.n)) / curve.correct.length : null;
      return { name: at.name, label: at.label, direction: at.direction, value, n: at.n, params: curve ? { ratios: curve.ratios, ...curve.params } : {} };
    },
  };
}

/** The 'robustness-attack' row. */
export const ROBUSTNESS_ATTACK = robustnessRow('attack');
/** The 'robustness-noise' row. */
export const ROBUSTNESS_NOISE = robustnessRow('noise');

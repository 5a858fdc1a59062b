/**
 * Tiny models for this room's tests and benchmarks (internal; not exported from the package API).
 */
import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../models/classifier.js';

/** Wraps a LayersModel (ending in logits) as a Classifier, for tests. */
export function asClassifier(model: tf.LayersModel, numClasses: number): Classifier {
  const shape = model.inputs[0]!.shape;
  return {
    inputShape: [shape[1]!, shape[2]!, shape[3]!],
    numClasses,
    model,
    logits: (x, { training = false } = {}) => model.apply(x, { training }) as tf.Tensor2D,
    trainableVariables: () => model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val),
  };
}

/**
 * A small smooth CNN: conv3×3 'same' (tanh) → avg-pool 2 'valid' → conv3×3 'same' (tanh) → flatten → dense.
 * Smooth everywhere (no ReLU or max kinks), so central finite differences are a valid oracle.
 */
export function tinyCnn(
  inputShape: readonly [number, number, number],
  numClasses: number,
  { seed = 7, filters = 4 }: { seed?: number; filters?: number } = {},
): Classifier {
  const init = (s: number) => tf.initializers.glorotNormal({ seed: s });
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [...inputShape], filters, kernelSize: 3, padding: 'same', activation: 'tanh', kernelInitializer: init(seed), biasInitializer: 'zeros' }),
      tf.layers.averagePooling2d({ poolSize: 2, padding: 'valid' }),
      tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation: 'tanh', kernelInitializer: init(seed + 1) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: numClasses, kernelInitializer: init(seed + 2), biasInitializer: tf.initializers.randomNormal({ seed: seed + 3, stddev: 0.1 }) }),
    ],
  });
  return asClassifier(model, numClasses);
}

/** Deterministic pseudo-random images in [0, 1], [B, H, W, C] (caller owns). */
export function randomImages(shape: readonly [number, number, number, number], seed = 1): tf.Tensor4D {
  return tf.randomUniform([...shape], 0, 1, 'float32', seed) as tf.Tensor4D;
}

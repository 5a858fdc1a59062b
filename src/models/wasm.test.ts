/**
 * The zoo on the default engine: every model's logits, input gradient (what saliency and attacks
 * use) and weight gradient (what training uses) on wasm agree with the exact cpu reference.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { relError, useBackend } from '../../test/helpers/index.js';
import { MODELS } from './registry.js';

const TINY: Record<string, { inputShape: [number, number, number]; width: number }> = {
  mlp: { inputShape: [8, 8, 1], width: 0.125 },
  'small-cnn': { inputShape: [8, 8, 3], width: 0.125 },
  'resnet-20': { inputShape: [8, 8, 3], width: 0.25 },
  'resnet-pcam': { inputShape: [16, 16, 3], width: 0.125 },
  'resnet-18': { inputShape: [32, 32, 3], width: 0.0625 },
};

/** logits, ∂(Σ true-class logits)/∂x in inference mode, ∂(Σ logits²)/∂W in training mode, on the current backend. */
function passes(name: string): Float32Array[] {
  const t = TINY[name]!;
  const clf = MODELS.get(name)!.create({ inputShape: t.inputShape, numClasses: 3, seed: 1, width: t.width });
  const out = tf.tidy(() => {
    const x = tf.randomUniform([4, ...t.inputShape], 0, 1, 'float32', 1) as tf.Tensor4D;
    const pick = tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3);
    const z = clf.logits(x);
    const dx = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(clf.logits(xi as tf.Tensor4D), pick)))(x);
    const { grads, value } = tf.variableGrads(() => tf.sum(tf.square(clf.logits(x, { training: true }))) as tf.Scalar, clf.trainableVariables());
    value.dispose();
    const dw = tf.concat(Object.values(grads).map((g) => g.flatten()));
    return [z, dx, dw].map((a) => a.dataSync() as Float32Array);
  });
  clf.model.dispose();
  return out;
}

afterAll(async () => {
  await useBackend('cpu');
});

describe('zoo on wasm vs cpu', () => {
  it.each(Object.keys(TINY))('%s: logits, input and weight gradients agree (rel. error < 1e-4)', async (name) => {
    await useBackend('cpu');
    const ref = passes(name);
    await useBackend('wasm');
    const got = passes(name);
    ['logits', '∂x', '∂W'].forEach((what, i) => expect(relError(got[i]!, ref[i]!), `${name} ${what}`).toBeLessThan(1e-4));
  });
});

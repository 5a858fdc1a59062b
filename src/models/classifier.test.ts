import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, useBackend } from '../../test/helpers/index.js';
import { ConfigError, ShapeError } from '../errors.js';
import { fromLayersModel } from './classifier.js';

const SHAPE = [3, 3, 2] as const;

function denseModel(activation: 'linear' | 'softmax' | 'sigmoid', seed = 1): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [...SHAPE] }),
      tf.layers.dense({ units: 4, activation, kernelInitializer: tf.initializers.randomNormal({ seed }), biasInitializer: tf.initializers.randomNormal({ seed: seed + 1 }) }),
    ],
  });
}

const x = () => tf.randomUniform([2, ...SHAPE], 0, 1, 'float32', 3) as tf.Tensor4D;

beforeAll(async () => {
  await useBackend('cpu');
});

describe('fromLayersModel', () => {
  it('returns the model output for a linear head, with shapes from the model', () => {
    const m = denseModel('linear');
    const clf = fromLayersModel(m);
    expect(clf.inputShape).toEqual([3, 3, 2]);
    expect(clf.numClasses).toBe(4);
    const xx = x();
    expectClose(clf.logits(xx).dataSync(), (m.predict(xx) as tf.Tensor).dataSync());
    expect(clf.trainableVariables()).toHaveLength(2);
    expect(clf.trainableVariables()[0]).toBeInstanceOf(tf.Variable);
    tf.dispose(xx);
  });

  it('returns pre-softmax values for a Dense(softmax) head, and leaves the model predicting probabilities', () => {
    const lin = denseModel('linear', 5);
    const soft = denseModel('softmax', 9);
    soft.setWeights(lin.getWeights());
    const clf = fromLayersModel(soft);
    const xx = x();
    const expected = (lin.predict(xx) as tf.Tensor).dataSync();
    expectClose(clf.logits(xx).dataSync(), expected, { label: 'logits' });
    expectClose(clf.logits(xx, { training: true }).dataSync(), expected, { label: 'logits (training)' });
    // The activation was swapped back: predict() still gives probabilities summing to 1.
    const p = (soft.predict(xx) as tf.Tensor2D).sum(1).dataSync();
    expectClose(p, [1, 1], { label: 'softmax rows' });
    // Gradient of logit c w.r.t. the flattened input is the kernel's column c (linear oracle).
    const g = tf.grad((xi: tf.Tensor) => clf.logits(xi as tf.Tensor4D).slice([0, 2], [1, 1]).sum())(xx.slice([0], [1]));
    const W = (lin.getWeights()[0] as tf.Tensor2D).arraySync();
    expectClose(g.dataSync(), W.map((row) => row[2]!), { label: '∂logit_2/∂x' });
    tf.dispose(xx);
  });

  it.each([
    ['Activation(softmax)', () => tf.layers.activation({ activation: 'softmax' })],
    ['Softmax layer', () => tf.layers.softmax()],
  ])('returns the input of a final %s', (_name, head) => {
    const lin = denseModel('linear', 2);
    const withHead = tf.sequential({ layers: [...lin.layers, head()] });
    const clf = fromLayersModel(withHead);
    const xx = x();
    expectClose(clf.logits(xx).dataSync(), (lin.predict(xx) as tf.Tensor).dataSync());
    tf.dispose(xx);
  });

  it('rejects a sigmoid head, a non-image input and mismatched options', () => {
    expect(() => fromLayersModel(denseModel('sigmoid'))).toThrow(ConfigError);
    const flat = tf.sequential({ layers: [tf.layers.dense({ inputShape: [5], units: 2 })] });
    expect(() => fromLayersModel(flat)).toThrow(ShapeError);
    expect(() => fromLayersModel(denseModel('linear'), { numClasses: 3 })).toThrow(/numClasses 3 does not match/);
    expect(() => fromLayersModel(denseModel('linear'), { inputShape: [3, 3, 1] })).toThrow(ShapeError);
    const clf = fromLayersModel(denseModel('linear'));
    const wrong = tf.zeros([1, 3, 3, 1]) as tf.Tensor4D;
    expect(() => clf.logits(wrong)).toThrow(/expected x of shape \[\?, 3, 3, 2\], got \[1, 3, 3, 1\]/);
    wrong.dispose();
  });

  it('leaks no tensors', async () => {
    const soft = fromLayersModel(denseModel('softmax'));
    const act = fromLayersModel(tf.sequential({ layers: [...denseModel('linear').layers, tf.layers.activation({ activation: 'softmax' })] }));
    const xx = x();
    await expectNoLeak(() => soft.logits(xx), 'dense softmax');
    await expectNoLeak(() => act.logits(xx), 'activation softmax');
    tf.dispose(xx);
  });
});

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, linearClassifier, useBackend } from '../../test/helpers/index.js';
import { predictedClass, resolveTarget, vanillaGradient } from './vanilla-gradient.js';
import { randomImages, tinyCnn } from './_testing.js';
import { ShapeError } from '../errors.js';

beforeAll(() => useBackend('cpu'));

describe('vanillaGradient', () => {
  it('equals W[:, target] for a linear model (exact oracle)', () => {
    const shape = [4, 3, 2] as const;
    const lin = linearClassifier(shape, 5);
    const x = randomImages([3, ...shape], 2);
    const y = tf.tensor1d([0, 4, 2], 'int32');
    const a = vanillaGradient()(lin, x, y);
    expect(a.shape).toEqual(x.shape);
    const W = lin.W.arraySync() as number[][]; // [d, K]
    const got = a.reshape([3, -1]).arraySync() as number[][];
    [0, 4, 2].forEach((c, b) => expectClose(got[b]!, W.map((row) => row[c]!), { label: `image ${b}` }));
    tf.dispose([x, y, a]);
  });

  it('matches central finite differences on a small CNN', () => {
    const shape = [6, 6, 2] as const;
    const net = tinyCnn(shape, 3);
    const x = randomImages([2, ...shape], 3);
    const y = tf.tensor1d([1, 2], 'int32');
    const g = vanillaGradient()(net, x, y);
    const grad = g.arraySync();
    const xs = x.arraySync();
    const h = 1e-2;
    const logit = (img: number[][][][], b: number, c: number): number =>
      tf.tidy(() => net.logits(tf.tensor4d(img)).arraySync()[b]![c]!);
    const coords: Array<[number, number, number, number]> = [[0, 0, 0, 0], [0, 2, 3, 1], [1, 5, 5, 0], [1, 3, 1, 1], [0, 4, 0, 1]];
    const fd: number[] = [];
    const an: number[] = [];
    for (const [b, i, j, k] of coords) {
      const plus = structuredClone(xs);
      const minus = structuredClone(xs);
      plus[b]![i]![j]![k]! += h;
      minus[b]![i]![j]![k]! -= h;
      const c = b === 0 ? 1 : 2;
      fd.push((logit(plus, b, c) - logit(minus, b, c)) / (2 * h));
      an.push(grad[b]![i]![j]![k]!);
    }
    expectClose(an, fd, { rtol: 2e-2, atol: 2e-4, label: 'gradient vs finite differences' });
    tf.dispose([x, y, g]);
    net.model.dispose();
  });

  it('gives the same result in chunks as in one pass, and leaks nothing', async () => {
    const lin = tinyCnn([4, 4, 1], 2);
    const x = randomImages([5, 4, 4, 1], 4);
    const y = tf.tensor1d([0, 1, 1, 0, 1], 'int32');
    const whole = vanillaGradient()(lin, x, y);
    const chunked = await expectNoLeak(() => {
      const a = vanillaGradient({ internalBatchSize: 2 })(lin, x, y);
      const v = a.dataSync().slice();
      a.dispose();
      return v;
    }, 'vanillaGradient chunked');
    expectClose(chunked, whole.dataSync(), { rtol: 1e-6, atol: 1e-7 });
    tf.dispose([x, y, whole]);
  });

  it('explains the predicted class on request: the float64 argmax of x·W + b, not the label', () => {
    const K = 3;
    const lin = linearClassifier([2, 2, 1], K);
    const B = 6;
    const x = randomImages([B, 2, 2, 1], 5);
    // the oracle: logits x·W + b in float64 from the model's own weights, argmax by hand
    const W = lin.W.arraySync() as number[][]; // [d, K]
    const bias = lin.b.arraySync() as number[];
    const xs = tf.tidy(() => x.reshape([B, -1]).arraySync() as number[][]);
    const logits = xs.map((row) => bias.map((bk, k) => row.reduce((s, v, i) => s + v * W[i]![k]!, bk)));
    const hand = logits.map((z) => z.indexOf(Math.max(...z)));
    // preconditions: a clear winner everywhere (float32 cannot flip it), and not one class for all
    logits.forEach((z, b) => {
      const [top, second] = [...z].sort((p, q) => q - p);
      expect(top! - second!, `image ${b}: margin of the top logit`).toBeGreaterThan(1e-3);
    });
    expect(new Set(hand).size, 'predicted classes').toBeGreaterThan(1);
    // labels: the prediction on odd images, another class on even ones
    const labels = hand.map((c, b) => (b % 2 === 0 ? (c + 1) % K : c));
    const y = tf.tensor1d(labels, 'int32');
    const pred = predictedClass(lin, x);
    expect(pred.shape).toEqual([B]);
    expect(pred.dtype).toBe('int32');
    expect(Array.from(pred.dataSync())).toEqual(hand);
    const t = resolveTarget(lin, x, y, 'predicted');
    const l = resolveTarget(lin, x, y, 'label');
    expect(Array.from(t.dataSync())).toEqual(hand);
    expect(Array.from(l.dataSync())).toEqual(labels);
    // where the label is not the prediction the two targets differ, and so do the gradients they explain
    const pt = Array.from(t.dataSync());
    const lt = Array.from(l.dataSync());
    [0, 2, 4].forEach((b) => expect(pt[b], `image ${b}: 'predicted' vs 'label'`).not.toBe(lt[b]));
    [1, 3, 5].forEach((b) => expect(pt[b], `image ${b}: 'predicted' vs 'label'`).toBe(lt[b]));
    const a = vanillaGradient()(lin, x, t);
    const got = tf.tidy(() => a.reshape([B, -1]).arraySync() as number[][]);
    hand.forEach((c, b) => expectClose(got[b]!, W.map((row) => row[c]!), { label: `image ${b}: W[:, predicted]` }));
    tf.dispose([x, y, pred, t, l, a]);
  });

  it('leaks no tensors in predictedClass and resolveTarget (either mode)', async () => {
    const net = tinyCnn([4, 4, 1], 3);
    const x = randomImages([3, 4, 4, 1], 6);
    const y = tf.tensor1d([2, 0, 1], 'int32');
    await expectNoLeak(() => predictedClass(net, x), 'predictedClass');
    await expectNoLeak(() => resolveTarget(net, x, y, 'predicted'), "resolveTarget 'predicted'");
    await expectNoLeak(() => resolveTarget(net, x, y, 'label'), "resolveTarget 'label'");
    expect(y.isDisposed, 'y is not disposed').toBe(false);
    tf.dispose([x, y]);
    net.model.dispose();
  });

  it('rejects a target of the wrong length with a ShapeError', () => {
    const lin = linearClassifier([2, 2, 1], 3);
    const x = randomImages([2, 2, 2, 1]);
    const y = tf.tensor1d([0], 'int32');
    expect(() => vanillaGradient()(lin, x, y)).toThrow(ShapeError);
    expect(() => vanillaGradient()(lin, x, y)).toThrow(/expected target of shape \[2\]/);
    tf.dispose([x, y]);
  });
});

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

  it('explains the predicted class on request', () => {
    const lin = linearClassifier([2, 2, 1], 3);
    const x = randomImages([4, 2, 2, 1], 5);
    const y = tf.tensor1d([0, 0, 0, 0], 'int32');
    const pred = predictedClass(lin, x);
    const expected = tf.tidy(() => tf.argMax(lin.logits(x), 1));
    expect(Array.from(pred.dataSync())).toEqual(Array.from(expected.dataSync()));
    const t = resolveTarget(lin, x, y, 'predicted');
    const l = resolveTarget(lin, x, y, 'label');
    expect(Array.from(t.dataSync())).toEqual(Array.from(pred.dataSync()));
    expect(Array.from(l.dataSync())).toEqual([0, 0, 0, 0]);
    tf.dispose([x, y, pred, expected, t, l]);
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

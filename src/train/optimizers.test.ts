import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, useBackend } from '../../test/helpers/index.js';
import { DataError } from '../errors.js';
import { Adam, createOptimizer, SgdMomentum } from './optimizers.js';
import type { OptimizerOptions } from './optimizers.js';

// f(w) = ½ Σ a_i w_i², so ∇f = a ⊙ w: a closed-form gradient to replay the update rules in float64.
const A = [0.5, 2, -1, 3];
const W0 = [1, -0.5, 0.25, 2];

function runTf(opt: tf.Optimizer, w: tf.Variable, steps: number): Float32Array {
  const a = tf.tensor1d(A);
  for (let t = 0; t < steps; t++) {
    opt.minimize(() => tf.mul(0.5, tf.sum(tf.mul(a, tf.square(w)))), true, [w])?.dispose();
  }
  a.dispose();
  return w.dataSync() as Float32Array;
}

const OPTS: OptimizerOptions = { optimizer: 'sgd', lr: 0.1, weightDecay: 0.01, momentum: 0.9, nesterov: false, beta1: 0.9, beta2: 0.999, adamEpsilon: 1e-8 };

beforeAll(async () => {
  await useBackend('cpu');
});

describe('SgdMomentum', () => {
  it.each([false, true])('matches the PyTorch update replayed in float64 (nesterov %s)', (nesterov) => {
    const w = tf.variable(tf.tensor1d(W0));
    const got = runTf(new SgdMomentum([w], 0.1, 0.9, 0.01, nesterov), w, 5);
    const ref = [...W0];
    const buf = [0, 0, 0, 0];
    for (let t = 0; t < 5; t++) {
      for (let i = 0; i < 4; i++) {
        const g = A[i]! * ref[i]! + 0.01 * ref[i]!;
        buf[i] = 0.9 * buf[i]! + g;
        ref[i] = ref[i]! - 0.1 * (nesterov ? g + 0.9 * buf[i]! : buf[i]!);
      }
    }
    expectClose(got, ref, { rtol: 1e-5, atol: 1e-6 });
    w.dispose();
  });

  it('equals tf.train.momentum when weight decay is 0', () => {
    const w1 = tf.variable(tf.tensor1d(W0));
    const w2 = tf.variable(tf.tensor1d(W0));
    const ours = runTf(new SgdMomentum([w1], 0.05, 0.9, 0, false), w1, 4);
    const theirs = runTf(tf.train.momentum(0.05, 0.9), w2, 4);
    expectClose(ours, theirs, { rtol: 1e-6, atol: 1e-7 });
    tf.dispose([w1, w2]);
  });
});

describe('Adam', () => {
  it('matches the PyTorch update (L2 decay, bias-corrected) replayed in float64', () => {
    const w = tf.variable(tf.tensor1d(W0));
    const got = runTf(new Adam([w], 0.01, 0.9, 0.999, 1e-8, 0.01), w, 5);
    const ref = [...W0];
    const m = [0, 0, 0, 0];
    const v = [0, 0, 0, 0];
    for (let t = 1; t <= 5; t++) {
      for (let i = 0; i < 4; i++) {
        const g = A[i]! * ref[i]! + 0.01 * ref[i]!;
        m[i] = 0.9 * m[i]! + 0.1 * g;
        v[i] = 0.999 * v[i]! + 0.001 * g * g;
        const mh = m[i]! / (1 - 0.9 ** t);
        const vh = v[i]! / (1 - 0.999 ** t);
        ref[i] = ref[i]! - (0.01 * mh) / (Math.sqrt(vh) + 1e-8);
      }
    }
    expectClose(got, ref, { rtol: 1e-5, atol: 1e-6 });
    w.dispose();
  });
});

describe('optimizer state', () => {
  it.each(['sgd', 'adam'] as const)('%s: a fresh optimizer restored from getState continues bit for bit', (kind) => {
    const o = { ...OPTS, optimizer: kind, lr: kind === 'adam' ? 0.01 : 0.1 };
    const w = tf.variable(tf.tensor1d(W0));
    const opt = createOptimizer([w], o);
    runTf(opt, w, 3);
    const state = opt.getState();
    const wSaved = Array.from(w.dataSync());
    const straight = Array.from(runTf(opt, w, 3));

    const w2 = tf.variable(tf.tensor1d(wSaved));
    const opt2 = createOptimizer([w2], o);
    opt2.setState(state);
    expect(opt2.iterations).toBe(3);
    expect(Array.from(runTf(opt2, w2, 3))).toEqual(straight);
    opt.dispose();
    opt2.dispose();
    tf.dispose([w, w2]);
  });

  it('rejects state for another optimizer or other variables (DataError)', () => {
    const w = tf.variable(tf.tensor1d(W0));
    const sgd = createOptimizer([w], OPTS);
    const adam = createOptimizer([w], { ...OPTS, optimizer: 'adam' });
    expect(() => adam.setState(sgd.getState())).toThrow(DataError);
    const other = tf.variable(tf.zeros([3]));
    expect(() => createOptimizer([other], OPTS).setState(sgd.getState())).toThrow(/has shape \[4\], expected \[3\]/);
    tf.dispose([w, other]);
  });

  it('leaks no tensors per update', () => {
    const w = tf.variable(tf.tensor1d(W0));
    const opt = createOptimizer([w], { ...OPTS, optimizer: 'adam' });
    runTf(opt, w, 1);
    const before = tf.memory().numTensors;
    runTf(opt, w, 5);
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    w.dispose();
  });
});

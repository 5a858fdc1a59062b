/**
 * inputGradientOnly on wasm (over the native kernels when the addon is built, else pure wasm):
 * input gradients of a tf.layers net with fused conv / depthwise conv (bias + ReLU) are unchanged
 * inside the scope; filter gradients inside it are zeros (the skip happens), and correct again
 * outside it, after nesting and after an exception; no tensor leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from './backend.js';
import { installLazyConvGradients, uninstallLazyConvGradients } from './conv-layer.js';
import { inputGradientOnly, isInputGradientOnly } from './grad-scope.js';
import { expectNoLeak, relError } from '../../test/helpers/index.js';

const S = 8;
const K = 4;
const B = 2;
const init = (seed: number) => tf.initializers.heNormal({ seed });
const bias = (seed: number) => tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed });

/**
 * conv(bias, linear) → ReLU → depthwise(bias, ReLU, stride 2) → conv(no bias) → dense. Under a
 * gradient TF.js unfuses convs with a non-linear activation (lazy, pruned gradients) but keeps
 * FusedConv2D for 'linear' ones, whose customGrad computes ∂filter eagerly: the case that matters.
 */
function net(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [S, S, 3], filters: 4, kernelSize: 3, padding: 'same',
        kernelInitializer: init(1), biasInitializer: bias(2) }),
      tf.layers.reLU(),
      tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same', activation: 'relu',
        depthwiseInitializer: init(3), biasInitializer: bias(4) }),
      tf.layers.conv2d({ filters: 5, kernelSize: 2, padding: 'valid', useBias: false, kernelInitializer: init(5) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: K, kernelInitializer: init(7) }),
    ],
  });
}

/** Kernels run by `fn` (tf.profile). */
async function kernelsOf(fn: () => tf.Tensor): Promise<string[]> {
  const info = await tf.profile(() => fn());
  return info.kernelNames;
}

describe('inputGradientOnly (wasm)', () => {
  let model: tf.LayersModel;
  let x: tf.Tensor4D;
  let pick: tf.Tensor2D;
  const score = (xi: tf.Tensor): tf.Scalar => tf.sum(tf.mul(model.apply(xi) as tf.Tensor, pick));
  const inputGrad = (): Float32Array => tf.tidy(() => tf.grad(score)(x).dataSync() as Float32Array);
  /** ∂score/∂w for every trainable weight, by name. */
  const weightGrads = (): Record<string, Float32Array> => {
    const { value, grads } = tf.variableGrads(() => score(x));
    const out = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.dataSync() as Float32Array]));
    tf.dispose([value, ...Object.values(grads)]);
    return out;
  };
  /** The conv and depthwise filters (not biases, not the dense layer). */
  const filterNames = (): string[] =>
    model.layers.filter((l) => /conv/i.test(l.getClassName())).map((l) => l.trainableWeights[0]!.name);

  beforeAll(async () => {
    await setupBackend({ backend: 'wasm' });
    // scaat's Conv2D layers already avoid the fused op under a tape (./conv-layer.ts); the stock
    // layer is what exercises the scope on FusedConv2D (as a direct tf.fused.conv2d call would).
    uninstallLazyConvGradients();
    model = net();
    x = tf.randomUniform([B, S, S, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
    pick = tf.oneHot(tf.tensor1d([1, 3], 'int32'), K).toFloat() as tf.Tensor2D;
  });
  afterAll(() => {
    installLazyConvGradients();
  });

  it('leaves the input gradient unchanged (fused conv + depthwise, bias, ReLU)', async () => {
    // the problem exists: outside the scope, ∂x alone runs FusedConv2D and a filter gradient
    const ran = await kernelsOf(() => tf.grad(score)(x));
    expect(ran).toContain('FusedConv2D');
    expect(ran).toContain('Conv2DBackpropFilter');
    const outside = inputGrad();
    const inside = inputGradientOnly(inputGrad);
    expect(Math.max(...outside.map(Math.abs))).toBeGreaterThan(1e-3);
    expect(relError(inside, outside)).toBeLessThanOrEqual(1e-6);
    // nested scopes: same result, and the scope is still on after the inner one ends
    const nested = inputGradientOnly(() => {
      inputGradientOnly(() => undefined);
      expect(isInputGradientOnly()).toBe(true);
      return inputGrad();
    });
    expect(relError(nested, outside)).toBeLessThanOrEqual(1e-6);
    expect(isInputGradientOnly()).toBe(false);
  });

  it('returns zero filter gradients inside the scope, correct ones outside (also after a throw)', () => {
    const names = filterNames();
    expect(names.length).toBe(3);
    const before = weightGrads();
    for (const n of names) expect(Math.max(...before[n]!.map(Math.abs)), n).toBeGreaterThan(1e-4);

    const inside = inputGradientOnly(weightGrads);
    for (const n of names) {
      expect(inside[n]!.length, n).toBe(before[n]!.length);
      expect(inside[n]!.every((v) => v === 0), `${n} should be skipped (zeros) inside the scope`).toBe(true);
    }
    // not filter gradients: bias and dense gradients are still computed exactly
    for (const n of Object.keys(before).filter((k) => !names.includes(k))) {
      expect(relError(inside[n]!, before[n]!), n).toBeLessThanOrEqual(1e-6);
    }

    expect(() => inputGradientOnly(() => {
      inputGradientOnly(() => {
        throw new Error('boom');
      });
    })).toThrow('boom');
    expect(isInputGradientOnly()).toBe(false);
    const after = weightGrads();
    for (const n of Object.keys(before)) expect(relError(after[n]!, before[n]!), n).toBeLessThanOrEqual(1e-6);
  });

  it('skips the fused depthwise filter gradient; ∂x and ∂bias unchanged', async () => {
    const f = tf.randomNormal([3, 3, 3, 2], 0, 0.5, 'float32', 21) as tf.Tensor4D;
    const b = tf.randomNormal([6], 0, 0.1, 'float32', 22) as tf.Tensor1D;
    const w = tf.randomNormal([B, 4, 4, 6], 0, 1, 'float32', 23);
    // 'linear' (no activation) keeps FusedDepthwiseConv2D under the gradient
    const g = (): Float32Array[] => tf.tidy(() => tf.grads((xi: tf.Tensor, fi: tf.Tensor, bi: tf.Tensor) =>
      tf.sum(tf.mul(tf.fused.depthwiseConv2d({ x: xi as tf.Tensor4D, filter: fi as tf.Tensor4D, bias: bi, strides: 2, pad: 'same' }), w)))([x, f, b])
      .map((t) => t.dataSync() as Float32Array));
    // outside the scope, ∂x alone computes the depthwise filter gradient too (FusedDepthwiseConv2D's customGrad)
    const ran = await kernelsOf(() => tf.grad((xi: tf.Tensor) =>
      tf.sum(tf.mul(tf.fused.depthwiseConv2d({ x: xi as tf.Tensor4D, filter: f, bias: b, strides: 2, pad: 'same' }), w)))(x));
    expect(ran).toContain('DepthwiseConv2dNativeBackpropFilter');
    const [dxOut, dfOut, dbOut] = g();
    const [dxIn, dfIn, dbIn] = inputGradientOnly(g);
    expect(Math.max(...dfOut!.map(Math.abs))).toBeGreaterThan(1e-3);
    expect(dfIn!.every((v) => v === 0)).toBe(true);
    expect(relError(dxIn!, dxOut!)).toBeLessThanOrEqual(1e-6);
    expect(relError(dbIn!, dbOut!)).toBeLessThanOrEqual(1e-6);
    expect(relError(g()[1]!, dfOut!)).toBeLessThanOrEqual(1e-6);
    tf.dispose([f, b, w]);
  });

  it('leaks no tensors', async () => {
    inputGradientOnly(inputGrad); // warm-up (kernel caches)
    await expectNoLeak(() => inputGradientOnly(inputGrad), 'input gradient in scope');
    await expectNoLeak(() => inputGradientOnly(weightGrads), 'weight gradients in scope');
    await expectNoLeak(() => {
      expect(() => inputGradientOnly(() => tf.tidy(() => {
        tf.grad(score)(x);
        throw new Error('boom');
      }))).toThrow('boom');
    }, 'throw in scope');
  });
});

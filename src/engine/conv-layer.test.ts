/**
 * Oracle: the stock tf.layers Conv2D (the wrapper uninstalled) on the same backend and weights.
 * With the wrapper, a linear Conv2D under a tape must give the same outputs and gradients and run
 * no filter-gradient kernel when only ∂x is asked; without a tape it must still run the fused op.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relError } from '../../test/helpers/index.js';
import { setupBackend } from './backend.js';
import { installLazyConvGradients, uninstallLazyConvGradients } from './conv-layer.js';
import { Rng } from './random.js';

const rng = new Rng('conv-layer');
const randn = (shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.normal()), shape);

interface Run { values: Float32Array[]; kernels: string[] }

/** y, ∂⟨r, y⟩/∂x (tf.grad) and ∂⟨r, y⟩/∂(x, kernel, bias) (variableGrads) of one Conv2D layer. */
async function run(layer: tf.layers.Layer, x: tf.Tensor, r: tf.Tensor): Promise<{ input: Run; all: Run; inference: Run }> {
  const loss = (xi: tf.Tensor) => tf.sum(tf.mul(layer.apply(xi) as tf.Tensor, r));
  const profiled = async (f: () => Float32Array[]): Promise<Run> => {
    let values: Float32Array[] = [];
    const info = await tf.profile(() => {
      values = tf.tidy(f);
    });
    return { values, kernels: info.kernelNames };
  };
  const input = await profiled(() => [tf.grad(loss)(x).dataSync() as Float32Array]);
  const xv = tf.variable(x);
  const all = await profiled(() => {
    const { value, grads } = tf.variableGrads(() => loss(xv) as tf.Scalar,
      [xv, ...layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val)]);
    return [value, ...Object.values(grads)].map((t) => t.dataSync() as Float32Array);
  });
  xv.dispose();
  const inference = await profiled(() => [(layer.apply(x) as tf.Tensor).dataSync() as Float32Array]);
  return { input, all, inference };
}

describe.each(['cpu', 'wasm'] as const)('lazy Conv2D filter gradients on %s', (backend) => {
  beforeAll(async () => {
    await setupBackend({ backend });
  });
  afterAll(() => {
    installLazyConvGradients();
  });

  it.each([
    ['same, stride 1, bias', { filters: 5, kernelSize: 3, padding: 'same', useBias: true }],
    ['valid, stride 2, no bias (ResNet)', { filters: 4, kernelSize: 3, strides: 2, padding: 'valid', useBias: false }],
  ] as const)('%s: same values as stock, no ∂filter for a saliency gradient', async (_n, args) => {
    await tf.setBackend(backend);
    const layer = tf.layers.conv2d({
      ...args, kernelInitializer: tf.initializers.glorotNormal({ seed: 11 }), biasInitializer: tf.initializers.randomNormal({ seed: 12 }),
    });
    const x = randn([2, 7, 6, 3]);
    const r = tf.tidy(() => randn((layer.apply(x) as tf.Tensor).shape));
    uninstallLazyConvGradients();
    const stock = await run(layer, x, r);
    expect(installLazyConvGradients()).toBe(true);
    const lazy = await run(layer, x, r);

    expect(stock.input.kernels).toContain('FusedConv2D'); // what the wrapper replaces
    expect(lazy.input.kernels).not.toContain('FusedConv2D');
    expect(lazy.input.kernels.filter((k) => k.includes('BackpropFilter'))).toEqual([]);
    expect(stock.input.kernels.some((k) => k.includes('BackpropFilter'))).toBe(true);
    expect(lazy.inference.kernels).toContain('FusedConv2D'); // no tape: stock path
    // The loss ⟨r, y⟩ is a sum of terms of both signs: its rounding is relative to Σ|r·y|, not to
    // the sum itself (which may be near 0), so the scalar is compared on that scale.
    const rv = r.dataSync();
    const scale = stock.inference.values[0]!.reduce((s, y, i) => s + Math.abs(y * rv[i]!), 0);
    expect(Math.abs(lazy.all.values[0]![0]! - stock.all.values[0]![0]!) / scale, 'all 0 (the loss)').toBeLessThanOrEqual(1e-6);
    for (const part of ['input', 'all', 'inference'] as const) {
      expect(lazy[part].values.length).toBe(stock[part].values.length);
      lazy[part].values.forEach((v, i) => {
        if (part === 'all' && i === 0) return; // the loss, checked above
        expect(relError(v, stock[part].values[i]!), `${part} ${i}`).toBeLessThanOrEqual(1e-6);
      });
    }
    tf.dispose([x, r]);
    layer.dispose();
  });

  it('leaves non-linear activations and dilation to the stock call', async () => {
    await tf.setBackend(backend);
    const x = randn([1, 5, 5, 2]);
    const kernels = async (layer: tf.layers.Layer) => (await tf.profile(() => tf.tidy(() => {
      try {
        tf.grad((xi: tf.Tensor) => tf.sum(layer.apply(xi) as tf.Tensor))(x).dataSync();
      } catch {
        // stock TF.js cannot differentiate a dilated fused conv: only which kernels ran matters here
      }
    }))).kernelNames;
    const relu = tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'relu' });
    expect(await kernels(relu)).toContain('Relu'); // TF.js unfuses relu under a tape itself
    const dilated = tf.layers.conv2d({ filters: 2, kernelSize: 2, dilationRate: 2 });
    expect(await kernels(dilated)).toContain('FusedConv2D');
    tf.dispose(x);
    relu.dispose();
    dilated.dispose();
  });
});

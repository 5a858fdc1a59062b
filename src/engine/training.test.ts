/**
 * End-to-end checks that the models scaat trains work on wasm: every gradient of a training step
 * (tf.layers model.apply + softmax cross-entropy) and the saliency gradient (∂ true-class logit /
 * ∂x, inference mode) equal the stock `cpu` backend's, on tiny versions of the project's
 * architectures; plus a directional finite-difference check, a leak check and seeded determinism.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from './backend.js';
import { Rng } from './random.js';
import { relError } from '../../test/helpers/index.js';

const S = 8; // input size
const K = 5; // classes
const B = 3; // batch

const init = (seed: number) => tf.initializers.heNormal({ seed });
const sym = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(x) as tf.SymbolicTensor;

/** conv-conv-maxpool-conv-maxpool-dense-dense, ReLU (the small CNN, shrunk). */
function tinyCnn(seed: number): tf.LayersModel {
  const input = tf.input({ shape: [S, S, 3] });
  let h = sym(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(seed) }), input);
  h = sym(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(seed + 1) }), h);
  h = sym(tf.layers.maxPooling2d({ poolSize: 2 }), h);
  h = sym(tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(seed + 2) }), h);
  h = sym(tf.layers.maxPooling2d({ poolSize: 2 }), h);
  h = sym(tf.layers.flatten(), h);
  h = sym(tf.layers.dense({ units: 8, activation: 'relu', kernelInitializer: init(seed + 3) }), h);
  return tf.model({ inputs: input, outputs: sym(tf.layers.dense({ units: K, kernelInitializer: init(seed + 4) }), h) });
}

/**
 * A ResNet with one basic block per stage: conv-BN-act, stride-2 blocks with 1×1 projections, GAP,
 * dense. `activation: 'tanh'` gives a smooth network for finite differences.
 */
function tinyResNet(seed: number, { activation = 'relu' }: { activation?: 'relu' | 'tanh' } = {}): tf.LayersModel {
  let s = seed;
  const conv = (f: number, k: number, st: number) =>
    tf.layers.conv2d({ filters: f, kernelSize: k, strides: st, padding: 'same', useBias: false, kernelInitializer: init(s++) });
  const bn = () => tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 });
  const relu = () => tf.layers.activation({ activation });
  const input = tf.input({ shape: [S, S, 3] });
  let h = sym(relu(), sym(bn(), sym(conv(4, 3, 1), input)));
  for (const [stage, f] of [4, 6, 8].entries()) {
    const st = stage === 0 ? 1 : 2;
    let y = sym(relu(), sym(bn(), sym(conv(f, 3, st), h)));
    y = sym(bn(), sym(conv(f, 3, 1), y));
    const short = st !== 1 || (h.shape[3] as number) !== f ? sym(bn(), sym(conv(f, 1, st), h)) : h;
    h = sym(relu(), sym(tf.layers.add(), [y, short]));
  }
  h = sym(tf.layers.globalAveragePooling2d({}), h);
  return tf.model({ inputs: input, outputs: sym(tf.layers.dense({ units: K, kernelInitializer: init(s++) }), h) });
}

/** Depthwise-separable block with average pooling (MobileNet-style). */
function tinyDepthwise(seed: number): tf.LayersModel {
  const input = tf.input({ shape: [S, S, 3] });
  let h = sym(tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', depthwiseInitializer: init(seed) }), input);
  h = sym(tf.layers.conv2d({ filters: 6, kernelSize: 1, activation: 'relu', kernelInitializer: init(seed + 1) }), h);
  h = sym(tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', depthwiseInitializer: init(seed + 2) }), h);
  h = sym(tf.layers.averagePooling2d({ poolSize: 2, padding: 'same' }), h);
  h = sym(tf.layers.flatten(), h);
  return tf.model({ inputs: input, outputs: sym(tf.layers.dense({ units: K, kernelInitializer: init(seed + 3) }), h) });
}

const MODELS = [
  ['small CNN', tinyCnn],
  ['ResNet (batch norm, projections)', tinyResNet],
  ['depthwise + average pooling', tinyDepthwise],
] as const;

function batch(seed: number) {
  const rng = new Rng(seed);
  return {
    x: Float32Array.from({ length: B * S * S * 3 }, () => rng.next()),
    y: Int32Array.from({ length: B }, () => rng.nextInt(K)),
  };
}

/** Training-mode loss gradients of every trainable weight, and the saliency gradient. */
function gradients(model: tf.LayersModel, data: ReturnType<typeof batch>): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(data.x, [B, S, S, 3]);
    const labels = tf.tensor1d(data.y, 'int32');
    const onehot = tf.oneHot(labels, K);
    const { grads } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(onehot, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val),
    );
    const saliency = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(model.apply(xi) as tf.Tensor, onehot)))(x);
    return [...model.trainableWeights.map((w) => grads[w.name]!), saliency].map((t) => t.dataSync() as Float32Array);
  });
}

describe('training on wasm', () => {
  beforeAll(async () => {
    await setupBackend({ backend: 'wasm' });
  });

  it.each(MODELS)('%s: every training gradient and the saliency gradient match cpu', async (_name, build) => {
    await tf.setBackend('wasm');
    const model = build(11);
    const data = batch(1);
    // Training mode updates batch-norm moving statistics: restore every weight before the cpu run.
    const initial = model.getWeights().map((w) => w.dataSync().slice());
    const got = gradients(model, data);
    await tf.setBackend('cpu'); // the same variables move to cpu
    tf.tidy(() => model.setWeights(initial.map((v, i) => tf.tensor(v, model.getWeights()[i]!.shape))));
    const ref = gradients(model, data);
    await tf.setBackend('wasm');
    model.dispose();
    expect(got.length).toBe(ref.length);
    got.forEach((g, i) => expect(relError(g, ref[i]!), `gradient ${i}`).toBeLessThan(1e-5));
  });

  it.each([
    ['training mode (batch statistics)', true],
    ['inference mode (moving statistics)', false],
  ] as const)('a smooth ResNet\'s input gradient agrees with central differences, %s', async (_n, training) => {
    // tanh instead of ReLU: a piecewise-linear net's differences jump with every kink crossed.
    await tf.setBackend('wasm');
    const model = tinyResNet(5, { activation: 'tanh' });
    const { x } = batch(2);
    const rng = new Rng(3);
    const v = Float32Array.from(x, () => rng.normal());
    const [dirDeriv, fd] = tf.tidy(() => {
      const tx = tf.tensor4d(x, [B, S, S, 3]);
      const tv = tf.tensor4d(v, [B, S, S, 3]);
      const f = (xi: tf.Tensor) => tf.sum(tf.slice(model.apply(xi, { training }) as tf.Tensor, [0, 0], [B, 1]));
      const g = tf.grad(f)(tx);
      const central = (h: number) =>
        (f(tf.add(tx, tf.mul(tv, h))).dataSync()[0]! - f(tf.sub(tx, tf.mul(tv, h))).dataSync()[0]!) / (2 * h);
      // Richardson extrapolation cancels the O(h²) term of central differences (this net curves a lot).
      const h = 2e-3;
      return [tf.sum(tf.mul(g, tv)).dataSync()[0]!, (4 * central(h / 2) - central(h)) / 3];
    });
    model.dispose();
    // Truncation O(h⁴) plus float32 rounding ~1e-7·|f|/h: both well below 1e-3 of the derivative.
    expect(Math.abs(dirDeriv - fd)).toBeLessThan(1e-3 * Math.max(1, Math.abs(fd)));
  });

  it('training steps (SGD momentum) and saliency passes keep tensors and wasm buffers flat', async () => {
    await tf.setBackend('wasm');
    const model = tinyResNet(7);
    const data = batch(4);
    const opt = tf.train.momentum(0.05, 0.9);
    const x = tf.tensor4d(data.x, [B, S, S, 3]);
    const onehot = tf.oneHot(tf.tensor1d(data.y, 'int32'), K);
    const step = () =>
      opt.minimize(() => tf.losses.softmaxCrossEntropy(onehot, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
    const saliency = () => tf.tidy(() => {
      tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(model.apply(xi) as tf.Tensor, onehot)))(x);
    });
    step(); // creates the momentum slots
    saliency(); // first inference call: tf.layers caches a few tensors
    const before = tf.memory().numTensors;
    // Kernels also allocate wasm buffers outside the engine's count: those must be freed too.
    const buffers = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    for (let i = 0; i < 3; i++) {
      step();
      saliency();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(buffers);
    tf.dispose([x, onehot]);
    opt.dispose();
    model.dispose();
  });

  it('two runs with the same seed give bit-identical weights', async () => {
    await tf.setBackend('wasm');
    const run = () => {
      const model = tinyResNet(21);
      const opt = tf.train.momentum(0.05, 0.9);
      for (let i = 0; i < 2; i++) {
        const data = batch(100 + i);
        tf.tidy(() => {
          const onehot = tf.oneHot(tf.tensor1d(data.y, 'int32'), K);
          opt.minimize(() => tf.losses.softmaxCrossEntropy(onehot,
            model.apply(tf.tensor4d(data.x, [B, S, S, 3]), { training: true }) as tf.Tensor) as tf.Scalar);
        });
      }
      const w = model.getWeights().map((t) => Array.from(t.dataSync()));
      opt.dispose();
      model.dispose();
      return w;
    };
    const a = run();
    const b = run();
    expect(a).toEqual(b);
    // …and training moved them: the first conv kernel differs from a fresh model's.
    const fresh = tinyResNet(21);
    expect(Array.from(fresh.getWeights()[0]!.dataSync())).not.toEqual(a[0]);
    fresh.dispose();
  });
});

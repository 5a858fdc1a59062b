/**
 * Oracles for the FusedBatchNorm forward (float64 formula) and gradient (batch-norm.ts): the stock TF.js gradient on `cpu`, and
 * the textbook closed form of training-mode batch norm in float64,
 *   ∂x = γ·r/N · (N·dy − Σdy − x̂·Σ(dy·x̂)),  x̂ = (x − μ)·r,  r = (σ² + ε)^(−1/2)   (Ioffe & Szegedy 2015),
 * whose derivation treats μ and σ² as functions of x, as tf.moments + tf.batchNorm do.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../backend.js';
import { inputGradientOnly } from '../grad-scope.js';
import { Rng } from '../random.js';
import { relError } from '../../../test/helpers/index.js';

const SHAPE = [3, 4, 5, 6] as const; // B, H, W, C
const C = SHAPE[3];
const N = SHAPE[0] * SHAPE[1] * SHAPE[2];
const EPS = 1e-3;

function data(seed: number) {
  const rng = new Rng(seed);
  const n = N * C;
  return {
    x: Float32Array.from({ length: n }, () => 2 + 3 * rng.normal()),
    w: Float32Array.from({ length: n }, () => rng.normal()),
    gamma: Float32Array.from({ length: C }, () => 0.5 + rng.next()),
    beta: Float32Array.from({ length: C }, () => rng.normal()),
    mean: Float32Array.from({ length: C }, () => rng.normal()),
    variance: Float32Array.from({ length: C }, () => 0.5 + rng.next()),
  };
}
type Data = ReturnType<typeof data>;

/** Gradients of Σ w·batchNorm(x, stats, β, γ) w.r.t. x, γ, β; stats from tf.moments(x) in training mode. */
function grads(d: Data, { training }: { training: boolean }) {
  return tf.tidy(() => {
    const w = tf.tensor4d(d.w, [...SHAPE]);
    const f = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => {
      const { mean, variance } = training ? tf.moments(x, [0, 1, 2]) : { mean: tf.tensor1d(d.mean), variance: tf.tensor1d(d.variance) };
      const y = tf.batchNorm(x as tf.Tensor4D, mean, variance, beta as tf.Tensor1D, gamma as tf.Tensor1D, EPS);
      return tf.sum(tf.mul(y, w));
    };
    const x = tf.tensor4d(d.x, [...SHAPE]);
    const gamma = tf.tensor1d(d.gamma);
    const beta = tf.tensor1d(d.beta);
    return tf.grads(f)([x, gamma, beta]).map((t) => t.dataSync().slice());
  });
}

/** The closed-form training-mode gradients in float64. */
function closedForm(d: Data) {
  const mu = new Float64Array(C);
  const v = new Float64Array(C);
  for (let i = 0; i < N * C; i++) mu[i % C]! += d.x[i]! / N;
  for (let i = 0; i < N * C; i++) v[i % C]! += (d.x[i]! - mu[i % C]!) ** 2 / N;
  const r = Array.from(v, (vv) => 1 / Math.sqrt(vv + EPS));
  const xhat = Float64Array.from(d.x, (xx, i) => (xx - mu[i % C]!) * r[i % C]!);
  const sumDy = new Float64Array(C);
  const sumDyXhat = new Float64Array(C);
  for (let i = 0; i < N * C; i++) {
    sumDy[i % C]! += d.w[i]!;
    sumDyXhat[i % C]! += d.w[i]! * xhat[i]!;
  }
  const dx = Float64Array.from(d.w, (dy, i) => {
    const c = i % C;
    return ((d.gamma[c]! * r[c]!) / N) * (N * dy - sumDy[c]! - xhat[i]! * sumDyXhat[c]!);
  });
  return { dx, dgamma: sumDyXhat, dbeta: sumDy };
}

/** (x − μ)·γ·(σ² + ε)^(−1/2) + β per channel (the last axis) in float64; γ = 1, β = 0 without `affine`. */
function forwardRef(d: Data, affine: boolean): Float64Array {
  return Float64Array.from(d.x, (x, i) => {
    const c = i % C;
    return ((x - d.mean[c]!) * (affine ? d.gamma[c]! : 1)) / Math.sqrt(d.variance[c]! + EPS) + (affine ? d.beta[c]! : 0);
  });
}

describe('FusedBatchNorm forward on wasm', () => {
  beforeAll(async () => {
    await setupBackend({ backend: 'wasm' });
  });

  it.each([
    ['with γ and β', true],
    ['without γ and β', false],
  ] as const)('equals (x − μ)·γ·(σ² + ε)^(−1/2) + β in float64 to float32 rounding, %s (pure wasm: one depthwise convolution)', async (_n, affine) => {
    await tf.setBackend('wasm');
    const d = data(affine ? 7 : 8);
    const y = tf.tidy(() =>
      tf.batchNorm(tf.tensor4d(d.x, [...SHAPE]), tf.tensor1d(d.mean), tf.tensor1d(d.variance), affine ? tf.tensor1d(d.beta) : undefined, affine ? tf.tensor1d(d.gamma) : undefined, EPS).dataSync().slice(),
    );
    expect(relError(y, forwardRef(d, affine))).toBeLessThan(1e-6);
  });

  it('takes other ranks to the stock kernel (rank 2)', async () => {
    await tf.setBackend('wasm');
    const d = data(9);
    const y = tf.tidy(() => tf.batchNorm(tf.tensor2d(d.x, [N, C]), tf.tensor1d(d.mean), tf.tensor1d(d.variance), tf.tensor1d(d.beta), tf.tensor1d(d.gamma), EPS).dataSync().slice());
    expect(relError(y, forwardRef(d, true))).toBeLessThan(1e-6);
  });
});

describe('FusedBatchNorm gradient', () => {
  beforeAll(async () => {
    await setupBackend({ backend: 'wasm' });
  });

  // (Without γ, TF.js 4.22 cannot differentiate batchNorm at all, on any backend: its gradient
  // config saves the missing 'scale' input and the engine fails cloning `undefined`.)
  it.each([
    ['training mode', true],
    ['inference mode (fixed statistics)', false],
  ] as const)('wasm matches the stock cpu gradient: %s', async (_n, training) => {
    const d = data(training ? 1 : 2);
    await tf.setBackend('wasm');
    const got = grads(d, { training });
    await tf.setBackend('cpu');
    const ref = grads(d, { training });
    await tf.setBackend('wasm');
    for (const [k, name] of ['x', 'gamma', 'beta'].entries()) {
      expect(relError(got[k]!, ref[k]!), name).toBeLessThan(1e-5);
    }
  });

  it.each([
    ['training mode', true],
    ['inference mode (fixed statistics)', false],
  ] as const)('inside inputGradientOnly (∂x in one pass) every gradient still matches cpu: %s', async (_n, training) => {
    const d = data(training ? 5 : 6);
    await tf.setBackend('cpu');
    const ref = grads(d, { training });
    await tf.setBackend('wasm');
    const got = inputGradientOnly(() => grads(d, { training }));
    for (const [k, name] of ['x', 'gamma', 'beta'].entries()) {
      expect(relError(got[k]!, ref[k]!), name).toBeLessThan(1e-5);
    }
  });

  it('training-mode gradients equal the closed form (float64)', async () => {
    await tf.setBackend('wasm');
    const d = data(3);
    const [dx, dgamma, dbeta] = grads(d, { training: true });
    const ref = closedForm(d);
    // ∂x is a difference of O(N·|dy|) terms that cancel to O(|dy|): float32 keeps ~1e-5 of the scale.
    expect(relError(dx!, ref.dx)).toBeLessThan(1e-4);
    expect(relError(dgamma!, ref.dgamma)).toBeLessThan(1e-5);
    expect(relError(dbeta!, ref.dbeta)).toBeLessThan(1e-5);
  });

  it('tf.layers.batchNormalization trains on wasm as on cpu (no extra tensors kept)', async () => {
    const d = data(4);
    const dataIds = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    const run = () => {
      const layer = tf.layers.batchNormalization({ epsilon: EPS });
      const x = tf.tensor4d(d.x, [...SHAPE]);
      const step = () => {
        const { value, grads: g } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, tf.tensor4d(d.w, [...SHAPE]))) as tf.Scalar);
        const out = Object.values(g).map((t) => t.dataSync().slice());
        tf.dispose([value, ...Object.values(g)]);
        return out;
      };
      tf.dispose(layer.apply(x) as tf.Tensor); // build (creates the variables variableGrads takes)
      const first = step(); // warm-up: tf.layers caches a few tensors on the first call
      const before = { tensors: tf.memory().numTensors, buffers: dataIds() };
      const out = step();
      const leaked = { tensors: tf.memory().numTensors - before.tensors, buffers: dataIds() - before.buffers };
      layer.dispose();
      x.dispose();
      return { first, out, leaked };
    };
    await tf.setBackend('wasm');
    const got = run();
    await tf.setBackend('cpu');
    const ref = run();
    await tf.setBackend('wasm');
    // a training step after the first keeps nothing: no tensor, and on wasm no buffer outside the count
    expect(got.leaked, 'tensors and buffers leaked on wasm').toEqual({ tensors: 0, buffers: 0 });
    // the gradients depend on the batch's moments only, so the moving statistics the first step
    // updated leave the second step's gradients unchanged
    got.first.forEach((g, i) => expect(g, `step 1 vs 2, gradient ${i}`).toEqual(got.out[i]));
    expect(got.out).toHaveLength(2);
    got.out.forEach((g, i) => expect(relError(g, ref.out[i]!)).toBeLessThan(1e-5));
  });
});

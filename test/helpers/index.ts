/**
 * Shared test helpers: tolerance checks, leak checks, backends and tiny analytic classifiers.
 */
import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { expect } from 'vitest';
import { setupBackend } from '../../src/engine/backend.js';
import type { Classifier } from '../../src/models/classifier.js';

/** Sets up a backend for a test file ('cpu' is the exact reference; 'wasm' the default engine). */
export async function useBackend(name: 'cpu' | 'wasm' = 'cpu'): Promise<void> {
  await setupBackend({ backend: name });
}

/** Asserts max|a − b| ≤ atol + rtol·max|b| elementwise, with a message that says where. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { rtol = 1e-5, atol = 1e-6, label = 'value' }: { rtol?: number; atol?: number; label?: string } = {},
): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  const tol = atol + rtol * scale;
  expect(
    worst <= tol,
    `${label}: max abs diff ${worst} at ${at} (actual ${actual[at]}, expected ${expected[at]}) > tol ${tol}`,
  ).toBe(true);
}

/** Relative error ‖a − b‖∞ / max(‖b‖∞, tiny). */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / Math.max(den, 1e-30);
}

/** Runs fn (sync or async) and asserts it leaves no tensor alive. Returns fn's result. */
export async function expectNoLeak<T>(fn: () => T | Promise<T>, label = 'fn'): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await fn();
  if (result instanceof tf.Tensor) result.dispose();
  expect(tf.memory().numTensors - before, `${label} leaked tensors`).toBe(0);
  return result;
}

/**
 * A linear classifier logits = flatten(x)·W + b with known weights, as a `Classifier`:
 * its input gradient for class c is exactly W[:, c] (an oracle for saliency and attacks).
 */
export function linearClassifier(
  inputShape: readonly [number, number, number],
  numClasses: number,
  { seed = 1, scale = 1 }: { seed?: number; scale?: number } = {},
): Classifier & { W: tf.Tensor2D; b: tf.Tensor1D } {
  const d = inputShape[0] * inputShape[1] * inputShape[2];
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [...inputShape] }),
      tf.layers.dense({
        units: numClasses,
        kernelInitializer: tf.initializers.randomNormal({ mean: 0, stddev: scale, seed }),
        biasInitializer: tf.initializers.randomNormal({ mean: 0, stddev: scale, seed: seed + 1 }),
      }),
    ],
  });
  const [W, b] = model.getWeights() as [tf.Tensor2D, tf.Tensor1D];
  void d;
  return {
    inputShape,
    numClasses,
    model,
    W,
    b,
    logits: (x, { training = false } = {}) => model.apply(x, { training }) as tf.Tensor2D,
    trainableVariables: () => model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val),
  };
}

/** Debian's Python, where numpy/PIL live when installed (the first python3 on PATH may lack them). */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** Whether {@link SYSTEM_PYTHON} can import every module named, e.g. `pythonHas('PIL', 'numpy')`. */
export function pythonHas(...modules: string[]): boolean {
  if (!existsSync(SYSTEM_PYTHON)) return false;
  try {
    execFileSync(SYSTEM_PYTHON, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

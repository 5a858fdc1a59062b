/**
 * Shared test helpers: tolerance checks, leak checks, backends, tiny analytic classifiers, and
 * the tests' outside requirements (NumPy, PIL, Debian datasets, Chromium, the native addon): where
 * one is missing its tests skip with the reason in their name, `(skipped: …)`, which the summary
 * line at the end of the run groups them by (test/skip-summary.ts); under CI, where `.ci/run`
 * installs them, they fail instead.
 */
import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TestFunction } from 'vitest';
import { setupBackend } from '../../src/engine/backend.js';
import type { AddonLoad } from '../../src/engine/native/_addon.js';
import { DEBIAN_FASHION_MNIST } from '../../src/datasets/mnist.js';
import type { Classifier } from '../../src/models/classifier.js';

/**
 * Fills the active wasm backend's heap as a too-large step would: asks it for two 2.5 GiB outputs
 * (makeOutput allocates without writing: Emscripten grows the heap's address space, no page is
 * touched), the second of which cannot fit, and frees the first whatever happens. With scaat's
 * guard (engine/memory.ts) the second throws a recognised WebAssembly.RuntimeError; unguarded,
 * malloc returns 0 and TF.js would hand out address 0, over the allocator's own data.
 */
export function fillWasmHeap(): void {
  const backend = tf.backend() as unknown as { makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo; disposeData(id: object, force?: boolean): boolean };
  const n = (2.5 * 1024 ** 3) / 4;
  const first = backend.makeOutput([n], 'float32');
  try {
    backend.makeOutput([n], 'float32');
  } finally {
    backend.disposeData(first.dataId, true);
  }
}

/** Sets up a backend for a test file ('cpu' is the exact reference; 'wasm' the default engine). */
export async function useBackend(name: 'cpu' | 'wasm' = 'cpu'): Promise<void> {
  await setupBackend({ backend: name });
}

/**
 * Asserts max|a − b| ≤ atol + rtol·max|b| elementwise, with a message that says where.
 * The lengths must be equal, and every value on both sides finite: a NaN or ±∞ fails at once,
 * even where the other side holds the same NaN or ∞ (a comparison with NaN is false, so without
 * this check a loop of `d ≤ worst` can forget a NaN that an element after it hides).
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { rtol = 1e-5, atol = 1e-6, label = 'value' }: { rtol?: number; atol?: number; label?: string } = {},
): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  let bad = 0;
  let firstBad = -1;
  for (let i = 0; i < expected.length; i++) {
    if (!Number.isFinite(actual[i]!) || !Number.isFinite(expected[i]!)) {
      bad++;
      if (firstBad < 0) firstBad = i;
    }
  }
  expect(
    bad,
    `${label}: ${bad} non-finite value(s), the first at ${firstBad} (actual ${actual[firstBad]}, expected ${expected[firstBad]})`,
  ).toBe(0);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (d > worst) {
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

/**
 * Relative error ‖a − b‖∞ / max(‖b‖∞, tiny). Asserts that a and b have the same length. NaN
 * (or ∞) wherever either side holds a non-finite value, so every `<` / `≤` bound on it fails.
 */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length, 'relError: length').toBe(b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / Math.max(den, 1e-30);
}

/**
 * Training-mode batch norm of x ([rows, C], channels last) in float64: the batch mean, the biased
 * variance (two passes) and y = (x − μ)·γ/√(σ² + ε) + β (γ = 1, β = 0 where absent). The oracle of
 * the native and SIMD batch-norm kernels' tests.
 */
export function batchNormForward64(
  x: ArrayLike<number>,
  C: number,
  scale: ArrayLike<number> | undefined,
  offset: ArrayLike<number> | undefined,
  eps: number,
): { y: Float64Array; mean: Float64Array; variance: Float64Array } {
  const rows = x.length / C;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  const y = new Float64Array(x.length);
  for (let c = 0; c < C; c++) {
    let m = 0;
    for (let i = 0; i < rows; i++) m += x[i * C + c]!;
    m /= rows;
    let q = 0;
    for (let i = 0; i < rows; i++) q += (x[i * C + c]! - m) ** 2;
    mean[c] = m;
    variance[c] = q / rows;
    const k = (scale ? scale[c]! : 1) / Math.sqrt(variance[c]! + eps);
    for (let i = 0; i < rows; i++) y[i * C + c] = (x[i * C + c]! - m) * k + (offset ? offset[c]! : 0);
  }
  return { y, mean, variance };
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

/** `clf` with its forwards counted by mode (`calls.training`, `calls.inference`): what a step costs in passes. */
export function countingForwards(clf: Classifier): { clf: Classifier; calls: { training: number; inference: number } } {
  const calls = { training: 0, inference: 0 };
  return {
    calls,
    clf: {
      ...clf,
      logits: (x, options) => {
        if (options?.training) calls.training++;
        else calls.inference++;
        return clf.logits(x, options);
      },
    },
  };
}

/** Debian's Python, where numpy/PIL live when installed (the first python3 on PATH may lack them). */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** Whether {@link SYSTEM_PYTHON} can import every module named, e.g. `pythonHas('PIL', 'numpy')`. */
export function pythonHas(...modules: string[]): boolean {
  return existsSync(SYSTEM_PYTHON) && commandRuns(SYSTEM_PYTHON, '-c', `import ${modules.join(', ')}`);
}

/** Whether `command args…` runs and exits 0 (a tool on PATH). */
export function commandRuns(command: string, ...args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** True when the CI variable is set to anything but '', '0' or 'false' (`.ci/run` sets CI=true). */
export function inCi(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const ci = (env['CI'] ?? '').toLowerCase();
  return ci !== '' && ci !== '0' && ci !== 'false';
}

/** Something outside the repository that some tests need and `.ci/run` installs. */
export interface Requirement {
  /** What it is, e.g. 'numpy for /usr/bin/python3'. */
  readonly what: string;
  /** The Debian packages `.ci/run` installs for it. */
  readonly packages: readonly string[];
  /** Another way to provide it, if any (shown in the message). */
  readonly alternative?: string;
  /** Whether it is here (checked when a test that needs it is registered). */
  present(): boolean;
}

/** The requirements of the oracle tests, by name (Chromium's is in test/fixtures/chromium.ts). */
export const REQUIREMENTS = {
  numpy: { what: `numpy for ${SYSTEM_PYTHON}`, packages: ['python3-numpy'], present: () => pythonHas('numpy') },
  pil: { what: `PIL for ${SYSTEM_PYTHON}`, packages: ['python3-pil'], present: () => pythonHas('PIL') },
  fashionMnist: { what: `Fashion-MNIST in ${DEBIAN_FASHION_MNIST}`, packages: ['dataset-fashion-mnist'], present: () => existsSync(DEBIAN_FASHION_MNIST) },
  clangWasm: { what: 'clang and wasm-ld (to rebuild native/wasm/*.c)', packages: ['clang', 'lld'], present: () => commandRuns('clang', '--version') && commandRuns('wasm-ld', '--version') },
} as const satisfies Record<string, Requirement>;

/**
 * Run, skip (with why) or fail: a test whose requirements are all present runs; otherwise it is
 * skipped, except under CI, where `.ci/run` installs them, so their absence is a defect and the
 * test fails with a message saying what is missing.
 */
export function requirementStatus(
  requirements: readonly Requirement[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): { readonly mode: 'run' | 'skip' | 'fail'; readonly reason: string } {
  const missing = requirements.filter((r) => !r.present());
  if (missing.length === 0) return { mode: 'run', reason: '' };
  const what = `${missing.map((r) => r.what).join(' and ')} ${missing.length > 1 ? 'are' : 'is'}`;
  const install = `apt-get install ${[...new Set(missing.flatMap((r) => r.packages))].join(' ')}`;
  const how = `'${install}'${missing.flatMap((r) => (r.alternative ? [`, or ${r.alternative}`] : [])).join('')}`;
  if (inCi(env)) return { mode: 'fail', reason: `CI is set but ${what} missing; .ci/run installs it (${how}), so this test fails instead of skipping` };
  return { mode: 'skip', reason: `skipped: ${what} missing (install it with ${how})` };
}

/**
 * `describe` for a suite that needs `requirements`: where one is missing, the whole suite skipped
 * (every test counted, the reason in the suite's name, and a warning), or under CI one failing test
 * saying what is missing (see {@link requirementStatus}).
 * @example describeRequires(CHROMIUM)('report HTML in headless Chromium', () => { … });
 */
export function describeRequires(...requirements: Requirement[]): (name: string, fn: () => void) => void {
  return (name, fn) => {
    const status = requirementStatus(requirements);
    if (status.mode === 'run') {
      describe(name, fn);
    } else if (status.mode === 'skip') {
      console.warn(`${name}: ${status.reason}`);
      describe.skip(`${name} (${status.reason})`, fn);
    } else {
      describe(name, () => it('has its requirements', () => expect.fail(status.reason)));
    }
  };
}

/**
 * `describe`, or where `skip` gives a reason, `describe.skip` with `(skipped: <reason>)` in the
 * suite's name: for skips that are not a missing requirement (a user switch, an optional data set).
 */
export function describeUnless(skip: string | undefined): (name: string, fn: () => void) => void {
  return (name, fn) => (skip === undefined ? describe(name, fn) : describe.skip(`${name} (skipped: ${skip})`, fn));
}

/** `it`, or where `skip` gives a reason, `it.skip` with `(skipped: <reason>)` in the test's name. */
export function itUnless(skip: string | undefined): (name: string, fn: TestFunction, timeout?: number) => void {
  return (name, fn, timeout) => (skip === undefined ? it(name, fn, timeout) : it.skip(`${name} (skipped: ${skip})`, fn));
}

/** Why the tests of the accelerator's registration skip under SCAAT_NATIVE=0 (a user's switch: even under CI). */
export const NATIVE_SWITCHED_OFF = 'the native accelerator is off: disabled by SCAAT_NATIVE=0';

/**
 * Why the native-accelerator tests skip here, or undefined where they run: the addon loaded, or CI
 * is set (`.ci/run` builds it, so a missing addon fails them instead).
 */
export function nativeSkip(load: AddonLoad, env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  return load.ok || inCi(env) ? undefined : `the native accelerator is off: ${load.reason}`;
}

/**
 * `it` for a test that needs `requirements`: where one is missing, a skipped test with the reason
 * in its name (and a warning), or under CI a failing one (see {@link requirementStatus}).
 * @example itRequires(REQUIREMENTS.numpy)('equals the NumPy reference', () => { … });
 */
export function itRequires(...requirements: Requirement[]): (name: string, fn: TestFunction, timeout?: number) => void {
  return (name, fn, timeout) => {
    const status = requirementStatus(requirements);
    if (status.mode === 'run') {
      it(name, fn, timeout);
    } else if (status.mode === 'skip') {
      console.warn(`${name}: ${status.reason}`);
      it.skip(`${name} (${status.reason})`, () => {});
    } else {
      it(name, () => expect.fail(status.reason));
    }
  };
}

/** SHA-256 of every file below `dir`, by relative path (equal snapshots = byte-identical folders). */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else out[path.relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

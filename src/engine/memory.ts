/**
 * Memory helpers: tensor counting and a leak guard for tests and benchmarks.
 *
 * @example
 * const guard = leakGuard();
 * const y = f(x); y.dispose();
 * guard.check('f');     // throws if f left tensors behind
 */
import * as tf from '@tensorflow/tfjs';
import { ScaatError } from '../errors.js';

/** Number of live tensors in the TF.js engine. */
export function countTensors(): number {
  return tf.memory().numTensors;
}

/** A snapshot of `numTensors`; `check()` throws a ScaatError naming `label` if the count grew. */
export function leakGuard(): { readonly before: number; leaked(): number; check(label?: string): void } {
  const before = countTensors();
  return {
    before,
    leaked: () => countTensors() - before,
    check(label = 'operation') {
      const n = countTensors() - before;
      if (n !== 0) throw new ScaatError(`${label}: leaked ${n} tensor(s) (numTensors ${before} → ${before + n})`, 'LEAK');
    },
  };
}

/** Runs `fn` (sync or async) and returns its result and how many tensors it left alive. */
export async function measureLeak<T>(fn: () => T | Promise<T>): Promise<{ result: T; leaked: number }> {
  const before = countTensors();
  const result = await fn();
  return { result, leaked: countTensors() - before };
}

/** Disposes every tensor found in a (nested) object or array; ignores non-tensors. */
export function disposeAll(...items: unknown[]): void {
  for (const it of items) {
    if (it instanceof tf.Tensor) it.dispose();
    else if (Array.isArray(it)) disposeAll(...it);
    else if (it && typeof it === 'object' && !ArrayBuffer.isView(it)) disposeAll(...Object.values(it));
  }
}

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

/** The most the wasm backend's heap can grow to: wasm32 addresses 4 GiB, TF.js's build allows all of it. */
export const WASM_HEAP_LIMIT_BYTES = 4 * 1024 ** 3;

/** How near the limit a heap counts as full: an allocation larger than what is left fails. */
const FULL_MARGIN_BYTES = 256 * 1024 ** 2;

/** Bytes the active wasm backend's heap has grown to, or undefined on another backend. */
export function wasmHeapBytes(): number | undefined {
  try {
    if (tf.getBackend() !== 'wasm') return undefined;
    const wasm = (tf.backend() as unknown as { wasm?: { wasmMemory?: WebAssembly.Memory; HEAPU8?: Uint8Array } }).wasm;
    return wasm?.wasmMemory?.buffer.byteLength ?? wasm?.HEAPU8?.byteLength;
  } catch {
    return undefined;
  }
}

// the errors guardWasmAllocations threw: a failed allocation, whatever the heap's size
const failedAllocations = new WeakSet<object>();
// the backend modules already guarded
const guarded = new WeakSet<object>();

/**
 * Makes the wasm backend's allocations of tensor buffers fail at once. Emscripten's malloc returns
 * 0 when the heap cannot grow, and TF.js (BackendWasm.move) then writes the tensor from address 0
 * on, over the allocator's own data: the process crashes later, elsewhere, with "memory access out
 * of bounds" inside malloc. Guarded, the failed allocation throws a WebAssembly.RuntimeError naming
 * its size (recognised by {@link isWasmHeapExhausted}) before anything is written. Idempotent; a
 * no-op for a backend without a wasm module.
 */
export function guardWasmAllocations(backend: unknown): void {
  type Malloc = (bytes: number) => number;
  const wasm = (backend as { wasm?: { _malloc?: Malloc; asm?: { malloc?: Malloc }; HEAPU8?: Uint8Array } } | undefined)?.wasm;
  // the export itself: Emscripten's Module._malloc starts as a thunk that replaces itself with it on first call
  const malloc = wasm?.asm?.malloc ?? wasm?._malloc;
  if (!wasm || typeof malloc !== 'function' || guarded.has(wasm)) return;
  guarded.add(wasm);
  wasm._malloc = (bytes: number): number => {
    // a request the heap can never hold: wasm32's malloc takes its size modulo 2^32 and may return
    // a small block for it (4.1e9 bytes gave one, 2026-12-07), which TF.js would then overrun
    const at = bytes > WASM_HEAP_LIMIT_BYTES - FULL_MARGIN_BYTES ? 0 : malloc(bytes);
    if (at === 0 && bytes > 0) {
      const err = new WebAssembly.RuntimeError(
        `an allocation of ${bytes} bytes failed with the wasm heap at ${wasm.HEAPU8?.byteLength ?? '?'} bytes (${WASM_HEAP_LIMIT_BYTES} at most)`,
      );
      failedAllocations.add(err);
      throw err;
    }
    return at;
  };
}

/**
 * Whether `err` is the wasm backend running out of heap: an allocation that
 * {@link guardWasmAllocations} saw fail, or a WebAssembly.RuntimeError (an abort inside a kernel
 * whose own allocation failed) while the heap (`heapBytes`, by default the active backend's) is
 * within 256 MiB of {@link WASM_HEAP_LIMIT_BYTES}, where Emscripten stops growing it. Any other wasm
 * trap stays what it is: a bug.
 */
export function isWasmHeapExhausted(err: unknown, heapBytes: number | undefined = wasmHeapBytes()): boolean {
  if (!(err instanceof WebAssembly.RuntimeError)) return false;
  return failedAllocations.has(err) || (heapBytes !== undefined && heapBytes >= WASM_HEAP_LIMIT_BYTES - FULL_MARGIN_BYTES);
}

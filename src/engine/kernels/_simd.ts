/**
 * scaat's own WebAssembly SIMD kernels (native/wasm/*.c, one module: the forward convolution, the filter gradient, training-
 * mode batch norm, the ReLU gradient), run on the wasm backend's heap: the module imports the
 * backend's memory, so it reads and writes tensors where TF.js keeps them (no copy).
 *
 * On TF.js's multi-threaded build (a shared heap) a kernel's work items are split between the
 * calling thread and helper workers (Node's worker_threads, as many as the backend's threads less
 * one), each taking a contiguous share of whole items. Every kernel computes an item the same way
 * whatever the split (each writes its own part of the output, or its own float64 partials that the
 * caller merges in item order), so the results are the same bit for bit on any number of threads
 * (filter-grad.test.ts, fused-training.test.ts). Elsewhere (the browser, one thread, Node before
 * 20.16 without process.getBuiltinModule) everything runs on the calling thread.
 */
import type * as WorkerThreads from 'node:worker_threads';
import type { BackendWasm } from './_wasm.js';
import { SIMD_KERNELS_WASM } from './_wasm-kernels.generated.js';

/** The module's exports that take work items [w0, w1) as their last two arguments (split over threads). */
export const SPLIT_EXPORTS = ['filter_grad', 'conv_fwd', 'bn_moments', 'bn_forward_apply', 'bn_grad_sums', 'bn_grad_apply', 'relu_grad'] as const;
export type SplitExport = (typeof SPLIT_EXPORTS)[number];
/** Exports the calling thread runs alone (merging the items' partials, in item order). */
export type SerialExport = 'bn_moments_finish' | 'bn_grad_finish';

/** An export: byte offsets, sizes, and (split exports) the work items [w0, w1); see native/wasm/*.c. */
export type SimdFunction = (...args: number[]) => void;
export type SimdExports = Readonly<Record<SplitExport | SerialExport, SimdFunction>>;

/** Runs a split export over all its work items: `args` are its leading arguments (all integers), `items` the item count. */
export type SimdRun = (name: SplitExport, args: readonly number[], items: number) => void;

/** The module on one memory: its exports (the calling thread's instance) and the runner over threads. */
export interface SimdKernels {
  readonly exports: SimdExports;
  readonly run: SimdRun;
  /** Threads a split export runs on (1: the calling thread alone). */
  readonly threads: number;
}

// the backend's Emscripten module, as far as it is read here (no import of the backend package:
// importing it registers the wasm backend, which only src/engine/backend.ts may do)
interface WasmModuleLike {
  wasmMemory?: WebAssembly.Memory;
  asm?: { memory?: WebAssembly.Memory };
  tfjs?: { getThreadsCount?: () => number };
}

function moduleBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(shared ? SIMD_KERNELS_WASM.shared : SIMD_KERNELS_WASM.plain), (ch) => ch.charCodeAt(0));
}

function isShared(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/**
 * The module's exports, instantiated on `memory` (the build for a shared memory where it is one),
 * or null where this engine cannot run it (no wasm SIMD, or no threads for the shared build).
 */
export function simdExportsOn(memory: WebAssembly.Memory): SimdExports | null {
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes(isShared(memory))), { env: { memory } });
    return instance.exports as unknown as SimdExports;
  } catch {
    return null; // the stock / XNNPACK routes
  }
}

/** Control slots per helper: the export's index, its argument count, then the arguments. */
const SLOTS = 2 + 24;

// the helper workers' loop: wait for a job (slot 0 = its number), run its share, report (slot 1);
// no require: a worker inherits the process's flags, and under --input-type=module its source is an ES module
const WORKER_SOURCE = `
const { workerData } = process.getBuiltinModule('node:worker_threads');
const { bytes, memory, control, index, names, slots } = workerData;
const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
const fns = names.map((name) => exports[name]);
const c = new Int32Array(control);
const base = 2 + slots * index;
for (let seen = 0; ; ) {
  Atomics.wait(c, 0, seen);
  seen = Atomics.load(c, 0);
  try {
    fns[c[base]](...c.subarray(base + 2, base + 2 + c[base + 1]));
    Atomics.add(c, 1, 1);
  } catch {
    Atomics.add(c, 1, 1 << 16);
  }
  Atomics.notify(c, 1);
}`;

/** How long the calling thread waits for the helpers before giving up (a hang, not a speed limit). */
const HELPER_TIMEOUT_MS = 120_000;

/**
 * The module on `memory` with a runner over `threads` threads in all (the caller and threads − 1
 * helper workers; one thread where the memory is not shared or worker_threads is missing), or
 * null where the module cannot run here. Helpers are unreferenced: they never keep the process alive.
 */
export function simdKernelsOn(memory: WebAssembly.Memory, threads: number): SimdKernels | null {
  const exports = simdExportsOn(memory);
  if (exports === null) return null;
  const single: SimdRun = (name, args, items) => exports[name](...args, 0, items);
  const workerThreads = threads > 1 && isShared(memory) ? nodeWorkerThreads() : undefined;
  if (!workerThreads) return { exports, run: single, threads: 1 };
  const helpers = threads - 1;
  const control = new Int32Array(new SharedArrayBuffer(4 * (2 + SLOTS * helpers)));
  const bytes = moduleBytes(true);
  const started: WorkerThreads.Worker[] = [];
  try {
    for (let index = 0; index < helpers; index++) {
      const workerData = { bytes, memory, control: control.buffer, index, names: [...SPLIT_EXPORTS], slots: SLOTS };
      started.push(new workerThreads.Worker(WORKER_SOURCE, { eval: true, workerData }));
      started[index]!.unref();
    }
  } catch {
    for (const w of started) void w.terminate();
    return { exports, run: single, threads: 1 }; // no threads to be had (a resource limit): the calling thread alone
  }
  const run: SimdRun = (name, args, items) => {
    if (items < 2 * threads) return single(name, args, items);
    if (args.length + 2 > SLOTS - 2) throw new Error(`scaat kernels: ${name} takes more arguments than a helper's slots hold`);
    // contiguous shares, the calling thread's first
    const share = (k: number): [number, number] => [Math.floor((items * k) / threads), Math.floor((items * (k + 1)) / threads)];
    const fn = SPLIT_EXPORTS.indexOf(name);
    for (let h = 0; h < helpers; h++) control.set([fn, args.length + 2, ...args, ...share(h + 1)], 2 + SLOTS * h);
    Atomics.store(control, 1, 0);
    Atomics.add(control, 0, 1);
    Atomics.notify(control, 0);
    exports[name](...args, ...share(0));
    const deadline = Date.now() + HELPER_TIMEOUT_MS;
    for (let done = Atomics.load(control, 1); (done & 0xffff) + (done >> 16) < helpers; done = Atomics.load(control, 1)) {
      if (Date.now() > deadline) throw new Error(`scaat kernels: the SIMD kernels' helper threads did not answer ${name} in ${HELPER_TIMEOUT_MS / 1000} s`);
      Atomics.wait(control, 1, done, 1000);
    }
    if (Atomics.load(control, 1) >> 16 !== 0) throw new Error(`scaat kernels: a SIMD helper thread failed in ${name}`);
  };
  return { exports, run, threads };
}

function nodeWorkerThreads(): typeof WorkerThreads | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return proc?.getBuiltinModule?.('node:worker_threads') as typeof WorkerThreads | undefined;
  } catch {
    return undefined;
  }
}

// per backend module: the kernels on its heap, or null where they cannot run
const onBackend = new WeakMap<object, SimdKernels | null>();

/** The module on `backend`'s heap with the backend's thread count (made once per backend), or null where it cannot run. */
export function simdKernelsFor(backend: BackendWasm): SimdKernels | null {
  let kernels = onBackend.get(backend.wasm);
  if (kernels === undefined) {
    const wasm = backend.wasm as unknown as WasmModuleLike;
    const memory = wasm.wasmMemory ?? wasm.asm?.memory;
    kernels = memory instanceof WebAssembly.Memory ? simdKernelsOn(memory, wasm.tfjs?.getThreadsCount?.() ?? 1) : null;
    onBackend.set(backend.wasm, kernels);
  }
  return kernels;
}

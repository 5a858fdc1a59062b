/**
 * scaat's own WebAssembly SIMD filter gradient (native/wasm/filter_grad.c), run on the wasm
 * backend's heap: the module imports the backend's memory, so it reads x and dy and writes ∂W
 * where TF.js keeps them (no copy). XNNPACK, which runs the backend's convolutions, would pack one
 * of x or dy as a filter at every call (src/engine/kernels/conv2d.ts); this kernel reads them as
 * they lie and sums outer products, one tile of ∂W in registers per image.
 *
 * On TF.js's multi-threaded build (a shared heap) the work is split between the calling thread and
 * helper workers (Node's worker_threads, as many as the backend's threads less one), each taking
 * whole tiles of ∂W: every value is computed by one thread in the same order as on one thread, so
 * the results are the same bit for bit (filter-grad.test.ts). Elsewhere (the browser, one thread,
 * Node before 20.16 without process.getBuiltinModule) it runs on the calling thread.
 */
import type * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import type * as WorkerThreads from 'node:worker_threads';
import { type BackendWasm, heapF32 } from './_wasm.js';
import { FILTER_GRAD_WASM } from './_wasm-kernels.generated.js';

/** filter_grad's exported signature: byte offsets, sizes, then the work items [w0, w1) (native/wasm/filter_grad.c). */
export type FilterGradExport = (...args: number[]) => void;

/** Runs filter_grad over all its work items: `args` are its 18 leading arguments, `items` the item count. */
export type FilterGradRunner = (args: readonly number[], items: number) => void;

// the backend's Emscripten module, as far as it is read here (no import of the backend package:
// importing it registers the wasm backend, which only src/engine/backend.ts may do)
interface WasmModuleLike {
  wasmMemory?: WebAssembly.Memory;
  asm?: { memory?: WebAssembly.Memory };
  tfjs?: { getThreadsCount?: () => number };
}

function moduleBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(shared ? FILTER_GRAD_WASM.shared : FILTER_GRAD_WASM.plain), (ch) => ch.charCodeAt(0));
}

function isShared(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/**
 * native/wasm/filter_grad.c's `filter_grad`, instantiated on `memory` (the build for a shared
 * memory where it is one), or null where this engine cannot run it (no wasm SIMD, or no threads
 * for the shared build).
 */
export function filterGradOn(memory: WebAssembly.Memory): FilterGradExport | null {
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes(isShared(memory))), { env: { memory } });
    return instance.exports['filter_grad'] as FilterGradExport;
  } catch {
    return null; // the XNNPACK route
  }
}

// the helper workers' loop: wait for a job (slot 0 = its number), run its share, report (slot 1)
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { bytes, memory, control, index } = workerData;
const fn = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.filter_grad;
const c = new Int32Array(control);
const base = 2 + 20 * index;
for (let seen = 0; ; ) {
  Atomics.wait(c, 0, seen);
  seen = Atomics.load(c, 0);
  try {
    fn(...c.subarray(base, base + 20));
    Atomics.add(c, 1, 1);
  } catch {
    Atomics.add(c, 1, 1 << 16);
  }
  Atomics.notify(c, 1);
}`;

/** How long the calling thread waits for the helpers before giving up (a hang, not a speed limit). */
const HELPER_TIMEOUT_MS = 120_000;

/**
 * A runner of filter_grad on `memory` with `threads` threads in all (the caller and threads − 1
 * helper workers; one thread where the memory is not shared or worker_threads is missing), or
 * null where the module cannot run here. Helpers are unreferenced: they never keep the process alive.
 */
export function filterGradRunner(memory: WebAssembly.Memory, threads: number): FilterGradRunner | null {
  const fn = filterGradOn(memory);
  if (fn === null) return null;
  const single: FilterGradRunner = (args, items) => fn(...args, 0, items);
  const workerThreads = threads > 1 && isShared(memory) ? nodeWorkerThreads() : undefined;
  if (!workerThreads) return single;
  const helpers = threads - 1;
  const control = new Int32Array(new SharedArrayBuffer(4 * (2 + 20 * helpers)));
  const bytes = moduleBytes(true);
  const started: WorkerThreads.Worker[] = [];
  try {
    for (let index = 0; index < helpers; index++) {
      started.push(new workerThreads.Worker(WORKER_SOURCE, { eval: true, workerData: { bytes, memory, control: control.buffer, index } }));
      started[index]!.unref();
    }
  } catch {
    for (const w of started) void w.terminate();
    return single; // no threads to be had (a resource limit): the calling thread alone
  }
  return (args, items) => {
    if (items < 2 * threads) return single(args, items);
    // contiguous shares, the calling thread's first
    const share = (k: number): [number, number] => [Math.floor((items * k) / threads), Math.floor((items * (k + 1)) / threads)];
    for (let h = 0; h < helpers; h++) control.set([...args, ...share(h + 1)], 2 + 20 * h);
    Atomics.store(control, 1, 0);
    Atomics.add(control, 0, 1);
    Atomics.notify(control, 0);
    fn(...args, ...share(0));
    const deadline = Date.now() + HELPER_TIMEOUT_MS;
    for (let done = Atomics.load(control, 1); (done & 0xffff) + (done >> 16) < helpers; done = Atomics.load(control, 1)) {
      if (Date.now() > deadline) throw new Error(`scaat kernels: the filter-gradient helper threads did not answer in ${HELPER_TIMEOUT_MS / 1000} s`);
      Atomics.wait(control, 1, done, 1000);
    }
    if (Atomics.load(control, 1) >> 16 !== 0) throw new Error('scaat kernels: a filter-gradient helper thread failed');
  };
}

function nodeWorkerThreads(): typeof WorkerThreads | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return proc?.getBuiltinModule?.('node:worker_threads') as typeof WorkerThreads | undefined;
  } catch {
    return undefined;
  }
}

// per backend module: its runner, or null where the SIMD kernel cannot run
const runners = new WeakMap<object, FilterGradRunner | null>();

function runnerFor(backend: BackendWasm): FilterGradRunner | null {
  let runner = runners.get(backend.wasm);
  if (runner === undefined) {
    const wasm = backend.wasm as unknown as WasmModuleLike;
    const memory = wasm.wasmMemory ?? wasm.asm?.memory;
    runner = memory instanceof WebAssembly.Memory ? filterGradRunner(memory, wasm.tfjs?.getThreadsCount?.() ?? 1) : null;
    runners.set(backend.wasm, runner);
  }
  return runner;
}

/**
 * ∂W [kh, kw, Ci, Co] of the convolution `info` describes, given x [B, H, W, Ci] and dy
 * [B, oh, ow, Co], or undefined where this kernel does not apply (Co not a multiple of 4, or no
 * SIMD module on this engine): the caller then takes the XNNPACK route. Caller owns the result.
 */
export function simdFilterGrad(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo | undefined {
  if (info.outChannels % 4 !== 0) return undefined;
  const run = runnerFor(backend);
  if (run === null) return undefined;
  const { filterHeight: kh, filterWidth: kw, inChannels: ci, outChannels: co } = info;
  const out = backend.makeOutput([kh, kw, ci, co], 'float32');
  heapF32(backend, out).fill(0);
  const at = (t: TensorInfo): number => backend.getMemoryOffset(t.dataId);
  run([
    at(x), at(dy), at(out),
    info.batchSize, info.inHeight, info.inWidth, ci, info.outHeight, info.outWidth, co,
    kh, kw, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    info.padInfo.top, info.padInfo.left,
  ], kh * kw * Math.ceil(ci / 4));
  return out;
}

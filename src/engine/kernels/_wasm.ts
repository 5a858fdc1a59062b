/**
 * Internal helpers for kernels that run on the wasm backend: calling another registered wasm
 * kernel directly (the way TF.js backends compose kernels), scratch tensors on the wasm heap, and
 * typed-array views of tensor memory.
 *
 * Kernel functions receive and return `TensorInfo`s, not `Tensor`s: anything a kernel allocates
 * and does not return must be freed with `backend.disposeData` (see {@link Scratch}).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

export type { BackendWasm };

/** Arguments a kernel function receives (`KernelFunc` in TF.js), typed for the wasm backend. */
export interface WasmKernelArgs {
  readonly inputs: NamedTensorInfoMap;
  readonly backend: BackendWasm;
  readonly attrs?: NamedAttrMap;
}

/** Calls the kernel currently registered for `name` on wasm, bypassing the engine (no tape, no scope). */
export function callWasmKernel(
  backend: BackendWasm,
  name: string,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel === undefined) throw new Error(`scaat kernels: wasm has no '${name}' kernel`);
  const out = kernel.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new Error(`scaat kernels: '${name}' returned several outputs`);
  return out as TensorInfo;
}

/**
 * Runs `fill`, which writes the kernel's freshly made outputs `outs`, and returns them; if it
 * throws, frees them first (nothing leaks on the heap).
 */
export function fillOutputs<T extends TensorInfo | TensorInfo[]>(backend: BackendWasm, outs: T, fill: () => void): T {
  try {
    fill();
  } catch (err) {
    for (const o of Array.isArray(outs) ? outs : [outs]) backend.disposeData(o.dataId);
    throw err;
  }
  return outs;
}

/** A float32 view of a tensor's memory on the wasm heap. Re-take it after any allocation (the heap may grow). */
export function heapF32(backend: BackendWasm, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

/**
 * Scratch tensors of one kernel call: `alloc`/`keep` register temporaries, `dispose()` frees them.
 * @example
 * const s = new Scratch(backend);
 * try { const t = s.keep(callWasmKernel(...)); …; return out; } finally { s.dispose(); }
 */
export class Scratch {
  private readonly items: TensorInfo[] = [];
  constructor(private readonly backend: BackendWasm) {}

  /** A new float32 tensor (uninitialised unless `zero`), freed by `dispose()`. */
  alloc(shape: number[], { zero = false }: { zero?: boolean } = {}): TensorInfo {
    const t = this.keep(this.backend.makeOutput(shape, 'float32'));
    if (zero) heapF32(this.backend, t).fill(0);
    return t;
  }

  /** Registers `t` to be freed by `dispose()`; returns it. */
  keep(t: TensorInfo): TensorInfo {
    this.items.push(t);
    return t;
  }

  dispose(): void {
    for (const t of this.items) this.backend.disposeData(t.dataId);
    this.items.length = 0;
  }
}

/** Explicit NHWC padding for `computeConv2DInfo`: [[0, 0], [top, bottom], [left, right], [0, 0]]. */
export function explicitPad(top: number, bottom: number, left: number, right: number): tf.backend_util.ExplicitPadding {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

/** Registers `kernelFunc` for `name` on wasm, replacing any kernel already there (without TF.js's warning). */
export function replaceKernel(name: string, kernelFunc: (args: WasmKernelArgs) => TensorInfo | TensorInfo[]): void {
  if (tf.getKernel(name, 'wasm') !== undefined) tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}

/**
 * [B, H, W, C] → [C, H, W, B] (batch and channels swapped) in JS, ~3× faster than wasm's generic
 * `Transpose` for this permutation: writes are contiguous along B, reads revisit the same B
 * cache lines for every channel. Caller owns the result (in `scratch`).
 */
export function swapBatchAndChannels(backend: BackendWasm, scratch: Scratch, x: TensorInfo): TensorInfo {
  const [B, H, W, C] = x.shape as [number, number, number, number];
  const P = H * W;
  const out = scratch.alloc([C, H, W, B]);
  const src = heapF32(backend, x);
  const dst = heapF32(backend, out);
  const stride = P * C;
  for (let p = 0; p < P; p++) {
    for (let c = 0; c < C; c++) {
      const d = (c * P + p) * B;
      let s = p * C + c;
      for (let b = 0; b < B; b++, s += stride) dst[d + b] = src[s]!;
    }
  }
  return out;
}

/** `t` viewed with another shape (same data, no copy, no ownership): for kernels that read `shape` only. */
export function reshaped(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

/**
 * Per-channel means of a channel-last float32 tensor as one XNNPACK global average pooling over x
 * viewed as [1, 1, n, C] (no copy): a single SIMD pass, ~20× faster than wasm's `Sum`/`Mean`
 * over leading axes, which transpose first. Float32 accumulation, like the stock kernels.
 * Returns [1, 1, 1, C] (in `scratch` unless `keep`).
 */
export function channelMeans(backend: BackendWasm, scratch: Scratch, x: TensorInfo, { keep = false } = {}): TensorInfo {
  const C = x.shape[x.shape.length - 1]!;
  const n = tf.util.sizeFromShape(x.shape) / C;
  const out = callWasmKernel(backend, 'AvgPool', { x: reshaped(x, [1, 1, n, C]) }, {
    filterSize: [1, n], strides: [1, 1], pad: 'valid',
  });
  return keep ? out : scratch.keep(out);
}

/**
 * scaat's own WebAssembly SIMD filter gradient (native/wasm/filter_grad.c), run on the wasm
 * backend's heap: the module imports the backend's memory, so it reads x and dy and writes ∂W
 * where TF.js keeps them (no copy). XNNPACK, which runs the backend's convolutions, would pack one
 * of x or dy as a filter at every call (src/engine/kernels/conv2d.ts); this kernel reads them as
 * they lie and sums outer products, one tile of ∂W in registers per image.
 *
 * On TF.js's multi-threaded build (a shared heap) the work is split between the calling thread and
 * helper workers (./_simd.ts, the module and runner all of scaat's SIMD kernels share), each taking
 * whole tiles of ∂W: every value is computed by one thread in the same order as on one thread, so
 * the results are the same bit for bit (filter-grad.test.ts). Elsewhere (the browser, one thread,
 * Node before 20.16 without process.getBuiltinModule) it runs on the calling thread.
 */
import type * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { type BackendWasm, fillOutputs, heapF32 } from './_wasm.js';
import { simdExportsOn, simdKernelsFor, simdKernelsOn } from './_simd.js';

/** filter_grad's exported signature: byte offsets, sizes, then the work items [w0, w1) (native/wasm/filter_grad.c). */
export type FilterGradExport = (...args: number[]) => void;

/** Runs filter_grad over all its work items: `args` are its 18 leading arguments, `items` the item count. */
export type FilterGradRunner = (args: readonly number[], items: number) => void;

/**
 * native/wasm/filter_grad.c's `filter_grad`, instantiated on `memory` (the build for a shared
 * memory where it is one), or null where this engine cannot run it (no wasm SIMD, or no threads
 * for the shared build).
 */
export function filterGradOn(memory: WebAssembly.Memory): FilterGradExport | null {
  return simdExportsOn(memory)?.filter_grad ?? null;
}

/**
 * A runner of filter_grad on `memory` with `threads` threads in all (the caller and threads − 1
 * helper workers: ./_simd.ts), or null where the module cannot run here.
 */
export function filterGradRunner(memory: WebAssembly.Memory, threads: number): FilterGradRunner | null {
  const kernels = simdKernelsOn(memory, threads);
  return kernels && ((args, items) => kernels.run('filter_grad', args, items));
}

/**
 * ∂W [kh, kw, Ci, Co] of the convolution `info` describes, given x [B, H, W, Ci] and dy
 * [B, oh, ow, Co], or undefined where this kernel does not apply (Co not a multiple of 4, or no
 * SIMD module on this engine): the caller then takes the XNNPACK route. Caller owns the result.
 */
export function simdFilterGrad(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo | undefined {
  if (info.outChannels % 4 !== 0) return undefined;
  const kernels = simdKernelsFor(backend);
  if (kernels === null) return undefined;
  const { filterHeight: kh, filterWidth: kw, inChannels: ci, outChannels: co } = info;
  const at = (t: TensorInfo): number => backend.getMemoryOffset(t.dataId);
  const out = backend.makeOutput([kh, kw, ci, co], 'float32');
  return fillOutputs(backend, out, () => {
    heapF32(backend, out).fill(0);
    kernels.run('filter_grad', [
      at(x), at(dy), at(out),
      info.batchSize, info.inHeight, info.inWidth, ci, info.outHeight, info.outWidth, co,
      kh, kw, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
      info.padInfo.top, info.padInfo.left,
    ], kh * kw * Math.ceil(ci / 4));
  });
}

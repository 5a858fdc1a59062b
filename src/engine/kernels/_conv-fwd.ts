/**
 * scaat's own WebAssembly SIMD forward convolution (native/wasm/conv_fwd.c), run on the wasm
 * backend's heap as ./_filter-grad.ts runs the filter gradient: x and the filter read where TF.js
 * keeps them, rows of the output split between the calling thread and the helper workers
 * (./_simd.ts), every value computed by one thread in the same order whatever the split (the same
 * bits on any number of threads).
 */
import type * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { type BackendWasm, fillOutputs, heapF32 } from './_wasm.js';
import { simdKernelsFor } from './_simd.js';

/**
 * y [B, OH, OW, Co] = conv2d(x, filter) as `info` describes it (NHWC, filter [kh, kw, Ci, Co]), or
 * undefined where this kernel does not apply (Co not a multiple of 4, or no SIMD module on this
 * engine). Caller owns the result.
 */
export function simdConv2d(backend: BackendWasm, x: TensorInfo, filter: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo | undefined {
  if (info.outChannels % 4 !== 0) return undefined;
  const kernels = simdKernelsFor(backend);
  if (kernels === null) return undefined;
  const out = backend.makeOutput(info.outShape, 'float32');
  return fillOutputs(backend, out, () => {
    const zero = backend.makeOutput([info.inChannels], 'float32');
    try {
      heapF32(backend, zero).fill(0);
      const at = (t: TensorInfo): number => backend.getMemoryOffset(t.dataId);
      kernels.run('conv_fwd', [
        at(x), at(filter), at(out), at(zero),
        info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, info.outChannels,
        info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
        info.padInfo.top, info.padInfo.left,
      ], info.batchSize * info.outHeight);
    } finally {
      backend.disposeData(zero.dataId);
    }
  });
}

/**
 * 2-D pooling gradients that agree with their forward passes.
 *
 * Stock TF.js 4.22 has two defects here (found by pooling.test.ts):
 * - wasm `MaxPoolGrad` drops the gradient of every window whose maximum is negative (it routes
 *   dy only where the max is ≥ 0), so max pooling before a ReLU, or after batch norm, trains wrong;
 * - `AvgPoolGrad` (wasm and cpu) divides by the full window size, while the forward with 'same'
 *   padding averages only the in-bounds pixels, so border gradients are too small.
 *
 * Here:  MaxPool:  ∂x[argmax of window w] += dy[w]   (first maximum in row-major window order,
 *                                                      as TF's cpu kernel; padding never wins)
 *        AvgPool:  ∂x[k] += dy[w] / |w ∩ image|       for every in-bounds pixel k of window w
 * Plain JS loops over NHWC with channels innermost; registered for wasm and for cpu (AvgPoolGrad).
 */
import * as tf from '@tensorflow/tfjs';
import type { AvgPoolGradAttrs, MaxPoolGradAttrs, TensorInfo } from '@tensorflow/tfjs';
import { type WasmKernelArgs, heapF32, replaceKernel } from './_wasm.js';

type Shape4 = [number, number, number, number];
type PoolAttrs = Pick<MaxPoolGradAttrs, 'filterSize' | 'strides' | 'pad' | 'dimRoundingMode'>;

function poolInfo(xShape: Shape4, a: PoolAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computePool2DInfo(xShape, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
}

/** Row/column range of window (i, j) clipped to the image: [r0, r1) × [c0, c1). */
function windowOf(ci: tf.backend_util.Conv2DInfo, i: number, j: number): [number, number, number, number] {
  const r = i * ci.strideHeight - ci.padInfo.top;
  const c = j * ci.strideWidth - ci.padInfo.left;
  return [Math.max(r, 0), Math.min(r + ci.filterHeight, ci.inHeight), Math.max(c, 0), Math.min(c + ci.filterWidth, ci.inWidth)];
}

/** Writes ∂x of max pooling into `dx` (length of x; overwritten). */
export function maxPoolGradInto(ci: tf.backend_util.Conv2DInfo, x: Float32Array, dy: Float32Array, dx: Float32Array): void {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = ci;
  const { filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW } = ci;
  const { top, left } = ci.padInfo;
  // Offsets of the window's pixels from its first one, for windows entirely inside the image.
  const offsets = new Int32Array(KH * KW);
  for (let p = 0; p < KH; p++) for (let q = 0; q < KW; q++) offsets[p * KW + q] = (p * W + q) * C;
  const K = offsets.length;
  dx.fill(0);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < OH; i++) {
      const r = i * SH - top;
      for (let j = 0; j < OW; j++) {
        const c = j * SW - left;
        const yBase = ((b * OH + i) * OW + j) * C;
        if (r >= 0 && c >= 0 && r + KH <= H && c + KW <= W) {
          // Fast path: the whole window is inside.
          const base = ((b * H + r) * W + c) * C;
          for (let ch = 0; ch < C; ch++) {
            const first = base + ch;
            let arg = first;
            let best = x[arg]!;
            for (let t = 1; t < K; t++) {
              const k = first + offsets[t]!;
              const v = x[k]!;
              if (v > best) {
                best = v;
                arg = k;
              }
            }
            dx[arg]! += dy[yBase + ch]!;
          }
          continue;
        }
        const [r0, r1, c0, c1] = windowOf(ci, i, j);
        for (let ch = 0; ch < C; ch++) {
          let best = -Infinity;
          let arg = -1;
          for (let rr = r0; rr < r1; rr++) {
            let k = ((b * H + rr) * W + c0) * C + ch;
            for (let cc = c0; cc < c1; cc++, k += C) {
              const v = x[k]!;
              // `arg < 0` takes the first pixel even if it is -Infinity or NaN.
              if (v > best || arg < 0) {
                best = v;
                arg = k;
              }
            }
          }
          if (arg >= 0) dx[arg]! += dy[yBase + ch]!;
        }
      }
    }
  }
}

/** Writes ∂x of average pooling (in-bounds average) into `dx` (length of x; overwritten). */
export function avgPoolGradInto(ci: tf.backend_util.Conv2DInfo, dy: Float32Array, dx: Float32Array): void {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = ci;
  dx.fill(0);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < OH; i++) {
      for (let j = 0; j < OW; j++) {
        const [r0, r1, c0, c1] = windowOf(ci, i, j);
        const n = (r1 - r0) * (c1 - c0);
        if (n <= 0) continue;
        const inv = 1 / n;
        const yBase = ((b * OH + i) * OW + j) * C;
        for (let r = r0; r < r1; r++) {
          for (let c = c0; c < c1; c++) {
            const base = ((b * H + r) * W + c) * C;
            for (let ch = 0; ch < C; ch++) dx[base + ch]! += dy[yBase + ch]! * inv;
          }
        }
      }
    }
  }
}

/** Registers MaxPoolGrad and AvgPoolGrad on wasm (idempotent). */
export function registerPoolingKernelsWasm(): void {
  replaceKernel('MaxPoolGrad', ({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo => {
    const x = inputs['input']!;
    const ci = poolInfo(x.shape as Shape4, attrs as unknown as PoolAttrs);
    const out = backend.makeOutput(x.shape, 'float32');
    maxPoolGradInto(ci, heapF32(backend, x), heapF32(backend, inputs['dy']!), heapF32(backend, out));
    return out;
  });
  replaceKernel('AvgPoolGrad', ({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo => {
    const x = inputs['input']!;
    const ci = poolInfo(x.shape as Shape4, attrs as unknown as AvgPoolGradAttrs);
    const out = backend.makeOutput(x.shape, 'float32');
    avgPoolGradInto(ci, heapF32(backend, inputs['dy']!), heapF32(backend, out));
    return out;
  });
}

/** The subset of the cpu backend a kernel needs. */
interface CpuBackendLike {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

/** Registers the corrected AvgPoolGrad on the cpu reference backend (idempotent). */
export function registerPoolingKernelsCpu(): void {
  if (tf.getKernel('AvgPoolGrad', 'cpu') !== undefined) tf.unregisterKernel('AvgPoolGrad', 'cpu');
  tf.registerKernel({
    kernelName: 'AvgPoolGrad',
    backendName: 'cpu',
    kernelFunc: (({ inputs, backend, attrs }: { inputs: Record<string, TensorInfo>; backend: CpuBackendLike; attrs: AvgPoolGradAttrs }) => {
      const x = inputs['input']!;
      const ci = poolInfo(x.shape as Shape4, attrs);
      const dx = new Float32Array(tf.util.sizeFromShape(x.shape));
      avgPoolGradInto(ci, backend.data.get(inputs['dy']!.dataId).values as Float32Array, dx);
      return backend.makeTensorInfo(x.shape, 'float32', dx);
    }) as unknown as tf.KernelFunc,
  });
}

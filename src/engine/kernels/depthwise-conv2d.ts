/**
 * Depthwise Conv2D gradients for the wasm backend (TF.js 4.22 wasm has neither kernel).
 *
 * For y = depthwiseConv2d(x, f), x [B, H, W, C], f [kh, kw, C, m], y [B, oh, ow, C·m]:
 *   y[b, i, j, c·m + q] = Σ_{p,r} x_pad[b, i·sh + p·dh, j·sw + r·dw, c] · f[p, r, c, q]
 *   ∂x[b, ·, ·, c]  = Σ_q full-correlation of dy[…, c·m + q] with f[:, :, c, q] rotated by 180°;
 *                     for m = 1 this is a forward depthwise conv of the zero-stuffed dy (XNNPACK);
 *   ∂f[p, r, c, q]  = Σ_{b,i,j} x_pad[b, i·sh + p·dh, j·sw + r·dw, c] · dy[b, i, j, c·m + q]
 *                     (a per-channel correlation: a plain JS loop, channels innermost).
 * Strides, dilation, 'same'/'valid'/explicit padding; NHWC only.
 */
import * as tf from '@tensorflow/tfjs';
import type {
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropInputAttrs,
  NamedAttrMap,
  TensorInfo,
} from '@tensorflow/tfjs';
import { type BackendWasm, type WasmKernelArgs, Scratch, callWasmKernel, heapF32, replaceKernel } from './_wasm.js';
import { transposedConvInput } from './conv2d.js';

type Shape4 = [number, number, number, number];

function depthwiseInfo(
  xShape: Shape4,
  filterShape: Shape4,
  a: { strides: [number, number] | number; dilations: [number, number] | number; pad: DepthwiseConv2dNativeBackpropInputAttrs['pad']; dimRoundingMode?: 'floor' | 'round' | 'ceil' },
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape, filterShape, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, true, 'channelsLast');
}

/** Calls visit(xBase, yBase, fBase) for each (b, i, j, p, r) whose input pixel is inside x. */
function forEachTap(ci: tf.backend_util.Conv2DInfo, visit: (xBase: number, yBase: number, fBase: number) => void): void {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: CO } = ci;
  const { filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW, dilationHeight: DH, dilationWidth: DW } = ci;
  const { top, left } = ci.padInfo;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < OH; i++) {
      for (let p = 0; p < KH; p++) {
        const row = i * SH + p * DH - top;
        if (row < 0 || row >= H) continue;
        for (let j = 0; j < OW; j++) {
          const yBase = ((b * OH + i) * OW + j) * CO;
          for (let r = 0; r < KW; r++) {
            const col = j * SW + r * DW - left;
            if (col < 0 || col >= W) continue;
            visit(((b * H + row) * W + col) * C, yBase, (p * KW + r) * CO);
          }
        }
      }
    }
  }
}

/** ∂L/∂x of a depthwise conv. Caller owns the result [B, H, W, C]. */
export function depthwiseBackpropInputWasm(
  backend: BackendWasm,
  dy: TensorInfo,
  filter: TensorInfo,
  a: DepthwiseConv2dNativeBackpropInputAttrs,
): TensorInfo {
  const ci = depthwiseInfo(a.inputShape, filter.shape as Shape4, a);
  const { inChannels: C, filterHeight: kh, filterWidth: kw } = ci;
  const m = ci.outChannels / C;
  if (m === 1) {
    // Forward XNNPACK depthwise conv of the stuffed, padded dy with the spatially flipped filter.
    const scratch = new Scratch(backend);
    try {
      const rot = scratch.alloc([kh, kw, C, 1]);
      const f = heapF32(backend, filter);
      const rv = heapF32(backend, rot);
      for (let p = 0; p < kh; p++) {
        for (let r = 0; r < kw; r++) {
          const s0 = ((kh - 1 - p) * kw + (kw - 1 - r)) * C;
          rv.set(f.subarray(s0, s0 + C), (p * kw + r) * C);
        }
      }
      const { input, pad } = transposedConvInput(backend, scratch, dy, ci);
      return callWasmKernel(backend, 'DepthwiseConv2dNative', { x: input, filter: rot }, {
        strides: [1, 1], pad, dilations: [ci.dilationHeight, ci.dilationWidth],
      } as unknown as NamedAttrMap);
    } finally {
      scratch.dispose();
    }
  }
  const out = backend.makeOutput([...a.inputShape], 'float32');
  const dx = heapF32(backend, out).fill(0);
  const g = heapF32(backend, dy);
  const f = heapF32(backend, filter);
  forEachTap(ci, (xb, yb, fb) => {
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let q = 0; q < m; q++) s += g[yb + c * m + q]! * f[fb + c * m + q]!;
      dx[xb + c]! += s;
    }
  });
  return out;
}

/** ∂L/∂f of a depthwise conv. Caller owns the result [kh, kw, C, m]. */
export function depthwiseBackpropFilterWasm(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  a: DepthwiseConv2dNativeBackpropFilterAttrs,
): TensorInfo {
  const ci = depthwiseInfo(x.shape as Shape4, a.filterShape, a);
  const C = ci.inChannels;
  const m = ci.outChannels / C;
  const out = backend.makeOutput([...a.filterShape], 'float32');
  const df = heapF32(backend, out).fill(0);
  const xv = heapF32(backend, x);
  const g = heapF32(backend, dy);
  forEachTap(ci, (xb, yb, fb) => {
    for (let c = 0; c < C; c++) {
      const xval = xv[xb + c]!;
      for (let q = 0; q < m; q++) df[fb + c * m + q]! += xval * g[yb + c * m + q]!;
    }
  });
  return out;
}

/** Registers the wasm depthwise gradient kernels (idempotent). */
export function registerDepthwiseConv2dKernels(): void {
  replaceKernel('DepthwiseConv2dNativeBackpropInput', ({ inputs, backend, attrs }: WasmKernelArgs) =>
    depthwiseBackpropInputWasm(backend, inputs['dy']!, inputs['filter']!, attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs));
  replaceKernel('DepthwiseConv2dNativeBackpropFilter', ({ inputs, backend, attrs }: WasmKernelArgs) =>
    depthwiseBackpropFilterWasm(backend, inputs['x']!, inputs['dy']!, attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs));
}

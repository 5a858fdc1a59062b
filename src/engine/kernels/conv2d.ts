/**
 * wasm `Conv2D` by scaat's own SIMD kernel where Co is a multiple of 4 (./_conv-fwd.ts,
 * native/wasm/conv_fwd.c: x and the filter read in place; XNNPACK creates and packs an operator for
 * every new filter, i.e. every step, and was 25–35 % slower on ResNet-20's layers, 2026-12-05),
 * the stock XNNPACK kernel otherwise; the gradients below run their convolutions through it.
 *
 * Conv2D gradients on the wasm backend as *forward* convolutions, and ∂f, where the
 * output channels are a multiple of 4, by scaat's own WebAssembly SIMD kernel (_filter-grad.ts:
 * x and dy read in place, no packing; 2.3–3.1× faster than the XNNPACK forms below in the small CNN
 * step, docs/benchmarks.md), which the XNNPACK forms replace for other widths and on engines
 * without wasm SIMD.
 *
 * Stock TF.js 4.22 wasm has no `Conv2DBackpropFilter` kernel and a naive scalar-loop
 * `Conv2DBackpropInput`. Both gradients are convolutions themselves, so they can run on the
 * backend's fast forward `Conv2D` (XNNPACK). For y = conv2d(x, f) with stride s, dilation d and
 * padding (top, left), x [B, H, W, Ci], f [kh, kw, Ci, Co], dy [B, oh, ow, Co]:
 *
 *   ∂x = conv2d( pad(stuff_s(dy)), rot180(f)ᵀ, stride 1, dilation d )
 *        stuff_s inserts s−1 zeros between dy's pixels; pad adds (k−1)·d − padTop rows on top
 *        (and what makes the output H rows on the bottom); rot180(f)ᵀ is f flipped in both
 *        spatial axes with in/out channels swapped: [kh, kw, Co, Ci]. With stride 1 dy is used
 *        as it is (explicit padding); with strides > 1 no stuffed dy is built: each row phase of
 *        ∂x is its own stride-1 convolution of dy (phasedInputGrad below, 4/3 of the forward's
 *        arithmetic for 3×3 stride 2 instead of 4×).
 *   ∂f = crop_k( conv2d( xᵀ [Ci, H, W, B], dyᵀ [oh, ow, B, Co] as the filter,
 *                        stride d, dilation s, padding (top, left), 'valid' otherwise ) )
 *        i.e. ∂f[p, q, c, o] = Σ_{b,i,j} x_pad[b, i·s + p·d, j·s + q·d, c] · dy[b, i, j, o]:
 *        batch and channels of x swap roles, dy becomes the filter and the output is [Ci, kh, kw, Co],
 *        transposed to [kh, kw, Ci, Co].
 *        XNNPACK packs a convolution's filter at every call (about 10–20 ns per value on the 2-core
 *        machine, more than the arithmetic at 16×16), so with stride 1 and x the smaller operand
 *        (a first layer, a layer that widens) x is the filter instead:
 *   ∂f = flip_k( conv2d( dyᵀ [Co, oh, ow, B], x as [H, W, B, Ci],
 *                        stride d, padding (kh−1)·d − top on top (the rest to make kh rows) ) )
 *        with output [Co, kh, kw, Ci] in reversed kernel order (p' = kh − 1 − p): the same sums
 *        with the roles of x and dy swapped (first layer of the small CNN 49 → 25 ms, its widening
 *        16×16 layer 62 → 37 ms, batch 128, 2 threads, 2026-12-05).
 *
 * Registered by {@link registerConv2dKernels} as the wasm `Conv2DBackpropInput` /
 * `Conv2DBackpropFilter` kernels, so every path that needs them takes the fast route: the `Conv2D`
 * gradient, the `FusedConv2D` gradient that `tf.layers.conv2d` uses under `tf.grad`, and direct
 * `tf.conv2dTranspose` calls. Explicit and 'same'/'valid' padding, strides, non-square kernels and
 * dilation are supported; NCHW is not (wasm's forward `Conv2D` is NHWC only).
 */
import * as tf from '@tensorflow/tfjs';
import type {
  Conv2DAttrs,
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  GradConfig,
  NamedAttrMap,
  Tensor,
  Tensor4D,
  TensorInfo,
} from '@tensorflow/tfjs';
import { simdConv2d } from './_conv-fwd.js';
import { simdFilterGrad } from './_filter-grad.js';
import {
  type BackendWasm,
  type WasmKernelArgs,
  Scratch,
  fillOutputs,
  callWasmKernel,
  explicitPad,
  heapF32,
  replaceKernel,
  swapBatchAndChannels,
} from './_wasm.js';

type Pad = Conv2DAttrs['pad'];
type Shape4 = [number, number, number, number];

/** Geometry of the forward convolution whose gradient is taken. */
export interface ConvGeometry {
  readonly strides: [number, number] | number;
  readonly dilations: [number, number] | number;
  readonly pad: Pad;
  readonly dimRoundingMode?: 'floor' | 'round' | 'ceil' | undefined;
}

function forwardInfo(xShape: Shape4, filterShape: Shape4, g: ConvGeometry): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape, filterShape, g.strides, g.dilations, g.pad, g.dimRoundingMode, false, 'channelsLast');
}

function assertNhwc(dataFormat: unknown, kernel: string): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`scaat ${kernel} (wasm): only NHWC is supported, got dataFormat '${String(dataFormat)}'`);
  }
}

/**
 * Writes dy [B, oh, ow, C] into a zero tensor [B, LH, LW, C] at rows i·sh + top and columns
 * j·sw + left (pixels that fall outside are dropped). Caller owns the result (in `scratch`).
 */
export function stuffAndPad(
  backend: BackendWasm,
  scratch: Scratch,
  dy: TensorInfo,
  [sh, sw]: [number, number],
  [LH, LW]: [number, number],
  top: number,
  left: number,
): TensorInfo {
  const [B, oh, ow, C] = dy.shape as Shape4;
  const out = scratch.alloc([B, LH, LW, C], { zero: true });
  const src = heapF32(backend, dy);
  const dst = heapF32(backend, out);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < oh; i++) {
      const r = i * sh + top;
      if (r < 0 || r >= LH) continue;
      for (let j = 0; j < ow; j++) {
        const c = j * sw + left;
        if (c < 0 || c >= LW) continue;
        const s0 = ((b * oh + i) * ow + j) * C;
        dst.set(src.subarray(s0, s0 + C), ((b * LH + r) * LW + c) * C);
      }
    }
  }
  return out;
}

/** rot180(f) with in/out channels swapped: [kh, kw, Ci, Co] → [kh, kw, Co, Ci]. */
function rotateFilter(backend: BackendWasm, scratch: Scratch, filter: TensorInfo): TensorInfo {
  const [kh, kw, ci, co] = filter.shape as Shape4;
  const out = scratch.alloc([kh, kw, co, ci]);
  const f = heapF32(backend, filter);
  const r = heapF32(backend, out);
  for (let p = 0; p < kh; p++) {
    for (let q = 0; q < kw; q++) {
      const fBase = ((kh - 1 - p) * kw + (kw - 1 - q)) * ci * co;
      const rBase = (p * kw + q) * co * ci;
      for (let c = 0; c < ci; c++) {
        for (let o = 0; o < co; o++) r[rBase + o * ci + c] = f[fBase + c * co + o]!;
      }
    }
  }
  return out;
}

/**
 * ∂L/∂x of y = conv2d(x, filter) given dy, as one forward XNNPACK convolution.
 * Caller owns the result [B, H, W, Ci] (a wasm TensorInfo).
 */
export function conv2dBackpropInputWasm(
  backend: BackendWasm,
  dy: TensorInfo,
  filter: TensorInfo,
  inputShape: Shape4,
  g: ConvGeometry,
): TensorInfo {
  const info = forwardInfo(inputShape, filter.shape as Shape4, g);
  if (info.strideHeight > 1 || info.strideWidth > 1) {
    const phased = phasedInputGrad(backend, dy, filter, info);
    if (phased) return phased;
  }
  const scratch = new Scratch(backend);
  try {
    const rotated = rotateFilter(backend, scratch, filter);
    const { input, pad } = transposedConvInput(backend, scratch, dy, info);
    return callWasmKernel(backend, 'Conv2D', { x: input, filter: rotated }, {
      strides: [1, 1], pad, dilations: [info.dilationHeight, info.dilationWidth], dataFormat: 'NHWC',
    } as unknown as NamedAttrMap);
  } finally {
    scratch.dispose();
  }
}

/** Taps k of a kernel axis that reach output phase r (stride s, padding pad), with their dy offsets (r + pad − k) / s. */
function phaseTaps(r: number, s: number, k: number, pad: number): { tap: number; off: number }[] {
  const taps: { tap: number; off: number }[] = [];
  for (let t = 0; t < k; t++) if ((((r + pad - t) % s) + s) % s === 0) taps.push({ tap: t, off: (r + pad - t) / s });
  return taps;
}

/**
 * The row-phase convolutions of {@link phasedInputGrad} for `info` (the forward convolution), or
 * undefined where that route does not apply (dilation > 1).
 */
export function phasedInputGradPlan(info: tf.backend_util.Conv2DInfo) {
  const { inHeight: H, inWidth: W, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  const cols = Array.from({ length: sw }, (_, rx) => phaseTaps(rx, sw, kw, info.padInfo.left));
  const offs = cols.flat().map((t) => t.off);
  if (offs.length === 0) return undefined;
  // a window of KW dy columns, padded by padL; output column V' is ∂x's column phase V = V' − skipCols
  const eMin = Math.min(...offs);
  const KW = Math.max(...offs) - eMin + 1;
  const NV = Math.ceil(W / sw);
  const padL = Math.max(0, -eMin);
  const skipCols = eMin + padL;
  const padR = Math.max(0, skipCols + NV - (ow + padL - KW + 1));
  const NVout = ow + padL + padR - KW + 1;
  const rows = Array.from({ length: sh }, (_, ry) => {
    const taps = phaseTaps(ry, sh, kh, info.padInfo.top);
    const NU = Math.max(0, Math.ceil((H - ry) / sh));
    if (taps.length === 0 || NU === 0) return { taps, NU, dMin: 0, KH: 0, padT: 0, padB: 0, skipRows: 0, NUout: 0 };
    const dMin = Math.min(...taps.map((t) => t.off));
    const KH = Math.max(...taps.map((t) => t.off)) - dMin + 1;
    const padT = Math.max(0, -dMin);
    const skipRows = dMin + padT;
    const padB = Math.max(0, skipRows + NU - (oh + padT - KH + 1));
    return { taps, NU, dMin, KH, padT, padB, skipRows, NUout: oh + padT + padB - KH + 1 };
  });
  return { cols, eMin, KW, NV, padL, padR, skipCols, NVout, rows };
}

/**
 * ∂x of a strided convolution (dilation 1) without zero-stuffing dy: rows u = U·sh + ry of ∂x
 * (one row phase ry) only meet the taps p ≡ ry + top (mod sh), at dy rows U + (ry + top − p)/sh,
 * so each row phase is a stride-1 forward convolution of dy itself; the column phases rx are
 * merged into its output channels ([kh', kw', Co, sw·Ci], zero where a column phase has no tap at
 * that offset), so an output row [V, rx, c] is ∂x's row [v = V·sw + rx, c] as it lies, copied in
 * whole. The arithmetic is (Σ_ry |taps_ry|)·kw'·sw/(kh·kw) of the forward pass (4/3 for 3×3
 * stride 2) instead of sh·sw (4) with a stuffed dy. Where dy reaches beyond what ∂x needs (padding
 * that would be negative) the convolution computes the extra rows/columns and the copy skips
 * them. Undefined with dilation > 1 (TF.js allows no stride > 1 with it; the stuffed route).
 */
function phasedInputGrad(backend: BackendWasm, dy: TensorInfo, filter: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo | undefined {
  const plan = phasedInputGradPlan(info);
  if (!plan) return undefined;
  const { cols, eMin, KW, padL, padR, skipCols, NVout, rows } = plan;
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: ci, outChannels: co, strideHeight: sh, strideWidth: sw, filterWidth: kw } = info;
  const out = backend.makeOutput([B, H, W, ci], 'float32');
  return fillOutputs(backend, out, () => {
    const scratch = new Scratch(backend);
    try {
      const n = sw * ci;
      for (const [ry, { taps, NU, dMin, KH, padT, padB, skipRows, NUout }] of rows.entries()) {
        if (KH === 0) {
          const d = heapF32(backend, out);
          for (let b = 0; b < B; b++) for (let U = 0; U < NU; U++) d.fill(0, (b * H + U * sh + ry) * W * ci, (b * H + U * sh + ry + 1) * W * ci);
          continue;
        }
        const fp = scratch.alloc([KH, KW, co, n], { zero: true });
        const f = heapF32(backend, filter);
        const F = heapF32(backend, fp);
        for (const { tap: p, off: d } of taps) {
          for (const [rx, colTaps] of cols.entries()) {
            for (const { tap: q, off: e } of colTaps) {
              const fBase = (p * kw + q) * ci * co;
              const FBase = ((d - dMin) * KW + (e - eMin)) * co * n + rx * ci;
              for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) F[FBase + o * n + c] = f[fBase + c * co + o]!;
            }
          }
        }
        const res = scratch.keep(callWasmKernel(backend, 'Conv2D', { x: dy, filter: fp }, {
          strides: [1, 1], pad: explicitPad(padT, padB, padL, padR), dilations: [1, 1], dataFormat: 'NHWC',
        } as unknown as NamedAttrMap)); // [B, NUout, NVout, sw·Ci]: ∂x's rows from skipRows, columns from skipCols
        const src = heapF32(backend, res);
        const dst = heapF32(backend, out);
        for (let b = 0; b < B; b++) {
          for (let U = 0; U < NU; U++) {
            const s0 = ((b * NUout + U + skipRows) * NVout + skipCols) * n;
            dst.set(src.subarray(s0, s0 + W * ci), (b * H + U * sh + ry) * W * ci);
          }
        }
      }
    } finally {
      scratch.dispose();
    }
  });
}

/**
 * ∂L/∂filter of y = conv2d(x, filter) given dy, as one forward XNNPACK convolution over the
 * transposed input with the transposed dy as the filter. Caller owns the result [kh, kw, Ci, Co].
 */
export function conv2dBackpropFilterWasm(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  filterShape: Shape4,
  g: ConvGeometry,
): TensorInfo {
  const info = forwardInfo(x.shape as Shape4, filterShape, g);
  // scaat's SIMD kernel reads x and dy in place (./_filter-grad.ts); the XNNPACK routes below where it does not apply
  const simd = simdFilterGrad(backend, x, dy, info);
  if (simd) return simd;
  const { inHeight: H, inWidth: W, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow, inChannels: ci, outChannels: co } = info;
  const { top, left } = info.padInfo;
  // x as the filter (see the module header): stride 1, x smaller than dy, and padding within reach
  const [topX, leftX] = [(kh - 1) * dh - top, (kw - 1) * dw - left];
  const [bottomX, rightX] = [(kh - 1) * dh + H - oh - topX, (kw - 1) * dw + W - ow - leftX];
  if (sh === 1 && sw === 1 && tf.util.sizeFromShape(x.shape) < tf.util.sizeFromShape(dy.shape) && Math.min(topX, leftX, bottomX, rightX) >= 0) {
    const scratch = new Scratch(backend);
    try {
      const dyT = swapBatchAndChannels(backend, scratch, dy); // [Co, oh, ow, B]
      const xk = scratch.keep(callWasmKernel(backend, 'Transpose', { x }, { perm: [1, 2, 0, 3] })); // [H, W, B, Ci]
      const res = scratch.keep(callWasmKernel(backend, 'Conv2D', { x: dyT, filter: xk }, {
        strides: [dh, dw], pad: explicitPad(topX, bottomX, leftX, rightX), dilations: [1, 1], dataFormat: 'NHWC',
      } as unknown as NamedAttrMap)); // [Co, kh, kw, Ci], kernel positions reversed
      const out = backend.makeOutput([kh, kw, ci, co], 'float32');
      const src = heapF32(backend, res);
      const dst = heapF32(backend, out);
      for (let p = 0; p < kh; p++) {
        for (let q = 0; q < kw; q++) {
          const d0 = (p * kw + q) * ci * co;
          for (let o = 0; o < co; o++) {
            const s0 = ((o * kh + (kh - 1 - p)) * kw + (kw - 1 - q)) * ci;
            for (let c = 0; c < ci; c++) dst[d0 + c * co + o] = src[s0 + c]!;
          }
        }
      }
      return out;
    } finally {
      scratch.dispose();
    }
  }
  // Rows of padded x that the forward pass reads: exactly (oh−1)·sh + 1 + (kh−1)·dh.
  const bottom = Math.max(0, (oh - 1) * sh + 1 + (kh - 1) * dh - top - H);
  const right = Math.max(0, (ow - 1) * sw + 1 + (kw - 1) * dw - left - W);
  const scratch = new Scratch(backend);
  try {
    const xT = swapBatchAndChannels(backend, scratch, x); // [Ci, H, W, B]
    const dyT = scratch.keep(callWasmKernel(backend, 'Transpose', { x: dy }, { perm: [1, 2, 0, 3] })); // [oh, ow, B, Co]
    const res = scratch.keep(callWasmKernel(backend, 'Conv2D', { x: xT, filter: dyT }, {
      strides: [dh, dw], pad: explicitPad(top, bottom, left, right), dilations: [sh, sw], dataFormat: 'NHWC',
    } as unknown as NamedAttrMap)); // [Ci, ≥kh, ≥kw, Co]
    const [, rh, rw] = res.shape as Shape4;
    const out = backend.makeOutput([kh, kw, ci, co], 'float32');
    const src = heapF32(backend, res);
    const dst = heapF32(backend, out);
    for (let p = 0; p < kh; p++) {
      for (let q = 0; q < kw; q++) {
        for (let c = 0; c < ci; c++) {
          const s0 = ((c * rh + p) * rw + q) * co;
          dst.set(src.subarray(s0, s0 + co), ((p * kw + q) * ci + c) * co);
        }
      }
    }
    return out;
  } finally {
    scratch.dispose();
  }
}

function dilationsOf(attrs: object): [number, number] | number {
  return (attrs as { dilations?: [number, number] | number }).dilations ?? 1;
}

/** wasm `Conv2DBackpropInput` (accepts an extra `dilations` attr, default 1). */
export function conv2dBackpropInputKernel({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo {
  const a = attrs as unknown as Conv2DBackpropInputAttrs;
  assertNhwc(a.dataFormat, 'Conv2DBackpropInput');
  return conv2dBackpropInputWasm(backend, inputs['dy']!, inputs['filter']!, a.inputShape, {
    strides: a.strides, dilations: dilationsOf(a), pad: a.pad, dimRoundingMode: a.dimRoundingMode,
  });
}

/** wasm `Conv2DBackpropFilter` (accepts an extra `dilations` attr, default 1). */
export function conv2dBackpropFilterKernel({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo {
  const a = attrs as unknown as Conv2DBackpropFilterAttrs;
  assertNhwc(a.dataFormat, 'Conv2DBackpropFilter');
  return conv2dBackpropFilterWasm(backend, inputs['x']!, inputs['dy']!, a.filterShape, {
    strides: a.strides, dilations: dilationsOf(a), pad: a.pad, dimRoundingMode: a.dimRoundingMode,
  });
}

/** Kernel names for the dilation-aware variants the `Conv2D` gradient uses on wasm when dilation > 1. */
export const DILATED_CONV2D_BACKPROP_INPUT = 'ScaatDilatedConv2DBackpropInput';
export const DILATED_CONV2D_BACKPROP_FILTER = 'ScaatDilatedConv2DBackpropFilter';

let stockConv2dGrad: GradConfig | undefined;

/**
 * The `Conv2D` gradient: on wasm it calls the XNNPACK-based kernels above (and also handles
 * dilation > 1, which stock TF.js rejects); on every other backend, and for NCHW, it is exactly
 * the stock TF.js gradient (captured from the registry before it is replaced).
 */
export function conv2dGradConfig(): GradConfig {
  if (stockConv2dGrad === undefined) {
    const g = tf.getGradient('Conv2D');
    if (g === undefined) throw new Error('scaat kernels: TF.js has no stock Conv2D gradient to wrap');
    stockConv2dGrad = g;
  }
  const stock = stockConv2dGrad;
  return {
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const a = attrs as unknown as Conv2DAttrs;
      if (tf.getBackend() !== 'wasm' || (a.dataFormat !== undefined && a.dataFormat !== 'NHWC')) {
        return stock.gradFunc(dy, saved, attrs);
      }
      const [x, filter] = saved as [Tensor4D, Tensor4D];
      const d = a.dilations ?? 1;
      const dilated = Array.isArray(d) ? d[0] !== 1 || d[1] !== 1 : d !== 1;
      const common = { strides: a.strides, pad: a.pad, dataFormat: 'NHWC', dimRoundingMode: a.dimRoundingMode, dilations: d };
      const engine = tf.engine();
      return {
        x: () => engine.runKernel(dilated ? DILATED_CONV2D_BACKPROP_INPUT : 'Conv2DBackpropInput',
          { dy: dy as Tensor4D, filter }, { ...common, inputShape: x.shape } as unknown as NamedAttrMap),
        filter: () => engine.runKernel(dilated ? DILATED_CONV2D_BACKPROP_FILTER : 'Conv2DBackpropFilter',
          { x, dy: dy as Tensor4D }, { ...common, filterShape: filter.shape } as unknown as NamedAttrMap),
      };
    },
  };
}

let stockConv2d: tf.KernelConfig | undefined;
let stockConv2dSetUp = false;

/**
 * wasm `Conv2D`: scaat's SIMD kernel (./_conv-fwd.ts) for float32 NHWC with Co a multiple of 4
 * where the module runs, else the stock XNNPACK kernel. The gradients' forward convolutions above
 * call it too (through the registry).
 */
export function conv2dForwardKernel(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, filter } = inputs as { x: TensorInfo; filter: TensorInfo };
  const a = attrs as unknown as Conv2DAttrs;
  if (x.dtype === 'float32' && filter.dtype === 'float32' && (a.dataFormat === undefined || a.dataFormat === 'NHWC')) {
    const info = forwardInfo(x.shape as Shape4, filter.shape as Shape4, a);
    const out = simdConv2d(backend, x, filter, info);
    if (out) return out;
  }
  if (stockConv2d === undefined) throw new Error('scaat Conv2D (wasm): no stock kernel to fall back to');
  // a replaced stock kernel misses its setup when the backend initialises after the swap; setup is idempotent
  if (stockConv2d.setupFunc && !stockConv2dSetUp) {
    stockConv2d.setupFunc(backend as unknown as tf.KernelBackend);
    stockConv2dSetUp = true;
  }
  return stockConv2d.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as TensorInfo;
}

/** Registers the wasm conv kernels (idempotent; replaces stock `Conv2D` and `Conv2DBackpropInput`). */
export function registerConv2dKernels(): void {
  const current = tf.getKernel('Conv2D', 'wasm');
  if (current && current.kernelFunc !== (conv2dForwardKernel as unknown as tf.KernelFunc)) stockConv2d = current;
  replaceKernel('Conv2D', conv2dForwardKernel);
  replaceKernel('Conv2DBackpropInput', conv2dBackpropInputKernel);
  replaceKernel('Conv2DBackpropFilter', conv2dBackpropFilterKernel);
  replaceKernel(DILATED_CONV2D_BACKPROP_INPUT, conv2dBackpropInputKernel);
  replaceKernel(DILATED_CONV2D_BACKPROP_FILTER, conv2dBackpropFilterKernel);
}

/**
 * dy prepared for an input gradient computed as a stride-1 forward convolution with the rotated
 * filter (conv2d and depthwise alike): padded so the result is H × W. XNNPACK cannot dilate its
 * input or crop, so with strides > 1 or a negative padding the zero-stuffed, padded dy is
 * materialised (owned by `scratch`); otherwise dy is used as it is, with explicit padding.
 */
export function transposedConvInput(
  backend: BackendWasm,
  scratch: Scratch,
  dy: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): { input: TensorInfo; pad: tf.backend_util.ExplicitPadding } {
  const { inHeight: H, inWidth: W, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow } = info;
  const top = (kh - 1) * dh - info.padInfo.top;
  const left = (kw - 1) * dw - info.padInfo.left;
  const LH = H + (kh - 1) * dh;
  const LW = W + (kw - 1) * dw;
  const bottom = LH - top - ((oh - 1) * sh + 1);
  const right = LW - left - ((ow - 1) * sw + 1);
  if (sh !== 1 || sw !== 1 || top < 0 || bottom < 0 || left < 0 || right < 0) {
    return { input: stuffAndPad(backend, scratch, dy, [sh, sw], [LH, LW], top, left), pad: explicitPad(0, 0, 0, 0) };
  }
  return { input: dy, pad: explicitPad(top, bottom, left, right) };
}

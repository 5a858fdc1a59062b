/**
 * TF.js kernels for the wasm backend that run in scaat's native addon (oneDNN), reading and
 * writing the tensors in place on the wasm heap (zero-copy).
 *
 * Each kernel handles the common case (float32, NHWC, the activations oneDNN fuses) and hands
 * every other call, unchanged, to the kernel that was registered before it (stock wasm or
 * scaat's pure-wasm training kernels), so registering them never changes what runs, only how
 * fast. Geometry comes from TF.js's own `computeConv2DInfo` / `computePool2DInfo`, so padding
 * and rounding mean exactly what they mean on every other backend.
 */
import * as tf from '@tensorflow/tfjs';
import type {
  BatchMatMulAttrs,
  Conv2DAttrs,
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  FusedBatchNormAttrs,
  FusedConv2DAttrs,
  KernelConfig,
  KernelFunc,
  MaxPoolAttrs,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
  _FusedMatMulAttrs,
} from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { FUSED_BATCH_NORM_GRAD } from '../kernels/batch-norm.js';
import { DILATED_CONV2D_BACKPROP_FILTER, DILATED_CONV2D_BACKPROP_INPUT } from '../kernels/conv2d.js';
import type { NativeAddon } from './_addon.js';
import { elementwiseKernels } from './elementwise.js';

/** Kernel of the native ReLU gradient (inputs {dy, x}, float32, same shape): dy · [x > 0]. */
export const NATIVE_RELU_GRAD = 'ScaatNativeReluGrad';

/**
 * Kernel of training-mode batch norm with batch statistics (./batch-norm-layer.ts): inputs
 * {x, scale?, offset?} (x float32, channels last; scale/offset [C]), attrs {varianceEpsilon};
 * outputs [y, mean, variance] (mean and biased variance over every axis but the last, [C]).
 */
export const NATIVE_BATCH_NORM_TRAINING = 'ScaatNativeBatchNormTraining';
/**
 * Its gradient: inputs {x, dy, mean, variance, scale?, dmean?, dvariance?} (the last two: the
 * gradients reaching the statistics outputs), attrs {varianceEpsilon}; outputs [dx, dscale, doffset].
 */
export const NATIVE_BATCH_NORM_TRAINING_GRAD = 'ScaatNativeBatchNormTrainingGrad';

/** What a TF.js kernel function receives on the wasm backend. */
export interface NativeKernelArgs {
  readonly inputs: NamedTensorInfoMap;
  readonly backend: BackendWasm;
  readonly attrs?: NamedAttrMap;
}
export type NativeKernel = (args: NativeKernelArgs) => TensorInfo | TensorInfo[];

type Shape4 = [number, number, number, number];
type Conv2DInfo = tf.backend_util.Conv2DInfo;

/** Activation codes of native/src/onednn_kernels.h (`Act`); 'prelu' is not fused natively. */
const ACTIVATION_CODES: Readonly<Record<string, number>> = {
  linear: 0,
  relu: 1,
  relu6: 2,
  elu: 3,
  sigmoid: 4,
  leakyrelu: 5,
};
/** TF.js's default slope for 'leakyrelu' when the op gives none (tf.leakyRelu alpha = 0.2). */
const DEFAULT_LEAKY_ALPHA = 0.2;

/** The kernel each native kernel defers to when it does not handle a call. */
export type Fallbacks = ReadonlyMap<string, KernelConfig>;

/** Builds the native kernels over `addon`, deferring to `fallbacks` for unsupported calls. */
export function nativeKernels(addon: NativeAddon, fallbacks: Fallbacks): ReadonlyMap<string, NativeKernel> {
  const setUp = new Set<string>();
  const defer = <T extends TensorInfo | TensorInfo[] = TensorInfo>(name: string, args: NativeKernelArgs, why: string): T => {
    const k = fallbacks.get(name);
    if (k === undefined) throw new Error(`scaat native ${name}: unsupported here (${why}) and no wasm kernel to fall back to`);
    // A replaced stock kernel misses its setup when the backend initialises after the swap; setup is idempotent.
    if (k.setupFunc && !setUp.has(name)) {
      k.setupFunc(args.backend);
      setUp.add(name);
    }
    return k.kernelFunc(args as unknown as Parameters<KernelFunc>[0]) as T;
  };

  const conv2d: NativeKernel = (args) => {
    const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
    const a = args.attrs as unknown as Conv2DAttrs;
    const info = floatNhwc([x, filter], a.dataFormat) ? convInfo(x.shape, filter.shape, a) : undefined;
    const g = info && convGeometry(info);
    if (!info || !g) return defer('Conv2D', args, 'dtype, layout or padding');
    return runConv(addon, args.backend, 0, g, info.outShape, [x, filter], undefined, 0, 0);
  };

  const fusedConv2d: NativeKernel = (args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
    const a = args.attrs as unknown as FusedConv2DAttrs;
    const act = ACTIVATION_CODES[a.activation];
    const ok = x && filter && act !== undefined && preluActivationWeights === undefined &&
      floatNhwc(bias ? [x, filter, bias] : [x, filter], a.dataFormat) &&
      (!bias || isVector(bias.shape, filter.shape[3]!));
    const info = ok ? convInfo(x.shape, filter.shape, a) : undefined;
    const g = info && convGeometry(info);
    if (!x || !filter || !info || !g || act === undefined) return defer('FusedConv2D', args, 'activation, bias or layout');
    return runConv(addon, args.backend, 0, g, info.outShape, [x, filter], bias, act, a.leakyreluAlpha ?? DEFAULT_LEAKY_ALPHA);
  };

  // `name` is the kernel registered: stock names, or scaat's dilation-aware aliases of them.
  const conv2dBackpropInput = (name: string): NativeKernel => (args) => {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const a = args.attrs as unknown as Conv2DBackpropInputAttrs;
    const info = floatNhwc([dy, filter], a.dataFormat) ? convInfo(a.inputShape, filter.shape, a) : undefined;
    const g = info && sameShape(info.outShape, dy.shape) ? convGeometry(info) : undefined;
    if (!g) return defer(name, args, 'dtype, layout or padding');
    return runConv(addon, args.backend, 1, g, [...a.inputShape], [dy, filter], undefined, 0, 0);
  };

  const conv2dBackpropFilter = (name: string): NativeKernel => (args) => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const a = args.attrs as unknown as Conv2DBackpropFilterAttrs;
    const info = floatNhwc([x, dy], a.dataFormat) ? convInfo(x.shape, a.filterShape, a) : undefined;
    const g = info && sameShape(info.outShape, dy.shape) ? convGeometry(info) : undefined;
    if (!g) return defer(name, args, 'dtype, layout or padding');
    return runConv(addon, args.backend, 2, g, [...a.filterShape], [x, dy], undefined, 0, 0);
  };

  const batchMatMul: NativeKernel = (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
    const plan = matmulPlan(a, b, transposeA, transposeB);
    if (!plan) return defer('BatchMatMul', args, 'dtype or batch broadcasting');
    return runMatmul(addon, args.backend, plan, a, b, undefined, 0, 0);
  };

  const fusedMatMul: NativeKernel = (args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
    const attrs = args.attrs as unknown as _FusedMatMulAttrs;
    const act = ACTIVATION_CODES[attrs.activation];
    const plan = a && b ? matmulPlan(a, b, attrs.transposeA, attrs.transposeB) : undefined;
    const ok = plan && act !== undefined && preluActivationWeights === undefined &&
      (!bias || (bias.dtype === 'float32' && isVector(bias.shape, plan.n)));
    if (!ok || !a || !b || act === undefined) return defer('_FusedMatMul', args, 'activation, bias or broadcasting');
    return runMatmul(addon, args.backend, plan, a, b, bias, act, attrs.leakyreluAlpha ?? DEFAULT_LEAKY_ALPHA);
  };

  const maxPoolGrad: NativeKernel = (args) => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
    const a = args.attrs as unknown as MaxPoolAttrs;
    const info = floatNhwc([dy, input], undefined) ? poolInfo(input.shape, a) : undefined;
    const g = info && sameShape(info.outShape, dy.shape) ? poolGeometry(info) : undefined;
    if (!g) return defer('MaxPoolGrad', args, 'dtype or padding');
    const { backend } = args;
    const dx = backend.makeOutput([...input.shape], 'float32');
    return into(backend, dx, () =>
      addon.maxPool2dGrad(heapOf(backend, dx), new Float64Array([...g, offsetOf(backend, input), offsetOf(backend, dy), offsetOf(backend, dx)])));
  };

  const fusedBatchNorm: NativeKernel = (args) => {
    const { x, mean, variance, offset, scale } = args.inputs as Record<string, TensorInfo | undefined>;
    const eps = (args.attrs as unknown as FusedBatchNormAttrs).varianceEpsilon;
    const c = x?.shape[x.shape.length - 1];
    const ok = x && mean && variance && c !== undefined &&
      floatNhwc([x, mean, variance, ...(offset ? [offset] : []), ...(scale ? [scale] : [])], undefined) &&
      [mean, variance, offset, scale].every((t) => !t || isVector(t.shape, c));
    if (!ok || !x || !mean || !variance || c === undefined) return defer('FusedBatchNorm', args, 'dtype or statistics shape');
    const { backend } = args;
    const y = backend.makeOutput([...x.shape], 'float32');
    return into(backend, y, () => addon.batchNorm(heapOf(backend, y), new Float64Array([0, tf.util.sizeFromShape(x.shape) / c, c, eps,
      offsetOf(backend, x), offsetOf(backend, mean), offsetOf(backend, variance), optionalOffset(backend, scale), optionalOffset(backend, offset), offsetOf(backend, y)])));
  };

  // src/engine/kernels/batch-norm.ts's one-pass FusedBatchNorm gradient: outputs [∂x, ∂μ, ∂σ², ∂γ, ∂β].
  const fusedBatchNormGrad: NativeKernel = (args) => {
    const { x, dy, mean, variance, scale } = args.inputs as Record<string, TensorInfo | undefined>;
    const eps = (args.attrs as unknown as FusedBatchNormAttrs).varianceEpsilon;
    const c = x?.shape[x.shape.length - 1];
    const ok = x && dy && mean && variance && c !== undefined && sameShape(x.shape, dy.shape) &&
      floatNhwc([x, dy, mean, variance, ...(scale ? [scale] : [])], undefined) &&
      [mean, variance, scale].every((t) => !t || isVector(t.shape, c));
    if (!ok || !x || !dy || !mean || !variance || c === undefined) {
      return defer<TensorInfo[]>(FUSED_BATCH_NORM_GRAD, args, 'dtype or statistics shape');
    }
    const { backend } = args;
    const outs = [[...x.shape], [c], [c], [c], [c]].map((shape) => backend.makeOutput(shape, 'float32'));
    return into(backend, outs, () => addon.batchNorm(heapOf(backend, outs[0]!), new Float64Array([1, tf.util.sizeFromShape(x.shape) / c, c, eps,
      offsetOf(backend, x), offsetOf(backend, dy), offsetOf(backend, mean), offsetOf(backend, variance),
      optionalOffset(backend, scale), ...outs.map((o) => offsetOf(backend, o))])));
  };

  // Only reached through ./batch-norm-layer.ts, which checks dtype and layout and always passes
  // scale and offset (ones and zeros when the layer has none).
  const batchNormTraining: NativeKernel = ({ inputs, backend, attrs }) => {
    const { x, scale, offset } = inputs as Record<string, TensorInfo | undefined>;
    const eps = (attrs as unknown as FusedBatchNormAttrs).varianceEpsilon;
    const c = x!.shape[x!.shape.length - 1]!;
    const outs = [[...x!.shape], [c], [c]].map((shape) => backend.makeOutput(shape, 'float32'));
    return into(backend, outs, () => addon.batchNorm(heapOf(backend, outs[0]!), new Float64Array([2,
      tf.util.sizeFromShape(x!.shape) / c, c, eps, offsetOf(backend, x!), optionalOffset(backend, scale), optionalOffset(backend, offset),
      ...outs.map((o) => offsetOf(backend, o))])));
  };

  const batchNormTrainingGrad: NativeKernel = ({ inputs, backend, attrs }) => {
    const { x, dy, mean, variance, scale, dmean, dvariance } = inputs as Record<string, TensorInfo | undefined>;
    const eps = (attrs as unknown as FusedBatchNormAttrs).varianceEpsilon;
    const c = x!.shape[x!.shape.length - 1]!;
    const outs = [[...x!.shape], [c], [c]].map((shape) => backend.makeOutput(shape, 'float32'));
    return into(backend, outs, () => addon.batchNorm(heapOf(backend, outs[0]!), new Float64Array([3,
      tf.util.sizeFromShape(x!.shape) / c, c, eps, offsetOf(backend, x!), offsetOf(backend, dy!), offsetOf(backend, mean!),
      offsetOf(backend, variance!), optionalOffset(backend, scale), optionalOffset(backend, dmean), optionalOffset(backend, dvariance), ...outs.map((o) => offsetOf(backend, o))])));
  };

  // Only reached through reluGradConfig (./gradients.ts), which checks dtype and shapes first.
  const reluGrad: NativeKernel = ({ inputs, backend }) => {
    const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
    const dx = backend.makeOutput([...x.shape], 'float32');
    const n = tf.util.sizeFromShape(x.shape);
    if (n === 0) return dx;
    return into(backend, dx, () =>
      addon.reluGrad(heapOf(backend, dx), new Float64Array([n, offsetOf(backend, dy), offsetOf(backend, x), offsetOf(backend, dx)])));
  };

  return new Map<string, NativeKernel>([
    [NATIVE_RELU_GRAD, reluGrad],
    [NATIVE_BATCH_NORM_TRAINING, batchNormTraining],
    [NATIVE_BATCH_NORM_TRAINING_GRAD, batchNormTrainingGrad],
    ['FusedBatchNorm', fusedBatchNorm],
    [FUSED_BATCH_NORM_GRAD, fusedBatchNormGrad],
    ['Conv2D', conv2d],
    ['FusedConv2D', fusedConv2d],
    ['Conv2DBackpropInput', conv2dBackpropInput('Conv2DBackpropInput')],
    ['Conv2DBackpropFilter', conv2dBackpropFilter('Conv2DBackpropFilter')],
    [DILATED_CONV2D_BACKPROP_INPUT, conv2dBackpropInput(DILATED_CONV2D_BACKPROP_INPUT)],
    [DILATED_CONV2D_BACKPROP_FILTER, conv2dBackpropFilter(DILATED_CONV2D_BACKPROP_FILTER)],
    ['BatchMatMul', batchMatMul],
    ['_FusedMatMul', fusedMatMul],
    ['MaxPoolGrad', maxPoolGrad],
    ...elementwiseKernels(addon, defer), // Add, Sub, Multiply, Relu, MaxPool, Sum, Mean: ./elementwise.ts
  ]);
}

// ---------------------------------------------------------------------------------------------

function heapOf(backend: BackendWasm, t: TensorInfo): ArrayBufferLike {
  // Taken after every allocation of the call: an allocation may grow (and replace) the heap.
  return backend.typedArrayFromHeap(t).buffer;
}

function offsetOf(backend: BackendWasm, t: TensorInfo): number {
  return backend.getMemoryOffset(t.dataId);
}

/** The offset of an optional operand, or -1 (the addon's "absent"). */
function optionalOffset(backend: BackendWasm, t: TensorInfo | undefined): number {
  return t ? offsetOf(backend, t) : -1;
}

/** Runs the addon call that fills `outs`; frees them if it throws (nothing leaks on the heap). */
function into<T extends TensorInfo | TensorInfo[]>(backend: BackendWasm, outs: T, call: () => void): T {
  try {
    call();
  } catch (err) {
    for (const o of Array.isArray(outs) ? outs : [outs]) backend.disposeData(o.dataId);
    throw err;
  }
  return outs;
}

function floatNhwc(ts: readonly TensorInfo[], dataFormat: string | undefined): boolean {
  const layoutOk = dataFormat === undefined || dataFormat === 'NHWC' || dataFormat === 'channelsLast';
  return layoutOk && ts.every((t) => t.dtype === 'float32' && t.shape.every((d) => d > 0));
}

function isVector(shape: readonly number[], n: number): boolean {
  return shape.length >= 1 && shape[shape.length - 1] === n && shape.every((d, i) => i === shape.length - 1 || d === 1);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

interface ConvAttrsLike {
  strides: [number, number] | number;
  pad: Conv2DAttrs['pad'];
  dimRoundingMode?: 'floor' | 'round' | 'ceil' | undefined;
}

function convInfo(xShape: readonly number[], filterShape: readonly number[], a: ConvAttrsLike): Conv2DInfo | undefined {
  if (xShape.length !== 4 || filterShape.length !== 4) return undefined;
  // The backprop kernels carry the forward dilation as an extra attr (src/engine/kernels/conv2d.ts).
  const dilations = (a as { dilations?: [number, number] | number }).dilations ?? 1;
  return tf.backend_util.computeConv2DInfo(
    [...xShape] as Shape4, [...filterShape] as Shape4, a.strides, dilations, a.pad, a.dimRoundingMode, false, 'channelsLast');
}

/**
 * The addon's conv geometry [n, h, w, c, oc, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl, pb, pr].
 * pb/pr are the padding after that makes exactly oh × ow outputs: smaller than TF's when padding
 * rows go unread, negative when input rows go unread (the addon then convolves a view without them).
 */
function convGeometry(i: Conv2DInfo): number[] | undefined {
  const pb = (i.outHeight - 1) * i.strideHeight + (i.filterHeight - 1) * i.dilationHeight + 1 - i.inHeight - i.padInfo.top;
  const pr = (i.outWidth - 1) * i.strideWidth + (i.filterWidth - 1) * i.dilationWidth + 1 - i.inWidth - i.padInfo.left;
  if (i.padInfo.top < 0 || i.padInfo.left < 0) return undefined;
  return [i.batchSize, i.inHeight, i.inWidth, i.inChannels, i.outChannels, i.filterHeight, i.filterWidth,
    i.outHeight, i.outWidth, i.strideHeight, i.strideWidth, i.dilationHeight, i.dilationWidth,
    i.padInfo.top, i.padInfo.left, pb, pr];
}

function runConv(
  addon: NativeAddon,
  backend: BackendWasm,
  op: 0 | 1 | 2,
  geometry: number[],
  outShape: number[],
  [in0, in1]: [TensorInfo, TensorInfo],
  bias: TensorInfo | undefined,
  act: number,
  alpha: number,
): TensorInfo {
  const out = backend.makeOutput(outShape, 'float32');
  const params = new Float64Array([op, ...geometry, act, alpha, offsetOf(backend, in0), offsetOf(backend, in1),
    optionalOffset(backend, bias), offsetOf(backend, out)]);
  return into(backend, out, () => addon.conv2d(heapOf(backend, out), params));
}

function poolInfo(xShape: readonly number[], a: MaxPoolAttrs): Conv2DInfo | undefined {
  if (xShape.length !== 4) return undefined;
  return tf.backend_util.computePool2DInfo([...xShape] as Shape4, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
}

/** The addon's max-pool geometry [n, h, w, c, oh, ow, kh, kw, sh, sw, pt, pl]. */
function poolGeometry(i: Conv2DInfo): number[] | undefined {
  if (i.padInfo.top < 0 || i.padInfo.left < 0 || i.dilationHeight !== 1 || i.dilationWidth !== 1) return undefined;
  return [i.batchSize, i.inHeight, i.inWidth, i.inChannels, i.outHeight, i.outWidth, i.filterHeight, i.filterWidth,
    i.strideHeight, i.strideWidth, i.padInfo.top, i.padInfo.left];
}

interface MatmulPlan {
  readonly batch: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transA: boolean;
  readonly transB: boolean;
  readonly strideA: number;
  readonly strideB: number;
  readonly outShape: number[];
}

/** Batched matmul with one side broadcast at most; undefined for anything else (deferred). */
function matmulPlan(a: TensorInfo, b: TensorInfo, transA: boolean, transB: boolean): MatmulPlan | undefined {
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2 || a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  if (!a.shape.every((d) => d > 0) || !b.shape.every((d) => d > 0)) return undefined;
  const m = transA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (k !== kb) return undefined; // the fallback throws TF.js's own message
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = tf.util.sizeFromShape(outerA);
  const batchB = tf.util.sizeFromShape(outerB);
  let outer: number[];
  try {
    outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return undefined;
  }
  const batch = Math.max(batchA, batchB);
  if (tf.util.sizeFromShape(outer) !== batch || (batchA !== batchB && batchA !== 1 && batchB !== 1)) return undefined;
  return {
    batch, m, n, k, transA, transB,
    strideA: batchA === 1 ? 0 : m * k,
    strideB: batchB === 1 ? 0 : k * n,
    outShape: [...outer, m, n],
  };
}

function runMatmul(
  addon: NativeAddon,
  backend: BackendWasm,
  p: MatmulPlan,
  a: TensorInfo,
  b: TensorInfo,
  bias: TensorInfo | undefined,
  act: number,
  alpha: number,
): TensorInfo {
  const out = backend.makeOutput(p.outShape, 'float32');
  const params = new Float64Array([p.batch, p.m, p.n, p.k, p.transA ? 1 : 0, p.transB ? 1 : 0,
    offsetOf(backend, a), p.strideA, offsetOf(backend, b), p.strideB, optionalOffset(backend, bias),
    act, alpha, offsetOf(backend, out)]);
  return into(backend, out, () => addon.matmul(heapOf(backend, out), params));
}

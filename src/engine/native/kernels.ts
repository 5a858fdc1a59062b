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
import { fillOutputs } from '../kernels/_wasm.js';
import type { NativeAddon } from './_addon.js';
import { elementwiseKernels } from './elementwise.js';
import {
  ACT,
  BATCH_NORM_BACKWARD_PARAMS,
  BATCH_NORM_FORWARD_PARAMS,
  BATCH_NORM_OP,
  BATCH_NORM_TRAINING_BACKWARD_PARAMS,
  BATCH_NORM_TRAINING_FORWARD_PARAMS,
  CONV2D_PARAMS,
  CONV_OP,
  MATMUL_PARAMS,
  MAX_POOL2D_GRAD_PARAMS,
  RELU_GRAD_PARAMS,
  packParams,
} from './op-codes.js';
import type { Code, ParamValues, PoolGeometry } from './op-codes.js';

/*
 * The three fused training kernels below are registered by name on wasm twice: on pure wasm by
 * scaat's SIMD implementations (../kernels/fused-training.ts, native/wasm/batch_norm.c and
 * relu_grad.c), and over those, when the accelerator loads, by this file's native ones. Both
 * implement the semantics written here.
 */

/** Kernel of the fused ReLU gradient (inputs {dy, x}, float32, same shape): dy · [x > 0]. */
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

/** The addon's code of a TF.js fused activation; undefined for 'prelu' (not fused natively). */
function activationCode(name: string): Code<typeof ACT> | undefined {
  return Object.hasOwn(ACT, name) ? ACT[name as keyof typeof ACT] : undefined;
}
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
    return runConv(addon, args.backend, CONV_OP.forward, g, info.outShape, [x, filter], undefined, ACT.linear, 0);
  };

  const fusedConv2d: NativeKernel = (args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
    const a = args.attrs as unknown as FusedConv2DAttrs;
    const act = activationCode(a.activation);
    const ok = x && filter && act !== undefined && preluActivationWeights === undefined &&
      floatNhwc(bias ? [x, filter, bias] : [x, filter], a.dataFormat) &&
      (!bias || isVector(bias.shape, filter.shape[3]!));
    const info = ok ? convInfo(x.shape, filter.shape, a) : undefined;
    const g = info && convGeometry(info);
    if (!x || !filter || !info || !g || act === undefined) return defer('FusedConv2D', args, 'activation, bias or layout');
    return runConv(addon, args.backend, CONV_OP.forward, g, info.outShape, [x, filter], bias, act,
      a.leakyreluAlpha ?? DEFAULT_LEAKY_ALPHA);
  };

  // `name` is the kernel registered: stock names, or scaat's dilation-aware aliases of them.
  const conv2dBackpropInput = (name: string): NativeKernel => (args) => {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const a = args.attrs as unknown as Conv2DBackpropInputAttrs;
    const info = floatNhwc([dy, filter], a.dataFormat) ? convInfo(a.inputShape, filter.shape, a) : undefined;
    const g = info && sameShape(info.outShape, dy.shape) ? convGeometry(info) : undefined;
    if (!g) return defer(name, args, 'dtype, layout or padding');
    return runConv(addon, args.backend, CONV_OP.backwardData, g, [...a.inputShape], [dy, filter], undefined, ACT.linear, 0);
  };

  const conv2dBackpropFilter = (name: string): NativeKernel => (args) => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const a = args.attrs as unknown as Conv2DBackpropFilterAttrs;
    const info = floatNhwc([x, dy], a.dataFormat) ? convInfo(x.shape, a.filterShape, a) : undefined;
    const g = info && sameShape(info.outShape, dy.shape) ? convGeometry(info) : undefined;
    if (!g) return defer(name, args, 'dtype, layout or padding');
    return runConv(addon, args.backend, CONV_OP.backwardWeights, g, [...a.filterShape], [x, dy], undefined, ACT.linear, 0);
  };

  const batchMatMul: NativeKernel = (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
    const plan = matmulPlan(a, b, transposeA, transposeB);
    if (!plan) return defer('BatchMatMul', args, 'dtype or batch broadcasting');
    return runMatmul(addon, args.backend, plan, a, b, undefined, ACT.linear, 0);
  };

  const fusedMatMul: NativeKernel = (args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
    const attrs = args.attrs as unknown as _FusedMatMulAttrs;
    const act = activationCode(attrs.activation);
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
    return fillOutputs(backend, dx, () => addon.maxPool2dGrad(heapOf(backend, dx), packParams(MAX_POOL2D_GRAD_PARAMS,
      { ...g, offX: offsetOf(backend, input), offDy: offsetOf(backend, dy), offDx: offsetOf(backend, dx) })));
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
    return fillOutputs(backend, y, () => addon.batchNorm(heapOf(backend, y), packParams(BATCH_NORM_FORWARD_PARAMS, {
      op: BATCH_NORM_OP.forward, rows: tf.util.sizeFromShape(x.shape) / c, c, eps,
      offX: offsetOf(backend, x), offMean: offsetOf(backend, mean), offVar: offsetOf(backend, variance),
      offScale: optionalOffset(backend, scale), offOffset: optionalOffset(backend, offset), offY: offsetOf(backend, y),
    })));
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
    const [dx, dmean, dvariance, dscale, doffset] = outs as [TensorInfo, TensorInfo, TensorInfo, TensorInfo, TensorInfo];
    return fillOutputs(backend, outs, () => addon.batchNorm(heapOf(backend, dx), packParams(BATCH_NORM_BACKWARD_PARAMS, {
      op: BATCH_NORM_OP.backward, rows: tf.util.sizeFromShape(x.shape) / c, c, eps,
      offX: offsetOf(backend, x), offDy: offsetOf(backend, dy), offMean: offsetOf(backend, mean),
      offVar: offsetOf(backend, variance), offScale: optionalOffset(backend, scale),
      offDx: offsetOf(backend, dx), offDmean: offsetOf(backend, dmean), offDvar: offsetOf(backend, dvariance),
      offDscale: offsetOf(backend, dscale), offDoffset: offsetOf(backend, doffset),
    })));
  };

  // Only reached through ./batch-norm-layer.ts, which checks dtype and layout and always passes
  // scale and offset (ones and zeros when the layer has none).
  const batchNormTraining: NativeKernel = ({ inputs, backend, attrs }) => {
    const { x, scale, offset } = inputs as Record<string, TensorInfo | undefined>;
    const eps = (attrs as unknown as FusedBatchNormAttrs).varianceEpsilon;
    const c = x!.shape[x!.shape.length - 1]!;
    const outs = [[...x!.shape], [c], [c]].map((shape) => backend.makeOutput(shape, 'float32'));
    const [y, mean, variance] = outs as [TensorInfo, TensorInfo, TensorInfo];
    return fillOutputs(backend, outs, () => addon.batchNorm(heapOf(backend, y), packParams(BATCH_NORM_TRAINING_FORWARD_PARAMS, {
      op: BATCH_NORM_OP.trainingForward, rows: tf.util.sizeFromShape(x!.shape) / c, c, eps,
      offX: offsetOf(backend, x!), offScale: optionalOffset(backend, scale), offOffset: optionalOffset(backend, offset),
      offY: offsetOf(backend, y), offMean: offsetOf(backend, mean), offVar: offsetOf(backend, variance),
    })));
  };

  const batchNormTrainingGrad: NativeKernel = ({ inputs, backend, attrs }) => {
    const { x, dy, mean, variance, scale, dmean, dvariance } = inputs as Record<string, TensorInfo | undefined>;
    const eps = (attrs as unknown as FusedBatchNormAttrs).varianceEpsilon;
    const c = x!.shape[x!.shape.length - 1]!;
    const outs = [[...x!.shape], [c], [c]].map((shape) => backend.makeOutput(shape, 'float32'));
    const [dx, dscale, doffset] = outs as [TensorInfo, TensorInfo, TensorInfo];
    return fillOutputs(backend, outs, () => addon.batchNorm(heapOf(backend, dx), packParams(BATCH_NORM_TRAINING_BACKWARD_PARAMS, {
      op: BATCH_NORM_OP.trainingBackward, rows: tf.util.sizeFromShape(x!.shape) / c, c, eps,
      offX: offsetOf(backend, x!), offDy: offsetOf(backend, dy!), offMean: offsetOf(backend, mean!),
      offVar: offsetOf(backend, variance!), offScale: optionalOffset(backend, scale),
      offDmean: optionalOffset(backend, dmean), offDvar: optionalOffset(backend, dvariance),
      offDx: offsetOf(backend, dx), offDscale: offsetOf(backend, dscale), offDoffset: offsetOf(backend, doffset),
    })));
  };

  // Only reached through reluGradConfig (./gradients.ts), which checks dtype and shapes first.
  const reluGrad: NativeKernel = ({ inputs, backend }) => {
    const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
    const dx = backend.makeOutput([...x.shape], 'float32');
    const n = tf.util.sizeFromShape(x.shape);
    if (n === 0) return dx;
    return fillOutputs(backend, dx, () => addon.reluGrad(heapOf(backend, dx),
      packParams(RELU_GRAD_PARAMS, { n, offDy: offsetOf(backend, dy), offX: offsetOf(backend, x), offDx: offsetOf(backend, dx) })));
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

/** The conv2d block's geometry slots (all but the op, the activation and the operands). */
type ConvGeometry = Omit<ParamValues<typeof CONV2D_PARAMS>, 'op' | 'act' | 'alpha' | 'off0' | 'off1' | 'offBias' | 'offOut'>;

/**
 * The addon's conv geometry. pb/pr are the padding after that makes exactly oh × ow outputs:
 * smaller than TF's when padding rows go unread, negative when input rows go unread (the addon
 * then convolves a view without them).
 */
function convGeometry(i: Conv2DInfo): ConvGeometry | undefined {
  const pb = (i.outHeight - 1) * i.strideHeight + (i.filterHeight - 1) * i.dilationHeight + 1 - i.inHeight - i.padInfo.top;
  const pr = (i.outWidth - 1) * i.strideWidth + (i.filterWidth - 1) * i.dilationWidth + 1 - i.inWidth - i.padInfo.left;
  if (i.padInfo.top < 0 || i.padInfo.left < 0) return undefined;
  return {
    n: i.batchSize, h: i.inHeight, w: i.inWidth, c: i.inChannels, oc: i.outChannels, kh: i.filterHeight, kw: i.filterWidth,
    oh: i.outHeight, ow: i.outWidth, sh: i.strideHeight, sw: i.strideWidth, dh: i.dilationHeight, dw: i.dilationWidth,
    pt: i.padInfo.top, pl: i.padInfo.left, pb, pr,
  };
}

/** conv2d's `op` on in0, in1 (CONV2D_PARAMS says which is which) into a new output of `outShape`. */
function runConv(
  addon: NativeAddon,
  backend: BackendWasm,
  op: Code<typeof CONV_OP>,
  geometry: ConvGeometry,
  outShape: number[],
  [in0, in1]: [TensorInfo, TensorInfo],
  bias: TensorInfo | undefined,
  act: Code<typeof ACT>,
  alpha: number,
): TensorInfo {
  const out = backend.makeOutput(outShape, 'float32');
  const params = packParams(CONV2D_PARAMS, { op, ...geometry, act, alpha, off0: offsetOf(backend, in0),
    off1: offsetOf(backend, in1), offBias: optionalOffset(backend, bias), offOut: offsetOf(backend, out) });
  return fillOutputs(backend, out, () => addon.conv2d(heapOf(backend, out), params));
}

function poolInfo(xShape: readonly number[], a: MaxPoolAttrs): Conv2DInfo | undefined {
  if (xShape.length !== 4) return undefined;
  return tf.backend_util.computePool2DInfo([...xShape] as Shape4, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
}

/** The addon's max-pool geometry. */
function poolGeometry(i: Conv2DInfo): PoolGeometry | undefined {
  if (i.padInfo.top < 0 || i.padInfo.left < 0 || i.dilationHeight !== 1 || i.dilationWidth !== 1) return undefined;
  return {
    n: i.batchSize, h: i.inHeight, w: i.inWidth, c: i.inChannels, oh: i.outHeight, ow: i.outWidth,
    kh: i.filterHeight, kw: i.filterWidth, sh: i.strideHeight, sw: i.strideWidth, pt: i.padInfo.top, pl: i.padInfo.left,
  };
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
  act: Code<typeof ACT>,
  alpha: number,
): TensorInfo {
  const out = backend.makeOutput(p.outShape, 'float32');
  const params = packParams(MATMUL_PARAMS, {
    batch: p.batch, m: p.m, n: p.n, k: p.k, transA: p.transA ? 1 : 0, transB: p.transB ? 1 : 0,
    offA: offsetOf(backend, a), strideA: p.strideA, offB: offsetOf(backend, b), strideB: p.strideB,
    offBias: optionalOffset(backend, bias), act, alpha, offC: offsetOf(backend, out),
  });
  return fillOutputs(backend, out, () => addon.matmul(heapOf(backend, out), params));
}

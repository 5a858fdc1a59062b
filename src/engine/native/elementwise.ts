/**
 * The native glue kernels for the wasm backend: the cheap ops between the convolutions, which
 * TF.js's wasm backend runs on one thread (XNNPACK) and which, with the convolutions native,
 * were most of the remaining gap to PyTorch (issue #8). Each runs in the addon's OpenMP pool, in
 * place on the wasm heap, and gives exactly the cpu backend's values:
 *
 *   Add, Sub, Multiply  float32, same shape, or one side a vector [C] / [1, …, 1, C] over the
 *                       other's last axis (the bias add; x − mean)
 *   Relu                float32 (relu(NaN) = NaN, relu(−0) = +0, as the cpu backend)
 *   MaxPool             float32 NHWC (padding never wins; NaN never wins, as the cpu backend;
 *                       stock wasm/XNNPACK differs on windows with NaN, and the max-pool
 *                       gradient — native and pure wasm alike — gives dy to a window's first
 *                       pixel when that is NaN, where cpu gives it to the largest number)
 *   Sum, Mean           float32 over every axis but the last (the bias gradient, batch moments),
 *                       summed in double
 *
 * Every other call (int32, scalars, other broadcasts, other axes, tensors under
 * {@link DEFAULT_MIN_SIZE} values, where waking threads costs more than the op) goes unchanged to
 * the kernel registered before (stock wasm, or ../kernels/reductions.ts for Sum/Mean).
 *
 * What does not live here: the max-pool gradient (./kernels.ts; its fast path for
 * non-overlapping windows is native/src/pooling.cc), the ReLU gradient (./gradients.ts), the
 * convolutions and batch norm (./kernels.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { MaxPoolAttrs, SumAttrs, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { reducesAllButLast } from '../kernels/reductions.js';
import type { NativeAddon } from './_addon.js';
import type { NativeKernel, NativeKernelArgs } from './kernels.js';
import {
  BINARY_OP,
  BROADCAST,
  CHANNEL_SUM_PARAMS,
  ELEMENTWISE_PARAMS,
  MAX_POOL2D_PARAMS,
  RELU_PARAMS,
  packParams,
} from './op-codes.js';
import type { Code, PoolGeometry } from './op-codes.js';

/** The TF.js kernels this file registers natively (on wasm). */
export const ELEMENTWISE_KERNELS = ['Add', 'Sub', 'Multiply', 'Relu', 'MaxPool', 'Sum', 'Mean'] as const;

/**
 * Tensors with fewer values than this stay on wasm: waking the second OpenMP thread (passive waits,
 * see ./_addon.ts) costs more than these memory-bound passes save on small tensors, and one native
 * thread is no faster than wasm. `npx tsx bench/suites/kernels.ts --filter size --min-size 1`
 * sweeps the sizes on hot data (native ahead from about 2^21 values on the 2-core machine of
 * issue #8, 2026-11-25); inside a network, where the data comes from memory,
 * `npx tsx bench/profile.ts --by-shape Add,Relu` showed the crossover one size lower (2^19: a
 * tie; 2^20: native ahead), hence 2^20.
 */
export const DEFAULT_MIN_SIZE = 1 << 20;

/** Hands a call to the kernel registered before (./kernels.ts's `defer`). */
export type Defer = <T extends TensorInfo | TensorInfo[] = TensorInfo>(name: string, args: NativeKernelArgs, why: string) => T;

/** Options of {@link elementwiseKernels}. */
export interface ElementwiseOptions {
  /** Smallest tensor (values) run natively; tests pass 1 to run every size natively. */
  readonly minSize?: number;
}

/** The addon's binary op of each TF.js kernel. */
const BINARY_OPS = { Add: BINARY_OP.add, Sub: BINARY_OP.sub, Multiply: BINARY_OP.mul } as const;

/** The glue kernels over `addon`, as [kernel name, kernel] entries for ./kernels.ts's map. */
export function elementwiseKernels(addon: NativeAddon, defer: Defer, options: ElementwiseOptions = {}): Array<[string, NativeKernel]> {
  const minSize = Math.max(1, options.minSize ?? DEFAULT_MIN_SIZE);

  const binary = (name: keyof typeof BINARY_OPS): NativeKernel => (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const plan = binaryPlan(a, b, minSize);
    if (!plan) return defer(name, args, 'dtype, broadcast or size');
    const { backend } = args;
    const out = backend.makeOutput(plan.outShape, 'float32');
    return into(backend, out, () => addon.elementwise(heapOf(backend, out), packParams(ELEMENTWISE_PARAMS, {
      op: BINARY_OPS[name], broadcast: plan.broadcast, n: plan.n, m: plan.m,
      offA: offsetOf(backend, a), offB: offsetOf(backend, b), offOut: offsetOf(backend, out),
    })));
  };

  const relu: NativeKernel = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const n = tf.util.sizeFromShape(x.shape);
    if (x.dtype !== 'float32' || n < minSize) return defer('Relu', args, 'dtype or size');
    const { backend } = args;
    const y = backend.makeOutput([...x.shape], 'float32');
    return into(backend, y, () => addon.relu(heapOf(backend, y),
      packParams(RELU_PARAMS, { n, offX: offsetOf(backend, x), offY: offsetOf(backend, y) })));
  };

  const maxPool: NativeKernel = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const a = args.attrs as unknown as MaxPoolAttrs;
    const ok = x.dtype === 'float32' && x.shape.length === 4 && tf.util.sizeFromShape(x.shape) >= minSize;
    const info = ok ? tf.backend_util.computePool2DInfo([...x.shape] as Shape4, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode) : undefined;
    const g = info && poolGeometry(info);
    if (!info || !g) return defer('MaxPool', args, 'dtype, rank, size or padding');
    const { backend } = args;
    const y = backend.makeOutput([...info.outShape], 'float32');
    return into(backend, y, () => addon.maxPool2d(heapOf(backend, y),
      packParams(MAX_POOL2D_PARAMS, { ...g, offX: offsetOf(backend, x), offY: offsetOf(backend, y) })));
  };

  const reduce = (name: 'Sum' | 'Mean'): NativeKernel => (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as SumAttrs;
    const n = tf.util.sizeFromShape(x.shape);
    if (x.dtype !== 'float32' || n < minSize || !reducesAllButLast(axis, x.shape.length)) return defer(name, args, 'dtype, axes or size');
    const c = x.shape[x.shape.length - 1]!;
    const { backend } = args;
    const out = backend.makeOutput(keepDims ? [...x.shape.slice(0, -1).map(() => 1), c] : [c], 'float32');
    return into(backend, out, () => addon.channelSum(heapOf(backend, out), packParams(CHANNEL_SUM_PARAMS, {
      rows: n / c, c, mean: name === 'Mean' ? 1 : 0, offX: offsetOf(backend, x), offOut: offsetOf(backend, out),
    })));
  };

  return [
    ['Add', binary('Add')],
    ['Sub', binary('Sub')],
    ['Multiply', binary('Multiply')],
    ['Relu', relu],
    ['MaxPool', maxPool],
    ['Sum', reduce('Sum')],
    ['Mean', reduce('Mean')],
  ];
}

// ---------------------------------------------------------------------------------------------

type Shape4 = [number, number, number, number];

/** The addon's elementwise call for a, b: same shape, b a vector (vectorB), or a a vector (vectorA). */
interface BinaryPlan {
  readonly broadcast: Code<typeof BROADCAST>;
  readonly n: number;
  readonly m: number;
  readonly outShape: number[];
}

/** Same shape, or one side [C] / [1, …, 1, C] over the other's last axis C; else undefined (deferred). */
function binaryPlan(a: TensorInfo, b: TensorInfo, minSize: number): BinaryPlan | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  const na = tf.util.sizeFromShape(a.shape);
  const nb = tf.util.sizeFromShape(b.shape);
  if (tf.util.arraysEqual(a.shape, b.shape)) {
    return na >= minSize ? { broadcast: BROADCAST.same, n: na, m: na, outShape: [...a.shape] } : undefined;
  }
  const [big, small, broadcast] = na >= nb ? [a, b, BROADCAST.vectorB] : [b, a, BROADCAST.vectorA];
  const n = Math.max(na, nb);
  const c = big.shape[big.shape.length - 1];
  if (n < minSize || c === undefined || small.shape.length > big.shape.length) return undefined;
  const isVector = small.shape.length >= 1 && small.shape.every((d, i) => d === (i === small.shape.length - 1 ? c : 1));
  return isVector ? { broadcast, n, m: c, outShape: [...big.shape] } : undefined;
}

/** The addon's max-pool geometry; undefined when it does not apply. */
function poolGeometry(i: tf.backend_util.Conv2DInfo): PoolGeometry | undefined {
  if (i.padInfo.top < 0 || i.padInfo.left < 0 || i.dilationHeight !== 1 || i.dilationWidth !== 1) return undefined;
  if (!i.outShape.every((d) => d > 0)) return undefined;
  return {
    n: i.batchSize, h: i.inHeight, w: i.inWidth, c: i.inChannels, oh: i.outHeight, ow: i.outWidth,
    kh: i.filterHeight, kw: i.filterWidth, sh: i.strideHeight, sw: i.strideWidth, pt: i.padInfo.top, pl: i.padInfo.left,
  };
}

// The heap helpers of ./kernels.ts (kept private there), for this file's kernels.

function heapOf(backend: BackendWasm, t: TensorInfo): ArrayBufferLike {
  // Taken after every allocation of the call: an allocation may grow (and replace) the heap.
  return backend.typedArrayFromHeap(t).buffer;
}

function offsetOf(backend: BackendWasm, t: TensorInfo): number {
  return backend.getMemoryOffset(t.dataId);
}

/** Runs the addon call that fills `out`; frees it if the call throws. */
function into(backend: BackendWasm, out: TensorInfo, call: () => void): TensorInfo {
  try {
    call();
  } catch (err) {
    backend.disposeData(out.dataId);
    throw err;
  }
  return out;
}

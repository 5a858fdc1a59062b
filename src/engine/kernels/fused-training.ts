/**
 * Training-mode batch norm and the ReLU gradient on pure wasm (no native accelerator), each in one
 * of scaat's WebAssembly SIMD kernels (native/wasm/batch_norm.c, relu_grad.c; run by ./_simd.ts on
 * the backend's heap, split over its threads): the same three kernels, by the same names and
 * semantics, as the accelerator's (src/engine/native/kernels.ts), so the fused tf.layers
 * BatchNormalization (src/engine/native/batch-norm-layer.ts) and the one-pass ReLU gradient
 * (src/engine/native/gradients.ts) run on pure wasm too. Stock TF.js spends about fifteen
 * activation-sized passes per training-mode batch norm (tf.moments, tf.batchNorm and the gradients
 * of each) and three per ReLU gradient (Step, Cast, Multiply); here batch norm takes two passes each
 * way and the ReLU gradient one.
 *
 *   NATIVE_BATCH_NORM_TRAINING       {x, scale?, offset?} → [y, mean, variance]: mean and biased
 *                                    variance over every axis but the last, in float64
 *   NATIVE_BATCH_NORM_TRAINING_GRAD  {x, dy, mean, variance, scale?, dmean?, dvariance?} → [dx, dscale, doffset]
 *   NATIVE_RELU_GRAD                 {dy, x} → dy · [x > 0]
 *
 * Statistics are summed over work items of a fixed number of rows (set by the shape alone), each
 * item into its own float64 partials, merged by the calling thread in item order: the same bits on
 * any number of threads (fused-training.test.ts). Registered by registerTrainingKernels only where
 * the module runs (wasm SIMD); a native accelerator registers its own kernels over these.
 */
import * as tf from '@tensorflow/tfjs';
import type { FusedBatchNormAttrs, TensorInfo } from '@tensorflow/tfjs';
import { NATIVE_BATCH_NORM_TRAINING, NATIVE_BATCH_NORM_TRAINING_GRAD, NATIVE_RELU_GRAD } from '../native/kernels.js';
import { type BackendWasm, type WasmKernelArgs, Scratch, fillOutputs, heapF32, replaceKernel } from './_wasm.js';
import { type SimdKernels, simdKernelsFor } from './_simd.js';

/** Rows summed in float32 before the float64 partials (BLOCK in native/wasm/batch_norm.c). */
const BLOCK_ROWS = 32;
/** About this many values per work item: big enough to amortise a thread's wake-up, small enough to share. */
const ITEM_VALUES = 1 << 14;

/** Rows per batch-norm work item for C channels: whole blocks, about ITEM_VALUES values (a function of C alone). */
export function batchNormItemRows(c: number): number {
  return BLOCK_ROWS * Math.max(1, Math.round(ITEM_VALUES / (BLOCK_ROWS * c)));
}

/** Values per ReLU-gradient work item. */
export const RELU_GRAD_ITEM = ITEM_VALUES;

function simdOf(backend: BackendWasm): SimdKernels {
  const k = simdKernelsFor(backend);
  if (k === null) throw new Error('scaat kernels: the SIMD module does not run on this engine');
  return k;
}


/**
 * What both batch-norm kernels share: the three outputs ([x's shape], [C], [C]), and when x has
 * rows, `body` run with the SIMD module, the work items (whole BLOCK_ROWS blocks, a function of C
 * alone) and scratch for `partials` float64 partials per item and channel plus 4·C coefficients;
 * else `empty` fills the [C] outputs. Frees the outputs if anything throws.
 */
function batchNormKernel(
  backend: BackendWasm,
  x: TensorInfo,
  empty: (outs: readonly [TensorInfo, TensorInfo, TensorInfo]) => void,
  partials: number,
  body: (o: BatchNormRun) => void,
): TensorInfo[] {
  const c = x.shape[x.shape.length - 1]!;
  const rows = tf.util.sizeFromShape(x.shape) / c;
  const outs = [[...x.shape], [c], [c]].map((shape) => backend.makeOutput(shape, 'float32')) as [TensorInfo, TensorInfo, TensorInfo];
  return fillOutputs(backend, outs, () => {
    if (rows === 0) return empty(outs);
    const chunk = batchNormItemRows(c);
    const items = Math.ceil(rows / chunk);
    const scratch = new Scratch(backend);
    try {
      const part = scratch.alloc([items * partials * c * 2]); // float64: two float32 slots each
      const coef = scratch.alloc([4 * c]);
      const at = (t: TensorInfo | undefined): number => (t ? backend.getMemoryOffset(t.dataId) : 0);
      body({ kernels: simdOf(backend), outs, c, rows, chunk, items, part: at(part), coef: at(coef), at });
    } finally {
      scratch.dispose();
    }
  });
}

interface BatchNormRun {
  readonly kernels: SimdKernels;
  readonly outs: readonly [TensorInfo, TensorInfo, TensorInfo];
  readonly c: number;
  readonly rows: number;
  readonly chunk: number;
  readonly items: number;
  /** Heap offsets of the partials and the coefficients. */
  readonly part: number;
  readonly coef: number;
  /** A tensor's heap offset (0 for an absent optional input). */
  readonly at: (t: TensorInfo | undefined) => number;
}

function batchNormTrainingKernel({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo[] {
  const { x, scale, offset } = inputs as Record<string, TensorInfo | undefined>;
  const eps = (attrs as unknown as FusedBatchNormAttrs).varianceEpsilon;
  const empty = ([, mean, variance]: readonly TensorInfo[]) => {
    heapF32(backend, mean!).fill(NaN); // as tf.moments of nothing
    heapF32(backend, variance!).fill(NaN);
  };
  // partials: mean and M2 per item and channel
  return batchNormKernel(backend, x!, empty, 2, ({ kernels: { exports, run }, outs: [y, mean, variance], c, rows, chunk, items, part, coef, at }) => {
    run('bn_moments', [at(x), part, rows, c, chunk], items);
    exports.bn_moments_finish(part, items, rows, c, chunk, at(scale), at(offset), eps, at(mean), at(variance), coef);
    run('bn_forward_apply', [at(x), coef, at(y), rows, c, chunk], items);
  });
}

function batchNormTrainingGradKernel({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo[] {
  const { x, dy, mean, variance, scale, dmean, dvariance } = inputs as Record<string, TensorInfo | undefined>;
  const eps = (attrs as unknown as FusedBatchNormAttrs).varianceEpsilon;
  const empty = ([, dscale, doffset]: readonly TensorInfo[]) => {
    heapF32(backend, dscale!).fill(0);
    heapF32(backend, doffset!).fill(0);
  };
  // partials: Σdy, Σdy·(x − μ), Σ(x − μ) per item and channel
  return batchNormKernel(backend, x!, empty, 3, ({ kernels: { exports, run }, outs: [dx, dscale, doffset], c, rows, chunk, items, part, coef, at }) => {
    run('bn_grad_sums', [at(x), at(dy), at(mean), part, rows, c, chunk], items);
    exports.bn_grad_finish(part, items, rows, c, at(variance), at(scale), at(dmean), at(dvariance), eps, coef, at(dscale), at(doffset));
    run('bn_grad_apply', [at(x), at(dy), at(mean), coef, at(dx), rows, c, chunk], items);
  });
}

// Only reached through reluGradConfig (src/engine/native/gradients.ts), which checks dtype and shapes first.
function reluGradKernel({ inputs, backend }: WasmKernelArgs): TensorInfo {
  const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
  const dx = backend.makeOutput([...x.shape], 'float32');
  const n = tf.util.sizeFromShape(x.shape);
  if (n === 0) return dx;
  const at = (t: TensorInfo): number => backend.getMemoryOffset(t.dataId);
  return fillOutputs(backend, dx, () => simdOf(backend).run('relu_grad', [at(dy), at(x), at(dx), n, RELU_GRAD_ITEM], Math.ceil(n / RELU_GRAD_ITEM)));
}

/**
 * Registers the SIMD training-mode batch norm (both ways) and ReLU gradient on wasm, where the
 * module runs on `backend` (the initialised wasm backend); false (nothing registered) where it
 * does not, or there is no such backend. Call before a native accelerator registers its own kernels of these names over them.
 */
export function registerFusedTrainingKernels(backend: BackendWasm | undefined): boolean {
  if (backend?.wasm === undefined || simdKernelsFor(backend) === null) return false;
  for (const [name, kernel] of FUSED_TRAINING_KERNELS) replaceKernel(name, kernel);
  return true;
}

type WasmKernel = (args: WasmKernelArgs) => TensorInfo | TensorInfo[];

/** The kernels {@link registerFusedTrainingKernels} registers, by name. */
export const FUSED_TRAINING_KERNELS: ReadonlyMap<string, WasmKernel> = new Map<string, WasmKernel>([
  [NATIVE_BATCH_NORM_TRAINING, batchNormTrainingKernel],
  [NATIVE_BATCH_NORM_TRAINING_GRAD, batchNormTrainingGradKernel],
  [NATIVE_RELU_GRAD, reluGradKernel],
]);

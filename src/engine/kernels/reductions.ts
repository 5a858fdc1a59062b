/**
 * Per-channel reductions on wasm: `Sum` and `Mean` over every axis but the last, and their
 * gradients.
 *
 * Batch norm in training mode (tf.moments over [0, 1, 2]) and bias gradients reduce an NHWC
 * activation to one value per channel. Stock wasm first transposes the reduced axes innermost
 * (a full copy through its slow generic `Transpose`), and the stock gradients of Sum/Mean build
 * `ones(x.shape)` in JS and multiply. Here each direction is one XNNPACK pass over x viewed as
 * [n, C] (no copy):
 *   Mean(x) = global average pooling of x as [1, 1, n, C]          Sum = n · Mean
 *   ∂x      = ones[n, 1] · (s · dy)[1, C]   (outer-product GEMM; s = 1 for Sum, 1 / n for Mean)
 * Any other axis set, dtype or backend goes to the stock kernel / gradient.
 */
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, KernelConfig, MeanAttrs, NamedAttrMap, SumAttrs, Tensor, TensorInfo } from '@tensorflow/tfjs';
import { type WasmKernelArgs, Scratch, callWasmKernel, channelMeans, heapF32, replaceKernel } from './_wasm.js';

/** Kernel name of the channel broadcast used by the gradients: out[i] = dy[i mod C] · scale. */
export const BROADCAST_CHANNELS = 'ScaatBroadcastChannels';

/** True when `axis` (normalised against `rank`) is exactly [0, …, rank − 2]. */
export function reducesAllButLast(axis: number | number[] | undefined | null, rank: number): boolean {
  if (rank < 2 || axis === undefined || axis === null) return false;
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
  return axes.length === rank - 1 && axes.every((a, i) => a === i);
}

const stock = new Map<string, KernelConfig>();

function reduceKernel(name: 'Sum' | 'Mean') {
  return ({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo => {
    const x = inputs['x']!;
    const { axis, keepDims } = attrs as unknown as SumAttrs | MeanAttrs;
    if (x.dtype !== 'float32' || !reducesAllButLast(axis, x.shape.length) || tf.util.sizeFromShape(x.shape) === 0) {
      return stock.get(name)!.kernelFunc({ inputs, backend, attrs: attrs ?? {} }) as TensorInfo;
    }
    const C = x.shape[x.shape.length - 1]!;
    const scratch = new Scratch(backend);
    try {
      const out = channelMeans(backend, scratch, x, { keep: true });
      if (name === 'Sum') {
        const o = heapF32(backend, out);
        const n = tf.util.sizeFromShape(x.shape) / C;
        for (let c = 0; c < C; c++) o[c] = o[c]! * n;
      }
      out.shape = keepDims ? [...x.shape.slice(0, -1).map(() => 1), C] : [C];
      return out;
    } finally {
      scratch.dispose();
    }
  };
}

function broadcastChannelsKernel({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo {
  const { shape, scale } = attrs as unknown as { shape: number[]; scale: number };
  const dy = inputs['dy']!;
  const C = tf.util.sizeFromShape(dy.shape);
  const n = tf.util.sizeFromShape(shape) / C;
  const scratch = new Scratch(backend);
  try {
    const ones = scratch.alloc([1, n, 1]);
    const k = scratch.alloc([1, 1, C]);
    heapF32(backend, ones).fill(1);
    const kv = heapF32(backend, k);
    kv.set(heapF32(backend, dy));
    if (scale !== 1) for (let c = 0; c < C; c++) kv[c] = kv[c]! * scale;
    const out = callWasmKernel(backend, 'BatchMatMul', { a: ones, b: k }, { transposeA: false, transposeB: false });
    out.shape = [...shape];
    return out;
  } finally {
    scratch.dispose();
  }
}

function reduceGradConfig(name: 'Sum' | 'Mean'): GradConfig {
  const original = tf.getGradient(name);
  if (original === undefined) throw new Error(`scaat kernels: TF.js has no stock ${name} gradient to wrap`);
  return {
    kernelName: name,
    inputsToSave: ['x'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const x = saved[0]!;
      const { axis } = attrs as unknown as SumAttrs;
      if (tf.getBackend() !== 'wasm' || x.dtype !== 'float32' || !reducesAllButLast(axis, x.rank)) {
        return original.gradFunc(dy, saved, attrs);
      }
      const C = x.shape[x.rank - 1]!;
      const scale = name === 'Mean' ? C / x.size : 1;
      return {
        x: () => tf.engine().runKernel(BROADCAST_CHANNELS, { dy: tf.reshape(dy as Tensor, [C]) }, { shape: x.shape, scale }),
      };
    },
  };
}

let gradients: GradConfig[] | undefined;

/** The Sum and Mean gradient overrides (stock off wasm); captured once from the registry. */
export function reductionGradConfigs(): GradConfig[] {
  gradients ??= [reduceGradConfig('Sum'), reduceGradConfig('Mean')];
  return gradients;
}

/** Registers the wasm Sum/Mean kernels (wrapping the stock ones, captured once) and the broadcast. */
export function registerReductionKernels(): void {
  for (const name of ['Sum', 'Mean'] as const) {
    if (!stock.has(name)) {
      const k = tf.getKernel(name, 'wasm');
      if (k === undefined) throw new Error(`scaat kernels: wasm has no ${name} kernel to wrap`);
      stock.set(name, k);
    }
    replaceKernel(name, reduceKernel(name));
  }
  replaceKernel(BROADCAST_CHANNELS, broadcastChannelsKernel);
}

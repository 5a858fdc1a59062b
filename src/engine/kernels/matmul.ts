/**
 * `BatchMatMul` with transposed operands on wasm.
 *
 * The dense-layer gradients are ∂W = xᵀ·dy and ∂x = dy·Wᵀ. Stock wasm `BatchMatMul` handles
 * `transposeA`/`transposeB` on a slow path: 128×4096ᵀ · 128×128 took 771 ms, transposing first
 * then multiplying 37 ms (2-core dev machine under load, 2026-11-25). This
 * kernel materialises the transposed operand with wasm's `Transpose` and calls the stock kernel
 * with both flags off. Same values: only the operand layout changes, the products and their
 * summation are the stock kernel's.
 */
import * as tf from '@tensorflow/tfjs';
import type { BatchMatMulAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { type WasmKernelArgs, Scratch, callWasmKernel, replaceKernel } from './_wasm.js';

let stock: KernelConfig | undefined;

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

function batchMatMulKernel({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo {
  const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
  const run = (a: TensorInfo, b: TensorInfo) =>
    stock!.kernelFunc({ inputs: { a, b }, backend, attrs: { transposeA: false, transposeB: false } }) as TensorInfo;
  if (!transposeA && !transposeB) return run(inputs['a']!, inputs['b']!);
  const scratch = new Scratch(backend);
  try {
    const t = (x: TensorInfo) => scratch.keep(callWasmKernel(backend, 'Transpose', { x }, { perm: swapLastTwo(x.shape.length) }));
    return run(transposeA ? t(inputs['a']!) : inputs['a']!, transposeB ? t(inputs['b']!) : inputs['b']!);
  } finally {
    scratch.dispose();
  }
}

/** Wraps the stock wasm `BatchMatMul` (captured once) so transposed operands are transposed first. */
export function registerMatMulKernels(): void {
  if (stock === undefined) {
    const k = tf.getKernel('BatchMatMul', 'wasm');
    if (k?.kernelFunc === (batchMatMulKernel as unknown)) return;
    if (k === undefined) throw new Error('scaat kernels: wasm has no BatchMatMul kernel to wrap');
    stock = k;
  }
  replaceKernel('BatchMatMul', batchMatMulKernel);
}

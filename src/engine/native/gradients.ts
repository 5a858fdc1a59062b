/**
 * Gradient overrides that route TF.js's multi-op gradients to one kernel on wasm: the
 * accelerator's when it is active, else scaat's SIMD one (../kernels/fused-training.ts), whichever
 * is registered under the name. Each behaves exactly as the stock TF.js gradient everywhere else
 * (other backends, other dtypes, no such kernel), which it captures from the registry once.
 *
 *   Relu:  ∂x = dy · step(x)   stock: Step, Cast (a copy), Multiply — three passes and two
 *                              temporaries per ReLU; here one pass (NATIVE_RELU_GRAD).
 */
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs';
import { NATIVE_RELU_GRAD } from './kernels.js';

let stockRelu: GradConfig | undefined;

/** The `Relu` gradient: the fused kernel on wasm when one is registered (native or SIMD), else stock TF.js. */
export function reluGradConfig(): GradConfig {
  stockRelu ??= tf.getGradient('Relu');
  const stock = stockRelu;
  if (stock === undefined) throw new Error('scaat native: TF.js has no stock Relu gradient to wrap');
  return {
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const x = saved[0]!;
      const g = dy as Tensor;
      const native = tf.getBackend() === 'wasm' && tf.getKernel(NATIVE_RELU_GRAD, 'wasm') !== undefined;
      if (!native || x.dtype !== 'float32' || g.dtype !== 'float32' || !tf.util.arraysEqual(x.shape, g.shape)) {
        return stock.gradFunc(dy, saved, attrs);
      }
      return { x: () => tf.engine().runKernel(NATIVE_RELU_GRAD, { dy: g, x }) as Tensor };
    },
  };
}

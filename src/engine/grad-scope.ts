/**
 * `inputGradientOnly(fn)`: a scope inside which the convolution *filter*-gradient kernels
 * (`Conv2DBackpropFilter`, `DepthwiseConv2dNativeBackpropFilter` and scaat's dilated alias) return
 * zeros of the right shape without computing anything.
 *
 * Why: TF.js's fused convolution (`tf.fused.conv2d` / `depthwiseConv2d`, what `tf.layers` conv
 * layers run with a bias or activation) computes ∂filter and ∂bias eagerly in its `customGrad`,
 * even under `tf.grad(f)(x)` where only ∂x is wanted. On a ResNet-20 that wasted filter gradient
 * is ~27–40 % of a vanilla-gradient pass, and of every attack step. (Plain `Conv2D` is pruned by
 * the tape already.) Saliency maps, PGD/FGSM steps and SCAAT's saliency pass run in this scope.
 *
 * ┌───────────────────────────────────────────────────────────────────────────────────────────┐
 * │ CORRECT ONLY WHEN NO GRADIENT W.R.T. A CONVOLUTION FILTER IS USED INSIDE THE SCOPE.       │
 * │ Every filter gradient computed in it is silently ZERO. Never wrap a training step, a      │
 * │ weight update (optimizer.minimize, tf.variableGrads, engine().gradients over variables),  │
 * │ or a gradient w.r.t. anything that flows into a conv *filter* (e.g. a filter computed     │
 * │ from the input). Gradients w.r.t. the conv *inputs* (the image, δ, ...) stay exact.       │
 * └───────────────────────────────────────────────────────────────────────────────────────────┘
 *
 * Mechanism: {@link installInputGradientOnlyKernels} wraps the kernel finally registered for each
 * of those names (the pure-wasm one, or the native oneDNN one over it; stock kernels on cpu);
 * `registerTrainingKernels` calls it last, so one wrapper covers every implementation. The scope
 * is a depth counter (nesting-safe), restored in `finally` (exception-safe). It covers the
 * synchronous execution of `fn` only: a Promise returned by `fn` runs its later part outside it.
 * Bias gradients (a cheap Sum) are still computed.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { DILATED_CONV2D_BACKPROP_FILTER } from './kernels/conv2d.js';

/** The kernels that compute a filter gradient and return zeros inside {@link inputGradientOnly}. */
export const FILTER_GRADIENT_KERNELS: readonly string[] = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  DILATED_CONV2D_BACKPROP_FILTER,
];

let depth = 0;
const wrappers = new WeakSet<KernelFunc>();

/**
 * Runs `fn` with convolution filter gradients skipped (returned as zeros): use it around a gradient
 * taken w.r.t. the INPUT only (saliency, adversarial attack steps), never around a weight update.
 * Nesting and exceptions are safe. Returns what `fn` returns. See the module header.
 * @example
 * const g = inputGradientOnly(() => tf.grad((xi) => score(model, xi))(x));   // ∂score/∂x, exact
 */
export function inputGradientOnly<T>(fn: () => T): T {
  depth++;
  try {
    return fn();
  } finally {
    depth--;
  }
}

/** Whether the calling code runs inside {@link inputGradientOnly}. */
export function isInputGradientOnly(): boolean {
  return depth > 0;
}

interface ZeroCapableBackend {
  makeOutput?: (shape: number[], dtype: 'float32') => TensorInfo;
  typedArrayFromHeap?: (t: TensorInfo) => Float32Array;
  makeTensorInfo?: (shape: number[], dtype: 'float32', values?: Float32Array) => TensorInfo;
}

/** A zero float32 tensor of `shape` on `backend` (wasm: on the heap; others: makeTensorInfo). */
function zeros(backend: ZeroCapableBackend, shape: number[]): TensorInfo {
  if (backend.makeOutput && backend.typedArrayFromHeap) {
    const out = backend.makeOutput(shape, 'float32');
    backend.typedArrayFromHeap(out).fill(0);
    return out;
  }
  if (backend.makeTensorInfo) return backend.makeTensorInfo(shape, 'float32', new Float32Array(tf.util.sizeFromShape(shape)));
  throw new Error('scaat inputGradientOnly: backend can neither makeOutput nor makeTensorInfo');
}

/**
 * Wraps the kernel currently registered on `backend` for each of {@link FILTER_GRADIENT_KERNELS}
 * so that it returns zeros of shape `attrs.filterShape` inside {@link inputGradientOnly} and
 * defers to the wrapped kernel otherwise. Call it after every other registration (native
 * included). Idempotent: an already wrapped kernel is left as it is; missing kernels are skipped.
 */
export function installInputGradientOnlyKernels(backend: string): void {
  for (const name of FILTER_GRADIENT_KERNELS) {
    const current = tf.getKernel(name, backend);
    if (current === undefined || wrappers.has(current.kernelFunc)) continue;
    const inner = current.kernelFunc;
    const kernelFunc: KernelFunc = (args) => {
      if (depth === 0) return inner(args);
      const shape = (args.attrs as NamedAttrMap | undefined)?.['filterShape'] as number[] | undefined;
      if (shape === undefined) return inner(args);
      return zeros(args.backend as unknown as ZeroCapableBackend, [...shape]);
    };
    wrappers.add(kernelFunc);
    tf.unregisterKernel(name, backend);
    tf.registerKernel({ ...current, kernelFunc });
  }
}

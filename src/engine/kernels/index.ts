/**
 * Training kernels: what TF.js 4.22's wasm backend lacks (or gets wrong) to train and explain
 * CNNs, one file per op family. `registerTrainingKernels` is the single place that installs them;
 * a native accelerator (src/engine/native/) registers over some of them *after* this call.
 *
 *   conv2d.ts            Conv2DBackpropInput/Filter as XNNPACK forward convs; the Conv2D gradient
 *   depthwise-conv2d.ts  DepthwiseConv2dNativeBackpropInput/Filter
 *   pooling.ts           MaxPoolGrad (wasm drops negative maxima), AvgPoolGrad ('same' borders)
 *   batch-norm.ts        the FusedBatchNorm gradient in one pass (stock tiles on wasm: slow)
 *   matmul.ts            BatchMatMul with transposed operands (stock takes a slow path then)
 *   reductions.ts        per-channel Sum/Mean and their gradients (stock transposes / builds ones)
 *   identity.ts          zero-copy Identity and same-dtype Cast (stock copies)
 *   fused-training.ts    training-mode batch norm and the ReLU gradient in scaat's SIMD kernels
 *                        (the kernels the accelerator's fused layer and ReLU gradient run, for pure wasm)
 *
 * Kernels are registered for wasm; the cpu reference backend only gets the AvgPoolGrad fix; the
 * gradient overrides (Conv2D, FusedBatchNorm, Sum, Mean) are global but behave exactly as stock TF.js off wasm.
 * Once, for every backend, tf.layers' Conv2D gets lazy filter gradients under a tape (../conv-layer.ts).
 * Last of all, on every backend, the final filter-gradient kernels are wrapped for the
 * `inputGradientOnly` scope (../grad-scope.ts), over whichever implementation won (wasm or native).
 */
import * as tf from '@tensorflow/tfjs';
import { fusedBatchNormGradConfig, registerBatchNormKernels } from './batch-norm.js';
import { installInputGradientOnlyKernels } from '../grad-scope.js';
import { installLazyConvGradients } from '../conv-layer.js';
import { installFusedTraining, registerNativeKernels } from '../native/index.js';
import type { BackendWasm } from './_wasm.js';
import { conv2dGradConfig, registerConv2dKernels } from './conv2d.js';
import { registerDepthwiseConv2dKernels } from './depthwise-conv2d.js';
import { registerFusedTrainingKernels } from './fused-training.js';
import { registerCastKernel, registerIdentityKernel } from './identity.js';
import { registerMatMulKernels } from './matmul.js';
import { registerPoolingKernelsCpu, registerPoolingKernelsWasm } from './pooling.js';
import { reductionGradConfigs, registerReductionKernels } from './reductions.js';

let globalsRegistered = false;

/**
 * Registers the kernels and gradients that make training work (and fast) on `backend`.
 * Idempotent. Returns the name of the native accelerator in use ('none': pure wasm/cpu).
 */
export function registerTrainingKernels(backend: string): string {
  if (!globalsRegistered) {
    tf.registerGradient(conv2dGradConfig());
    tf.registerGradient(fusedBatchNormGradConfig());
    for (const g of reductionGradConfigs()) tf.registerGradient(g);
    registerPoolingKernelsCpu();
    installLazyConvGradients();
    globalsRegistered = true;
  }
  if (backend === 'wasm') {
    registerConv2dKernels();
    registerDepthwiseConv2dKernels();
    registerPoolingKernelsWasm();
    registerBatchNormKernels();
    registerMatMulKernels();
    registerReductionKernels();
    registerIdentityKernel();
    registerCastKernel();
    // Training-mode batch norm and the ReLU gradient in scaat's SIMD kernels, under the names the
    // fused layer and the ReLU gradient override look for (where the module runs on this engine).
    if (registerFusedTrainingKernels(tf.findBackend('wasm') as unknown as BackendWasm | undefined)) installFusedTraining();
    // The optional native accelerator (oneDNN addon) registers over some of these; it says once
    // why when it is unavailable and leaves the pure-wasm kernels in place.
    const accelerator = registerNativeKernels();
    // After every registration: wraps whichever filter-gradient kernel is final (wasm or native).
    installInputGradientOnlyKernels(backend);
    return accelerator;
  }
  installInputGradientOnlyKernels(backend);
  return 'none';
}

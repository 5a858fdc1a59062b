/**
 * Training-mode batch normalisation of tf.layers models in one fused kernel each way.
 *
 * In training mode, tf.layers' `BatchNormalization` computes the batch statistics with
 * `tf.moments` (Mean, Sub, Square, Mean) and normalises with `tf.batchNorm`; autodiff then runs
 * the gradients of all of them, so each layer costs about fifteen activation-sized passes of
 * wasm (ResNet-20, batch 128: ~170 of ~490 ms per training step with the accelerator;
 * docs/benchmarks.md has the step with and without, `SCAAT_FUSED_BATCH_NORM=0`). Here one kernel
 * computes the statistics and the output ({@link NATIVE_BATCH_NORM_TRAINING}, two passes over x)
 * and one kernel the whole gradient, through the statistics ({@link NATIVE_BATCH_NORM_TRAINING_GRAD},
 * two passes), as PyTorch's `native_batch_norm` does.
 *
 * The kernels are whichever are registered on wasm under those names: the native accelerator's
 * (./kernels.ts, oneDNN build) or, on pure wasm, scaat's WebAssembly SIMD ones
 * (../kernels/fused-training.ts), which registerTrainingKernels installs first and the accelerator
 * replaces; the wrapper is the same for both.
 *
 * TF.js builds that graph inside the layer's `call()`, so the only place to change it is
 * `BatchNormalization.prototype.call` (the class comes from TF.js's serialization registry):
 * {@link installFusedBatchNormLayer} wraps it. The wrapper takes over only a training-mode call on
 * the wasm backend with the fused kernels registered, a float32 input normalised over its last
 * axis; it then updates the moving averages exactly as tf.layers does (v ← v − (v − batch
 * value)·(1 − momentum), through `LayerVariable.write`). Every other call runs the stock `call()`
 * unchanged. The statistics are the same quantities (mean, biased variance) summed in double
 * instead of float32, so outputs agree with the stock layer to float rounding (tested ≤ 1e-5).
 */
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs';
import { singleInput, unwrapLayerCall, wrapLayerCall } from '../layer-patch.js';
import { switchedOff } from './_addon.js';
import { NATIVE_BATCH_NORM_TRAINING, NATIVE_BATCH_NORM_TRAINING_GRAD } from './kernels.js';

/** The fields of tf.layers' BatchNormalization the wrapper reads (TF.js 4.x). */
interface BatchNormLayerFields {
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly gamma?: tf.LayerVariable | null;
  readonly beta?: tf.LayerVariable | null;
  readonly movingMean: tf.LayerVariable;
  readonly movingVariance: tf.LayerVariable;
}
let gradientRegistered = false;

/** Whether the fused kernel can run now: the wasm backend with a kernel of its name registered (native or SIMD). */
function kernelActive(): boolean {
  return tf.getBackend() === 'wasm' && tf.getKernel(NATIVE_BATCH_NORM_TRAINING, 'wasm') !== undefined;
}

/**
 * y, mean, variance of training-mode batch norm over every axis but the last (the native kernel;
 * differentiable w.r.t. x, scale and offset). Absent scale/offset mean 1 and 0. Runs only on the
 * wasm backend with the fused kernels registered (the accelerator's, or scaat's SIMD ones where
 * wasm SIMD runs; throws otherwise): elsewhere use tf.moments + tf.batchNorm.
 */
export function batchNormTraining(x: Tensor, scale: Tensor | undefined, offset: Tensor | undefined,
  epsilon: number): [Tensor, Tensor, Tensor] {
  if (!kernelActive()) {
    throw new Error(`scaat batchNormTraining: needs the wasm backend with its fused batch-norm kernels (backend is '${tf.getBackend()}')`);
  }
  return tf.tidy(() => {
    const c = x.shape[x.rank - 1]!;
    const inputs = { x, scale: scale ?? tf.ones([c]), offset: offset ?? tf.zeros([c]) };
    const [y, mean, variance] = tf.engine().runKernel(NATIVE_BATCH_NORM_TRAINING, inputs,
      { varianceEpsilon: epsilon }) as Tensor[];
    return [y!, mean!, variance!];
  });
}

/** The gradient of {@link NATIVE_BATCH_NORM_TRAINING}: one kernel for ∂x, ∂scale, ∂offset. */
export function batchNormTrainingGradConfig(): GradConfig {
  return {
    kernelName: NATIVE_BATCH_NORM_TRAINING,
    inputsToSave: ['x', 'scale'],
    outputsToSave: [false, true, true],
    gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const [x, scale, mean, variance] = saved as [Tensor, Tensor, Tensor, Tensor];
      const [dy, dmean, dvariance] = dys as [Tensor, Tensor, Tensor];
      // All three at once: lazily computed outputs would belong to the first closure's tidy scope.
      const [dx, dscale, doffset] = tf.engine().runKernel(NATIVE_BATCH_NORM_TRAINING_GRAD,
        { x, dy, mean, variance, scale, dmean, dvariance }, attrs) as Tensor[];
      return { x: () => dx!, scale: () => dscale!, offset: () => doffset! };
    },
  };
}

/**
 * Whether the fused path takes this call (else the stock layer runs it). Only what the stock layer
 * also runs: it needs γ and β (its training path reads both) and ranks 2–4 (tf.batchNorm's), so a
 * model never trains with the fused kernels that would fail without them.
 */
function fusedApplies(layer: BatchNormLayerFields, x: Tensor): boolean {
  if (!kernelActive()) return false;
  if (!layer.gamma || !layer.beta) return false;
  const axis = layer.axis < 0 ? layer.axis + x.rank : layer.axis;
  return x.dtype === 'float32' && x.rank >= 2 && x.rank <= 4 && axis === x.rank - 1 && x.size > 0;
}

/** tf.layers' moving-average update: v ← v − (v − value)·(1 − momentum). */
function movingAverage(variable: tf.LayerVariable, value: Tensor, momentum: number): void {
  tf.tidy(() => {
    const v = variable.read();
    variable.write(tf.sub(v, tf.mul(tf.sub(v, value), 1 - momentum)));
  });
}

/**
 * Wraps tf.layers' `BatchNormalization.prototype.call` so that training-mode calls on the
 * wasm backend run the fused kernels (see the file comment). Idempotent; false when
 * TF.js has no registered BatchNormalization class, or SCAAT_FUSED_BATCH_NORM=0 (for comparisons),
 * and then nothing changes.
 */
export function installFusedBatchNormLayer(
  env: Readonly<Record<string, string | undefined>> = typeof process === 'undefined' ? {} : process.env,
): boolean {
  if (switchedOff(env['SCAAT_FUSED_BATCH_NORM'])) return false;
  if (!gradientRegistered) {
    tf.registerGradient(batchNormTrainingGradConfig());
    gradientRegistered = true;
  }
  return wrapLayerCall('BatchNormalization', (stock) => function fusedBatchNormCall(this: tf.layers.Layer, inputs, kwargs) {
    const x = singleInput(inputs);
    const layer = this as unknown as BatchNormLayerFields;
    if (!kwargs?.['training'] || x === undefined || !fusedApplies(layer, x)) return stock.call(this, inputs, kwargs);
    return tf.tidy(() => {
      const [y, mean, variance] = batchNormTraining(x, layer.gamma!.read(), layer.beta!.read(), layer.epsilon);
      movingAverage(layer.movingMean, mean, layer.momentum);
      movingAverage(layer.movingVariance, variance, layer.momentum);
      return y;
    });
  });
}

/** Puts the stock `call()` back (tests and benchmarks compare the two). */
export function uninstallFusedBatchNormLayer(): void {
  unwrapLayerCall('BatchNormalization');
}

/**
 * The `FusedBatchNorm` gradient in one pass on wasm.
 *
 * Stock TF.js computes ∂x as dy · tile(rsqrt(σ² + ε), [B, H, W, 1]) · γ, and wasm's `Tile` is a
 * generic index loop (~0.2 s per ResNet-20 activation at batch 128: it was 40 % of a training
 * step). Here, for y = γ · (x − μ) · r + β with r = (σ² + ε)^(−1/2), per channel c:
 *
 *   ∂x = dy · γ · r                        ∂β = Σ dy
 *   ∂μ = −γ · r · Σ dy                     ∂γ = r · Σ dy · (x − μ)
 *   ∂σ² = −½ · γ · r³ · Σ dy · (x − μ)      (sums over every axis but the channel axis)
 *
 * exactly the stock formulas (μ and σ² are inputs of the kernel; when they come from
 * `tf.moments(x)`, as in tf.layers training mode, their own gradients flow on through the
 * moments ops). One JS pass accumulates the two sums in float64, a second writes ∂x.
 * Applies to channel-last inputs with per-channel [C] statistics; anything else, and every other
 * backend, gets the stock gradient.
 */
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap, Tensor, TensorInfo } from '@tensorflow/tfjs';
import { type WasmKernelArgs, heapF32, replaceKernel } from './_wasm.js';

/** Kernel name of the one-pass batch-norm backward (wasm only). Outputs [∂x, ∂μ, ∂σ², ∂γ, ∂β]. */
export const FUSED_BATCH_NORM_GRAD = 'ScaatFusedBatchNormGrad';

/** wasm kernel: inputs {x, dy, mean, variance, scale?}, attrs {varianceEpsilon}. */
function fusedBatchNormGradKernel({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo[] {
  const { x, dy, mean, variance, scale } = inputs as Record<string, TensorInfo>;
  const eps = (attrs as unknown as { varianceEpsilon: number }).varianceEpsilon;
  const C = mean!.shape[0]!;
  const n = tf.util.sizeFromShape(x!.shape);
  const outs = [x!.shape, [C], [C], [C], [C]].map((s) => backend.makeOutput(s, 'float32'));
  const [dx, dmean, dvar, dscale, doffset] = outs.map((o) => heapF32(backend, o)) as Float32Array[];
  const xv = heapF32(backend, x!);
  const g = heapF32(backend, dy!);
  const mu = heapF32(backend, mean!);
  const v = heapF32(backend, variance!);
  const gamma = scale === undefined ? undefined : heapF32(backend, scale);
  const sumDy = new Float64Array(C);
  const sumDyXm = new Float64Array(C);
  for (let i = 0; i < n; i += C) {
    for (let c = 0; c < C; c++) {
      const d = g[i + c]!;
      sumDy[c]! += d;
      sumDyXm[c]! += d * (xv[i + c]! - mu[c]!);
    }
  }
  const k = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const r = 1 / Math.sqrt(v[c]! + eps);
    const ga = gamma === undefined ? 1 : gamma[c]!;
    k[c] = ga * r;
    dmean![c] = -ga * r * sumDy[c]!;
    dvar![c] = -0.5 * ga * r * r * r * sumDyXm[c]!;
    dscale![c] = r * sumDyXm[c]!;
    doffset![c] = sumDy[c]!;
  }
  for (let i = 0; i < n; i += C) {
    for (let c = 0; c < C; c++) dx![i + c] = g[i + c]! * k[c]!;
  }
  return outs;
}

let stockGrad: GradConfig | undefined;

/** The `FusedBatchNorm` gradient: the one-pass kernel on wasm for [C] statistics, else stock TF.js. */
export function fusedBatchNormGradConfig(): GradConfig {
  if (stockGrad === undefined) {
    const g = tf.getGradient('FusedBatchNorm');
    if (g === undefined) throw new Error('scaat kernels: TF.js has no stock FusedBatchNorm gradient to wrap');
    stockGrad = g;
  }
  const stock = stockGrad;
  return {
    kernelName: 'FusedBatchNorm',
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const [x, mean, variance, scale] = saved;
      const C = x!.shape[x!.rank - 1];
      const perChannel = (t: Tensor | undefined) => t === undefined || t === null || (t.rank === 1 && t.shape[0] === C);
      if (tf.getBackend() !== 'wasm' || !perChannel(mean) || !perChannel(variance) || !perChannel(scale)) {
        return stock.gradFunc(dy, saved, attrs);
      }
      const inputs: Record<string, Tensor> = { x: x!, dy: dy as Tensor, mean: mean!, variance: variance! };
      if (scale) inputs['scale'] = scale;
      const [dx, dmean, dvar, dscale, doffset] = tf.engine().runKernel(FUSED_BATCH_NORM_GRAD, inputs, attrs) as Tensor[];
      return { x: () => dx!, mean: () => dmean!, variance: () => dvar!, scale: () => dscale!, offset: () => doffset! };
    },
  };
}

/** Registers the wasm kernel the gradient uses (idempotent). */
export function registerBatchNormKernels(): void {
  replaceKernel(FUSED_BATCH_NORM_GRAD, fusedBatchNormGradKernel as unknown as (a: WasmKernelArgs) => TensorInfo);
}

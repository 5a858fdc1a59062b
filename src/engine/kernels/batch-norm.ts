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
 * moments ops). The two channel sums are XNNPACK global average pools (×n), ∂x one broadcast
 * multiply: a handful of wasm SIMD passes, no tile.
 * Applies to channel-last inputs with per-channel [C] statistics; anything else, and every other
 * backend, gets the stock gradient.
 */
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap, Tensor, TensorInfo } from '@tensorflow/tfjs';
import { isInputGradientOnly } from '../grad-scope.js';
import { type WasmKernelArgs, Scratch, callWasmKernel, channelMeans, heapF32, replaceKernel } from './_wasm.js';

/** Kernel name of the one-pass batch-norm backward (wasm only). Outputs [∂x, ∂μ, ∂σ², ∂γ, ∂β]. */
export const FUSED_BATCH_NORM_GRAD = 'ScaatFusedBatchNormGrad';

/** wasm kernel: inputs {x, dy, mean, variance, scale?}, attrs {varianceEpsilon}. */
function fusedBatchNormGradKernel({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo[] {
  const { x, dy, mean, variance, scale } = inputs as Record<string, TensorInfo>;
  const eps = (attrs as unknown as { varianceEpsilon: number }).varianceEpsilon;
  const C = mean!.shape[0]!;
  const scratch = new Scratch(backend);
  try {
    // 1) the two per-channel sums, as XNNPACK global average pools ×n (x − μ first: no cancellation)
    const n = tf.util.sizeFromShape(x!.shape) / C;
    const meanDy = channelMeans(backend, scratch, dy!);
    const xm = scratch.keep(callWasmKernel(backend, 'Sub', { a: x!, b: mean! }));
    const prod = scratch.keep(callWasmKernel(backend, 'Multiply', { a: dy!, b: xm }));
    const meanDyXm = channelMeans(backend, scratch, prod);
    // 2) the [C] gradients and the per-channel factor γ·r, in float64
    const small = [0, 1, 2, 3].map(() => backend.makeOutput([C], 'float32'));
    const k = scratch.alloc([C]);
    const [dmean, dvar, dscale, doffset] = small.map((o) => heapF32(backend, o)) as Float32Array[];
    const kv = heapF32(backend, k);
    const md = heapF32(backend, meanDy);
    const mdx = heapF32(backend, meanDyXm);
    const v = heapF32(backend, variance!);
    const gamma = scale === undefined ? undefined : heapF32(backend, scale);
    for (let c = 0; c < C; c++) {
      const r = 1 / Math.sqrt(v[c]! + eps);
      const ga = gamma === undefined ? 1 : gamma[c]!;
      const sumDy = n * md[c]!;
      const sumDyXm = n * mdx[c]!;
      kv[c] = ga * r;
      dmean![c] = -ga * r * sumDy;
      dvar![c] = -0.5 * ga * r * r * r * sumDyXm;
      dscale![c] = r * sumDyXm;
      doffset![c] = sumDy;
    }
    // 3) ∂x = dy · γ·r (broadcast over channels)
    const dx = callWasmKernel(backend, 'Multiply', { a: dy!, b: k });
    return [dx, ...small];
  } finally {
    scratch.dispose();
  }
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
      if (isInputGradientOnly()) {
        // Only ∂x is wanted as a rule (γ, β and moving statistics are not on the path to the
        // input): one pass, dy · γ/√(σ² + ε), as a batch norm of dy with zero mean and offset — no
        // channel sums. The other closures each compute just their own sums (training-mode
        // statistics from tf.moments(x) are on the path: ∂μ, ∂σ² then run too, once each).
        const eps = (attrs as unknown as { varianceEpsilon: number }).varianceEpsilon;
        const g = dy as Tensor;
        const axes = Array.from({ length: x!.rank - 1 }, (_, i) => i);
        const r = () => tf.rsqrt(tf.add(variance!, eps));
        const gamma = () => scale ?? tf.onesLike(variance!);
        const sumDy = () => tf.sum(g, axes);
        const sumDyXm = () => tf.sum(tf.mul(g, tf.sub(x!, mean!)), axes);
        return {
          x: () => tf.batchNorm(g, tf.zerosLike(mean!), variance!, undefined, scale, eps),
          mean: () => tf.neg(tf.mul(tf.mul(gamma(), r()), sumDy())),
          variance: () => tf.mul(tf.mul(-0.5, tf.mul(gamma(), tf.pow(r(), 3))), sumDyXm()),
          scale: () => tf.mul(r(), sumDyXm()),
          offset: sumDy,
        };
      }
      // All five at once: lazily computed outputs would belong to the first closure's tidy scope.
      const [dx, dmean, dvar, dscale, doffset] = tf.engine().runKernel(FUSED_BATCH_NORM_GRAD, inputs, attrs) as Tensor[];
      return { x: () => dx!, mean: () => dmean!, variance: () => dvar!, scale: () => dscale!, offset: () => doffset! };
    },
  };
}

let stockBatchNorm: tf.KernelConfig | undefined;
let stockSetUp = false;

/** The stock kernel, set up first (a replaced kernel misses its setup when the backend initialises after the swap; setup is idempotent). */
function runStockBatchNorm(args: WasmKernelArgs): TensorInfo {
  const k = stockBatchNorm!;
  if (k.setupFunc && !stockSetUp) {
    k.setupFunc(args.backend);
    stockSetUp = true;
  }
  return k.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as TensorInfo;
}

/**
 * wasm `FusedBatchNorm` (forward) as one XNNPACK 1×1 depthwise convolution: per channel
 * k = γ·(σ² + ε)^(−1/2) and b = β − μ·k (in float64, then float32), y = x·k + b, as PyTorch's and
 * oneDNN's CPU batch norm compute it. Stock TF.js wasm runs (x − μ)·γ·r + β as a single-threaded
 * loop: a third of a ResNet-20 inference pass on pure wasm (101 of 295 ms at batch 128, 2 threads;
 * docs/benchmarks.md), where the depthwise convolution is multi-threaded SIMD. Results differ from
 * stock by float rounding (the order of the operations). Channel-last float32 input of rank 4 with
 * per-channel [C] statistics; anything else goes to the stock kernel. Under the native
 * accelerator its own batch norm kernel runs instead (src/engine/native/), deferring here.
 */
function fusedBatchNormKernel(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, mean, variance, offset, scale } = inputs as Record<string, TensorInfo | undefined>;
  const eps = (attrs as unknown as { varianceEpsilon: number }).varianceEpsilon;
  const c = x?.shape[x.shape.length - 1];
  const vector = (t: TensorInfo | undefined) => t === undefined || (t.dtype === 'float32' && t.shape.length === 1 && t.shape[0] === c);
  if (!x || !mean || !variance || x.dtype !== 'float32' || x.shape.length !== 4 || ![mean, variance, offset, scale].every(vector)) {
    return runStockBatchNorm(args);
  }
  const C = c!;
  const scratch = new Scratch(backend);
  try {
    const filter = scratch.alloc([1, 1, C, 1]);
    const bias = scratch.alloc([C]);
    const [k, b] = [heapF32(backend, filter), heapF32(backend, bias)];
    const [m, v] = [heapF32(backend, mean), heapF32(backend, variance)];
    const g = scale === undefined ? undefined : heapF32(backend, scale);
    const o = offset === undefined ? undefined : heapF32(backend, offset);
    for (let ch = 0; ch < C; ch++) {
      const kc = (g === undefined ? 1 : g[ch]!) / Math.sqrt(v[ch]! + eps);
      k[ch] = kc;
      b[ch] = (o === undefined ? 0 : o[ch]!) - m[ch]! * kc;
    }
    return callWasmKernel(backend, 'FusedDepthwiseConv2D', { x, filter, bias }, {
      strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1], activation: 'linear',
    } as unknown as NamedAttrMap);
  } finally {
    scratch.dispose();
  }
}

/** Registers the wasm batch-norm kernels: the forward above and the kernel the gradient uses (idempotent). */
export function registerBatchNormKernels(): void {
  if (stockBatchNorm === undefined) {
    const stock = tf.getKernel('FusedBatchNorm', 'wasm');
    if (stock === undefined) throw new Error('scaat kernels: wasm has no stock FusedBatchNorm kernel to fall back to');
    stockBatchNorm = stock;
  }
  replaceKernel('FusedBatchNorm', fusedBatchNormKernel);
  replaceKernel(FUSED_BATCH_NORM_GRAD, fusedBatchNormGradKernel as unknown as (a: WasmKernelArgs) => TensorInfo);
}

/**
 * The optional native accelerator (issue #8): an N-API addon over oneDNN whose kernels replace the
 * wasm backend's slowest ones (convolutions and their gradients, matmuls, max-pool gradient, and
 * the glue between them: bias adds, ReLU, pooling, channel sums) and run on every core, in place
 * on the wasm heap. Without it (not built, library missing, or
 * SCAAT_NATIVE=0) scaat runs on pure wasm, with one warning saying why.
 *
 * What does not live here: the pure-wasm training kernels and gradients (../kernels/), which this
 * accelerator registers over and falls back to; backend selection (../backend.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { loadAddon } from './_addon.js';
import type { AddonLoad } from './_addon.js';
import { installFusedBatchNormLayer } from './batch-norm-layer.js';
import { reluGradConfig } from './gradients.js';
import { nativeKernels } from './kernels.js';
import type { NativeKernel } from './kernels.js';

/** What the accelerator is running on, for logs and results. */
export interface NativeInfo {
  /** Accelerator name as it appears in `BackendInfo.accelerator`. */
  readonly accelerator: 'onednn';
  /** e.g. "oneDNN 2.6.3". */
  readonly library: string;
  /** Threads the native kernels compute with. */
  readonly threads: number;
  /** The addon file loaded. */
  readonly path: string;
  /** TF.js kernels on 'wasm' that run natively. */
  readonly kernels: readonly string[];
}

let load: AddonLoad | undefined;
let warned = false;
let registered: NativeInfo | undefined;
let gradientsRegistered = false;
/** The wasm kernels the native ones defer to, captured before they are replaced. */
const fallbacks = new Map<string, KernelConfig>();
const ours = new WeakSet<KernelFunc>();

/**
 * Registers the native kernels for the 'wasm' backend, over whatever is registered there (call it
 * after scaat's pure-wasm kernels: they become the fallbacks), and the gradient overrides of
 * ./gradients.ts (global, but stock TF.js off wasm). Idempotent; safe to call again after other
 * code re-registered wasm kernels.
 * @returns 'onednn' when the native kernels are active, else 'none' (warned once why, unless
 *   SCAAT_NATIVE=0 disabled them on purpose).
 */
export function registerNativeKernels(): 'onednn' | 'none' {
  load ??= loadAddon();
  if (!load.ok) {
    if (!load.disabled && !warned) {
      warned = true;
      console.warn(`scaat: native accelerator unavailable, using pure wasm: ${load.reason}`);
    }
    return 'none';
  }
  const kernels = nativeKernels(load.addon, fallbacks);
  for (const [name, kernel] of kernels) install(name, kernel);
  installFusedTraining();
  const { library, threads } = load.addon.info();
  registered = { accelerator: 'onednn', library, threads, path: load.path, kernels: [...kernels.keys()] };
  return 'onednn';
}

/**
 * The ReLU gradient override (./gradients.ts) and the fused training-mode batch-norm layer
 * (./batch-norm-layer.ts, unless SCAAT_FUSED_BATCH_NORM=0). Both run whichever kernels of their
 * names are registered on wasm, the accelerator's (./kernels.ts) or, on pure wasm, scaat's SIMD
 * ones (../kernels/fused-training.ts), and stock TF.js everywhere else. Idempotent.
 */
export function installFusedTraining(): void {
  if (!gradientsRegistered) {
    tf.registerGradient(reluGradConfig());
    gradientsRegistered = true;
  }
  installFusedBatchNormLayer();
}

/**
 * Whether {@link registerNativeKernels} will find the addon (loads it once, warns nothing): the
 * backend asks before it initialises wasm, since the threaded wasm build is for machines without it.
 */
export function nativeAvailable(): boolean {
  load ??= loadAddon();
  return load.ok;
}

/** The active accelerator after {@link registerNativeKernels}, else undefined. */
export function nativeInfo(): NativeInfo | undefined {
  return registered;
}

function install(name: string, kernel: NativeKernel): void {
  const current = tf.getKernel(name, 'wasm');
  if (current !== undefined) {
    if (ours.has(current.kernelFunc)) return;
    fallbacks.set(name, current);
    tf.unregisterKernel(name, 'wasm');
  }
  const kernelFunc = kernel as unknown as KernelFunc;
  ours.add(kernelFunc);
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc });
}

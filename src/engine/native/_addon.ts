/**
 * Loading scaat's native addon (native/, built by scripts/build-native.mjs) and its typed surface.
 *
 * The addon is optional. {@link loadAddon} never throws: it returns the addon, or the reason it is
 * not there (disabled by SCAAT_NATIVE=0, not built, built but its library missing at run time, or
 * built from other sources: its op codes differ from ./op-codes.ts).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { opCodeDifferences } from './op-codes.js';

/**
 * The addon's functions (native/src/addon.cc). Kernels take the wasm heap and a Float64Array of
 * geometry + byte offsets into it, laid out as the blocks of ./op-codes.ts (native/src/op_codes.h)
 * and assembled only in kernels.ts and elementwise.ts.
 */
export interface NativeAddon {
  conv2d(heap: ArrayBufferLike, params: Float64Array): void;
  maxPool2dGrad(heap: ArrayBufferLike, params: Float64Array): void;
  matmul(heap: ArrayBufferLike, params: Float64Array): void;
  batchNorm(heap: ArrayBufferLike, params: Float64Array): void;
  reluGrad(heap: ArrayBufferLike, params: Float64Array): void;
  /** Glue kernels (./elementwise.ts): binary ops with a last-axis broadcast, ReLU, max pooling, channel sums. */
  elementwise(heap: ArrayBufferLike, params: Float64Array): void;
  relu(heap: ArrayBufferLike, params: Float64Array): void;
  maxPool2d(heap: ArrayBufferLike, params: Float64Array): void;
  channelSum(heap: ArrayBufferLike, params: Float64Array): void;
  setThreads(threads: number): void;
  info(): { library: string; threads: number };
  /** The addon's names of its modes and parameter slots, as an OpCodeTable (./op-codes.ts); {@link loadAddon} checks it. */
  opCodes(): unknown;
}

/** The outcome of loading: the addon, or why there is none. */
export type AddonLoad =
  | { readonly ok: true; readonly addon: NativeAddon; readonly path: string }
  | { readonly ok: false; readonly reason: string; readonly disabled: boolean };

/** Where `npm ci` builds the addon, relative to the package root. */
export const ADDON_RELATIVE_PATH = path.join('native', 'build', 'Release', 'scaat_native.node');

/** The package root: src/engine/native/ (or dist/engine/native/) → three levels up. */
function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

/** The addon file {@link loadAddon} loads: SCAAT_NATIVE_PATH, else the one `npm ci` builds. */
export function addonFile(env: NodeJS.ProcessEnv = process.env): string {
  return env['SCAAT_NATIVE_PATH'] ?? path.join(packageRoot(), ADDON_RELATIVE_PATH);
}

/** Whether an on/off environment switch (SCAAT_NATIVE, SCAAT_FUSED_BATCH_NORM) says off: 0, false, off or no. */
export function switchedOff(value: string | undefined): boolean {
  return value !== undefined && ['0', 'false', 'off', 'no'].includes(value.toLowerCase());
}

/**
 * Loads the addon. SCAAT_NATIVE=0 disables it; SCAAT_NATIVE_PATH points to another build;
 * SCAAT_NATIVE_THREADS sets its threads (default: the machine's available parallelism);
 * OMP_WAIT_POLICY defaults to 'passive' (see below).
 */
export function loadAddon(env: NodeJS.ProcessEnv = process.env): AddonLoad {
  if (typeof process === 'undefined' || process.versions?.node === undefined) {
    return { ok: false, reason: 'not running in Node.js', disabled: true };
  }
  if (switchedOff(env['SCAAT_NATIVE'])) {
    return { ok: false, reason: 'disabled by SCAAT_NATIVE=0', disabled: true };
  }
  const file = addonFile(env);
  if (!existsSync(file)) {
    return {
      ok: false,
      reason: `not built (no ${file}; it needs a C++ compiler and oneDNN, e.g. apt-get install libdnnl-dev, then npm run build:native)`,
      disabled: false,
    };
  }
  // OpenMP threads that sleep at once when idle (libgomp reads this when the addon loads it):
  // spinning ones steal the core from the JS thread and, on a shared machine, from each other.
  // On 2 cores at load ≈ 12, a ResNet-20 training step took 11.6 s with libgomp's default spin
  // and 4.1 s with passive waits (2 threads each). An explicit OMP_WAIT_POLICY wins.
  process.env['OMP_WAIT_POLICY'] ??= 'passive';
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { ok: false, reason: `cannot load ${file}: ${msg}`, disabled: false };
  }
  const stale = staleBuild(addon);
  if (stale !== undefined) {
    return { ok: false, reason: `${file} ${stale}; rebuild it: npm run build:native`, disabled: false };
  }
  const threads = Number.parseInt(env['SCAAT_NATIVE_THREADS'] ?? '', 10);
  addon.setThreads(Number.isInteger(threads) && threads > 0 ? threads : os.availableParallelism());
  return { ok: true, addon, path: file };
}

/**
 * Why a loaded addon cannot run this scaat's kernels, or undefined when it can: its op codes must
 * be this side's (a build from other sources would read the parameters at the wrong slots).
 */
function staleBuild(addon: NativeAddon): string | undefined {
  if (typeof addon.opCodes !== 'function') return 'predates its op-code table (no opCodes())';
  const differences = opCodeDifferences(addon.opCodes());
  if (differences.length === 0) return undefined;
  const shown = differences.slice(0, 3).join('; ');
  const more = differences.length > 3 ? ` and ${differences.length - 3} more` : '';
  return `was built from other sources: its op codes differ from src/engine/native/op-codes.ts (${shown}${more})`;
}

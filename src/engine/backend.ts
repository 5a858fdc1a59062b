/**
 * Backend selection: the only module with side-effect imports of TF.js backends.
 *
 *   'auto'        → 'tensorflow' when @tensorflow/tfjs-node(-gpu) is installed, else 'wasm'
 *   'wasm'        → @tensorflow/tfjs-backend-wasm (XNNPACK), with scaat's training kernels
 *   'cpu'         → the pure-JS reference backend (exact but slow; for tests on tiny tensors)
 *   'tensorflow'  → libtensorflow through tfjs-node (an optional peer dependency, never required)
 *
 * Every output of scaat records the returned {@link BackendInfo}.
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { ConfigError } from '../errors.js';
import { registerTrainingKernels } from './kernels/index.js';
import { nativeInfo } from './native/index.js';

/** The backends scaat can run on. */
export type BackendName = 'auto' | 'wasm' | 'cpu' | 'tensorflow';
export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'wasm', 'cpu', 'tensorflow'];

/** What ran the computation; written into every results file and log. */
export interface BackendInfo {
  /** The TF.js backend actually in use ('wasm', 'cpu' or 'tensorflow'). */
  readonly name: string;
  /** TF.js version. */
  readonly tfjsVersion: string;
  /** Threads the backend computes with. */
  readonly threads: number;
  /** The native accelerator used by scaat's kernels, if any (e.g. 'onednn'), else 'none'. */
  readonly accelerator: string;
  /** Machine summary: CPU model and core count. */
  readonly machine: string;
  /** Node.js version. */
  readonly node: string;
}

let current: BackendInfo | undefined;

/**
 * Selects and initialises a backend; idempotent for the same name.
 * @throws ConfigError for an unknown name, or 'tensorflow' when tfjs-node is not installed.
 */
export async function setupBackend(
  { backend = 'auto' }: { backend?: BackendName | string } = {},
): Promise<BackendInfo> {
  if (!(BACKEND_NAMES as readonly string[]).includes(backend)) {
    throw new ConfigError(`backend: expected one of ${BACKEND_NAMES.join(', ')}, got '${backend}'`);
  }
  let name = backend as BackendName;
  if (name === 'auto') name = (await tryLoadTfjsNode()) ? 'tensorflow' : 'wasm';
  if (current && current.name === name && tf.getBackend() === name) return current;

  if (name === 'tensorflow') {
    if (!(await tryLoadTfjsNode())) {
      throw new ConfigError(
        "backend: 'tensorflow' needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu (optional peers); install one or use --backend wasm",
      );
    }
  }
  let threads = name === 'tensorflow' ? os.cpus().length : 1;
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  // tfjs-node registers itself at higher priority; silence its banner-free warnings by setting explicitly.
  const ok = await tf.setBackend(name);
  if (!ok) throw new ConfigError(`backend: TF.js could not initialise '${name}'`);
  await tf.ready();
  // The cpu backend greets its first write in Node with an advert for tfjs-node, which cannot be
  // installed offline; scaat chose 'cpu' on purpose (the exact reference), so skip the banner.
  if (name === 'cpu') (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  if (name === 'wasm') threads = (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
  const accelerator = registerTrainingKernels(name);
  if (name === 'wasm') threads = nativeInfo()?.threads ?? threads;
  current = {
    name,
    tfjsVersion: tf.version.tfjs,
    threads,
    accelerator,
    machine: machineSummary(),
    node: process.version,
  };
  return current;
}

/** The backend chosen by the last {@link setupBackend} call (undefined before). */
export function backendInfo(): BackendInfo | undefined {
  return current;
}

/** e.g. "2 × Intel(R) Xeon(R) CPU @ 2.20GHz, 24 GiB, linux x64". */
export function machineSummary(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  const gib = Math.round(os.totalmem() / 2 ** 30);
  return `${cpus.length} × ${model}, ${gib} GiB, ${os.platform()} ${os.arch()}`;
}

let tfjsNodeLoaded: boolean | undefined;
async function tryLoadTfjsNode(): Promise<boolean> {
  if (tfjsNodeLoaded !== undefined) return tfjsNodeLoaded;
  const require = createRequire(import.meta.url);
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      require.resolve(pkg);
    } catch {
      continue;
    }
    try {
      await import(pkg);
      tfjsNodeLoaded = true;
      return true;
    } catch {
      // installed but not loadable (e.g. libtensorflow missing): fall through to wasm
    }
  }
  tfjsNodeLoaded = false;
  return false;
}

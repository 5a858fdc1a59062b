/**
 * Backend selection: the only module with side-effect imports of TF.js backends.
 *
 *   'auto'        → 'tensorflow' when @tensorflow/tfjs-node(-gpu) is installed, else 'wasm'
 *   'wasm'        → @tensorflow/tfjs-backend-wasm (XNNPACK), with scaat's training kernels; without
 *                   the native accelerator, on TF.js's multi-threaded SIMD build in Node (every core,
 *                   or SCAAT_WASM_THREADS; see {@link wasmThreadsRequested})
 *   'cpu'         → the pure-JS reference backend (exact but slow; for tests on tiny tensors)
 *   'tensorflow'  → libtensorflow through tfjs-node (an optional peer dependency, never required)
 *
 * Every output of scaat records the returned {@link BackendInfo}.
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import os from 'node:os';
import type * as WorkerThreads from 'node:worker_threads';
import type { TransferListItem, WorkerOptions } from 'node:worker_threads';
import type * as WasmModule from '@tensorflow/tfjs-backend-wasm';
import { ConfigError } from '../errors.js';
import { registerTrainingKernels } from './kernels/index.js';
import { nativeAvailable, nativeInfo } from './native/index.js';
import { guardWasmAllocations } from './memory.js';

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
  // tfjs-node registers itself at higher priority; silence its banner-free warnings by setting explicitly.
  const ok = name === 'wasm' ? await initWasm() : await tf.setBackend(name);
  if (!ok) throw new ConfigError(`backend: TF.js could not initialise '${name}'`);
  await tf.ready();
  // The cpu backend greets its first write in Node with an advert for tfjs-node, which cannot be
  // installed offline; scaat chose 'cpu' on purpose (the exact reference), so skip the banner.
  if (name === 'cpu') (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  if (name === 'wasm') {
    threads = (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
    guardWasmAllocations(tf.backend()); // a full heap: a named error, not a corrupted one
  }
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

/** The most threads TF.js's threaded wasm build computes with (its pool has 8 workers). */
const WASM_MAX_THREADS = 8;

/**
 * Threads the pure-wasm backend should use, from SCAAT_WASM_THREADS: a positive integer (1 = the
 * single-threaded SIMD build), or `all` = every core (`os.availableParallelism()`), at most 8.
 * Default `all`: the threaded build gives the same values (tested) and, on 2 cores, trains the
 * small CNN 1.5× and ResNet-20 1.4× faster than one thread (docs/benchmarks.md, measured side by
 * side 2026-12-05). Only without the accelerator, which has its own threads.
 * @throws ConfigError for anything but a positive integer or `all`.
 */
export function wasmThreadsRequested(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['SCAAT_WASM_THREADS'];
  if (raw === undefined || raw === '' || raw.trim() === 'all') return Math.min(os.availableParallelism(), WASM_MAX_THREADS);
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isInteger(n) || n < 1) {
    throw new ConfigError(`SCAAT_WASM_THREADS: expected a positive integer (1 = single-threaded wasm) or 'all', got '${raw}'`);
  }
  return Math.min(n, WASM_MAX_THREADS);
}

/**
 * Why this process cannot run the threaded wasm build, or undefined when it can: it needs Node's
 * worker_threads, SharedArrayBuffer and Atomics, and the build's files in the installed package.
 */
export function wasmThreadsUnsupported(): string | undefined {
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return 'no SharedArrayBuffer/Atomics';
  const require = createRequire(import.meta.url);
  try {
    require('node:worker_threads');
    threadedAssets();
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

let threadsNoticed = false;

/**
 * Initialises 'wasm': multi-threaded (SIMD + pthreads) when the native accelerator is off and
 * {@link wasmThreadsRequested} > 1, else single-threaded; a threaded start that fails falls back to
 * one thread with one notice saying why.
 */
async function initWasm(): Promise<boolean> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const wanted = nativeAvailable() ? 1 : wasmThreadsRequested();
  if (wanted > 1) {
    const reason = wasmThreadsUnsupported() ?? (await tryThreadedWasm(wasm, wanted));
    if (reason === undefined) return true;
    if (!threadsNoticed) {
      threadsNoticed = true;
      console.warn(`scaat: multi-threaded wasm unavailable, using one thread: ${reason}`);
    }
  }
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  wasm.setThreadsCount(1);
  return tf.setBackend('wasm');
}

/**
 * Starts TF.js's threaded SIMD wasm build in Node, which TF.js itself does not (its flag
 * WASM_HAS_MULTITHREAD_SUPPORT is false under Node, tfjs#3830). Emscripten's pthread pool starts
 * its workers with `new Worker(url)` where `url` is a blob: URL of the worker script and Node
 * accepts only paths; and the worker imports the module factory from a Blob. For the length of
 * the start only (the pool's 8 workers are made then), `worker_threads.Worker` becomes a subclass
 * that runs blob: URLs as the worker source (eval) and sends the factory's file path instead of the
 * Blob; and `os.cpus()` reports at least 2·threads entries, since the build caps its threads at
 * half the logical cores (it assumes hyper-threading). Both are restored before this returns. The
 * workers stay unreferenced, so the pool's idle threads never keep the process alive.
 * @returns undefined when the threaded backend runs (its thread count: `getThreadsCount()`), else why not.
 */
async function tryThreadedWasm(wasm: typeof WasmModule, threads: number): Promise<string | undefined> {
  const require = createRequire(import.meta.url);
  const workerThreads = require('node:worker_threads') as typeof WorkerThreads;
  const nodeOs = require('node:os') as typeof os;
  const { workerSource, factoryPath } = threadedAssets();
  const NodeWorker = workerThreads.Worker;
  class PthreadWorker extends NodeWorker {
    constructor(url: string | URL, options?: WorkerOptions) {
      if (typeof url === 'string' && url.startsWith('blob:')) super(workerSource, { eval: true, execArgv: [] }); // a script, whatever flags (e.g. --input-type=module) this process has
      else super(url, options);
    }
    override postMessage(message: unknown, transfer?: readonly TransferListItem[]): void {
      const m = message as { cmd?: unknown; urlOrBlob?: unknown } | null;
      const fixed = m !== null && typeof m === 'object' && m.cmd === 'load' && typeof m.urlOrBlob !== 'string'
        ? { ...m, urlOrBlob: factoryPath }
        : message;
      super.postMessage(fixed, transfer);
    }

    /** Emscripten refs a worker while its pthread runs; the pool's threads run until exit, so they must not hold the process open. */
    override ref(): void {
      this.unref();
    }
  }
  const cpus = nodeOs.cpus;
  workerThreads.Worker = PthreadWorker;
  nodeOs.cpus = () => {
    const list = cpus();
    while (list.length > 0 && list.length < 2 * threads) list.push(list[0]!);
    return list;
  };
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(threads);
  try {
    if (!(await tf.setBackend('wasm'))) return 'TF.js could not initialise the threaded build';
  } catch (e) {
    return (e as Error).message;
  } finally {
    workerThreads.Worker = NodeWorker;
    nodeOs.cpus = cpus;
  }
  return undefined;
}

/** The threaded build's worker script (as TF.js embeds it) and the path of its module factory. */
function threadedAssets(): { workerSource: string; factoryPath: string } {
  const require = createRequire(import.meta.url);
  const dir = '@tensorflow/tfjs-backend-wasm/wasm-out/';
  const { wasmWorkerContents } = require(`${dir}tfjs-backend-wasm-threaded-simd.worker.js`) as { wasmWorkerContents: string };
  // TF.js escapes newlines the same way before making its Blob: the source has "\n" inside strings.
  return { workerSource: wasmWorkerContents.replace(/\n/g, '\\n'), factoryPath: require.resolve(`${dir}tfjs-backend-wasm-threaded-simd.js`) };
}

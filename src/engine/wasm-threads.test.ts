/**
 * The multi-threaded wasm path (no native accelerator): this process runs with SCAAT_NATIVE=0 and
 * SCAAT_WASM_THREADS=2, and re-runs the wasm kernel tests and the training-gradient tests here, so
 * every scaat kernel (heap views, Scratch tensors on the shared heap) and every training gradient
 * is checked against the stock cpu backend, within those tests' own tolerances, on two threads.
 * The environment is read when setupBackend first runs (in the imported suites' beforeAll hooks).
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { backendInfo, setupBackend, wasmThreadsRequested } from './backend.js';

process.env['SCAAT_NATIVE'] = '0';
process.env['SCAAT_WASM_THREADS'] = '2';

await import('./kernels/batch-norm.test.js');
await import('./kernels/conv2d.test.js');
await import('./kernels/depthwise-conv2d.test.js');
await import('./kernels/filter-grad.test.js');
await import('./kernels/fused-training.test.js');
await import('./kernels/matmul.test.js');
await import('./kernels/pooling.test.js');
await import('./kernels/reductions.test.js');
await import('./training.test.js');

describe('multi-threaded wasm (SCAAT_NATIVE=0, SCAAT_WASM_THREADS=2)', () => {
  it('runs on 2 threads, without the accelerator, on a shared heap', async () => {
    const info = await setupBackend({ backend: 'wasm' });
    expect(backendInfo()).toBe(info);
    expect(info).toMatchObject({ name: 'wasm', threads: 2, accelerator: 'none' });
    const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8;
    expect(heap.buffer).toBeInstanceOf(SharedArrayBuffer);
  });
});

describe('a process on multi-threaded wasm', () => {
  it('computes and exits by itself (idle pool threads hold nothing open), even as an ES module', () => {
    // A 3×3 'same' convolution of ones with ones: each of 2·4 output maps sums (2 + 3·6 + 2)² = 484 taps × 3 channels.
    const backend = fileURLToPath(new URL('./backend.ts', import.meta.url));
    const script = `const { setupBackend } = await import(${JSON.stringify(backend)});
      const tf = await import('@tensorflow/tfjs');
      const info = await setupBackend({ backend: 'wasm' });
      const s = tf.sum(tf.conv2d(tf.ones([2, 8, 8, 3]), tf.ones([3, 3, 3, 4]), 1, 'same')).dataSync()[0];
      process.stdout.write(JSON.stringify({ threads: info.threads, s }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, SCAAT_NATIVE: '0', SCAAT_WASM_THREADS: '2' },
      timeout: 100_000, // a hang, not a speed limit: the process must end by itself
    });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ threads: 2, s: 2 * 4 * 484 * 3 });
  });
});

describe('wasmThreadsRequested', () => {
  it('reads SCAAT_WASM_THREADS, capped at the 8 threads of the threaded build', () => {
    expect(wasmThreadsRequested({ SCAAT_WASM_THREADS: '1' })).toBe(1);
    expect(wasmThreadsRequested({ SCAAT_WASM_THREADS: '3' })).toBe(3);
    expect(wasmThreadsRequested({ SCAAT_WASM_THREADS: '64' })).toBe(8);
  });

  it("defaults to every core ('all'), at most 8; 1 = the single-threaded build", async () => {
    const os = await import('node:os');
    expect(wasmThreadsRequested({})).toBe(Math.min(os.availableParallelism(), 8));
    expect(wasmThreadsRequested({ SCAAT_WASM_THREADS: '' })).toBe(Math.min(os.availableParallelism(), 8));
    expect(wasmThreadsRequested({ SCAAT_WASM_THREADS: 'all' })).toBe(Math.min(os.availableParallelism(), 8));
  });

  it.each(['0', '-2', '1.5', 'two', ' '])('rejects %j with a ConfigError naming the variable', (raw) => {
    expect(() => wasmThreadsRequested({ SCAAT_WASM_THREADS: raw })).toThrow(ConfigError);
    expect(() => wasmThreadsRequested({ SCAAT_WASM_THREADS: raw })).toThrow(/SCAAT_WASM_THREADS: expected a positive integer/);
  });
});

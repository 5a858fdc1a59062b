/**
 * scaat's WebAssembly SIMD filter gradient (native/wasm/filter_grad.c, _filter-grad.ts) on its
 * own, outside the backend (its values against the float64 adjoint are conv2d.test.ts's cases):
 * 1. it runs on this engine, on a plain and on a shared memory (so the pure-wasm path takes it,
 *    single- and multi-threaded);
 * 2. it writes nothing but ∂W: every other byte of its memory, x and dy included, is as it was
 *    (the module runs on the backend's heap, so a stray write would corrupt TF.js's tensors);
 * 3. ∂W against a direct float64 sum, the work split between two calls as threads split it, and
 *    on 2 threads (a helper worker) the same bits as on one;
 * 4. the generated module is what the sources build (when clang is installed; CI installs it).
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { itRequires, REQUIREMENTS } from '../../../test/helpers/index.js';
import { setupBackend } from '../backend.js';
import { Rng } from '../random.js';
import { filterGradOn, filterGradRunner, simdFilterGrad } from './_filter-grad.js';
import type { BackendWasm } from './_wasm.js';

// x [B, H, W, Ci] and dy [B, OH, OW, Co] for a 3×3 'same' convolution with stride 1
const [B, H, W, Ci, Co, K] = [2, 5, 6, 5, 12, 3];
const nx = B * H * W * Ci;
const ndy = B * H * W * Co;
const nw = K * K * Ci * Co;

function reference(x: Float32Array, dy: Float32Array): Float64Array {
  const out = new Float64Array(nw);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        for (let p = 0; p < K; p++) {
          for (let q = 0; q < K; q++) {
            const [r, s] = [i + p - 1, j + q - 1];
            if (r < 0 || r >= H || s < 0 || s >= W) continue;
            for (let c = 0; c < Ci; c++) {
              for (let o = 0; o < Co; o++) {
                out[((p * K + q) * Ci + c) * Co + o]! += x[((b * H + r) * W + s) * Ci + c]! * dy[((b * H + i) * W + j) * Co + o]!;
              }
            }
          }
        }
      }
    }
  }
  return out;
}

describe('the SIMD filter gradient module', () => {
  for (const shared of [false, true]) {
    it(`runs on a ${shared ? 'shared' : 'plain'} memory, writes nothing but ∂W, and sums the adjoint (taps in two slices)`, () => {
      const memory = new WebAssembly.Memory({ initial: 2, maximum: 16, ...(shared ? { shared: true } : {}) });
      const fn = filterGradOn(memory);
      expect(fn).not.toBeNull();
      const bytes = new Uint8Array(memory.buffer);
      const rng = new Rng(7);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 17) & 0xff; // sentinel pattern everywhere
      // the buffers away from address 0 and from each other, with sentinel bytes between them
      const [xOff, dyOff, wOff] = [4096, 4096 + nx * 4 + 256, 4096 + (nx + ndy) * 4 + 512];
      const f32 = new Float32Array(memory.buffer);
      const x = Float32Array.from({ length: nx }, () => rng.normal());
      const dy = Float32Array.from({ length: ndy }, () => rng.normal());
      f32.set(x, xOff / 4);
      f32.set(dy, dyOff / 4);
      f32.fill(0, wOff / 4, wOff / 4 + nw);
      const before = bytes.slice();
      // work items: 9 taps × 2 groups of input channels (4 and 1); two calls, as two threads would take them
      fn!(xOff, dyOff, wOff, B, H, W, Ci, H, W, Co, K, K, 1, 1, 1, 1, 1, 1, 0, 7);
      fn!(xOff, dyOff, wOff, B, H, W, Ci, H, W, Co, K, K, 1, 1, 1, 1, 1, 1, 7, 18);
      const after = new Uint8Array(memory.buffer);
      let changedOutside = 0;
      for (let i = 0; i < after.length; i++) {
        if ((i < wOff || i >= wOff + nw * 4) && after[i] !== before[i]) changedOutside++;
      }
      expect(changedOutside).toBe(0);
      const want = reference(x, dy);
      const got = new Float32Array(memory.buffer, wOff, nw);
      let worst = 0;
      for (let k = 0; k < nw; k++) worst = Math.max(worst, Math.abs(got[k]! - want[k]!) / (1 + Math.abs(want[k]!)));
      expect(worst).toBeLessThan(1e-5);
    });
  }

  it('gives the same bits on 2 threads (the caller and a helper worker) as on 1', () => {
    const [b, h, ci, co] = [3, 12, 20, 16]; // 9 taps × 5 groups of 4 input channels = 45 work items
    const [n1, n2, nW] = [b * h * h * ci, b * h * h * co, 9 * ci * co];
    const memory = new WebAssembly.Memory({ initial: 16, maximum: 64, shared: true });
    const f32 = new Float32Array(memory.buffer);
    const rng = new Rng(3);
    for (let i = 0; i < n1 + n2; i++) f32[i] = rng.normal();
    const [xOff, dyOff] = [0, n1 * 4];
    const results = [1, 2].map((threads) => {
      const wOff = (n1 + n2 + (threads - 1) * nW) * 4;
      const run = filterGradRunner(memory, threads);
      expect(run).not.toBeNull();
      run!([xOff, dyOff, wOff, b, h, h, ci, h, h, co, 3, 3, 1, 1, 1, 1, 1, 1], 9 * 5);
      return new Uint32Array(memory.buffer, wOff, nW).slice();
    });
    expect(results[1]).toEqual(results[0]);
    expect(results[0]!.some((v) => v !== 0)).toBe(true);
  });

  it('is what the wasm backend takes for ∂W when Co is a multiple of 4, and declines otherwise', async () => {
    await setupBackend({ backend: 'wasm' });
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as BackendWasm;
    const geometry = (co: number) => tf.backend_util.computeConv2DInfo([1, 4, 4, 2], [3, 3, 2, co], 1, 1, 'same');
    const x = tf.ones([1, 4, 4, 2]);
    const dy = tf.ones([1, 4, 4, 4]);
    const dy3 = tf.ones([1, 4, 4, 3]);
    const before = tf.memory().numTensors;
    const out = simdFilterGrad(backend, x, dy, geometry(4));
    expect(out).toBeDefined();
    // the centre tap sees all 16 pixels, a corner tap the 9 inside the image
    const values = backend.typedArrayFromHeap(out!) as Float32Array;
    expect(values[(1 * 3 + 1) * 8]).toBe(16);
    expect(values[0]).toBe(9);
    backend.disposeData(out!.dataId);
    expect(simdFilterGrad(backend, x, dy3, geometry(3))).toBeUndefined();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, dy, dy3]);
  });
});

describe('the generated module', () => {
  itRequires(REQUIREMENTS.clangWasm)('is what native/wasm/filter_grad.c builds (scripts/build-wasm-kernels.mjs --check)', () => {
    const script = fileURLToPath(new URL('../../../scripts/build-wasm-kernels.mjs', import.meta.url));
    const r = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  }, 60_000);
});

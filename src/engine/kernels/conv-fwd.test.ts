/**
 * scaat's WebAssembly SIMD forward convolution (native/wasm/conv_fwd.c, _conv-fwd.ts) on its own,
 * outside the backend (its values inside the backend, as wasm's Conv2D and in the gradients'
 * convolutions, are conv2d.test.ts's cases):
 * 1. on a plain and on a shared memory it writes nothing but y, and y is the float64 sum, for
 *    strides, dilations, explicit padding, row tails (OW not a multiple of 4) and Co of 8k + 4,
 *    the rows split between two calls as threads split them;
 * 2. on 2 threads (a helper worker) the same bits as on 1;
 * 3. it is what wasm's Conv2D takes for Co a multiple of 4, and declines otherwise: counted on the
 *    backend's SIMD kernels, on pure wasm (this process runs with SCAAT_NATIVE=0; with the
 *    accelerator, its own kernel takes Conv2D).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import { setupBackend } from '../backend.js';
import { Rng } from '../random.js';
import { simdConv2d } from './_conv-fwd.js';
import { simdExportsOn, simdKernelsFor, simdKernelsOn } from './_simd.js';
import type { BackendWasm } from './_wasm.js';

process.env['SCAAT_NATIVE'] = '0';

interface Geometry {
  B: number; H: number; W: number; Ci: number; Co: number; kh: number; kw: number;
  sh: number; sw: number; dh: number; dw: number; top: number; bottom: number; left: number; right: number;
}

const GEOMETRIES: Geometry[] = [
  { B: 2, H: 7, W: 9, Ci: 5, Co: 12, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, top: 1, bottom: 1, left: 1, right: 1 },
  { B: 2, H: 9, W: 11, Ci: 3, Co: 8, kh: 2, kw: 3, sh: 2, sw: 3, dh: 1, dw: 1, top: 0, bottom: 1, left: 2, right: 0 },
  { B: 1, H: 8, W: 6, Ci: 2, Co: 4, kh: 3, kw: 2, sh: 1, sw: 1, dh: 2, dw: 1, top: 2, bottom: 1, left: 0, right: 1 },
];

const outSize = (g: Geometry): [number, number] => [
  Math.floor((g.H + g.top + g.bottom - g.dh * (g.kh - 1) - 1) / g.sh) + 1,
  Math.floor((g.W + g.left + g.right - g.dw * (g.kw - 1) - 1) / g.sw) + 1,
];

function reference(g: Geometry, x: Float32Array, f: Float32Array): Float64Array {
  const [OH, OW] = outSize(g);
  const y = new Float64Array(g.B * OH * OW * g.Co);
  for (let b = 0; b < g.B; b++) for (let i = 0; i < OH; i++) for (let j = 0; j < OW; j++) {
    for (let p = 0; p < g.kh; p++) for (let q = 0; q < g.kw; q++) {
      const [r, s] = [i * g.sh + p * g.dh - g.top, j * g.sw + q * g.dw - g.left];
      if (r < 0 || r >= g.H || s < 0 || s >= g.W) continue;
      for (let c = 0; c < g.Ci; c++) for (let o = 0; o < g.Co; o++) {
        y[((b * OH + i) * OW + j) * g.Co + o]! += x[((b * g.H + r) * g.W + s) * g.Ci + c]! * f[((p * g.kw + q) * g.Ci + c) * g.Co + o]!;
      }
    }
  }
  return y;
}

/** conv_fwd's leading arguments (before the rows [w0, w1)). */
const args = (g: Geometry, xOff: number, fOff: number, yOff: number, zOff: number) => {
  const [OH, OW] = outSize(g);
  return [xOff, fOff, yOff, zOff, g.B, g.H, g.W, g.Ci, OH, OW, g.Co, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.top, g.left];
};

describe('the SIMD forward convolution', () => {
  for (const shared of [false, true]) {
    it.each(GEOMETRIES.map((g, k) => [k, g] as const))(`on a ${shared ? 'shared' : 'plain'} memory writes nothing but y, the float64 sum (geometry %i, rows in two slices)`, (k, g) => {
      const memory = new WebAssembly.Memory({ initial: 2, maximum: 16, ...(shared ? { shared: true } : {}) });
      const fn = simdExportsOn(memory)?.conv_fwd;
      expect(fn).toBeDefined();
      const [OH, OW] = outSize(g);
      const [nx, nf, ny] = [g.B * g.H * g.W * g.Ci, g.kh * g.kw * g.Ci * g.Co, g.B * OH * OW * g.Co];
      const bytes = new Uint8Array(memory.buffer);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 17) & 0xff; // sentinel pattern everywhere
      const rng = new Rng(11 + k);
      const x = Float32Array.from({ length: nx }, () => rng.normal());
      const f = Float32Array.from({ length: nf }, () => rng.normal());
      const zOff = 4096;
      const xOff = zOff + g.Ci * 4 + 256;
      const fOff = xOff + nx * 4 + 256;
      const yOff = fOff + nf * 4 + 256;
      const f32 = new Float32Array(memory.buffer);
      f32.fill(0, zOff / 4, zOff / 4 + g.Ci);
      f32.set(x, xOff / 4);
      f32.set(f, fOff / 4);
      const before = bytes.slice();
      const rows = g.B * OH;
      const split = Math.floor(rows / 3);
      fn!(...args(g, xOff, fOff, yOff, zOff), 0, split);
      fn!(...args(g, xOff, fOff, yOff, zOff), split, rows);
      const after = new Uint8Array(memory.buffer);
      let changedOutside = 0;
      for (let i = 0; i < after.length; i++) if ((i < yOff || i >= yOff + ny * 4) && after[i] !== before[i]) changedOutside++;
      expect(changedOutside).toBe(0);
      const want = reference(g, x, f);
      const got = new Float32Array(memory.buffer, yOff, ny);
      let worst = 0;
      for (let i = 0; i < ny; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
      expect(worst).toBeLessThan(1e-5);
    });
  }

  it('gives the same bits on 2 threads (the caller and a helper worker) as on 1', () => {
    const g: Geometry = { B: 3, H: 12, W: 10, Ci: 20, Co: 16, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, top: 1, bottom: 1, left: 1, right: 1 };
    const [OH, OW] = outSize(g);
    const [nx, nf, ny] = [g.B * g.H * g.W * g.Ci, 9 * g.Ci * g.Co, g.B * OH * OW * g.Co];
    const memory = new WebAssembly.Memory({ initial: 16, maximum: 64, shared: true });
    const f32 = new Float32Array(memory.buffer);
    const rng = new Rng(5);
    const [zOff, xOff] = [0, 4 * g.Ci];
    const fOff = xOff + 4 * nx;
    for (let i = xOff / 4; i < fOff / 4 + nf; i++) f32[i] = rng.normal();
    const results = [1, 2].map((threads) => {
      const yOff = fOff + 4 * (nf + (threads - 1) * ny);
      const kernels = simdKernelsOn(memory, threads);
      expect(kernels?.threads).toBe(threads);
      kernels!.run('conv_fwd', args(g, xOff, fOff, yOff, zOff), g.B * OH);
      return new Uint32Array(memory.buffer, yOff, ny).slice();
    });
    expect(results[1]).toEqual(results[0]);
    expect(results[0]!.some((v) => v !== 0)).toBe(true);
  });

  it("is what wasm's Conv2D takes when Co is a multiple of 4, and declines otherwise", async () => {
    const { accelerator } = await setupBackend({ backend: 'wasm' });
    expect(accelerator).toBe('none'); // SCAAT_NATIVE=0: wasm's Conv2D is scaat's pure-wasm kernel
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as BackendWasm;
    const geometry = (co: number) => tf.backend_util.computeConv2DInfo([1, 4, 4, 2], [3, 3, 2, co], 1, 1, 'same');
    const x = tf.ones([1, 4, 4, 2]);
    const [f4, f3] = [tf.ones([3, 3, 2, 4]), tf.ones([3, 3, 2, 3])];
    const before = tf.memory().numTensors;
    const out = simdConv2d(backend, x, f4, geometry(4));
    expect(out).toBeDefined();
    // a corner pixel sees 4 taps, a middle one 9, each over 2 channels
    const values = backend.typedArrayFromHeap(out!) as Float32Array;
    expect(values[0]).toBe(8);
    expect(values[(1 * 4 + 1) * 4]).toBe(18);
    backend.disposeData(out!.dataId);
    expect(simdConv2d(backend, x, f3, geometry(3))).toBeUndefined();
    expect(tf.memory().numTensors).toBe(before);
    // through the registry: the SIMD kernel runs (once) for Co = 4, and not at all for Co = 3 (the
    // stock kernel), each giving the values above
    const run = vi.spyOn(simdKernelsFor(backend)!, 'run');
    try {
      const registry = (f: tf.Tensor) => tf.tidy(() => Array.from(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same').dataSync()));
      const y4 = registry(f4);
      expect(run.mock.calls.map((c) => c[0])).toEqual(['conv_fwd']);
      expect([y4[0], y4[(1 * 4 + 1) * 4]]).toEqual([8, 18]);
      run.mockClear();
      const y3 = registry(f3);
      expect(run).not.toHaveBeenCalled();
      expect([y3[0], y3[(1 * 4 + 1) * 3]]).toEqual([8, 18]);
    } finally {
      run.mockRestore();
    }
    tf.dispose([x, f4, f3]);
  });
});

/**
 * Training-mode batch norm and the ReLU gradient in scaat's SIMD kernels (native/wasm/batch_norm.c,
 * relu_grad.c; ./fused-training.ts), the pure-wasm path: this process runs with SCAAT_NATIVE=0.
 * Oracles: the textbook float64 formulas (mean, biased variance, and the closed-form gradient
 * through the statistics, itself checked by central differences), and TF.js's own graph, the stock
 * layer, on cpu (the imported ../native/batch-norm-layer.test.ts, run here on the SIMD kernels).
 * 1. the module on a plain and a shared memory writes nothing but its outputs and scratch (sentinel
 *    bytes everywhere else), its work split in two calls as threads split it;
 * 2. on 2 threads (a helper worker) the same bits as on 1, every kernel;
 * 3. the kernels the backend registers: y, mean, variance, ∂x, ∂γ, ∂β (with ∂mean, ∂variance
 *    reaching the statistics) = float64 ≤ 1e-5 relative, C not a multiple of 4, ranks 2 and 4,
 *    several work items; no tensors or wasm buffers left behind;
 * 4. the ReLU gradient = dy · [x > 0] exactly (0 at x = 0, sizes not a multiple of 4).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchNormForward64, expectClose } from '../../../test/helpers/index.js';
import { setupBackend } from '../backend.js';
import { NATIVE_BATCH_NORM_TRAINING, NATIVE_BATCH_NORM_TRAINING_GRAD, NATIVE_RELU_GRAD } from '../native/kernels.js';
import { Rng } from '../random.js';
import { type SimdKernels, simdExportsOn, simdKernelsOn } from './_simd.js';
import { RELU_GRAD_ITEM, batchNormItemRows } from './fused-training.js';

process.env['SCAAT_NATIVE'] = '0';

const TOL = 1e-5;
const EPS = 1e-3;
const rng = new Rng('simd-batch-norm');
const randn = (n: number, shift = 0, scale = 1) => Float32Array.from({ length: n }, () => shift + scale * rng.normal());
const expectRel = (got: ArrayLike<number>, want: ArrayLike<number>, label: string) =>
  expectClose(got, want, { rtol: TOL, atol: 0, label });

interface BnData {
  rows: number;
  C: number;
  x: Float32Array;
  dy: Float32Array;
  scale: Float32Array;
  offset: Float32Array;
  dmean: Float32Array;
  dvar: Float32Array;
}

function bnData(rows: number, C: number, shift = 0, spread = 1): BnData {
  return {
    rows, C,
    x: randn(rows * C, shift, spread),
    dy: randn(rows * C),
    scale: randn(C, 1, 0.3),
    offset: randn(C),
    dmean: randn(C),
    dvar: randn(C),
  };
}

/** Mean, biased variance (two passes), y, in float64, at this file's ε. */
const forward64 = (x: ArrayLike<number>, C: number, scale: ArrayLike<number> | undefined, offset: ArrayLike<number> | undefined) =>
  batchNormForward64(x, C, scale, offset, EPS);

/**
 * The gradient of L = Σ dy·y + Σ dmean·mean + Σ dvar·variance w.r.t. x, scale, offset in float64
 * (y, mean, variance of {@link forward64}): with x̂ = (x − μ)·r, r = (σ² + ε)^(−1/2),
 *   ∂x = γ·r·(dy − Σdy/n − x̂·Σ(dy·x̂)/n) + dmean/n + 2·dvar·(x − μ)/n,  ∂γ = Σ dy·x̂,  ∂β = Σ dy.
 */
function gradient64(d: BnData, { withScale = true, withStatGrads = true } = {}) {
  const { rows, C, x, dy } = d;
  const { mean, variance } = forward64(x, C, undefined, undefined);
  const dx = new Float64Array(x.length);
  const dscale = new Float64Array(C);
  const doffset = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const r = 1 / Math.sqrt(variance[c]! + EPS);
    const g = withScale ? d.scale[c]! : 1;
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < rows; i++) {
      s1 += dy[i * C + c]!;
      s2 += dy[i * C + c]! * (x[i * C + c]! - mean[c]!) * r;
    }
    dscale[c] = s2;
    doffset[c] = s1;
    const gm = withStatGrads ? d.dmean[c]! : 0;
    const gv = withStatGrads ? d.dvar[c]! : 0;
    for (let i = 0; i < rows; i++) {
      const xc = x[i * C + c]! - mean[c]!;
      dx[i * C + c] = g * r * (dy[i * C + c]! - s1 / rows - xc * r * s2 / rows) + gm / rows + (2 * gv * xc) / rows;
    }
  }
  return { dx, dscale, doffset };
}

describe('the float64 gradient oracle', () => {
  it('= central differences of L = Σ dy·y + Σ dmean·mean + Σ dvar·variance (x, scale, offset)', () => {
    const d = bnData(12, 3, 1, 2);
    const loss = (x: Float64Array, scale: Float64Array, offset: Float64Array) => {
      const f = forward64(x, d.C, scale, offset);
      let l = 0;
      f.y.forEach((v, i) => (l += d.dy[i]! * v));
      for (let c = 0; c < d.C; c++) l += d.dmean[c]! * f.mean[c]! + d.dvar[c]! * f.variance[c]!;
      return l;
    };
    const args = [Float64Array.from(d.x), Float64Array.from(d.scale), Float64Array.from(d.offset)] as const;
    const fd = args.map((v) => Float64Array.from(v, (vj, j) => {
      const h = 1e-5;
      v[j] = vj + h;
      const up = loss(...args);
      v[j] = vj - h;
      const down = loss(...args);
      v[j] = vj;
      return (up - down) / (2 * h);
    }));
    const g = gradient64(d);
    expectClose(g.dx, fd[0]!, { rtol: 1e-7, atol: 0, label: '∂x' });
    expectClose(g.dscale, fd[1]!, { rtol: 1e-7, atol: 0, label: '∂scale' });
    expectClose(g.doffset, fd[2]!, { rtol: 1e-7, atol: 0, label: '∂offset' });
  });
});

/** A bump allocator on a wasm memory, 256 sentinel bytes between blocks. */
class Heap {
  private next = 4096;
  readonly outputs: Array<[number, number]> = [];
  constructor(readonly memory: WebAssembly.Memory) {}
  alloc(bytes: number, { output = false } = {}): number {
    const at = this.next;
    this.next += Math.ceil(bytes / 16) * 16 + 256;
    if (output) this.outputs.push([at, at + bytes]);
    return at;
  }
  put(values: Float32Array): number {
    const at = this.alloc(values.length * 4);
    new Float32Array(this.memory.buffer, at, values.length).set(values);
    return at;
  }
  f32(at: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, n).slice();
  }
  inOutput(byte: number): boolean {
    return this.outputs.some(([a, b]) => byte >= a && byte < b);
  }
}

/** The inputs of {@link runAll} placed on `heap`: d's tensors, and the ReLU's x (d.x's first n values, some exactly 0). */
function placeInputs(heap: Heap, d: BnData, n: number) {
  const [x, dy, scale, offset, dmean, dvar] = [d.x, d.dy, d.scale, d.offset, d.dmean, d.dvar].map((v) => heap.put(v)) as number[];
  const reluX = Float32Array.from(d.x.subarray(0, n), (v, i) => (i % 7 === 0 ? 0 : v));
  return { x: x!, dy: dy!, scale: scale!, offset: offset!, dmean: dmean!, dvar: dvar!, rx: heap.put(reluX), reluX, n };
}

/** What the kernels compute on `heap` (forward, then backward from its mean and variance; the ReLU gradient). */
function runAll(k: Pick<SimdKernels, 'exports' | 'run'>, heap: Heap, d: BnData, chunk: number, at: ReturnType<typeof placeInputs>) {
  const { rows, C } = d;
  const { x, dy, scale, offset, dmean, dvar, rx, n } = at;
  const items = Math.ceil(rows / chunk);
  const out = (floats: number) => heap.alloc(floats * 4, { output: true });
  const [part, coef, y, mean, variance] = [items * 4 * C, 4 * C, rows * C, C, C].map(out) as number[];
  k.run('bn_moments', [x, part!, rows, C, chunk], items);
  k.exports.bn_moments_finish(part!, items, rows, C, chunk, scale, offset, EPS, mean!, variance!, coef!);
  k.run('bn_forward_apply', [x, coef!, y!, rows, C, chunk], items);
  const [gpart, gcoef, dx, dscale, doffset] = [items * 6 * C, 4 * C, rows * C, C, C].map(out) as number[];
  k.run('bn_grad_sums', [x, dy, mean!, gpart!, rows, C, chunk], items);
  k.exports.bn_grad_finish(gpart!, items, rows, C, variance!, scale, dmean, dvar, EPS, gcoef!, dscale!, doffset!);
  k.run('bn_grad_apply', [x, dy, mean!, gcoef!, dx!, rows, C, chunk], items);
  const rdx = out(n);
  k.run('relu_grad', [dy, rx, rdx, n, 64], Math.ceil(n / 64));
  const read = (offset: number, len: number) => heap.f32(offset, len);
  return {
    y: read(y!, rows * C), mean: read(mean!, C), variance: read(variance!, C),
    dx: read(dx!, rows * C), dscale: read(dscale!, C), doffset: read(doffset!, C), relu: read(rdx, n),
  };
}

/** A runner of one thread that splits every call's items in two calls, as two threads would take them. */
function splitInTwo(memory: WebAssembly.Memory): Pick<SimdKernels, 'exports' | 'run'> {
  const exports = simdExportsOn(memory);
  expect(exports).not.toBeNull();
  return {
    exports: exports!,
    run: (name, args, items) => {
      const half = Math.floor(items / 2);
      exports![name](...args, 0, half);
      exports![name](...args, half, items);
    },
  };
}

describe('the SIMD batch-norm and ReLU-gradient module', () => {
  for (const shared of [false, true]) {
    it(`runs on a ${shared ? 'shared' : 'plain'} memory, writes nothing but its outputs, and = float64 (items split in two)`, () => {
      const memory = new WebAssembly.Memory({ initial: 4, maximum: 16, ...(shared ? { shared: true } : {}) });
      const bytes = new Uint8Array(memory.buffer);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 17) & 0xff; // sentinel pattern everywhere
      const heap = new Heap(memory);
      // 300 rows of 5 channels in items of 64 rows: 5 items, the last and its last block short
      const d = bnData(300, 5, 3, 2);
      const n = 1001;
      const at = placeInputs(heap, d, n);
      const before = bytes.slice();
      const got = runAll(splitInTwo(memory), heap, d, 64, at);
      const after = new Uint8Array(memory.buffer);
      let changedOutside = 0;
      for (let i = 0; i < after.length; i++) {
        if (!heap.inOutput(i) && after[i] !== before[i]) changedOutside++;
      }
      expect(changedOutside).toBe(0);
      const f = forward64(d.x, d.C, d.scale, d.offset);
      expectRel(got.y, f.y, 'y');
      expectRel(got.mean, f.mean, 'mean');
      expectRel(got.variance, f.variance, 'variance');
      const g = gradient64(d);
      expectRel(got.dx, g.dx, '∂x');
      expectRel(got.dscale, g.dscale, '∂scale');
      expectRel(got.doffset, g.doffset, '∂offset');
      expect(got.relu).toEqual(Float32Array.from(at.reluX, (v, i) => d.dy[i]! * (v > 0 ? 1 : 0)));
    });
  }

  it('gives the same bits on 2 threads (the caller and a helper worker) as on 1, every kernel', () => {
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 256, shared: true });
    const d = bnData(4000, 17, -1, 3);
    const results = [1, 2].map((threads) => {
      const k = simdKernelsOn(memory, threads);
      expect(k).not.toBeNull();
      expect(k!.threads).toBe(threads);
      const heap = new Heap(memory);
      const r = runAll(k!, heap, d, 96, placeInputs(heap, d, 50_001)); // 42 items; 782 ReLU items
      return Object.values(r).map((v) => new Uint32Array(v.buffer));
    });
    expect(results[1]).toEqual(results[0]);
  });

  it('keeps its work items a function of the channel count alone (whole 32-row blocks, about 16K values)', () => {
    for (const c of [1, 3, 16, 17, 64, 512, 4096]) {
      const rows = batchNormItemRows(c);
      expect(rows % 32).toBe(0);
      expect(rows * c).toBeLessThanOrEqual(Math.max(2 ** 15, 32 * c));
    }
    expect(RELU_GRAD_ITEM).toBe(2 ** 14);
  });
});

describe('fused training kernels on pure wasm (SCAAT_NATIVE=0)', () => {
  beforeAll(async () => {
    await setupBackend({ backend: 'cpu' });
    const info = await setupBackend({ backend: 'wasm' });
    expect(info.accelerator).toBe('none');
  });

  it('are registered on wasm (the fused layer and the ReLU gradient override take them)', async () => {
    await tf.setBackend('wasm');
    for (const k of [NATIVE_BATCH_NORM_TRAINING, NATIVE_BATCH_NORM_TRAINING_GRAD, NATIVE_RELU_GRAD]) {
      expect(tf.getKernel(k, 'wasm'), k).toBeDefined();
    }
  });

  // ranks 2 and 4, C = 3, 5, 17 (not multiples of 4) and 16; the last two span several work items
  // (and, on 2 threads, split between them: wasm-threads.test.ts)
  const SHAPES: number[][] = [[9, 3], [2, 3, 4, 5], [3, 4, 5, 17], [50, 17], [16, 16, 16, 16], [4, 30, 30, 17]];
  for (const shape of SHAPES) {
    it(`${JSON.stringify(shape)}: y, mean, variance and ∂x, ∂scale, ∂offset (with ∂mean, ∂variance) = float64`, async () => {
      await tf.setBackend('wasm');
      const C = shape[shape.length - 1]!;
      const rows = shape.reduce((a, b) => a * b, 1) / C;
      const d = bnData(rows, C, 5, 0.5);
      const buffers = tf.backend().numDataIds();
      const tensors = tf.memory().numTensors;
      for (const withScale of [true, false]) {
        const got = tf.tidy(() => {
          const t = (v: Float32Array, s: number[]) => tf.tensor(v, s);
          const x = t(d.x, shape);
          const scale = withScale ? t(d.scale, [C]) : undefined;
          const [y, mean, variance] = tf.engine().runKernel(NATIVE_BATCH_NORM_TRAINING,
            { x, ...(scale ? { scale } : {}), offset: t(d.offset, [C]) }, { varianceEpsilon: EPS }) as tf.Tensor[];
          const g = tf.engine().runKernel(NATIVE_BATCH_NORM_TRAINING_GRAD, {
            x, dy: t(d.dy, shape), mean: mean!, variance: variance!, ...(scale ? { scale } : {}),
            dmean: t(d.dmean, [C]), dvariance: t(d.dvar, [C]),
          }, { varianceEpsilon: EPS }) as tf.Tensor[];
          return [y!, mean!, variance!, ...g].map((v) => v.dataSync() as Float32Array);
        });
        const f = forward64(d.x, C, withScale ? d.scale : undefined, d.offset);
        const g = gradient64(d, { withScale });
        const what = withScale ? '' : ' (no scale)';
        expectRel(got[0]!, f.y, `y${what}`);
        expectRel(got[1]!, f.mean, `mean${what}`);
        expectRel(got[2]!, f.variance, `variance${what}`);
        expectRel(got[3]!, g.dx, `∂x${what}`);
        expectRel(got[4]!, g.dscale, `∂scale${what}`);
        expectRel(got[5]!, g.doffset, `∂offset${what}`);
      }
      expect(tf.memory().numTensors).toBe(tensors);
      expect(tf.backend().numDataIds()).toBe(buffers); // the kernels' scratch freed
    });
  }

  it('the stock layer on cpu and the fused one on wasm agree on a large rank-4 batch (tf.grads w.r.t. x, γ, β)', async () => {
    const shape = [8, 12, 12, 17]; // 1152 rows: 2 work items
    const C = 17;
    const data = { x: randn(8 * 12 * 12 * 17, -3, 2), r: randn(8 * 12 * 12 * 17), gamma: randn(C, 1, 0.3), beta: randn(C) };
    const run = async (backend: 'cpu' | 'wasm') => {
      await tf.setBackend(backend);
      const layer = tf.layers.batchNormalization({ epsilon: EPS });
      tf.tidy(() => layer.apply(tf.zeros(shape)) as tf.Tensor);
      layer.setWeights([tf.tensor(data.gamma), tf.tensor(data.beta), tf.zeros([C]), tf.ones([C])]);
      const [gamma, beta] = layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val) as [tf.Variable, tf.Variable];
      const profile = await tf.profile(() => tf.tidy(() => {
        const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
          gamma.assign(g);
          beta.assign(b);
          return tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, tf.tensor(data.r, shape)));
        };
        const { value, grads } = tf.variableGrads(() => f(tf.tensor(data.x, shape), gamma, beta) as tf.Scalar, [gamma, beta]);
        const dx = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, tf.tensor(data.r, shape))))(tf.tensor(data.x, shape));
        return [value, dx, grads[gamma.name]!, grads[beta.name]!].map((v) => v.dataSync()) as unknown as tf.Tensor;
      }));
      layer.dispose();
      return { values: profile.result as unknown as Float32Array[], kernels: profile.kernelNames };
    };
    const want = await run('cpu');
    const got = await run('wasm');
    expect(got.kernels).toContain(NATIVE_BATCH_NORM_TRAINING_GRAD);
    expect(want.kernels).not.toContain(NATIVE_BATCH_NORM_TRAINING);
    ['loss', '∂x', '∂γ', '∂β'].forEach((what, i) => expectRel(got.values[i]!, want.values[i]!, what));
  });

  it('ReLU gradient = dy · [x > 0], 0 at x = 0 and −0, sizes not a multiple of 4 (one kernel, no Step)', async () => {
    await tf.setBackend('wasm');
    for (const n of [1, 3, 5, 7, 4099, 70_001]) {
      const x = Float32Array.from(randn(n), (v, i) => (i % 5 === 0 ? 0 : i % 5 === 1 ? -0 : v));
      const dy = randn(n);
      const before = tf.memory().numTensors;
      const profile = await tf.profile(() => tf.tidy(() => {
        const g = tf.grad((t: tf.Tensor) => tf.relu(t))(tf.tensor(x), tf.tensor(dy));
        return g.dataSync() as unknown as tf.Tensor;
      }));
      expect(profile.result as unknown as Float32Array).toEqual(Float32Array.from(x, (v, i) => dy[i]! * (v > 0 ? 1 : 0)));
      expect(profile.kernelNames).toContain(NATIVE_RELU_GRAD);
      expect(profile.kernelNames).not.toContain('Step');
      expect(tf.memory().numTensors).toBe(before);
    }
    // TF.js's own gradient on cpu: 0 at 0
    await tf.setBackend('cpu');
    expect(Array.from(tf.tidy(() => tf.grad((t: tf.Tensor) => tf.relu(t))(tf.tensor([0, -0, 1, -1]), tf.ones([4])).dataSync())))
      .toEqual([0, 0, 1, 0]);
  });

  it('a batch-norm ResNet block trains with no tensors or wasm buffers left over steps', async () => {
    await tf.setBackend('wasm');
    const input = tf.input({ shape: [6, 6, 5] });
    const conv = tf.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'same' }).apply(input) as tf.SymbolicTensor;
    const bn = tf.layers.batchNormalization({}).apply(conv) as tf.SymbolicTensor;
    const out = tf.layers.reLU().apply(tf.layers.add().apply([bn, input]) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const x = tf.tensor(randn(4 * 6 * 6 * 5), [4, 6, 6, 5]);
    const opt = tf.train.momentum(0.01, 0.9);
    const step = () => opt.minimize(() => tf.mean(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, true)!.dispose();
    step();
    const profile = await tf.profile(step);
    expect(profile.kernelNames).toEqual(expect.arrayContaining([NATIVE_BATCH_NORM_TRAINING, NATIVE_BATCH_NORM_TRAINING_GRAD, NATIVE_RELU_GRAD]));
    const tensors = tf.memory().numTensors;
    const buffers = tf.backend().numDataIds();
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(buffers);
    tf.dispose(x);
    opt.dispose();
    model.dispose();
  });
});

// The fused tf.layers BatchNormalization's own tests (stock layer on cpu, float64, finite
// differences, the moving statistics, SCAAT_FUSED_BATCH_NORM=0), here on the SIMD kernels.
await import('../native/batch-norm-layer.test.js');

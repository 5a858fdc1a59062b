/**
 * wasm BatchMatMul with transposed operands (matmul.ts) against the stock cpu kernel and a float64
 * product, for rank-2 and batched (broadcast) operands and every transpose flag.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../backend.js';
import { Rng } from '../random.js';
import { relError } from '../../../test/helpers/index.js';

const CASES = [
  { name: 'rank 2', batchA: [] as number[], batchB: [] as number[] },
  { name: 'batched', batchA: [3], batchB: [3] },
  { name: 'broadcast batch', batchA: [1], batchB: [2] },
];
const [M, K, N] = [5, 7, 4];

/** Float64 reference of op(a)·op(b) over broadcast batches. */
function reference(a: Float32Array, b: Float32Array, nbA: number, nbB: number, ta: boolean, tb: boolean): Float64Array {
  const nb = Math.max(nbA, nbB);
  const out = new Float64Array(nb * M * N);
  for (let z = 0; z < nb; z++) {
    const ao = (nbA === 1 ? 0 : z) * M * K;
    const bo = (nbB === 1 ? 0 : z) * K * N;
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++)
        for (let k = 0; k < K; k++)
          out[(z * M + i) * N + j]! += a[ao + (ta ? k * M + i : i * K + k)]! * b[bo + (tb ? j * K + k : k * N + j)]!;
  }
  return out;
}

describe('BatchMatMul with transposed operands on wasm', () => {
  beforeAll(async () => {
    await setupBackend({ backend: 'wasm' });
  });

  const combos = CASES.flatMap((c) => [false, true].flatMap((ta) => [false, true].map((tb) => [`${c.name}, transposeA=${ta}, transposeB=${tb}`, c, ta, tb] as const)));
  it.each(combos)('%s', async (_n, c, ta, tb) => {
    const rng = new Rng(1);
    const shapeA = [...c.batchA, ...(ta ? [K, M] : [M, K])];
    const shapeB = [...c.batchB, ...(tb ? [N, K] : [K, N])];
    const a = Float32Array.from({ length: shapeA.reduce((x, y) => x * y, 1) }, () => rng.normal());
    const b = Float32Array.from({ length: shapeB.reduce((x, y) => x * y, 1) }, () => rng.normal());
    const run = () => tf.tidy(() => tf.matMul(tf.tensor(a, shapeA), tf.tensor(b, shapeB), ta, tb).dataSync().slice());
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const got = run();
    expect(tf.memory().numTensors).toBe(before);
    await tf.setBackend('cpu');
    const ref = run();
    await tf.setBackend('wasm');
    expect(relError(got, ref)).toBeLessThan(1e-5);
    expect(relError(got, reference(a, b, c.batchA[0] ?? 1, c.batchB[0] ?? 1, ta, tb))).toBeLessThan(1e-5);
  });
});

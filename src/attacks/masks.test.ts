import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { irrelevantCount, lowSaliencyMask, lowSaliencyMaskData, maskFromRanks, saliencyRanks } from './masks.js';
import { Rng } from '../engine/random.js';
import { ShapeError } from '../errors.js';
import { expectNoLeak, useBackend } from '../../test/helpers/index.js';

/** Reference: sort pixel indices by (score, index) with a comparator; NaN last; the first `counts[b]` of image b. */
function referenceMask(scores: ArrayLike<number>, batch: number, n: number, counts: readonly number[]): Uint8Array {
  const out = new Uint8Array(batch * n);
  for (let b = 0; b < batch; b++) {
    const key = (p: number): number => {
      const v = scores[b * n + p]!;
      return Number.isNaN(v) ? Infinity : v;
    };
    const order = Array.from({ length: n }, (_, p) => p).sort((i, j) => key(i) - key(j) || (key(i) === key(j) ? i - j : 0));
    for (let r = 0; r < counts[b]!; r++) out[b * n + order[r]!] = 1;
  }
  return out;
}

describe('irrelevantCount', () => {
  it('is floor(q·n), reading float32 ratios on the 1e-6 grid', () => {
    expect(irrelevantCount(0.5, 1024)).toBe(512);
    expect(irrelevantCount(Math.fround(0.52), 100)).toBe(52); // 0.51999998·100 would floor to 51
    expect(irrelevantCount(Math.fround(0.58), 100)).toBe(58); // 0.58·100 = 57.99999999999999 in float64
    expect(irrelevantCount(0.333, 10)).toBe(3);
    expect(irrelevantCount(0, 64)).toBe(0);
    expect(irrelevantCount(1, 64)).toBe(64);
  });
});

describe('lowSaliencyMask', () => {
  beforeAll(() => useBackend('cpu'));

  it('selects exactly floor(q·H·W) pixels, the least salient ones, ties by flat index', () => {
    const rng = new Rng(5);
    const [batch, h, w] = [6, 7, 9];
    const n = h * w;
    // few distinct levels → many ties; negatives, −0 and a NaN too
    const scores = Float32Array.from({ length: batch * n }, () => Math.floor(rng.next() * 5) - 1);
    scores[3] = -0;
    scores[10] = NaN;
    const ratios = Float32Array.from([0, 0.1, 0.25, 0.5, 0.52, 1]);
    // floor(q·63) by hand: 6.3, 15.75, 31.5, 32.76 (float32 0.52 is 0.51999998, read as 0.52)
    const counts = [0, 6, 15, 31, 32, 63];
    const got = lowSaliencyMaskData(scores, batch, n, ratios);
    expect(Array.from(got)).toEqual(Array.from(referenceMask(scores, batch, n, counts)));
    // the same mask from cached ranks
    expect(Array.from(maskFromRanks(saliencyRanks(scores, batch, n), batch, n, ratios))).toEqual(Array.from(got));
    for (let b = 0; b < batch; b++) {
      let count = 0;
      let maxIn = -Infinity;
      let minOut = Infinity;
      for (let p = 0; p < n; p++) {
        const v = Number.isNaN(scores[b * n + p]!) ? Infinity : scores[b * n + p]!;
        if (got[b * n + p]) {
          count++;
          maxIn = Math.max(maxIn, v);
        } else minOut = Math.min(minOut, v);
      }
      expect(count).toBe(counts[b]);
      expect(maxIn).toBeLessThanOrEqual(minOut);
    }
  });

  it('equals a full sort by (score, flat index) for every k, with heavy ties, −0, NaN and ±∞ (selection, not a sort)', () => {
    const rng = new Rng(17);
    const n = 300;
    const pool = [0, -0, 1, 2, 2.5, -1, NaN, Infinity, -Infinity, 1e-30];
    for (let trial = 0; trial < 20; trial++) {
      const scores = Float32Array.from({ length: n }, () => (rng.next() < 0.5 ? pool[rng.nextInt(pool.length)]! : rng.nextInt(5)));
      // reference: float32 order (NaN largest, −0 = +0), then the index
      const key = (v: number) => (Number.isNaN(v) ? Infinity : v);
      const order = Array.from({ length: n }, (_, p) => p).sort((a, b) => {
        const [x, y] = [scores[a]!, scores[b]!];
        if (Number.isNaN(x) !== Number.isNaN(y)) return Number.isNaN(x) ? 1 : -1;
        return key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : a - b;
      });
      for (const q of [0, 0.004, 0.007, 0.125, 0.5, 0.997, 1]) {
        const k = irrelevantCount(q, n);
        const mask = lowSaliencyMaskData(scores, 1, n, [q]);
        const expected = new Uint8Array(n);
        for (const p of order.slice(0, k)) expected[p] = 1;
        expect(Array.from(mask), `trial ${trial}, q ${q} (k ${k})`).toEqual(Array.from(expected));
      }
    }
  });

  it('returns a [B, H, W, 1] {0, 1} tensor that masks every channel of a pixel alike', async () => {
    const scores = tf.tensor3d([[[3, 1], [2, 0]], [[5, 5], [5, 5]]]);
    await expectNoLeak(() => lowSaliencyMask(scores, Float32Array.from([0.5, 0.75])), 'lowSaliencyMask');
    const m = lowSaliencyMask(scores, Float32Array.from([0.5, 0.75]));
    expect(m.shape).toEqual([2, 2, 2, 1]);
    // sample 0: lowest two are 0 (index 3) and 1 (index 1); sample 1: all tied → indices 0, 1, 2
    expect(Array.from(m.dataSync())).toEqual([0, 1, 0, 1, 1, 1, 1, 0]);
    const x = tf.ones([2, 2, 2, 3]);
    const perChannel = tf.mul(x, m); // broadcast over C
    const d = perChannel.arraySync() as number[][][][];
    for (const c of [0, 1, 2]) expect(d[0]![0]![1]![c]).toBe(1);
    for (const c of [0, 1, 2]) expect(d[0]![0]![0]![c]).toBe(0);
    tf.dispose([scores, m, x, perChannel]);
  });

  it('ranks equal a full sort by (score, flat index), with heavy ties, −0, NaN and ±∞, over several rows', () => {
    const rng = new Rng(23);
    const pool = [0, -0, 1, 2, 2.5, -1, NaN, Infinity, -Infinity, 1e-30, -1e-30, 3.4e38];
    for (const n of [1, 2, 7, 300, 1024]) {
      const batch = 3;
      const scores = Float32Array.from({ length: batch * n }, () => (rng.next() < 0.5 ? pool[rng.nextInt(pool.length)]! : rng.normal()));
      const got = saliencyRanks(scores, batch, n);
      for (let b = 0; b < batch; b++) {
        const row = scores.subarray(b * n, (b + 1) * n);
        const key = (v: number) => (Number.isNaN(v) ? Infinity : v);
        const order = Array.from({ length: n }, (_, p) => p).sort((a, c) => {
          const [x, y] = [row[a]!, row[c]!];
          if (Number.isNaN(x) !== Number.isNaN(y)) return Number.isNaN(x) ? 1 : -1;
          return key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : a - c;
        });
        const expected = new Array<number>(n);
        order.forEach((p, r) => (expected[p] = r));
        expect(Array.from(got.subarray(b * n, (b + 1) * n)), `n ${n}, row ${b}`).toEqual(expected);
      }
    }
    // all scores equal: the index order
    expect(Array.from(saliencyRanks(new Float32Array(5).fill(0.5), 1, 5))).toEqual([0, 1, 2, 3, 4]);
  });

  it('ranks: rank 0 is the least salient pixel; Uint16 storage up to 65536 pixels', () => {
    const r = saliencyRanks(Float32Array.from([0.3, -1, 0.3, 0.1]), 1, 4);
    expect(r).toBeInstanceOf(Uint16Array);
    expect(Array.from(r)).toEqual([2, 0, 3, 1]);
  });

  it('rejects bad ratios and sizes with a ShapeError', () => {
    const s = new Float32Array(8);
    expect(() => lowSaliencyMaskData(s, 2, 4, [0.5])).toThrow(/one ratio per sample \(2\), got 1/);
    expect(() => lowSaliencyMaskData(s, 2, 4, [0.5, 1.5])).toThrow(ShapeError);
    expect(() => lowSaliencyMaskData(s, 2, 5, [0.5, 0.5])).toThrow(/expected 2·5 = 10 scores, got 8/);
  });
});

/**
 * Low-saliency masks (SCAAT, method.md §2.2): for sample b with ratio q_b, the
 * k_b = floor(q_b·H·W) pixels with the lowest score form the irrelevant set M_b, shared by all
 * channels; ties go to the lower flat index (row-major h·W + w).
 *
 * How: per sample, on CPU typed arrays. A mask needs only the k lowest: each pixel gets the 53-bit
 * key `orderedBits(score)·2^21 + flatIndex` (orderedBits maps float32 to uint32 in the same order)
 * and a quickselect finds the k smallest keys, exact ties by index, no sort. A full ranking
 * (saliencyRanks) is a stable LSD radix sort of the 32-bit ordered scores, so ties keep index
 * order. The scores are read from the tensor once (one device → CPU copy of [B, H, W]).
 * NaN scores count as the most salient (masked last: only at q = 1); −0 equals +0. H·W is limited
 * to 2^21.
 *
 * `irrelevantCount(q, H·W)` reads q on the 1e-6 grid of scaat/sample-state.ts, so a float32
 * q = 0.51999998 (stored for 0.52) on 100 pixels gives 52, not 51.
 *
 * @example
 * const mask = lowSaliencyMask(scores, new Float32Array([0.5, 0.25]));  // [2, H, W, 1] of {0, 1}; caller disposes
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '../errors.js';

/** Largest H·W the index part of the sort key can hold. */
export const MAX_MASK_PIXELS = 2 ** 21;

/**
 * k = floor(q·n) for a ratio q ∈ [0, 1] read at a resolution of 1e-6 (exact integer arithmetic).
 * @example irrelevantCount(Math.fround(0.52), 100) // 52
 */
export function irrelevantCount(q: number, numPixels: number): number {
  const micro = Math.round(Math.min(Math.max(q, 0), 1) * 1e6); // integer in [0, 1e6]
  return Math.floor((micro * numPixels) / 1e6);
}

/**
 * Rank of every pixel of every sample by (score, flat index), ascending: rank 0 is the least
 * salient pixel. `scores` is [B, n] row-major (n = H·W). The mask of ratio q is then exactly
 * {p : rank[p] < irrelevantCount(q, n)}, so ranks can be cached and reused for any q.
 * Returns Uint16Array when n ≤ 65536, else Uint32Array.
 */
export function saliencyRanks(scores: ArrayLike<number>, batch: number, numPixels: number): Uint16Array | Uint32Array {
  checkSizes(scores.length, batch, numPixels, 'saliencyRanks');
  const ranks = numPixels <= 65536 ? new Uint16Array(batch * numPixels) : new Uint32Array(batch * numPixels);
  const sorter = new RadixOrder(numPixels);
  for (let b = 0; b < batch; b++) {
    const order = sorter.order(scores, b * numPixels);
    const base = b * numPixels;
    for (let r = 0; r < numPixels; r++) ranks[base + order[r]!] = r;
  }
  return ranks;
}

/**
 * Pixel order by (float32 order of the score, flat index), as the 53-bit keys of
 * {@link fillKeys} sort, by a stable LSD radix sort of the 32-bit ordered scores (four 8-bit
 * passes; the index order of ties is what stability keeps): O(n) per row instead of a comparison
 * sort's O(n log n): saliencyRanks of a batch of 128 at 32×32 took 11 → 4.4 ms (docs/benchmarks.md).
 */
class RadixOrder {
  private readonly keys: Uint32Array;
  private readonly keys2: Uint32Array;
  private readonly idx: Int32Array;
  private readonly idx2: Int32Array;
  private readonly counts = new Int32Array(256);

  constructor(private readonly n: number) {
    [this.keys, this.keys2, this.idx, this.idx2] = [new Uint32Array(n), new Uint32Array(n), new Int32Array(n), new Int32Array(n)];
  }

  /** The pixel indices of scores[offset … offset+n) in ascending order (a view, valid until the next call). */
  order(scores: ArrayLike<number>, offset: number): Int32Array {
    const n = this.n;
    let [k, k2, ix, ix2] = [this.keys, this.keys2, this.idx, this.idx2];
    for (let p = 0; p < n; p++) {
      k[p] = orderedBits(scores[offset + p]!);
      ix[p] = p;
    }
    const counts = this.counts;
    for (let shift = 0; shift < 32; shift += 8) {
      counts.fill(0);
      for (let p = 0; p < n; p++) counts[(k[p]! >>> shift) & 255]!++;
      if (counts[(k[0]! >>> shift) & 255] === n) continue; // every key has this byte: order unchanged
      for (let d = 0, sum = 0; d < 256; d++) {
        const c = counts[d]!;
        counts[d] = sum;
        sum += c;
      }
      for (let p = 0; p < n; p++) {
        const at = counts[(k[p]! >>> shift) & 255]!++;
        k2[at] = k[p]!;
        ix2[at] = ix[p]!;
      }
      [k, k2, ix, ix2] = [k2, k, ix2, ix];
    }
    return ix;
  }
}

/** The mask {0, 1} [B·n] of ratios q from cached {@link saliencyRanks}. */
export function maskFromRanks(ranks: ArrayLike<number>, batch: number, numPixels: number, ratios: ArrayLike<number>): Uint8Array {
  checkSizes(ranks.length, batch, numPixels, 'maskFromRanks');
  checkRatios(ratios, batch, 'maskFromRanks');
  const mask = new Uint8Array(batch * numPixels);
  for (let b = 0; b < batch; b++) {
    const k = irrelevantCount(ratios[b]!, numPixels);
    const base = b * numPixels;
    for (let p = 0; p < numPixels; p++) if (ranks[base + p]! < k) mask[base + p] = 1;
  }
  return mask;
}

/**
 * CPU version of {@link lowSaliencyMask}: `scores` [B·n] row-major → mask [B·n] of {0, 1} with
 * exactly irrelevantCount(ratios[b], n) ones in sample b, on its lowest-score pixels.
 */
export function lowSaliencyMaskData(
  scores: ArrayLike<number>,
  batch: number,
  numPixels: number,
  ratios: ArrayLike<number>,
): Uint8Array {
  checkSizes(scores.length, batch, numPixels, 'lowSaliencyMask');
  checkRatios(ratios, batch, 'lowSaliencyMask');
  const mask = new Uint8Array(batch * numPixels);
  const keys = new Float64Array(numPixels);
  for (let b = 0; b < batch; b++) {
    const k = irrelevantCount(ratios[b]!, numPixels);
    if (k === 0) continue;
    fillKeys(scores, b * numPixels, numPixels, keys);
    // the k smallest keys into keys[0 … k) (any order): O(H·W) instead of a sort
    selectSmallest(keys, k);
    const base = b * numPixels;
    for (let r = 0; r < k; r++) mask[base + (keys[r]! % MAX_MASK_PIXELS)] = 1;
  }
  return mask;
}

/**
 * The SCAAT mask: for each sample b, 1 on the floor(ratios[b]·H·W) pixels of lowest score
 * (ties by flat index), 0 elsewhere; shape [B, H, W, 1], float32, broadcast over channels by the
 * attack. Does not take ownership of `scores` [B, H, W]; the caller owns the result.
 * @throws ShapeError when scores is not rank 3, ratios.length ≠ B, a ratio is outside [0, 1], or H·W > 2^21.
 */
export function lowSaliencyMask(scores: tf.Tensor3D, ratios: ArrayLike<number>): tf.Tensor4D {
  if (scores.rank !== 3) {
    throw new ShapeError(`lowSaliencyMask: expected scores of shape [B, H, W], got [${scores.shape.join(', ')}]`);
  }
  const [batch, h, w] = scores.shape;
  const data = lowSaliencyMaskData(scores.dataSync(), batch, h * w, ratios);
  return maskTensor(data, batch, h, w);
}

/** A {0, 1} mask [B·H·W] as a float32 tensor [B, H, W, 1]; the caller owns it. */
export function maskTensor(data: Uint8Array, batch: number, h: number, w: number): tf.Tensor4D {
  return tf.tensor4d(Float32Array.from(data), [batch, h, w, 1], 'float32');
}

// ---- internals --------------------------------------------------------------------------------

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** Fills `keys` with the 53-bit keys (float32 order of the score, then the pixel index; all distinct) of scores[offset … offset+n). */
function fillKeys(scores: ArrayLike<number>, offset: number, n: number, keys: Float64Array): void {
  for (let p = 0; p < n; p++) keys[p] = orderedBits(scores[offset + p]!) * MAX_MASK_PIXELS + p;
}

/**
 * Rearranges the distinct `keys` so that keys[0 … k) are the k smallest (in no particular order):
 * quickselect (Hoare partition, median-of-three pivot), O(n) on average.
 */
function selectSmallest(keys: Float64Array, k: number): void {
  let lo = 0;
  let hi = keys.length - 1;
  while (hi > lo && k > lo && k <= hi) {
    const mid = (lo + hi) >>> 1;
    // median of three as the pivot
    const a = keys[lo]!;
    const b = keys[mid]!;
    const c = keys[hi]!;
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (keys[i]! < pivot) i++;
      while (keys[j]! > pivot) j--;
      if (i <= j) {
        const t = keys[i]!;
        keys[i] = keys[j]!;
        keys[j] = t;
        i++;
        j--;
      }
    }
    // keys[lo … j] ≤ pivot ≤ keys[i … hi]; the first k lie in one side
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/** uint32 whose unsigned order is the float32 order of v; NaN → the largest; −0 → +0. */
function orderedBits(v: number): number {
  if (Number.isNaN(v)) return 0xffffffff;
  F32[0] = v === 0 ? 0 : v;
  const u = U32[0]!;
  // negative floats: flip all bits; positive: set the sign bit.
  return u & 0x80000000 ? ~u >>> 0 : (u | 0x80000000) >>> 0;
}

function checkSizes(length: number, batch: number, numPixels: number, where: string): void {
  if (numPixels > MAX_MASK_PIXELS) {
    throw new ShapeError(`${where}: images of ${numPixels} pixels exceed the supported ${MAX_MASK_PIXELS} (H·W ≤ 2^21)`);
  }
  if (length !== batch * numPixels) {
    throw new ShapeError(`${where}: expected ${batch}·${numPixels} = ${batch * numPixels} scores, got ${length}`);
  }
}

function checkRatios(ratios: ArrayLike<number>, batch: number, where: string): void {
  if (ratios.length !== batch) {
    throw new ShapeError(`${where}: expected one ratio per sample (${batch}), got ${ratios.length}`);
  }
  for (let b = 0; b < batch; b++) {
    const q = ratios[b]!;
    if (!(q >= 0 && q <= 1)) throw new ShapeError(`${where}: ratio ${b} is ${q}, expected a value in [0, 1]`);
  }
}

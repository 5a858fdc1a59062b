/**
 * An in-memory {@link Dataset} for this room's tests and benchmarks (internal).
 */
import type { Batch, BatchOptions, Dataset } from '../datasets/dataset.js';

/** A dataset over arrays: x [N·H·W·C] in [0, 1], labels [N], optional masks [N·H·W]. */
export function arrayDataset(
  x: Float32Array,
  y: Int32Array,
  shape: readonly [number, number, number],
  numClasses: number,
  mask?: Uint8Array,
): Dataset {
  const [h, w, c] = shape;
  const size = y.length;
  const per = h * w * c;
  const get = async (indices: ArrayLike<number>): Promise<Batch> => {
    const n = indices.length;
    const bx = new Float32Array(n * per);
    const by = new Int32Array(n);
    const bi = new Int32Array(n);
    const bm = mask ? new Uint8Array(n * h * w) : undefined;
    for (let k = 0; k < n; k++) {
      const i = indices[k]!;
      bx.set(x.subarray(i * per, (i + 1) * per), k * per);
      by[k] = y[i]!;
      bi[k] = i;
      bm?.set(mask!.subarray(i * h * w, (i + 1) * h * w), k * h * w);
    }
    return { x: bx, y: by, index: bi, shape: [n, h, w, c], ...(bm ? { mask: bm } : {}) };
  };
  return {
    format: 'array',
    source: 'memory',
    split: 'test',
    size,
    shape,
    numClasses,
    classNames: Array.from({ length: numClasses }, (_, k) => `class ${k}`),
    hasMask: mask !== undefined,
    async *batches({ batchSize, indices, startBatch = 0 }: BatchOptions): AsyncIterable<Batch> {
      const order = indices ?? Int32Array.from({ length: size }, (_, i) => i);
      for (let s = startBatch * batchSize; s < order.length; s += batchSize) yield await get(order.subarray(s, s + batchSize));
    },
    get,
    async labelHistogram() {
      const hgram = new Array<number>(numClasses).fill(0);
      for (const v of y) hgram[v]! += 1;
      return hgram;
    },
    labels: async () => Int32Array.from(y),
  };
}

/**
 * Example images for the report's grid: an evaluated image and its 8-bit saliency maps (the
 * post-processing of the metrics, uint8-map.ts) in the compact form of
 * {@link EvaluationExample} (raw bytes as base64, the report's `Image8`). Used by evaluate() for
 * the images {@link exampleIndices} picks (one per class first), by merge (the N lowest indices
 * across shards) and by `scaat demo` for its sample PNGs.
 *
 * @example
 * const image = exampleImage(batch.x.subarray(0, H * W * C), W, H, C);   // {width, height, channels, data}
 */
import { DataError } from '../errors.js';
import type { EvaluationExample, ExampleImage } from './evaluation-result.js';

/** Pixels in [0, 1] (row-major H·W·C) → bytes round(255·clip(x, 0, 1)), same layout. */
export function toBytes(pixels: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(255 * Math.min(Math.max(pixels[i]!, 0), 1));
  return out;
}

/** 1- or 3-channel bytes unchanged; any other channel count C → RGB (channel min(c, C − 1)). */
export function toDisplayChannels(image: Uint8Array, C: number): { bytes: Uint8Array; channels: 1 | 3 } {
  if (C === 1 || C === 3) return { bytes: image, channels: C };
  const n = image.length / C;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = image[i * C + Math.min(c, C - 1)]!;
  return { bytes: rgb, channels: 3 };
}

/** Bytes (row-major H×W×channels) → {@link ExampleImage}. @throws DataError on a length mismatch. */
export function encodeExampleImage(bytes: Uint8Array, width: number, height: number, channels: 1 | 3): ExampleImage {
  if (bytes.length !== width * height * channels) {
    throw new DataError(`example image: expected ${width}×${height}×${channels} = ${width * height * channels} bytes, got ${bytes.length}`);
  }
  return { width, height, channels, data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
}

/** An input image (pixels in [0, 1], H·W·C) as an 8-bit gray or RGB {@link ExampleImage}. */
export function exampleImage(pixels: ArrayLike<number>, width: number, height: number, channels: number): ExampleImage {
  const { bytes, channels: c } = toDisplayChannels(toBytes(pixels), channels);
  return encodeExampleImage(bytes, width, height, c);
}

/** An 8-bit saliency map U8 (toUint8Map's output, H·W) as a 1-channel {@link ExampleImage}. */
export function exampleMap(u8: Uint8Array, width: number, height: number): ExampleImage {
  return encodeExampleImage(u8, width, height, 1);
}

/**
 * Which images of an evaluation sample are its examples: walking `indices` (the sample, in the
 * order evaluated), the first image of each class not yet shown, until `count`; when the sample
 * has fewer classes, then the next images in order. So a sample of a dataset stored class by class
 * (cifar10-jpg) shows several classes, not `count` images of the first. A function of the whole
 * sample, not of a shard: every shard picks from the same set, and merged shards (the lowest
 * indices, {@link lowestExamples}) give the unsharded run's examples. `labels[i]` is the label of
 * dataset index i (−1 where unknown, a class of its own). Returned ascending.
 * @example exampleIndices([0, 1, 2, 3, 4], [7, 7, 3, 7, 3], 2)   // Int32Array [0, 2]
 */
export function exampleIndices(indices: ArrayLike<number>, labels: ArrayLike<number>, count: number): Int32Array {
  const picked: number[] = [];
  const seen = new Set<number>();
  for (let k = 0; k < indices.length && picked.length < count; k++) {
    const label = labels[indices[k]!]!;
    if (!seen.has(label)) {
      seen.add(label);
      picked.push(indices[k]!);
    }
  }
  if (picked.length < count) {
    const taken = new Set(picked);
    for (let k = 0; k < indices.length && picked.length < count; k++) if (!taken.has(indices[k]!)) picked.push(indices[k]!);
  }
  return Int32Array.from(picked).sort();
}

/** The `n` examples of lowest index among `parts` (shards' examples, any order), ascending. */
export function lowestExamples(parts: ReadonlyArray<readonly EvaluationExample[]>, n: number): EvaluationExample[] {
  return parts.flat().sort((a, b) => a.index - b.index).slice(0, Math.max(0, n));
}

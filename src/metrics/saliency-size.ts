/**
 * Saliency size (method.md §4; lower is better): the bytes of the 8-bit map U8 encoded as a
 * grayscale image file, divided by 1024 (KB).
 *
 *   'jpeg' (default): baseline grayscale JPEG at quality 75, byte-identical to libjpeg-turbo /
 *          PIL's `Image.fromarray(u8, 'L').save(f, 'JPEG', quality=75)` (see _jpeg-gray.ts);
 *   'png': 8-bit grayscale PNG from pngjs (deflate level 9, adaptive filters).
 *
 * @example saliencySize(u8, 32, 32)   // ≈ 0.34 KB for a constant map (header-dominated)
 */
import { PNG } from 'pngjs';
import { ConfigError, ShapeError } from '../errors.js';
import { encodeGrayJpeg } from './_jpeg-gray.js';
import { meanSummary, sparsityAccumulator } from './_summary.js';
import type { MetricCompute } from './types.js';

export type SizeFormat = 'jpeg' | 'png';
export const SIZE_FORMATS: readonly SizeFormat[] = ['jpeg', 'png'];

export interface SaliencySizeOptions {
  /** Codec. @default 'jpeg' (method.md §4) */
  format?: SizeFormat;
  /** JPEG quality in [1, 100]. @default 75 (method.md §4) */
  quality?: number;
}

/** The encoded file of an 8-bit gray map. */
export function encodeSaliencyMap(u8: Uint8Array, width: number, height: number, { format = 'jpeg', quality = 75 }: SaliencySizeOptions = {}): Uint8Array {
  if (u8.length !== width * height) {
    throw new ShapeError(`saliencySize: expected ${width}·${height} = ${width * height} pixels, got ${u8.length}`);
  }
  if (format === 'jpeg') {
    if (!(Number.isInteger(quality) && quality >= 1 && quality <= 100)) {
      throw new ConfigError(`saliencySize: expected an integer JPEG quality in [1, 100], got ${quality}`);
    }
    return encodeGrayJpeg(u8, width, height, quality);
  }
  if (format === 'png') {
    const png = new PNG({ width, height, colorType: 0, inputColorType: 0, bitDepth: 8, inputHasAlpha: false });
    png.data = Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
    return new Uint8Array(PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false, deflateLevel: 9 }));
  }
  throw new ConfigError(`saliencySize: expected format in ${SIZE_FORMATS.join(', ')}, got '${String(format)}'`);
}

/** Size in KB (bytes / 1024) of the encoded 8-bit map. */
export function saliencySize(u8: Uint8Array, width: number, height: number, options: SaliencySizeOptions = {}): number {
  return encodeSaliencyMap(u8, width, height, options).length / 1024;
}

/** The 'size' row: per-image size of each method's 8-bit map in config.size's codec (null for a constant map, as entropy's). */
export const SIZE: MetricCompute<Array<Array<number | null>>> = {
  accumulator: sparsityAccumulator('size', (u8, b) => saliencySize(u8, b.shape[2], b.shape[1], b.config.size)),
  summarise: (state, at) =>
    meanSummary(at, state[at.method]!, { variant: at.config.size.format === 'jpeg' ? `jpeg q${at.config.size.quality}` : 'png', params: { ...at.config.size } }),
};

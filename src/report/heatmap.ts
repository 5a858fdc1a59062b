/**
 * Saliency maps and images → PNG (pngjs) → data URIs, for the self-contained report.
 *
 * Maps arrive as 8-bit, post-processed per method.md §4 (S = Σ_c|A|, min → 0, 99th percentile →
 * 255, clipped), so 0 is the least and 255 the most salient pixel of that image. A colormap turns
 * them into RGB; images are enlarged by an integer factor with nearest-neighbour sampling so small
 * inputs (28², 32²) stay crisp everywhere, without relying on CSS `image-rendering`.
 */
import { PNG } from 'pngjs';
import { DataError } from '../errors.js';
import { decodeImage8 } from './run-results.js';
import type { Image8 } from './run-results.js';
import { colorize, colormapRgb } from './colormap.js';
import type { Colormap } from './colormap.js';

/** Options of {@link encodePng}. */
export interface PngOptions {
  /** Integer enlargement factor (nearest neighbour). @default 1 */
  scale?: number;
}

/**
 * Encodes 8-bit pixels (row-major H×W×C, C = 1 gray, 3 RGB or 4 RGBA) as a PNG file.
 * @throws DataError when `data` does not hold width·height·channels bytes or the scale is not a positive integer.
 */
export function encodePng(
  data: Uint8Array,
  width: number,
  height: number,
  channels: 1 | 3 | 4,
  { scale = 1 }: PngOptions = {},
): Uint8Array {
  if (data.length !== width * height * channels) {
    throw new DataError(
      `encodePng: expected ${width}×${height}×${channels} = ${width * height * channels} bytes, got ${data.length}`,
    );
  }
  if (!Number.isInteger(scale) || scale < 1) throw new DataError(`encodePng: scale must be a positive integer, got ${scale}`);
  const W = width * scale;
  const H = height * scale;
  const png = new PNG({ width: W, height: H, colorType: 6 });
  const out = png.data;
  for (let y = 0; y < H; y++) {
    const sy = Math.floor(y / scale);
    for (let x = 0; x < W; x++) {
      const s = (sy * width + Math.floor(x / scale)) * channels;
      const d = (y * W + x) * 4;
      if (channels === 1) {
        out[d] = out[d + 1] = out[d + 2] = data[s]!;
        out[d + 3] = 255;
      } else {
        out[d] = data[s]!;
        out[d + 1] = data[s + 1]!;
        out[d + 2] = data[s + 2]!;
        out[d + 3] = channels === 4 ? data[s + 3]! : 255;
      }
    }
  }
  return new Uint8Array(PNG.sync.write(png, { colorType: 6 }));
}

/** PNG of a saliency map (1 channel) under a colormap. */
export function heatmapPng(map: Image8, { colormap = 'inferno', scale = 1 }: PngOptions & { colormap?: Colormap } = {}): Uint8Array {
  if (map.channels !== 1) throw new DataError(`heatmapPng: expected a 1-channel map, got ${map.channels} channels`);
  return encodePng(colorize(decodeImage8(map), colormap), map.width, map.height, 3, { scale });
}

/** PNG of an 8-bit image (gray or RGB). */
export function imagePng(image: Image8, options: PngOptions = {}): Uint8Array {
  return encodePng(decodeImage8(image), image.width, image.height, image.channels, options);
}

/** `data:image/png;base64,…` for embedding a PNG in HTML or SVG. */
export function pngDataUri(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64')}`;
}

/** A horizontal colour bar (0 → 255) as RGB bytes, `width`×`height`. */
export function colorbar(width: number, height: number, colormap: Colormap = 'inferno'): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let x = 0; x < width; x++) {
    const c = colormapRgb((x / Math.max(width - 1, 1)) * 255, colormap);
    for (let y = 0; y < height; y++) rgb.set(c, (y * width + x) * 3);
  }
  return rgb;
}

/** Decodes a PNG file to RGBA (for tests and checks). */
export function decodePng(png: Uint8Array): { width: number; height: number; rgba: Uint8Array } {
  const img = PNG.sync.read(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
  return { width: img.width, height: img.height, rgba: new Uint8Array(img.data) };
}

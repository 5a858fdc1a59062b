/**
 * JPEG and PNG decoding to interleaved uint8 pixels (jpeg-js, pngjs; pure JS, no native code).
 * The format is recognised by the file's magic bytes, not its extension.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DataError } from '../errors.js';

/** A decoded image: interleaved uint8, row-major [height, width, channels]. */
export interface RawImage {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly data: Uint8Array;
}

/** 'jpeg' | 'png' from the magic bytes, or undefined for anything else. */
export function sniffImage(head: Uint8Array): 'jpeg' | 'png' | undefined {
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (head.length >= 8 && png.every((b, i) => head[i] === b)) return 'png';
  return undefined;
}

/** Decodes a JPEG (to RGB) or PNG (to RGBA); throws DataError naming `file` on failure. */
export function decodeImage(bytes: Uint8Array, file: string): RawImage {
  const kind = sniffImage(bytes);
  if (!kind) {
    throw new DataError(`${file}: expected a JPEG or PNG image, found ${describeHead(bytes)}`);
  }
  try {
    if (kind === 'jpeg') {
      // tolerantDecoding off: a truncated or corrupt JPEG is an error, not a silently grey image
      const im = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false, maxMemoryUsageInMB: 1024 });
      return { width: im.width, height: im.height, channels: 3, data: im.data };
    }
    const im = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return { width: im.width, height: im.height, channels: 4, data: new Uint8Array(im.data.buffer, im.data.byteOffset, im.data.byteLength) };
  } catch (err) {
    throw new DataError(`${file}: expected a decodable ${kind.toUpperCase()} image, found a corrupt one (${(err as Error).message})`, {
      cause: err,
    });
  }
}

function describeHead(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'an empty file';
  const hex = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `bytes ${hex}`;
}

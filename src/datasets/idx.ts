/**
 * IDX files (LeCun's MNIST format), raw or gzip: an images file (magic 0x00000803, dims [N, H, W],
 * unsigned bytes) and a labels file (magic 0x00000801, dims [N]). Big-endian 32-bit header words,
 * then the data row-major. Raw files are read lazily by positioned reads; gzip files (detected by
 * their magic bytes, whatever their name) are decompressed into memory once, up to
 * `maxDecompressedBytes` (MNIST-sized files are 47 MB decompressed).
 *
 * Format: http://yann.lecun.com/exdb/mnist/ ("FILE FORMATS FOR THE MNIST DATABASE").
 *
 * @example
 * const ds = await openIdx({ images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' });
 * ds.shape;   // [28, 28, 1]
 */
import path from 'node:path';
import { DataError } from '../errors.js';
import { checkAugmentation, makeDataset, type SampleSource } from './_base.js';
import { FileRecords, MemoryRecords, isGzip, readHead, readMaybeGzip, requireFile, type RecordStore } from './_files.js';
import type { Dataset } from './dataset.js';
import { bytesToUnit, NO_AUGMENTATION, type Augmentation } from './transforms.js';

/** Options of {@link openIdx}. */
export interface IdxOptions {
  /** Path of the images file (raw or gzip). */
  images: string;
  /** Path of the labels file (raw or gzip). */
  labels: string;
  /** Number of classes; every label must be below it. @default 10 */
  numClasses?: number;
  /** Class names, index = label. @default '0', '1', … */
  classNames?: readonly string[];
  /** Reported in `Dataset.format`. @default 'idx' */
  format?: string;
  /** Reported in `Dataset.split`. @default 'train' */
  split?: string;
  /** Training augmentation (`BatchOptions.augment`). @default none */
  augmentation?: Augmentation;
  /** Cap on a gzip file's decompressed size. @default 512 MiB */
  maxDecompressedBytes?: number;
}

/** A parsed IDX header. */
export interface IdxHeader {
  /** The magic number, e.g. 0x00000803. */
  readonly magic: number;
  /** Dimension sizes, e.g. [60000, 28, 28]. */
  readonly dims: readonly number[];
  /** Header length in bytes (4 + 4·dims). */
  readonly headerBytes: number;
}

/** The IDX magic for unsigned-byte data with `ndims` dimensions (0x00000800 + ndims). */
export function idxMagic(ndims: number): number {
  return 0x0800 + ndims;
}

/**
 * Parses and checks an IDX header: unsigned-byte data (type 0x08) with one of the `ndims` counts
 * allowed. Throws DataError naming `file`, the expected and the found magic.
 */
export function parseIdxHeader(bytes: Uint8Array, file: string, allowedDims: readonly number[], what: string): IdxHeader {
  const expected = allowedDims.map((d) => hex(idxMagic(d))).join(' or ');
  if (bytes.length < 4) {
    throw new DataError(`${file}: expected an IDX ${what} file starting with magic ${expected}, found only ${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const ndims = bytes[3]!;
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08 || !allowedDims.includes(ndims)) {
    throw new DataError(`${file}: expected an IDX ${what} file with magic ${expected} (unsigned bytes, ${allowedDims.join(' or ')} dimensions), found magic ${hex(magic)}`);
  }
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new DataError(`${file}: expected a ${headerBytes}-byte IDX header, found ${bytes.length} bytes`);
  }
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(4 + 4 * d, false));
  return { magic, dims, headerBytes };
}

function hex(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

/** Opens an IDX images/labels pair as a {@link Dataset}. */
export async function openIdx(options: IdxOptions): Promise<Dataset> {
  const { numClasses = 10, format = 'idx', split = 'train', maxDecompressedBytes = 512 << 20 } = options;
  const imagesFile = path.resolve(options.images);
  const labelsFile = path.resolve(options.labels);

  // 1) images: header and size checks; the decompressed bytes when gzip
  const imagesStat = requireFile(imagesFile, `${format} images`);
  const head = readHead(imagesFile, 24);
  const gz = isGzip(head) ? readMaybeGzip(imagesFile, `${format} images`, maxDecompressedBytes) : undefined;
  const header = parseIdxHeader(gz ? gz.subarray(0, 24) : head, imagesFile, [3, 4], 'images');
  const [count, rec, h, w, c] = imageGeometry(header);
  checkLength(imagesFile, gz ? gz.length : imagesStat.size, header.headerBytes + count * rec, header, gz ? ' (decompressed)' : '');

  // 2) labels: small, read whole and checked now
  requireFile(labelsFile, `${format} labels`);
  const lb = readMaybeGzip(labelsFile, `${format} labels`, maxDecompressedBytes);
  const lh = parseIdxHeader(lb.subarray(0, 8), labelsFile, [1], 'labels');
  checkLength(labelsFile, lb.length, lh.headerBytes + lh.dims[0]!, lh, isGzip(readHead(labelsFile, 2)) ? ' (decompressed)' : '');
  if (lh.dims[0] !== count) {
    throw new DataError(`${format}: expected as many labels as images (${count} in ${imagesFile}), found ${lh.dims[0]} in ${labelsFile}`);
  }
  const labels = lb.slice(lh.headerBytes, lh.headerBytes + count);
  for (let i = 0; i < count; i++) {
    if (labels[i]! >= numClasses) {
      throw new DataError(`${labelsFile}: expected labels in [0, ${numClasses}), found ${labels[i]} at sample ${i}`);
    }
  }

  // 3) lazy reads from the file (raw) or the memory copy (gzip)
  const store: RecordStore = gz
    ? new MemoryRecords(gz, header.headerBytes, rec, count)
    : new FileRecords(imagesFile, header.headerBytes, rec, count);
  const classNames = options.classNames ?? Array.from({ length: numClasses }, (_, k) => String(k));
  let scratch = new Uint8Array(0);
  const source: SampleSource = {
    info: { format, source: imagesFile, split, size: count, shape: [h, w, c], numClasses, classNames },
    labels,
    read(indices, x) {
      if (scratch.length < indices.length * rec) scratch = new Uint8Array(indices.length * rec);
      store.read(indices, scratch);
      bytesToUnit(scratch, x, 0, 0, indices.length * rec);
    },
    close: () => store.close(),
  };
  return makeDataset(source, checkAugmentation(options.augmentation ?? NO_AUGMENTATION, h, w, format));
}

/** [count, bytes per image, H, W, C] from an images header. */
function imageGeometry(hd: IdxHeader): [number, number, number, number, number] {
  const [n, h, w, c = 1] = hd.dims as [number, number, number, number?];
  return [n, h * w * c, h, w, c];
}

function checkLength(file: string, found: number, expected: number, hd: IdxHeader, note: string): void {
  if (found !== expected) {
    const why = found < expected ? 'truncated' : 'trailing bytes';
    throw new DataError(
      `${file}: expected ${expected} bytes${note} for IDX dims [${hd.dims.join(', ')}], found ${found} (${why})`,
    );
  }
}

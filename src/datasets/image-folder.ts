/**
 * Image folders in the ImageNet / torchvision `ImageFolder` layout: `root/<split>/<class>/*.jpg|png`
 * (e.g. data/cifar10-jpg/{train,test}/<class>/NNNN.jpg).
 *
 * Typical steps when opening:
 *   1. classes = sorted union of the class folders of every split under `root` (so train and test
 *      share one label map even if a split lacks a class), or `classNames` when given;
 *   2. files = the entries of each class folder in code-point order; a sample's index is its
 *      position in (class, file) order. Dot-files are ignored. Every other entry must be a
 *      readable file with a JPEG or PNG signature: otherwise DataError (`onBadFile: 'fail'`, the
 *      default) or one warning listing the skipped files (`onBadFile: 'skip'`). A class folder
 *      with no images is a DataError;
 *   3. each image is decoded (jpeg-js / pngjs), converted to `channels`, resized so its shorter
 *      side is `resize` (antialiased bilinear, as PIL), centre-cropped to `imageSize`×`imageSize` and
 *      rounded to uint8 (torchvision `Resize(resize)` + `CenterCrop(size)`);
 *   4. with `cache`, step 3 runs once for the whole split and its output is stored as a compact
 *      binary file (see `decoded-cache.ts`); later opens read records from it lazily.
 *
 * @example
 * const ds = await openImageFolder({ root: 'data/cifar10-jpg', split: 'test', imageSize: 32, cache: true });
 * ds.size;         // 10000
 * ds.classNames;   // ['airplane', 'automobile', …]
 */
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync, realpathSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, DataError } from '../errors.js';
import { checkAugmentation, makeDataset, type SampleSource } from './_base.js';
import { decodeImage, sniffImage } from './_image-decode.js';
import { FileRecords, requireDir } from './_files.js';
import type { Dataset } from './dataset.js';
import { buildDecodedCache, cacheKey, defaultCacheDir, openDecodedCache, type CacheFileEntry } from './decoded-cache.js';
import { bytesToUnit, centerCrop, convertChannels, resizeBilinear, resizedShape, type Augmentation } from './transforms.js';

/** Options of {@link openImageFolder}. */
export interface ImageFolderOptions {
  /** The folder holding one sub-folder per split. */
  root: string;
  /** The split folder under `root`. @default 'train' */
  split?: string;
  /** Output height = width after the centre crop. @default the shorter side of the split's first image */
  imageSize?: number;
  /** Shorter side after resizing, before the crop (ImageNet: 256 for imageSize 224). @default imageSize */
  resize?: number;
  /** Output channels (1 = luma, 3 = RGB). @default 3 */
  channels?: 1 | 3;
  /** What to do with an entry that is not a readable JPEG/PNG file. @default 'fail' */
  onBadFile?: 'fail' | 'skip';
  /** Decode once into a cache file: true = in `$SCAAT_CACHE_DIR` or ~/.cache/scaat; a string = that folder. @default false */
  cache?: boolean | string;
  /** Pin the label map (index = label); class folders not listed are an error. @default sorted folder names */
  classNames?: readonly string[];
  /** Training augmentation. @default random crop with padding imageSize/8 and horizontal flip */
  augmentation?: Augmentation;
  /** Receives warnings (skipped files). @default writes to stderr */
  onWarning?: (message: string) => void;
  /** Progress of a cache build (samples decoded, total). */
  onProgress?: (done: number, total: number) => void;
  /** Reported in `Dataset.format`. @default 'image-folder' */
  format?: string;
}

/** Extensions accepted as images (case-insensitive). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'] as const;

/** One listed split: files with their labels, in index order. */
export interface FolderListing {
  readonly root: string;
  readonly split: string;
  readonly classNames: readonly string[];
  readonly files: readonly CacheFileEntry[];
  readonly labels: Int32Array;
  readonly skipped: readonly string[];
}

/** The split folders of an image-folder root (sub-folders that contain class folders). */
export function imageFolderSplits(root: string): string[] {
  return subdirs(root).filter((s) => subdirs(path.join(root, s)).length > 0);
}

/** Steps 1–2 of the module doc: classes, files, labels (no decoding). */
export function listImageFolder(options: ImageFolderOptions): FolderListing {
  const root = path.resolve(options.root);
  const split = options.split ?? 'train';
  const onBadFile = options.onBadFile ?? 'fail';
  if (onBadFile !== 'fail' && onBadFile !== 'skip') {
    throw new ConfigError(`image-folder: expected onBadFile 'fail' or 'skip', got '${String(onBadFile)}'`);
  }
  requireDir(root, 'image-folder root');
  const splitDir = path.join(root, split);
  try {
    requireDir(splitDir, 'image-folder split');
  } catch (err) {
    const found = subdirs(root);
    throw new DataError(
      `image-folder: expected ${splitDir} (layout root/<split>/<class>/*.jpg), found ${found.length ? `splits ${found.join(', ')}` : 'no sub-folders'} in ${root}`,
      { cause: err },
    );
  }

  // 1) classes
  const own = subdirs(splitDir);
  let classNames: readonly string[];
  if (options.classNames) {
    classNames = options.classNames;
    const extra = own.filter((c) => !classNames.includes(c));
    if (extra.length) throw new DataError(`${splitDir}: expected only the class folders ${classNames.join(', ')}, found also ${extra.join(', ')}`);
  } else {
    const all = new Set<string>();
    for (const s of imageFolderSplits(root)) for (const c of subdirs(path.join(root, s))) all.add(c);
    classNames = [...all].sort(byCodePoint);
  }
  if (own.length === 0) throw new DataError(`${splitDir}: expected class folders (layout root/<split>/<class>/*.jpg), found none`);

  // 2) files, checked by signature
  const files: CacheFileEntry[] = [];
  const labels: number[] = [];
  const bad: string[] = [];
  const head = new Uint8Array(8);
  classNames.forEach((cls, label) => {
    const dir = path.join(splitDir, cls);
    if (!own.includes(cls)) return; // this split lacks the class: the label just has no samples
    let n = 0;
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => byCodePoint(a.name, b.name))) {
      if (entry.name.startsWith('.')) continue;
      const file = path.join(dir, entry.name);
      const problem = checkImageFile(file, entry.isDirectory(), head);
      if (typeof problem === 'string') {
        if (onBadFile === 'fail') {
          throw new DataError(`${file}: expected a readable JPEG or PNG file (${IMAGE_EXTENSIONS.join(', ')}), found ${problem} (pass onBadFile 'skip' to skip such files)`);
        }
        bad.push(`${file} (${problem})`);
        continue;
      }
      files.push({ path: path.join(cls, entry.name), size: problem.size, mtimeMs: Math.floor(problem.mtimeMs) });
      labels.push(label);
      n++;
    }
    if (n === 0) throw new DataError(`${dir}: expected at least one JPEG or PNG image in class folder '${cls}', found none`);
  });
  if (bad.length) {
    const warn = options.onWarning ?? ((m: string) => process.stderr.write(`scaat: warning: ${m}\n`));
    const shown = bad.slice(0, 5).join('; ');
    warn(`image-folder: skipped ${bad.length} file(s) in ${splitDir} that are not readable JPEG/PNG images: ${shown}${bad.length > 5 ? '; …' : ''}`);
  }
  return { root, split, classNames, files, labels: Int32Array.from(labels), skipped: bad };
}

/** Opens an image-folder split as a {@link Dataset}. */
export async function openImageFolder(options: ImageFolderOptions): Promise<Dataset> {
  const format = options.format ?? 'image-folder';
  const channels = options.channels ?? 3;
  if (channels !== 1 && channels !== 3) throw new ConfigError(`${format}: expected channels 1 or 3, got ${String(channels)}`);
  const listing = listImageFolder(options);
  const splitDir = path.join(listing.root, listing.split);
  const size = options.imageSize ?? firstImageSize(path.join(splitDir, listing.files[0]!.path));
  const resize = options.resize ?? size;
  for (const [name, v] of [['imageSize', size], ['resize', resize]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${format}: expected ${name} a positive integer, got ${v}`);
  }
  if (resize < size) throw new ConfigError(`${format}: expected resize ≥ imageSize (${size}), got ${resize}`);
  const shape = [size, size, channels] as const;
  const rec = size * size * channels;
  const count = listing.files.length;

  /** Step 3: one file → rec uint8 values. */
  const decodeOne = (i: number): Uint8Array => {
    const file = path.join(splitDir, listing.files[i]!.path);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      throw new DataError(`${file}: expected a readable image file, found an error (${(err as Error).message})`, { cause: err });
    }
    const im = decodeImage(bytes, file);
    const rgb = convertChannels(im.data, im.width * im.height, im.channels, channels);
    const [rh, rw] = resizedShape(im.height, im.width, resize);
    const resized = resizeBilinear(rgb, im.height, im.width, channels, rh, rw);
    return centerCrop(resized, rh, rw, channels, size);
  };

  let read: SampleSource['read'];
  let close: () => void = () => {};
  let source = splitDir;
  if (options.cache) {
    const dir = typeof options.cache === 'string' ? path.resolve(options.cache) : defaultCacheDir();
    const key = cacheKey({ root: realpathSync(listing.root), split: listing.split, shape, resize, classNames: listing.classNames, files: listing.files });
    const prefix = `${path.basename(listing.root).replace(/[^A-Za-z0-9._-]/g, '_')}-${listing.split}-${size}x${size}x${channels}-`;
    const file = path.join(dir, `${prefix}${key.slice(0, 16)}.scaat-cache`);
    let cached = openDecodedCache(file, key);
    if (!cached) {
      removeStaleCaches(dir, prefix);
      await buildDecodedCache(file, { key, root: listing.root, split: listing.split, shape, classNames: listing.classNames, labels: listing.labels }, decodeOne, options.onProgress);
      cached = openDecodedCache(file, key);
      if (!cached) throw new DataError(`${file}: expected the decoded cache just written to be readable, found it missing or invalid`);
    }
    const store = new FileRecords(file, cached.dataOffset, rec, count);
    let scratch = new Uint8Array(0);
    read = (indices, x) => {
      if (scratch.length < indices.length * rec) scratch = new Uint8Array(indices.length * rec);
      store.read(indices, scratch);
      bytesToUnit(scratch, x, 0, 0, indices.length * rec);
    };
    close = () => store.close();
    source = file;
  } else {
    read = (indices, x) => {
      for (let k = 0; k < indices.length; k++) bytesToUnit(decodeOne(indices[k]!), x, k * rec);
    };
  }

  const info = { format, source, split: listing.split, size: count, shape, numClasses: listing.classNames.length, classNames: listing.classNames };
  const aug = options.augmentation ?? { padding: Math.max(0, Math.round(size / 8)), flip: true };
  return makeDataset({ info, labels: listing.labels, read, close }, checkAugmentation(aug, size, size, format));
}

/** Returns an entry's stat when it is a readable image file, else a description of what it is. */
function checkImageFile(file: string, isDir: boolean, head: Uint8Array): string | { size: number; mtimeMs: number } {
  if (isDir) return 'a folder';
  const ext = path.extname(file).toLowerCase();
  if (!(IMAGE_EXTENSIONS as readonly string[]).includes(ext)) return `a '${ext || '(no extension)'}' file`;
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    return `an unreadable file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return 'not a regular file';
    const got = st.size > 0 ? readSync(fd, head, 0, 8, 0) : 0;
    if (got === 0) return 'an empty file';
    const kind = sniffImage(head.subarray(0, got));
    if (!kind) return `no JPEG/PNG signature (first bytes ${Array.from(head.subarray(0, got), (b) => b.toString(16).padStart(2, '0')).join(' ')})`;
    return { size: st.size, mtimeMs: st.mtimeMs };
  } catch (err) {
    return `an unreadable file (${(err as Error).message})`;
  } finally {
    closeSync(fd);
  }
}

/** Deletes caches of the same root, split and shape built for an older state of the folder. */
function removeStaleCaches(dir: string, prefix: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // no cache folder yet
  }
  for (const n of names) if (n.startsWith(prefix) && n.endsWith('.scaat-cache')) rmSync(path.join(dir, n), { force: true });
}

function firstImageSize(file: string): number {
  const im = decodeImage(readFileSync(file), file);
  return Math.min(im.width, im.height);
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort(byCodePoint);
  } catch {
    return [];
  }
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

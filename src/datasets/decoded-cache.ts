/**
 * The decoded cache: a split of an image folder decoded once into one compact binary file, so
 * that later epochs and runs read fixed-size uint8 records instead of decoding JPEGs.
 *
 * File layout (little-endian):
 *   bytes 0–7    magic 'SCAATDC1'
 *   bytes 8–11   header length L (uint32)
 *   bytes 12…    header, UTF-8 JSON {@link DecodedCacheHeader}
 *   dataOffset   count × H·W·C uint8 pixels, NHWC, sample after sample
 *   labelsOffset count × int32 labels
 *
 * The file name carries a key (SHA-256 of the root, split, output shape, resize, class names and
 * every file's path, size and mtime), so any change to the folder or the options makes a new
 * cache instead of reusing a stale one. Writing is atomic (temp file, fsync, rename) and streams
 * records, so building uses one image's worth of memory.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataError } from '../errors.js';
import { trackTemporary } from '../io/temp-files.js';

const MAGIC = 'SCAATDC1';
const VERSION = 1;

/** A source file in a cache key: path relative to the split folder, size and mtime. */
export interface CacheFileEntry {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** The JSON header of a cache file. */
export interface DecodedCacheHeader {
  readonly version: number;
  /** Key the file was built for. */
  readonly key: string;
  /** The image-folder root and split it was decoded from. */
  readonly root: string;
  readonly split: string;
  /** Number of samples. */
  readonly count: number;
  /** [H, W, C] of each record. */
  readonly shape: readonly [number, number, number];
  readonly classNames: readonly string[];
  /** Byte offset of the pixel records. */
  readonly dataOffset: number;
  /** Byte offset of the int32 labels. */
  readonly labelsOffset: number;
}

/** `$SCAAT_CACHE_DIR`, else ~/.cache/scaat. */
export function defaultCacheDir(): string {
  return process.env.SCAAT_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'scaat');
}

/** The cache key of a decoded split (hex SHA-256). */
export function cacheKey(parts: {
  root: string;
  split: string;
  shape: readonly number[];
  resize: number;
  classNames: readonly string[];
  files: readonly CacheFileEntry[];
}): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ v: VERSION, root: parts.root, split: parts.split, shape: parts.shape, resize: parts.resize, classNames: parts.classNames }));
  for (const f of parts.files) h.update(`\n${f.path}\t${f.size}\t${f.mtimeMs}`);
  return h.digest('hex');
}

/** Reads a cache header; undefined when the file is absent or was built for another key. Throws DataError when it is corrupt. */
export function openDecodedCache(file: string, key?: string): DecodedCacheHeader | undefined {
  if (!existsSync(file)) return undefined;
  const header = readDecodedCacheHeader(file);
  return key === undefined || header.key === key ? header : undefined;
}

/** Parses and checks the header of a cache file. */
export function readDecodedCacheHeader(file: string): DecodedCacheHeader {
  const fd = openSync(file, 'r');
  try {
    const pre = new Uint8Array(12);
    const got = readSync(fd, pre, 0, 12, 0);
    const magic = Buffer.from(pre.subarray(0, 8)).toString('latin1');
    if (got < 12 || magic !== MAGIC) {
      throw new DataError(`${file}: expected a decoded cache starting with '${MAGIC}', found ${JSON.stringify(magic.slice(0, got))}`);
    }
    const len = new DataView(pre.buffer).getUint32(8, true);
    const json = new Uint8Array(len);
    if (readSync(fd, json, 0, len, 12) !== len) throw new DataError(`${file}: expected a ${len}-byte header, found a truncated file`);
    const header = JSON.parse(Buffer.from(json).toString('utf8')) as DecodedCacheHeader;
    const [h, w, c] = header.shape;
    const expected = header.labelsOffset + 4 * header.count;
    const size = statSync(file).size;
    if (header.version !== VERSION || header.dataOffset + header.count * h * w * c !== header.labelsOffset || size !== expected) {
      throw new DataError(`${file}: expected a version-${VERSION} decoded cache of ${expected} bytes, found version ${header.version} and ${size} bytes (delete it to rebuild)`);
    }
    return header;
  } finally {
    closeSync(fd);
  }
}

/**
 * Decodes every sample with `decode(i)` (H·W·C uint8) and writes the cache file atomically.
 * On any error the temp file is removed and the error rethrown.
 */
export async function buildDecodedCache(
  file: string,
  meta: { key: string; root: string; split: string; shape: readonly [number, number, number]; classNames: readonly string[]; labels: Int32Array },
  decode: (i: number) => Uint8Array,
  onProgress?: (done: number, total: number) => void,
): Promise<void> {
  const count = meta.labels.length;
  const [h, w, c] = meta.shape;
  const rec = h * w * c;
  // The header's offsets depend on its own length: fix its size with padded offsets.
  const draft = (dataOffset: number): DecodedCacheHeader => ({
    version: VERSION, key: meta.key, root: meta.root, split: meta.split, count, shape: meta.shape,
    classNames: meta.classNames, dataOffset, labelsOffset: dataOffset + count * rec,
  });
  let dataOffset = 64;
  let json: Buffer;
  for (;;) {
    json = Buffer.from(JSON.stringify(draft(dataOffset)), 'utf8');
    const need = Math.ceil((12 + json.length) / 8) * 8;
    if (need <= dataOffset) break;
    dataOffset = need;
  }
  const headerBytes = Buffer.alloc(dataOffset - 12, 0x20); // JSON padded with spaces
  json.copy(headerBytes);

  try {
    mkdirSync(path.dirname(file), { recursive: true });
  } catch (err) {
    throw new DataError(`decoded cache: expected a writable folder ${path.dirname(file)}, found an error (${(err as Error).message})`, { cause: err });
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const untrack = trackTemporary(tmp); // an interrupted build removes it (cli/signals.ts)
  let fd = -1;
  try {
    fd = openSync(tmp, 'w');
    const pre = Buffer.alloc(12);
    pre.write(MAGIC, 0, 'latin1');
    pre.writeUInt32LE(dataOffset - 12, 8);
    writeAll(fd, pre, 0);
    writeAll(fd, headerBytes, 12);
    const block = Math.max(1, Math.floor((4 << 20) / rec));
    const buf = new Uint8Array(block * rec);
    for (let s = 0; s < count; s += block) {
      const n = Math.min(block, count - s);
      for (let k = 0; k < n; k++) {
        const px = decode(s + k);
        if (px.length !== rec) throw new DataError(`decoded cache: expected ${rec} bytes for sample ${s + k}, got ${px.length}`);
        buf.set(px, k * rec);
      }
      writeAll(fd, buf.subarray(0, n * rec), dataOffset + s * rec);
      onProgress?.(s + n, count);
      if ((s / block) % 8 === 7) await new Promise((r) => setImmediate(r)); // let Ctrl-C and progress through
    }
    const labels = Buffer.alloc(4 * count);
    for (let i = 0; i < count; i++) labels.writeInt32LE(meta.labels[i]!, 4 * i);
    writeAll(fd, labels, dataOffset + count * rec);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, file);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    if (err instanceof DataError) throw err;
    throw new DataError(`decoded cache: cannot write ${file}: ${(err as Error).message}`, { cause: err });
  } finally {
    untrack();
  }
}

function writeAll(fd: number, data: Uint8Array, position: number): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off, position + off);
}

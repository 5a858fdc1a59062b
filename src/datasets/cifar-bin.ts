/**
 * CIFAR-10, binary version (the official `cifar-10-batches-bin` layout): `data_batch_1.bin` …
 * `data_batch_5.bin` (train, 50000) and `test_batch.bin` (test, 10000), each a sequence of
 * 3073-byte records: 1 label byte (0–9), then 1024 red, 1024 green and 1024 blue bytes, each plane
 * 32×32 row-major. Class names come from `batches.meta.txt` when present.
 *
 * Reference: https://www.cs.toronto.edu/~kriz/cifar.html ("Binary version").
 * Records are read lazily (positioned reads) and transposed from planar CHW to NHWC; the label
 * bytes (one per record) are read and checked when the dataset is opened.
 *
 * @example
 * const ds = await openCifarBin({ path: 'cifar-10-batches-bin', split: 'test' });   // 10000 × [32, 32, 3]
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, DataError } from '../errors.js';
import { checkAugmentation, makeDataset, type SampleSource } from './_base.js';
import { FileRecords, requireDir, requireFile } from './_files.js';
import type { Dataset } from './dataset.js';
import type { Augmentation } from './transforms.js';

/** Bytes per record: 1 label + 3·32·32 pixels. */
export const CIFAR_RECORD_BYTES = 3073;

/** CIFAR-10 class names, index = label (batches.meta.txt). */
export const CIFAR10_CLASSES = [
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
] as const;

/** Standard CIFAR augmentation: random crop with 4-pixel padding and horizontal flip. */
export const CIFAR_AUGMENTATION: Augmentation = { padding: 4, flip: true };

/** Options of {@link openCifarBin}. */
export interface CifarBinOptions {
  /** The `cifar-10-batches-bin` folder, or a folder that contains it. */
  path: string;
  /** 'train' (data_batch_1..5) or 'test' (test_batch). @default 'train' */
  split?: string;
  /** Training augmentation. @default {@link CIFAR_AUGMENTATION} */
  augmentation?: Augmentation;
}

/** The files of a split, in index order. */
export function cifarFiles(split: string): string[] {
  if (split === 'train') return [1, 2, 3, 4, 5].map((k) => `data_batch_${k}.bin`);
  if (split === 'test') return ['test_batch.bin'];
  throw new ConfigError(`cifar10-bin: expected split 'train' or 'test', got '${split}'`);
}

/** The folder holding the .bin files: `dir` itself or `dir/cifar-10-batches-bin`; undefined if neither. */
export function findCifarBinDir(dir: string): string | undefined {
  for (const d of [dir, path.join(dir, 'cifar-10-batches-bin')]) {
    if (existsSync(path.join(d, 'data_batch_1.bin')) || existsSync(path.join(d, 'test_batch.bin'))) return d;
  }
  return undefined;
}

/** Opens a CIFAR-10 binary split as a {@link Dataset}. */
export async function openCifarBin(options: CifarBinOptions): Promise<Dataset> {
  const split = options.split ?? 'train';
  const root = path.resolve(options.path);
  requireDir(root, 'cifar10-bin');
  const dir = findCifarBinDir(root) ?? root;
  const names = cifarFiles(split);

  // 1) every file of the split: size a whole number of records
  const parts: Array<{ file: string; count: number; first: number }> = [];
  let total = 0;
  for (const name of names) {
    const file = path.join(dir, name);
    const st = requireFile(file, `cifar10-bin ${split}`);
    if (st.size % CIFAR_RECORD_BYTES !== 0 || st.size === 0) {
      throw new DataError(
        `${file}: expected a whole number of ${CIFAR_RECORD_BYTES}-byte records, found ${st.size} bytes (${Math.floor(st.size / CIFAR_RECORD_BYTES)} records and a truncated one of ${st.size % CIFAR_RECORD_BYTES} bytes)`,
      );
    }
    const count = st.size / CIFAR_RECORD_BYTES;
    parts.push({ file, count, first: total });
    total += count;
  }

  // 2) labels: the first byte of each record, read in large blocks and checked
  const classNames = readClassNames(dir);
  const labels = new Uint8Array(total);
  const stores = parts.map((p) => new FileRecords(p.file, 0, CIFAR_RECORD_BYTES, p.count));
  try {
    const block = 1024;
    const buf = new Uint8Array(block * CIFAR_RECORD_BYTES);
    stores.forEach((store, f) => {
      const part = parts[f]!;
      for (let s = 0; s < part.count; s += block) {
        const n = Math.min(block, part.count - s);
        const idx = Int32Array.from({ length: n }, (_, k) => s + k);
        store.read(idx, buf);
        for (let k = 0; k < n; k++) {
          const label = buf[k * CIFAR_RECORD_BYTES]!;
          if (label >= classNames.length) {
            throw new DataError(
              `${part.file}: expected labels in [0, ${classNames.length}), found ${label} in record ${s + k} (byte offset ${(s + k) * CIFAR_RECORD_BYTES})`,
            );
          }
          labels[part.first + s + k] = label;
        }
      }
    });
  } catch (err) {
    stores.forEach((s) => s.close());
    throw err;
  }

  let scratch = new Uint8Array(0);
  const source: SampleSource = {
    info: { format: 'cifar10-bin', source: dir, split, size: total, shape: [32, 32, 3], numClasses: classNames.length, classNames },
    labels,
    read(indices, x) {
      const n = indices.length;
      if (scratch.length < n * CIFAR_RECORD_BYTES) scratch = new Uint8Array(n * CIFAR_RECORD_BYTES);
      // group the batch by file, read each group, then transpose CHW → HWC
      for (let f = 0; f < parts.length; f++) {
        const { first, count } = parts[f]!;
        const pos: number[] = [];
        const local: number[] = [];
        for (let k = 0; k < n; k++) {
          const i = indices[k]!;
          if (i >= first && i < first + count) {
            pos.push(k);
            local.push(i - first);
          }
        }
        if (pos.length === 0) continue;
        stores[f]!.read(local, scratch);
        for (let m = 0; m < pos.length; m++) {
          planarToInterleaved(scratch, m * CIFAR_RECORD_BYTES + 1, x, pos[m]! * 3072);
        }
      }
    },
    close: () => stores.forEach((s) => s.close()),
  };
  return makeDataset(source, checkAugmentation(options.augmentation ?? CIFAR_AUGMENTATION, 32, 32, 'cifar10-bin'));
}

const UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** One record's 3×1024 planar bytes → 1024×3 interleaved floats in [0, 1]. */
function planarToInterleaved(src: Uint8Array, s: number, dst: Float32Array, d: number): void {
  for (let p = 0; p < 1024; p++) {
    dst[d + 3 * p] = UNIT[src[s + p]!]!;
    dst[d + 3 * p + 1] = UNIT[src[s + 1024 + p]!]!;
    dst[d + 3 * p + 2] = UNIT[src[s + 2048 + p]!]!;
  }
}

/** Class names from batches.meta.txt (one per line), else the CIFAR-10 defaults. */
function readClassNames(dir: string): readonly string[] {
  const meta = path.join(dir, 'batches.meta.txt');
  if (!existsSync(meta)) return CIFAR10_CLASSES;
  const names = readFileSync(meta, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (names.length !== 10) {
    throw new DataError(`${meta}: expected 10 class names (one per line), found ${names.length}`);
  }
  return names;
}

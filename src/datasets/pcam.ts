/**
 * PatchCamelyon (PCam; Veeling et al., 2018, https://github.com/basveeling/pcam): 96×96 RGB
 * histology patches, label 1 when the central 32×32 region contains tumour tissue. HDF5 files
 * `camelyonpatch_level_2_split_{train,valid,test}_{x,y}.h5`: dataset `x` uint8 [N, 96, 96, 3]
 * and dataset `y` uint8 [N, 1, 1, 1] (train N = 262144, ≈ 7.2 GB of pixels).
 *
 * Read with h5wasm (HDF5 compiled to WebAssembly, host filesystem through Emscripten's
 * NODERAWFS): labels are read whole when the split opens (N bytes); pixels are read lazily, one
 * hyperslab per run of consecutive indices, so memory stays at one batch however large the file.
 * h5wasm is imported on first use only (it is 4 MB of JavaScript).
 *
 * @example
 * const ds = await openPcam({ path: 'data/pcam', split: 'valid' });   // 32768 × [96, 96, 3], 2 classes
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type h5wasmModule from 'h5wasm/node';
import type { Dataset as H5Dataset, File as H5File } from 'h5wasm/node';
import { ConfigError, DataError } from '../errors.js';
import { checkAugmentation, makeDataset, type SampleSource } from './_base.js';
import { forEachRun, readHead, requireDir, requireFile } from './_files.js';
import type { Dataset } from './dataset.js';
import { bytesToUnit, type Augmentation } from './transforms.js';

/** PCam's class names, index = label. */
export const PCAM_CLASSES = ['normal', 'tumour'] as const;

/** PCam's splits (file-name spelling). */
export const PCAM_SPLITS = ['train', 'valid', 'test'] as const;

/** PCam augmentation: horizontal flip and shifts of up to 12 pixels (size/8). */
export const PCAM_AUGMENTATION: Augmentation = { padding: 12, flip: true };

/** Options of {@link openPcam}. */
export interface PcamOptions {
  /** Folder holding the `camelyonpatch_level_2_split_*` files. */
  path: string;
  /** 'train', 'valid' (alias 'val', 'validation') or 'test'. @default 'train' */
  split?: string;
  /** Training augmentation. @default {@link PCAM_AUGMENTATION} */
  augmentation?: Augmentation;
  /** Largest hyperslab read at once, in samples (bounds memory per read). @default 128 */
  maxRun?: number;
}

/** The x and y file paths of a split. */
export function pcamFiles(dir: string, split: string): { x: string; y: string; split: string } {
  const s = split === 'val' || split === 'validation' ? 'valid' : split;
  if (!(PCAM_SPLITS as readonly string[]).includes(s)) {
    throw new ConfigError(`pcam: expected split 'train', 'valid' or 'test', got '${split}'`);
  }
  const base = path.join(dir, `camelyonpatch_level_2_split_${s}`);
  return { x: `${base}_x.h5`, y: `${base}_y.h5`, split: s };
}

/** True when `dir` holds the x file of some PCam split (format detection). */
export function isPcamFolder(dir: string): boolean {
  return PCAM_SPLITS.some((s) => existsSync(pcamFiles(dir, s).x));
}

type H5 = typeof h5wasmModule;
let h5Ready: Promise<H5> | undefined;

/** h5wasm, loaded once, with HDF5's error stack turned into exceptions (not printed to stderr). */
async function loadH5wasm(): Promise<H5> {
  h5Ready ??= import('h5wasm/node').then(async (m) => {
    const mod = await m.default.ready;
    mod.activate_throwing_error_handler();
    return m.default;
  });
  return h5Ready;
}

/** HDF5's signature, found at offset 0, 512, 1024, 2048, … (after an optional user block). */
const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

function hasHdf5Signature(file: string): boolean {
  const head = readHead(file, 8192 + 8);
  for (let off = 0; off + 8 <= head.length; off = off === 0 ? 512 : off * 2) {
    if (HDF5_SIGNATURE.every((b, i) => head[off + i] === b)) return true;
  }
  return false;
}

/** Opens `file` with h5wasm and returns the dataset `name`, after checking it is there. */
async function openH5Dataset(file: string, name: string, what: string): Promise<{ file: H5File; ds: H5Dataset }> {
  requireFile(file, `pcam ${what}`);
  if (!hasHdf5Signature(file)) throw new DataError(`${file}: expected an HDF5 file, found no HDF5 signature`);
  const h5 = await loadH5wasm();
  let f: H5File;
  try {
    f = new h5.File(file, 'r');
  } catch (err) {
    throw new DataError(`${file}: expected a readable HDF5 file, found an error (${h5Reason(err)})`, { cause: err });
  }
  const keys = f.keys();
  const entity = keys.includes(name) ? f.get(name) : null;
  if (!entity || !(entity instanceof h5.Dataset)) {
    f.close();
    const found = entity
      ? `'${name}' as a ${entity.constructor.name.toLowerCase()}, not a dataset`
      : keys.length ? `only ${keys.map((k) => `'${k}'`).join(', ')}` : 'an empty file';
    throw new DataError(`${file}: expected an HDF5 dataset '${name}', found ${found}`);
  }
  return { file: f, ds: entity };
}

/** The most specific line of an HDF5 error stack. */
function h5Reason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const minors = [...msg.matchAll(/minor: (.*)/g)].map((m) => m[1]!.trim());
  return minors.at(-1) ?? msg.split('\n')[0]!;
}

function describeDtype(ds: H5Dataset): string {
  const m = ds.metadata;
  const kind = m.type === 0 ? (m.signed ? 'int' : 'uint') : m.type === 1 ? 'float' : `HDF5 class ${m.type}`;
  return `${kind}${m.size * 8} (${JSON.stringify(ds.dtype)})`;
}

function isUint8(ds: H5Dataset): boolean {
  const m = ds.metadata;
  return m.type === 0 && m.size === 1 && !m.signed && !m.vlen;
}

/** Opens a PCam split as a {@link Dataset}. Call `close()` to release the files. */
export async function openPcam(options: PcamOptions): Promise<Dataset> {
  const dir = path.resolve(options.path);
  requireDir(dir, 'pcam');
  const { x: xFile, y: yFile, split } = pcamFiles(dir, options.split ?? 'train');
  const maxRun = options.maxRun ?? 128;

  // 1) x: uint8 [N, H, W, C]
  const xs = await openH5Dataset(xFile, 'x', 'images');
  const shape = xs.ds.shape ?? [];
  const [n, h, w, c] = shape as [number, number, number, number];
  const fail = (msg: string): never => {
    xs.file.close();
    throw new DataError(msg);
  };
  if (shape.length !== 4 || (c !== 1 && c !== 3)) fail(`${xFile}: expected dataset 'x' of shape [N, 96, 96, 3] (NHWC), found [${shape.join(', ')}]`);
  if (!isUint8(xs.ds)) fail(`${xFile}: expected dataset 'x' of dtype uint8, found ${describeDtype(xs.ds)}`);

  // 2) y: uint8 [N, 1, 1, 1] (or [N]), read whole, values in {0, 1}
  let labels: Uint8Array;
  try {
    const ys = await openH5Dataset(yFile, 'y', 'labels');
    try {
      const ysh = ys.ds.shape ?? [];
      if (ysh.length === 0 || ysh.slice(1).some((d) => d !== 1)) {
        throw new DataError(`${yFile}: expected dataset 'y' of shape [N, 1, 1, 1], found [${ysh.join(', ')}]`);
      }
      if (!isUint8(ys.ds)) throw new DataError(`${yFile}: expected dataset 'y' of dtype uint8, found ${describeDtype(ys.ds)}`);
      if (ysh[0] !== n) {
        throw new DataError(`pcam ${split}: expected as many labels as images (${n} in ${xFile}), found ${ysh[0]} in ${yFile}`);
      }
      labels = Uint8Array.from(ys.ds.value as Uint8Array);
    } finally {
      ys.file.close();
    }
    for (let i = 0; i < n; i++) {
      if (labels[i]! > 1) throw new DataError(`${yFile}: expected labels in {0, 1}, found ${labels[i]} at sample ${i}`);
    }
  } catch (err) {
    xs.file.close();
    throw err;
  }

  const rec = h * w * c;
  const xds = xs.ds;
  let open = true;
  const source: SampleSource = {
    info: { format: 'pcam', source: xFile, split, size: n, shape: [h, w, c], numClasses: 2, classNames: PCAM_CLASSES },
    labels,
    read(indices, x) {
      if (!open) throw new DataError(`${xFile}: read after close`);
      forEachRun(indices, maxRun, (first, last, positions) => {
        let px: Uint8Array;
        try {
          px = xds.slice([[first, last + 1]]) as Uint8Array;
        } catch (err) {
          throw new DataError(`${xFile}: expected to read samples ${first}..${last} of 'x', found an error (${h5Reason(err)})`, { cause: err });
        }
        for (const p of positions) bytesToUnit(px, x, p * rec, (indices[p]! - first) * rec, rec);
      });
    },
    close() {
      if (open) xs.file.close();
      open = false;
    },
  };
  return makeDataset(source, checkAugmentation(options.augmentation ?? { padding: Math.round(h / 8), flip: true }, h, w, 'pcam'));
}

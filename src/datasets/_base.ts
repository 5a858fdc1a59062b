/**
 * The one implementation of the `Dataset` contract that every loader shares: a loader supplies a
 * `SampleSource` (info, all labels, and a `read(indices)` that decodes samples into a batch
 * buffer); this file does order, batching, resume, augmentation and argument checks.
 */
import { ConfigError } from '../errors.js';
import type { Batch, BatchOptions, Dataset, DatasetInfo } from './dataset.js';
import { checkIndices, countBatches, epochOrder } from './epoch-order.js';
import { applyAugmentation, drawAugmentation, NO_AUGMENTATION, type Augmentation } from './transforms.js';

/** What a loader provides. */
export interface SampleSource {
  readonly info: DatasetInfo;
  /** The label of every sample, length `info.size`, each in [0, numClasses). */
  readonly labels: ArrayLike<number>;
  /**
   * Writes samples `indices` (in that order) into `x` (NHWC float32 in [0, 1], `indices.length`
   * images) and, when `info.hasMask`, their relevance masks into `mask` ([B, H, W]).
   */
  read(indices: Int32Array, x: Float32Array, mask: Uint8Array | undefined): void | Promise<void>;
  /** Releases file handles. */
  close?(): void | Promise<void>;
}

/** A `Dataset` over a source, with the given training augmentation. */
export function makeDataset(source: SampleSource, augmentation: Augmentation = NO_AUGMENTATION): Dataset {
  return new SourceDataset(source, augmentation);
}

/** Throws ConfigError unless `augmentation` is valid for images of width/height `h`, `w`. */
export function checkAugmentation(aug: Augmentation, h: number, w: number, where: string): Augmentation {
  if (!Number.isInteger(aug.padding) || aug.padding < 0 || aug.padding >= Math.max(h, w)) {
    throw new ConfigError(`${where}: expected augmentation.padding an integer in [0, ${Math.max(h, w)}), got ${aug.padding}`);
  }
  return { padding: aug.padding, flip: Boolean(aug.flip) };
}

class SourceDataset implements Dataset {
  readonly format: string;
  readonly source: string;
  readonly split: string;
  readonly size: number;
  readonly shape: readonly [number, number, number];
  readonly numClasses: number;
  readonly classNames: readonly string[];
  readonly hasMask: boolean;

  constructor(
    private readonly src: SampleSource,
    readonly augmentation: Augmentation,
  ) {
    const i = src.info;
    this.format = i.format;
    this.source = i.source;
    this.split = i.split;
    this.size = i.size;
    this.shape = i.shape;
    this.numClasses = i.numClasses;
    this.classNames = i.classNames;
    this.hasMask = Boolean(i.hasMask);
  }

  async *batches(options: BatchOptions): AsyncIterable<Batch> {
    const { batchSize, seed = 0, epoch = 0, startBatch = 0, dropLast = false, augment = false } = options;
    const where = `${this.format} batches`;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ConfigError(`${where}: expected batchSize a positive integer, got ${batchSize}`);
    }
    if (!Number.isInteger(startBatch) || startBatch < 0) {
      throw new ConfigError(`${where}: expected startBatch an integer ≥ 0, got ${startBatch}`);
    }
    if (!Number.isInteger(epoch) || epoch < 0) throw new ConfigError(`${where}: expected epoch an integer ≥ 0, got ${epoch}`);
    if (!Number.isFinite(seed)) throw new ConfigError(`${where}: expected a finite seed, got ${seed}`);
    const order = epochOrder(this.size, options);
    const n = countBatches(order.length, batchSize, dropLast);
    for (let b = startBatch; b < n; b++) {
      const index = order.slice(b * batchSize, Math.min((b + 1) * batchSize, order.length));
      yield await this.readBatch(index, augment ? { seed, epoch } : undefined);
    }
  }

  async get(indices: ArrayLike<number>): Promise<Batch> {
    checkIndices(indices, this.size, `${this.format} get`);
    return this.readBatch(Int32Array.from(indices), undefined);
  }

  async labelHistogram(): Promise<number[]> {
    const hist = new Array<number>(this.numClasses).fill(0);
    const labels = this.src.labels;
    for (let i = 0; i < labels.length; i++) hist[labels[i]!]!++;
    return hist;
  }

  async labels(): Promise<Int32Array> {
    return Int32Array.from(this.src.labels);
  }

  async close(): Promise<void> {
    await this.src.close?.();
  }

  private async readBatch(index: Int32Array, aug: { seed: number; epoch: number } | undefined): Promise<Batch> {
    const [h, w, c] = this.shape;
    const b = index.length;
    const x = new Float32Array(b * h * w * c);
    const mask = this.hasMask ? new Uint8Array(b * h * w) : undefined;
    await this.src.read(index, x, mask);
    const y = new Int32Array(b);
    for (let k = 0; k < b; k++) y[k] = this.src.labels[index[k]!]!;
    if (aug && (this.augmentation.padding > 0 || this.augmentation.flip)) {
      const sx = new Float32Array(h * w * c);
      const sm = new Uint8Array(h * w);
      for (let k = 0; k < b; k++) {
        const d = drawAugmentation(this.augmentation, aug.seed, aug.epoch, index[k]!);
        applyAugmentation(x, k * h * w * c, h, w, c, d, sx);
        if (mask) applyAugmentation(mask, k * h * w, h, w, 1, d, sm);
      }
    }
    const shape = [b, h, w, c] as const;
    return mask ? { x, y, index, shape, mask } : { x, y, index, shape };
  }
}

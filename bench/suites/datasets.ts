/**
 * Datasets suite: images per second to read, decode and batch each format (batches of 128, one
 * pass after a short warm-up, shuffled unless noted), and peak RSS while iterating a PCam-shaped
 * HDF5 file of the real training set's size (262144 × 96×96×3 ≈ 7.2 GB, generated in the temp
 * folder by scripts/make-pcam-h5.ts and deleted afterwards).
 *
 * The RSS measurement runs in a child process that loads h5wasm natively before tsx is
 * registered: tsx's on-the-fly transform of h5wasm's 4 MB JavaScript alone costs ≈ 600 MB of RSS,
 * which a built install (dist/) does not pay. The child reports RSS after opening, the peak over
 * the pass (sampled every batch) and the OS's maxRSS; the same is measured on a small file, so
 * "flat" reads as "the same peak for 8 k and 262 k samples".
 *
 *   npm run bench -- --suite datasets [-- --quick] [--pcam-count 262144] [--tmp /tmp] [--no-big]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makePcamH5 } from '../../scripts/make-pcam-h5.js';
import { CIFAR_RECORD_BYTES } from '../../src/datasets/cifar-bin.js';
import type { Dataset } from '../../src/datasets/dataset.js';
import { DEBIAN_FASHION_MNIST } from '../../src/datasets/mnist.js';
import { openPcam } from '../../src/datasets/pcam.js';
import { cifar10JpgPath, openDataset, type OpenDatasetOptions } from '../../src/datasets/registry.js';
import { Rng } from '../../src/engine/random.js';
import { REPO_ROOT, markdownTable } from '../_common.js';
import type { Suite, SuiteOptions } from '../_common.js';
import { scriptArgs } from '../../scripts/_args.js';

const BATCH = 128;
const THIS_FILE = fileURLToPath(import.meta.url);

interface Row {
  readonly dataset: string;
  readonly format: string;
  readonly shape: string;
  readonly order: 'shuffled' | 'sequential';
  readonly images: number;
  /** Seconds to open (listing, header checks, gunzip, cache build where noted). */
  readonly openSeconds: number;
  readonly imagesPerSecond: number;
  readonly note?: string;
}

/** One pass over (at most `limit` images of) a dataset; images/s over the timed pass. */
async function pass(ds: Dataset, shuffle: boolean, limit = Infinity): Promise<{ images: number; perSecond: number }> {
  const indices = Int32Array.from({ length: Math.min(ds.size, limit) }, (_, i) => i);
  let n = 0;
  for await (const b of ds.batches({ batchSize: BATCH, shuffle, seed: 1, epoch: 99, indices })) { // warm-up: JIT, page cache
    n += b.index.length;
    if (n >= 4 * BATCH) break;
  }
  let images = 0;
  const t0 = performance.now();
  for await (const b of ds.batches({ batchSize: BATCH, shuffle, seed: 1, epoch: 0, indices })) images += b.index.length;
  return { images, perSecond: images / ((performance.now() - t0) / 1000) };
}

async function measure(
  rows: Row[],
  name: string,
  options: OpenDatasetOptions,
  orders: ReadonlyArray<'shuffled' | 'sequential'>,
  limit = Infinity,
  note?: string,
): Promise<void> {
  const t0 = performance.now();
  const ds = await openDataset(options);
  const openSeconds = (performance.now() - t0) / 1000;
  try {
    for (const order of orders) {
      const r = await pass(ds, order === 'shuffled', limit);
      rows.push({ dataset: name, format: ds.format, shape: ds.shape.join('×'), order, images: r.images, openSeconds, imagesPerSecond: r.perSecond, ...(note ? { note } : {}) });
      process.stderr.write(`# ${name} ${order}: ${Math.round(r.perSecond)} images/s\n`);
    }
  } finally {
    await ds.close?.();
  }
}

/** A cifar-10-batches-bin with random pixels and labels (the loader's cost does not depend on content). */
function writeCifarBin(dir: string): void {
  const bin = path.join(dir, 'cifar-10-batches-bin');
  const rng = new Rng(3);
  const rec = new Uint8Array(10000 * CIFAR_RECORD_BYTES);
  mkdirSync(bin, { recursive: true });
  for (const name of [1, 2, 3, 4, 5].map((k) => `data_batch_${k}.bin`).concat('test_batch.bin')) {
    for (let i = 0; i < rec.length; i += 4) {
      const u = rng.nextUint32();
      rec[i] = u & 255;
      rec[i + 1] = (u >>> 8) & 255;
      rec[i + 2] = (u >>> 16) & 255;
      rec[i + 3] = u >>> 24;
    }
    for (let r = 0; r < 10000; r++) rec[r * CIFAR_RECORD_BYTES] = rec[r * CIFAR_RECORD_BYTES]! % 10;
    writeFileSync(path.join(bin, name), rec);
  }
}

interface RssReport {
  readonly samples: number;
  readonly images: number;
  readonly seconds: number;
  readonly fileBytes: number;
  readonly rssAfterOpenMB: number;
  readonly peakRssMB: number;
  readonly maxRssMB: number;
}

/** Child side: one shuffled pass over a PCam split, sampling RSS every batch; prints JSON. */
async function rssChild(dir: string): Promise<void> {
  const mb = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
  const ds = await openPcam({ path: dir, split: 'train' });
  const afterOpen = process.memoryUsage.rss();
  let peak = afterOpen;
  let images = 0;
  const t0 = performance.now();
  for await (const b of ds.batches({ batchSize: BATCH, shuffle: true, seed: 1 })) {
    images += b.index.length;
    peak = Math.max(peak, process.memoryUsage.rss());
  }
  const seconds = (performance.now() - t0) / 1000;
  await ds.close?.();
  const report: RssReport = {
    samples: ds.size, images, seconds, fileBytes: statSync(path.join(dir, 'camelyonpatch_level_2_split_train_x.h5')).size,
    rssAfterOpenMB: mb(afterOpen), peakRssMB: mb(peak), maxRssMB: mb(process.resourceUsage().maxRSS * 1024),
  };
  process.stdout.write(JSON.stringify(report) + '\n');
}

/** Parent side: runs {@link rssChild} in a fresh process with h5wasm loaded before tsx. */
function runRssChild(dir: string): RssReport {
  const preload = path.join(path.dirname(THIS_FILE), '_h5wasm-preload.mjs');
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(preload).href, '--import', 'tsx', THIS_FILE, '--pcam-rss-child', dir], {
    cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`pcam RSS child exited with ${r.status}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as RssReport;
}

async function run(o: SuiteOptions): Promise<Record<string, unknown>> {
  const { values } = scriptArgs({
    args: [...o.args],
    options: {
      quick: { type: 'boolean', default: false },
      'no-big': { type: 'boolean', default: false },
      'pcam-count': { type: 'string', default: '262144' },
      tmp: { type: 'string', default: os.tmpdir() },
    },
  }, 'npm run bench -- --suite datasets -- [--quick] [--pcam-count 262144] [--tmp DIR] [--no-big]');
  const quick = values.quick;
  const limit = quick ? 4096 : Infinity;
  const tmp = mkdtempSync(path.join(values.tmp, 'scaat-bench-datasets-'));
  const rows: Row[] = [];
  const rss: { small?: RssReport; big?: RssReport } = {};
  try {
    // 1) formats
    await measure(rows, 'synthetic 32×32×3', { source: 'synthetic', count: quick ? 4096 : 20000 }, ['sequential'], limit, 'generated on the fly');
    await measure(rows, 'synthetic 28×28×1', { source: 'synthetic', count: quick ? 4096 : 20000, imageSize: 28, channels: 1 }, ['sequential'], limit, 'generated on the fly');
    await measure(rows, 'mnist (embedded, raw IDX)', { source: 'mnist', split: 'train' }, ['shuffled', 'sequential'], limit);
    if (existsSync(DEBIAN_FASHION_MNIST)) {
      await measure(rows, 'fashion-mnist (IDX .gz)', { source: 'fashion-mnist', split: 'train' }, ['shuffled'], limit, 'open includes gunzip to memory');
    }
    writeCifarBin(path.join(tmp, 'cifar-bin'));
    await measure(rows, 'cifar10 binary (random bytes)', { source: path.join(tmp, 'cifar-bin'), split: 'train' }, ['shuffled', 'sequential'], limit);
    const jpg = cifar10JpgPath();
    if (existsSync(path.join(jpg, 'test'))) {
      await measure(rows, 'cifar10-jpg test, decoding', { source: 'cifar10-jpg', split: 'test' }, ['shuffled'], quick ? 2000 : Infinity, 'jpeg-js every time');
      const cacheDir = path.join(tmp, 'cache');
      const t0 = performance.now();
      const built = await openDataset({ source: 'cifar10-jpg', split: 'test', cache: cacheDir });
      const buildSeconds = (performance.now() - t0) / 1000;
      await built.close?.();
      rows.push({ dataset: 'cifar10-jpg test, cache build', format: 'cifar10-jpg', shape: '32×32×3', order: 'sequential', images: built.size, openSeconds: buildSeconds, imagesPerSecond: built.size / buildSeconds, note: 'decode all + write cache file' });
      await measure(rows, 'cifar10-jpg test, decoded cache', { source: 'cifar10-jpg', split: 'test', cache: cacheDir }, ['shuffled'], limit, 'reads the cache file');
    }
    const small = path.join(tmp, 'pcam-small');
    await makePcamH5({ dir: small, split: 'train', count: 8192 });
    await measure(rows, 'pcam 8192 (HDF5, chunk 1)', { source: small, split: 'train' }, ['shuffled', 'sequential'], limit);

    // 2) memory: small file, then the full-size one
    rss.small = runRssChild(small);
    if (!quick && !values['no-big']) {
      const big = path.join(tmp, 'pcam-big');
      const count = Number(values['pcam-count']);
      process.stderr.write(`# writing a ${count}-sample PCam file (${((count * 27648) / 1e9).toFixed(1)} GB) in ${big}\n`);
      const t0 = performance.now();
      await makePcamH5({ dir: big, split: 'train', count });
      process.stderr.write(`# written in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
      try {
        rss.big = runRssChild(big);
      } finally {
        rmSync(big, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  console.log(markdownTable(
    ['dataset', 'shape', 'order', 'images', 'open s', 'images/s', 'note'],
    rows.map((r) => [r.dataset, r.shape, r.order, String(r.images), r.openSeconds.toFixed(2), String(Math.round(r.imagesPerSecond)), r.note ?? '']),
    ['l', 'l', 'l', 'r', 'r', 'r', 'l'],
  ));
  const rssRows = Object.entries(rss).map(([k, r]) => [
    k === 'big' ? 'full-size' : 'small', String(r.samples), (r.fileBytes / 1e9).toFixed(2), String(r.rssAfterOpenMB), String(r.peakRssMB), String(r.maxRssMB),
    String(Math.round(r.images / r.seconds)),
  ]);
  console.log('\nPCam, one shuffled pass in a fresh process (RSS in MiB):\n');
  console.log(markdownTable(['file', 'samples', 'GB', 'RSS after open', 'peak RSS in pass', 'maxRSS', 'images/s'], rssRows, ['l', 'r', 'r', 'r', 'r', 'r', 'r']));
  return { batchSize: BATCH, quick, machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg() }, rows, pcamRss: rss };
}

/** The suite, for bench/run.ts: `['datasets', datasetsSuite]`. */
export const datasetsSuite: Suite = {
  description: 'images/s to decode and batch each dataset format; peak RSS over a 7 GB PCam-shaped HDF5 file',
  run,
};

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url && process.argv[2] === '--pcam-rss-child') {
  await rssChild(process.argv[3]!);
}

/**
 * Writes PCam-shaped HDF5 files (`camelyonpatch_level_2_split_<split>_{x,y}.h5`, dataset `x` uint8
 * [N, 96, 96, 3], dataset `y` uint8 [N, 1, 1, 1]) with known contents, for the loader's tests and
 * the memory benchmark (a 262144-sample train file is ≈ 7.2 GB).
 *
 *   pixel(i, h, w, c) = (h·7 + w·3 + c·101 + i·31) mod 256        label(i) = popcount(i) mod 2
 *
 * Data are written in blocks of samples into a chunked dataset (one sample per chunk by default),
 * so memory stays at one block whatever N is. Knobs for malformed files (the loader's error
 * tests): another shape or dtype for x, another count or name for y.
 *
 *   npx tsx scripts/make-pcam-h5.ts --out /tmp/pcam --split train --count 262144 [--chunk 1] [--gzip 0]
 */
import { scriptArgs } from './_args.js';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import h5wasm from 'h5wasm/node';

/** Known pixel value of sample i at (h, w, c). */
export function pcamPixel(i: number, h: number, w: number, c: number): number {
  return (h * 7 + w * 3 + c * 101 + i * 31) & 255;
}

/** Known label of sample i (0 or 1). */
export function pcamLabel(i: number): number {
  let n = i >>> 0;
  let bits = 0;
  while (n) {
    bits += n & 1;
    n >>>= 1;
  }
  return bits & 1;
}

/** Options of {@link makePcamH5}. */
export interface MakePcamOptions {
  /** Output folder (created). */
  dir: string;
  /** @default 'train' */
  split?: string;
  /** Number of samples N. */
  count: number;
  /** [H, W, C] of each x sample. @default [96, 96, 3] */
  sampleShape?: readonly number[];
  /** dtype of x. @default 'uint8' */
  xDtype?: 'uint8' | 'float32';
  /** Samples per HDF5 chunk. @default 1 */
  chunk?: number;
  /** gzip level 1–9, 0 = none. @default 0 */
  gzip?: number;
  /** Samples in y (to make mismatched files). @default count */
  yCount?: number;
  /** Name of the x dataset. @default 'x' */
  xName?: string;
  /** Name of the y dataset. @default 'y' */
  yName?: string;
  /** Samples per write. @default 1024 */
  block?: number;
  /** Progress (samples written, total). */
  onProgress?: (done: number, total: number) => void;
}

/** Writes the x and y files of one split; returns their paths. */
export async function makePcamH5(o: MakePcamOptions): Promise<{ x: string; y: string }> {
  await h5wasm.ready;
  const split = o.split ?? 'train';
  const shape = o.sampleShape ?? [96, 96, 3];
  const rec = shape.reduce((a, b) => a * b, 1);
  const chunk = o.chunk ?? 1;
  const block = Math.max(chunk, Math.floor((o.block ?? 1024) / chunk) * chunk);
  mkdirSync(o.dir, { recursive: true });
  const base = path.join(o.dir, `camelyonpatch_level_2_split_${split}`);
  const xPath = `${base}_x.h5`;
  const yPath = `${base}_y.h5`;
  rmSync(xPath, { force: true });
  rmSync(yPath, { force: true });

  // x: chunked, grown to N, filled block by block
  const [H = 1, W = 1, C = 1] = shape;
  const pattern = new Uint8Array(rec);
  if (shape.length === 3) {
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) pattern[(h * W + w) * C + c] = pcamPixel(0, h, w, c);
  }
  const xf = new h5wasm.File(xPath, 'w');
  try {
    const dtype = o.xDtype === 'float32' ? '<f' : '<B';
    const empty = o.xDtype === 'float32' ? new Float32Array(0) : new Uint8Array(0);
    const ds = xf.create_dataset({
      name: o.xName ?? 'x', data: empty, shape: [0, ...shape], maxshape: [null, ...shape], chunks: [chunk, ...shape], dtype,
      ...(o.gzip ? { compression: 'gzip' as const, compression_opts: o.gzip } : {}),
    });
    ds.resize([o.count, ...shape]);
    const buf = o.xDtype === 'float32' ? new Float32Array(block * rec) : new Uint8Array(block * rec);
    for (let s = 0; s < o.count; s += block) {
      const n = Math.min(block, o.count - s);
      for (let k = 0; k < n; k++) {
        const add = ((s + k) * 31) & 255;
        const off = k * rec;
        for (let p = 0; p < rec; p++) buf[off + p] = (pattern[p]! + add) & 255;
      }
      ds.write_slice([[s, s + n]], n === block ? buf : buf.subarray(0, n * rec));
      o.onProgress?.(s + n, o.count);
    }
  } finally {
    xf.close();
  }

  // y: small, contiguous
  const yCount = o.yCount ?? o.count;
  const labels = new Uint8Array(yCount);
  for (let i = 0; i < yCount; i++) labels[i] = pcamLabel(i);
  const yf = new h5wasm.File(yPath, 'w');
  try {
    yf.create_dataset({ name: o.yName ?? 'y', data: labels, shape: [yCount, 1, 1, 1], dtype: '<B' });
  } finally {
    yf.close();
  }
  return { x: xPath, y: yPath };
}

async function main(): Promise<void> {
  const USAGE = 'npx tsx scripts/make-pcam-h5.ts --out DIR [--split train] [--count 262144] [--chunk 1] [--gzip 0]';
  const { values } = scriptArgs({
    options: {
      out: { type: 'string' },
      split: { type: 'string', default: 'train' },
      count: { type: 'string', default: '262144' },
      chunk: { type: 'string', default: '1' },
      gzip: { type: 'string', default: '0' },
    },
  }, USAGE);
  if (!values.out) {
    console.error(`usage: ${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const t0 = performance.now();
  let last = 0;
  const files = await makePcamH5({
    dir: values.out, split: values.split, count: Number(values.count), chunk: Number(values.chunk), gzip: Number(values.gzip),
    onProgress: (done, total) => {
      if (performance.now() - last > 2000 || done === total) {
        last = performance.now();
        process.stderr.write(`\rwrote ${done}/${total}`);
      }
    },
  });
  process.stderr.write('\n');
  console.log(`${files.x}\n${files.y}\n(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();

/**
 * What SCAAT's final per-sample ratios q_i follow: for a SCAAT run folder (its q.npy, indexed by
 * training-set index, and its config.json `data`), the samples at each distinct q (or q bin), their
 * mean foreground fraction (pixels above --threshold, averaged over channels; meaningful for dark
 * backgrounds such as MNIST) and their count per class, and Pearson's r between q_i and the
 * foreground fraction. Does q_i track how much of the image matters, or something else?
 *
 *   npx tsx scripts/q-by-sample.ts RUN_DIR [--threshold 0.5] [--bins 20]
 *
 * With at most --bins distinct values of q the rows are those values, else --bins equal bins on [0, 1].
 */
import { scriptArgs } from './_args.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { openDataset, parseDataSource } from '../src/datasets/registry.js';
import { parseNumber } from '../src/io/numbers.js';
import { pearson } from '../src/metrics/randomization.js';
import { meanOf } from '../src/train/_loss.js';
import { parseNpy } from '../src/io/npy.js';

const USAGE = 'npx tsx scripts/q-by-sample.ts RUN_DIR [--threshold 0.5] [--bins 20]';
const { values, positionals } = scriptArgs({ allowPositionals: true, options: { threshold: { type: 'string', default: '0.5' }, bins: { type: 'string', default: '20' } } }, USAGE);
if (positionals.length !== 1) {
  console.error(`usage: ${USAGE}`);
  process.exit(2);
}
const run = positionals[0]!;
const threshold = parseNumber(values.threshold!, '--threshold');
const bins = parseNumber(values.bins!, '--bins');
const q = parseNpy(readFileSync(path.join(run, 'q.npy')), path.join(run, 'q.npy')).data as Float32Array;
const config = JSON.parse(readFileSync(path.join(run, 'config.json'), 'utf8')) as { data: string };
const { source, options } = parseDataSource(config.data);
const ds = await openDataset({ ...options, source, split: 'train' });
if (ds.size !== q.length) {
  console.error(`${run}/q.npy has ${q.length} values, the training split of ${config.data} ${ds.size} samples`);
  process.exit(3);
}
const labels = await ds.labels();
const [h, w, c] = ds.shape;
const px = h * w * c;
const fg = new Float64Array(ds.size);
for (let s = 0; s < ds.size; s += 2000) {
  const idx = Int32Array.from({ length: Math.min(2000, ds.size - s) }, (_, i) => s + i);
  const b = await ds.get(idx);
  for (let i = 0; i < idx.length; i++) {
    let n = 0;
    for (let p = 0; p < px; p++) if (b.x[i * px + p]! > threshold) n++;
    fg[s + i] = n / px;
  }
}
const distinct = [...new Set(Array.from(q, (v) => v.toFixed(4)))].sort();
const keyOf = distinct.length <= bins ? (v: number) => v.toFixed(4) : (v: number) => `[${(Math.min(Math.floor(v * bins), bins - 1) / bins).toFixed(2)}, ${((Math.min(Math.floor(v * bins), bins - 1) + 1) / bins).toFixed(2)})`;
const rows = new Map<string, number[]>();
for (let i = 0; i < q.length; i++) {
  const k = keyOf(q[i]!);
  if (!rows.has(k)) rows.set(k, []);
  rows.get(k)!.push(i);
}
const classes = ds.numClasses;
console.log(`${run}: ${q.length} training samples of ${config.data}; Pearson r(q_i, foreground fraction > ${threshold}) = ${pearson(q, fg)?.toFixed(3) ?? 'undefined (q_i or the fraction is constant)'}\n`);
console.log(`| q | samples | mean foreground | ${Array.from({ length: classes }, (_, k) => `class ${k}`).join(' | ')} |`);
console.log(`|---|---:|---:|${Array.from({ length: classes }, () => '---:').join('|')}|`);
for (const [k, ids] of [...rows].sort(([a], [b]) => (a < b ? -1 : 1))) {
  const perClass = new Array<number>(classes).fill(0);
  for (const i of ids) if (labels[i]! >= 0) perClass[labels[i]!]!++;
  console.log(`| ${k} | ${ids.length} | ${meanOf(ids.map((i) => fg[i]!)).toFixed(3)} | ${perClass.join(' | ')} |`);
}

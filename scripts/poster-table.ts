/**
 * The reproduction study's claims against the poster in one table (issue 13: "report what you
 * measure ... against those figures in one table"): one column per sweep folder (each reported by
 * `scaat report`, which writes report/summary.json with its comparison against the poster), one row
 * per measure and saliency method, each cell the measured change and its verdict. Where a folder has
 * several SCAAT groups (e.g. ε or length axes), `DIR::TEXT` picks the comparison whose SCAAT group's
 * label contains TEXT; by default a folder's first comparison is shown.
 *
 *   npx tsx scripts/poster-table.ts studies-out/mnist-headline studies-out/cifar10-headline [--methods vanilla-gradient,smooth-grad]
 *   npx tsx scripts/poster-table.ts studies-out/cifar10-length::epochs=16
 *
 * Prints Markdown: the measure, the poster's figure, then per folder "change (verdict)", with † where
 * a side's seed standard deviation exceeds its mean (the seeds do not settle the change's size).
 */
import { scriptArgs } from './_args.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { methodShort } from '../src/report/poster-comparison.js';
import { readReportSummary } from './_report-summary.js';

interface Stat { readonly mean: number | null; readonly n: number }
interface Row { metric: string; method?: string; label: string; regular: Stat; scaat: Stat; measured: string; expected: string; verdict: string; spread: boolean }
interface Comparison { partition: string; scaat: { label: string; evaluated: number }; regular: { label: string; evaluated: number }; rows: Row[] }

const USAGE = 'npx tsx scripts/poster-table.ts SWEEP_DIR[::SCAAT_GROUP_TEXT]... [--methods vanilla-gradient,smooth-grad,integrated-gradients]';
const { values, positionals } = scriptArgs({ allowPositionals: true, options: { methods: { type: 'string', default: 'vanilla-gradient,smooth-grad,integrated-gradients' } } }, USAGE);
if (positionals.length === 0) {
  console.error(`usage: ${USAGE}`);
  process.exit(2);
}
const methods = values.methods!.split(',');

const columns = positionals.map((arg) => {
  const { dir, text: group, file, summary } = readReportSummary<{ poster?: { comparisons?: Comparison[] } }>(arg);
  const sweep = JSON.parse(readFileSync(path.join(dir, 'sweep.json'), 'utf8')) as { title?: string };
  const all = summary.poster?.comparisons ?? [];
  const chosen = group !== undefined ? all.find((c) => c.scaat.label.includes(group)) : all[0];
  if (!chosen) {
    console.error(`${file}: no comparison against the poster${group !== undefined ? ` whose SCAAT group contains '${group}' (groups: ${all.map((c) => c.scaat.label).join(', ') || 'none'})` : ' (no SCAAT and regular groups)'}`);
    process.exit(3);
  }
  return { dir, group, title: sweep.title ?? path.basename(dir), comparison: chosen };
});

// rows: the first column's order, then any measure another column adds
const keys: Array<{ metric: string; method?: string; label: string; expected: string }> = [];
for (const { comparison } of columns) {
  for (const r of comparison.rows) {
    if (r.method !== undefined && !methods.includes(r.method)) continue;
    if (!keys.some((k) => k.metric === r.metric && k.method === r.method)) keys.push({ metric: r.metric, ...(r.method !== undefined ? { method: r.method } : {}), label: r.label, expected: r.expected });
  }
}
// the accuracies last, as in the report
keys.sort((a, b) => Number(a.method === undefined) - Number(b.method === undefined));

const head = columns.map((c) => `${path.basename(path.resolve(c.dir))}${c.group !== undefined ? `::${c.group}` : ''} (${c.comparison.regular.evaluated} / ${c.comparison.scaat.evaluated} seeds)`);
const lines = [
  `| measure | method | poster (regular → SCAAT) | ${head.join(' | ')} |`,
  `|---|---|---|${columns.map(() => '---').join('|')}|`,
];
for (const k of keys) {
  const cells = columns.map(({ comparison }) => {
    const r = comparison.rows.find((x) => x.metric === k.metric && x.method === k.method);
    return r ? `${r.measured}${r.spread ? ' †' : ''} (${r.verdict})` : 'not measured';
  });
  lines.push(`| ${k.label} | ${methodShort(k)} | ${k.expected} | ${cells.join(' | ')} |`);
}
process.stdout.write(`${lines.join('\n')}\n\nColumns: ${columns.map((c) => `${path.basename(path.resolve(c.dir))}: ${c.title}, ${c.comparison.scaat.label} vs ${c.comparison.regular.label}${c.comparison.partition ? ` (${c.comparison.partition})` : ''}`).join('; ')}. † a side's seed standard deviation exceeds its mean: the seeds do not settle the change's size.\n`);

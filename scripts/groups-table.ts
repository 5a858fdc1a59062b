/**
 * Groups of several sweeps side by side (each reported by `scaat report`, which writes
 * report/summary.json): one row per group, one column per metric, mean ± std over the group's
 * seeds, as the report's own table shows them. For grids that compare row for row with another
 * grid's groups (studies/mnist-noise.json and mnist-kept.json against mnist-headline.json's SCAAT,
 * PGD-AT and regular rows; cifar10-cheap.json against cifar10-headline.json).
 *
 *   npx tsx scripts/groups-table.ts studies-out/mnist-headline studies-out/mnist-noise
 *   npx tsx scripts/groups-table.ts studies-out/mnist-headline::trainer=scaat studies-out/mnist-kept [--methods vanilla-gradient] [--metrics clean-accuracy,entropy,aopc-rel]
 *
 * `DIR::TEXT` keeps the groups of DIR whose label contains TEXT (all groups without it). A value is
 * '—' where no seed of the group has it; `(n)` after it says how many seeds have it when fewer than
 * the group's evaluated cells. Nothing is marked best: the groups come from different grids.
 */
import { scriptArgs } from './_args.js';
import { readReportSummary } from './_report-summary.js';
import path from 'node:path';
import { formatColumnStat } from '../src/report/sweep-table.js';
import type { SeedStat } from '../src/report/sweep-table.js';
import { methodShort } from '../src/report/poster-comparison.js';

interface Column { readonly key: string; readonly metric: string; readonly method?: string; readonly label: string }
interface Group { readonly label: string; readonly evaluated: number }
interface Summary { columns: Column[]; partitions: Array<{ title: string; groups: Group[]; stats: SeedStat[][] }> }

const USAGE = 'npx tsx scripts/groups-table.ts SWEEP_DIR[::GROUP_TEXT]... [--methods vanilla-gradient,smooth-grad] [--metrics clean-accuracy,entropy,size,aopc-lerf,aopc-rel]';
const { values, positionals } = scriptArgs({
  allowPositionals: true,
  options: {
    methods: { type: 'string', default: 'vanilla-gradient,smooth-grad' },
    metrics: { type: 'string', default: 'clean-accuracy,entropy,size,aopc-lerf,aopc-rel' },
  },
}, USAGE);
if (positionals.length === 0) {
  console.error(`usage: ${USAGE}`);
  process.exit(2);
}
const methods = values.methods!.split(',');
const metrics = values.metrics!.split(',');

const rows: Array<{ name: string; group: Group; stat: (c: Column) => SeedStat | undefined }> = [];
let columns: Column[] | undefined;
for (const arg of positionals) {
  const { dir, text, file, summary } = readReportSummary<Summary>(arg);
  // the columns of the first sweep, kept where every later sweep has them too (matched by key)
  const wanted = summary.columns.filter((c) => metrics.includes(c.metric) && (c.method === undefined || methods.includes(c.method)));
  columns = columns === undefined ? wanted : columns.filter((c) => wanted.some((w) => w.key === c.key));
  let found = 0;
  for (const p of summary.partitions) {
    p.groups.forEach((g, gi) => {
      if (text !== undefined && !g.label.includes(text)) return;
      found++;
      const name = `${path.basename(path.resolve(dir))}: ${g.label}${p.title ? ` (${p.title})` : ''}`;
      rows.push({ name, group: g, stat: (c) => p.stats[gi]![summary.columns.findIndex((x) => x.key === c.key)] });
    });
  }
  if (found === 0) {
    console.error(`${file}: no group${text !== undefined ? ` whose label contains '${text}'` : ''}`);
    process.exit(3);
  }
}

const cols = columns!;
const head = cols.map((c) => `${c.method !== undefined ? `${methodShort(c)} ` : ''}${c.label}`);
const lines = [`| group | seeds | ${head.join(' | ')} |`, `|---|---:|${cols.map(() => '---:').join('|')}|`];
for (const r of rows) {
  const cells = cols.map((c) => {
    const s = r.stat(c);
    if (s === undefined) return '—';
    const text = formatColumnStat(s, c.key);
    return s.mean !== null && s.n < r.group.evaluated ? `${text} (${s.n})` : text;
  });
  lines.push(`| ${r.name} | ${r.group.evaluated} | ${cells.join(' | ')} |`);
}
process.stdout.write(`${lines.join('\n')}\n`);

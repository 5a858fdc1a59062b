/**
 * Where the reproduction study stands: per grid of studies/ (in scripts/reproduce.sh's order, then
 * any other), its cells, how many are kept in the results folder with an evaluation made with the
 * grid's current settings (studies/results/<grid>/, what `scaat sweep --results` saves and
 * `scaat report` reads), and which cells are still to run, numbered as `scaat sweep --dry-run`
 * numbers them, those parked part-way among them (for `--cells` or reproduce.sh's GRID:CELLS). Reads files only; trains nothing.
 *
 *   npx tsx scripts/study-status.ts                       # every grid, results in studies/results
 *   npx tsx scripts/study-status.ts cifar10-length --results /big/results
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_TRAINERS } from '../src/scaat/registry.js';
import { expandGrid, readGrid } from '../src/sweep/grid.js';
import { keptWhole, parkedDir } from '../src/sweep/results.js';
import { scriptArgs } from './_args.js';

const USAGE = 'npx tsx scripts/study-status.ts [GRID...] [--results DIR] [--docs DIR]';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values, positionals } = scriptArgs({ allowPositionals: true, options: { results: { type: 'string', default: path.join(ROOT, 'studies', 'results') }, docs: { type: 'string', default: path.join(ROOT, 'docs', 'results') } } }, USAGE);

/** reproduce.sh's ORDER, read from the script (one list of grids, not two). */
function reproduceOrder(): string[] {
  const text = readFileSync(path.join(ROOT, 'scripts', 'reproduce.sh'), 'utf8');
  const m = /^ORDER=\(([^)]*)\)/m.exec(text);
  return m ? m[1]!.split(/\s+/).filter(Boolean) : [];
}

/** Cell numbers as a compact list: 1-4,7,9-12. */
export function ranges(ns: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < ns.length; ) {
    let j = i;
    while (j + 1 < ns.length && ns[j + 1] === ns[j]! + 1) j++;
    out.push(i === j ? String(ns[i]) : `${ns[i]}-${ns[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

const all = readdirSync(path.join(ROOT, 'studies')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
const order = reproduceOrder();
const grids = positionals.length > 0 ? positionals : [...order.filter((g) => all.includes(g)), ...all.filter((g) => !order.includes(g) && g !== 'smoke').sort()];
const rows = ['| grid | cells | kept | published | not kept (cell numbers) | parked |', '|---|---:|---:|---|---|---|'];
for (const g of grids) {
  const file = path.join(ROOT, 'studies', `${g}.json`);
  if (!existsSync(file)) {
    console.error(`study-status.ts: no grid ${path.relative(ROOT, file)} (grids: ${all.join(', ')})\nusage: ${USAGE}`);
    process.exit(2);
  }
  const grid = readGrid(file, ALL_TRAINERS);
  const cells = expandGrid(grid, { out: 'out', trainers: ALL_TRAINERS });
  // kept: what a sweep on a machine without the cell would restore
  const kept = cells.map((c) => keptWhole(path.join(values.results!, g, c.name), grid.evaluation));
  const missing = cells.flatMap((_, i) => (kept[i] ? [] : [i + 1]));
  // parked: stopped part-way, resumed from their checkpoint by the next sweep with --results
  const parked = missing.filter((n) => existsSync(path.join(parkedDir(path.join(values.results!, g), cells[n - 1]!.name), 'config.json')));
  // docs/results/<grid>/table.md: how many cells its published report had evaluated (summed over its
  // partitions), plus those of the reports in its subfolders (a grid published in parts: cells run
  // before results were kept, and the kept rest), each of the whole grid
  const gridDocs = path.join(values.docs!, g);
  const tables = [path.join(gridDocs, 'table.md'), ...(existsSync(gridDocs) ? readdirSync(gridDocs, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(gridDocs, e.name, 'table.md')) : [])]
    .filter((t) => existsSync(t))
    .map((t) => [...readFileSync(t, 'utf8').matchAll(/(\d+) of (\d+) cells evaluated/g)])
    .filter((counts) => counts.length > 0);
  const sum = (counts: RegExpMatchArray[], k: 1 | 2) => counts.reduce((t, m) => t + Number(m[k]), 0);
  const published = tables.length > 0 ? `${tables.reduce((t, c) => t + sum(c, 1), 0)} of ${Math.max(...tables.map((c) => sum(c, 2)))}` : '—';
  rows.push(`| ${g} | ${cells.length} | ${cells.length - missing.length} | ${published} | ${missing.length === 0 ? '—' : ranges(missing)} | ${parked.length === 0 ? '—' : ranges(parked)} |`);
}
process.stdout.write(
  `${rows.join('\n')}\n\nKept: cells with an evaluation made with the grid's current settings in ${path.relative(process.cwd(), values.results!) || '.'}/<grid>/<cell>; parked: cells stopped part-way whose checkpoint is kept there (<grid>/parked/<cell>), resumed by the next sweep. ` +
    `Published: the cells evaluated in ${path.relative(process.cwd(), values.docs!) || '.'}/<grid>/table.md and in the table.md of its subfolders (a grid published in parts). Grids published before results were kept (2026-12-05 23:30 UTC) have published cells but none kept; ` +
    `their not-kept cells are to run only where the published count falls short.\n`,
);

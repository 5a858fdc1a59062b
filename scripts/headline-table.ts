/**
 * The headline table across datasets (issue 13: "docs/results.md has the headline table (MNIST,
 * CIFAR-10, synthetic 32/96 px; mean ± std over ≥ 3 seeds)"): the rows of each grid's published
 * headline table (docs/results/<grid>/table.md, as `scaat report` wrote it from the grid's cells),
 * side by side in one Markdown table, with the chosen columns. Values are copied as the report
 * wrote them, bold (best beyond the seed spread, within its grid) included; '—' where a grid's
 * table has no such column. Reads the published files only: every number stays the one its grid's
 * command made.
 *
 *   npx tsx scripts/headline-table.ts mnist-headline cifar10-headline synthetic-32
 *   npx tsx scripts/headline-table.ts mnist-headline --columns "Clean accuracy,VG Entropy (bits)"
 *   npx tsx scripts/headline-table.ts 'cifar10-eps16::(regular|sgt) epochs=8$|epochs=8 attack=pgd'
 *
 * `GRID::PATTERN` keeps the rows of GRID whose group matches PATTERN (a JavaScript regular
 * expression); bold still marks the best of the grid's whole table.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scriptArgs } from './_args.js';

const USAGE = 'npx tsx scripts/headline-table.ts GRID[::PATTERN]... [--columns "NAME,NAME,..."] [--docs DIR]';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_COLUMNS = 'Clean accuracy,VG Entropy (bits),VG Size (KB) (jpeg q75),VG AOPC_lerf (uniform fill),VG AOPC_rel (uniform fill),SG AOPC_rel (uniform fill)';
const { values, positionals } = scriptArgs(
  { allowPositionals: true, options: { columns: { type: 'string', default: DEFAULT_COLUMNS }, docs: { type: 'string', default: path.join(ROOT, 'docs', 'results') } } },
  USAGE,
);
if (positionals.length === 0) {
  console.error(`usage: ${USAGE}`);
  process.exit(2);
}

/** A Markdown table row's cells ('\|' inside a cell kept as '|'). */
function cellsOf(line: string): string[] {
  return line.trim().replace(/^\||\|$/g, '').split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
}
/** A header cell without its direction arrow. */
const bare = (h: string) => h.replace(/\s*[↑↓]$/, '');

const columns = values.columns!.split(',').map((c) => c.trim()).filter(Boolean);
const out = [`| grid | group | seeds | ${columns.join(' | ')} |`, `|---|---|---:|${columns.map(() => '---:').join('|')}|`];
for (const arg of positionals) {
  const [grid, pattern] = arg.split('::') as [string, string | undefined];
  let keep: RegExp | undefined;
  try {
    keep = pattern === undefined ? undefined : new RegExp(pattern);
  } catch (err) {
    console.error(`headline-table.ts: ${arg}: not a regular expression after '::' (${(err as Error).message})\nusage: ${USAGE}`);
    process.exit(2);
  }
  const file = path.join(values.docs!, grid, 'table.md');
  if (!existsSync(file)) {
    console.error(`headline-table.ts: ${file}: no published table (publish the grid first: bash scripts/publish-grid.sh ${grid})`);
    process.exit(3);
  }
  const lines = readFileSync(file, 'utf8').split('\n');
  // the headline table: the first table whose header starts with 'group | seeds'
  const head = lines.findIndex((l) => l.startsWith('| group | seeds |'));
  if (head < 0) {
    console.error(`headline-table.ts: ${file}: no headline table (expected a line starting '| group | seeds |')`);
    process.exit(3);
  }
  const header = cellsOf(lines[head]!).map(bare);
  const at = columns.map((c) => header.indexOf(c));
  let found = 0;
  for (let i = head + 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
    const row = cellsOf(lines[i]!);
    if (keep !== undefined && !keep.test(row[0]!)) continue;
    found++;
    out.push(`| ${grid} | ${row[0]} | ${row[1]} | ${at.map((j) => (j >= 0 ? row[j] : '—')).join(' | ')} |`);
  }
  if (found === 0) {
    console.error(`headline-table.ts: ${file}: no group matches '${pattern ?? ''}'`);
    process.exit(3);
  }
}
process.stdout.write(`${out.join('\n')}\n\nMean ± sample std over the group's seeds, as each grid's report wrote it: a value without ± is one seed's (the others' undefined); bold: best within its grid beyond the seed spread${positionals.some((a) => a.includes('::')) ? ' (among all of its groups, also those not shown)' : ''}.\n`);

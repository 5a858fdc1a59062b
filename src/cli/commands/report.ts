/**
 * `scaat report RUNS... --out DIR`: one self-contained HTML report (inline SVG/PNG, no network)
 * plus PNG figures, from results files or run folders (see report/load-results.ts).
 */
import type { Command } from 'commander';
import path from 'node:path';
import { buildTable, formatTableText, tableCaveats } from '../../report/table.js';
import { loadResults } from '../../report/load-results.js';
import { writeReport } from '../../report/write-report.js';
import { scaatVersion } from './_version.js';

/** Options of `scaat report`. */
export interface ReportCommandOptions {
  out: string;
  title?: string;
  png: boolean;
}

/** Adds `scaat report`. */
export function registerReport(program: Command): void {
  program
    .command('report')
    .description('render results (files or run folders) into one self-contained HTML report with PNG figures')
    .argument('<runs...>', 'results JSON files, folders holding results.json, or run folders from scaat train')
    .option('-o, --out <dir>', 'output folder (report.html, figures/*.png, results.json)', 'report')
    .option('--title <text>', 'report title (default: the first results file\'s title, else "SCAAT report")')
    .option('--no-png', 'skip the PNG copies of the figures')
    .action(async (runs: string[], opts: ReportCommandOptions) => {
      await runReport(runs, opts);
    });
}

/** Loads, renders and writes the report; prints where it is and the headline table. */
export async function runReport(runs: readonly string[], opts: ReportCommandOptions): Promise<string> {
  const loaded = await loadResults(runs);
  const results = opts.title !== undefined ? { ...loaded, title: opts.title } : loaded;
  const version = scaatVersion();
  const written = await writeReport(results, opts.out, {
    png: opts.png,
    generatedAt: new Date().toISOString(),
    ...(version ? { scaatVersion: version } : {}),
  });
  const table = buildTable(results, { metrics: 'headline' });
  process.stdout.write(
    `report: ${path.resolve(written.html)}\n` +
      `  ${written.figureIds.length} figures (${written.figureIds.join(', ') || 'none'})` +
      `${written.pngs.length > 0 ? `, PNGs in ${path.resolve(opts.out, 'figures')}` : ''}\n\n` +
      `${formatTableText(table)}\n` +
      tableCaveats(table, results).map((c) => `${c}\n`).join(''),
  );
  return written.html;
}

/**
 * `scaat report RUNS... --out DIR`: one self-contained HTML report (inline SVG/PNG, no network)
 * plus PNG figures, from results files or run folders (see report/load-results.ts).
 *
 * `scaat report SWEEP`: a sweep folder of `scaat sweep` (it holds sweep.json): every metric as
 * mean ± std over the seeds of each group of cells, best marked only where the seed spread
 * separates it (report/sweep-table.ts), as text and as <sweep>/report/report.html.
 */
import type { Command } from 'commander';
import path from 'node:path';
import { DataError } from '../../errors.js';
import { isSweepDir, loadSweep } from '../../report/from-sweep.js';
import { buildTable, formatTableText, tableCaveats } from '../../report/table.js';
import { loadResults } from '../../report/load-results.js';
import { writeReport, writeSweepReport } from '../../report/write-report.js';
import { scaatVersion } from '../../io/package-version.js';

/** Options of `scaat report`. */
export interface ReportCommandOptions {
  /** Output folder (default: 'report', or <sweep>/report for a sweep folder). */
  out?: string;
  title?: string;
  png: boolean;
}

/** Adds `scaat report`. */
export function registerReport(program: Command): void {
  program
    .command('report')
    .description('render results (files or run folders) into one self-contained HTML report with PNG figures')
    .argument('<runs...>', 'results JSON files, folders holding results.json, run folders from scaat train, or one sweep folder from scaat sweep')
    .option('-o, --out <dir>', 'output folder (report.html, figures/*.png, results.json) (default: report; for a sweep folder <sweep>/report)')
    .option('--title <text>', 'report title (default: the first results file\'s title, else "SCAAT report")')
    .option('--no-png', 'skip the PNG copies of the figures')
    .action(async (runs: string[], opts: ReportCommandOptions) => {
      await runReport(runs, opts);
    });
}

/** Loads, renders and writes the report; prints where it is and the headline table. */
export async function runReport(runs: readonly string[], opts: ReportCommandOptions): Promise<string> {
  const sweeps = runs.filter((r) => isSweepDir(r));
  if (sweeps.length > 0) {
    if (runs.length > 1) throw new DataError(`${sweeps[0]}: a sweep folder is reported alone (got ${runs.length} arguments)`);
    return runSweepReport(runs[0]!, opts);
  }
  const loaded = await loadResults(runs);
  const results = opts.title !== undefined ? { ...loaded, title: opts.title } : loaded;
  const version = scaatVersion();
  const out = opts.out ?? 'report';
  const written = await writeReport(results, out, {
    png: opts.png,
    generatedAt: new Date().toISOString(),
    ...(version ? { scaatVersion: version } : {}),
  });
  const table = buildTable(results, { metrics: 'headline' });
  process.stdout.write(
    `report: ${path.resolve(written.html)}\n` +
      `  ${written.figureIds.length} figures (${written.figureIds.join(', ') || 'none'})` +
      `${written.pngs.length > 0 ? `, PNGs in ${path.resolve(out, 'figures')}` : ''}\n\n` +
      `${formatTableText(table)}\n` +
      tableCaveats(table, results).map((c) => `${c}\n`).join(''),
  );
  return written.html;
}

/** The report of a sweep folder: <out> (default <sweep>/report) and the headline table with mean ± std over seeds on stdout. */
export async function runSweepReport(dir: string, opts: Pick<ReportCommandOptions, 'out' | 'title'>): Promise<string> {
  const loaded = await loadSweep(dir);
  const sweep = opts.title !== undefined ? { ...loaded, title: opts.title } : loaded;
  const version = scaatVersion();
  const out = opts.out ?? path.join(dir, 'report');
  const written = await writeSweepReport(sweep, out, {
    defaultTitle: `Sweep ${path.basename(path.resolve(dir))}`,
    generatedAt: new Date().toISOString(),
    ...(version ? { scaatVersion: version } : {}),
  });
  process.stdout.write(
    `report: ${path.resolve(written.html)}\n  every metric (mean ± std over seeds) in ${path.resolve(written.summary)}\n` +
      `  the headline table and the comparison against the poster as Markdown in ${path.resolve(written.markdown)}\n\n${written.text}\n`,
  );
  return written.html;
}

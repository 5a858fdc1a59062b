/**
 * Writes a report folder: `report.html` (self-contained), `figures/<id>.png` and `results.json`
 * (the merged input, so the folder alone can regenerate the report). Every file is written
 * atomically (temp file + rename), figures first and the HTML last.
 *
 * A sweep's report folder: `summary.json` (the mean ± std table, every metric, and the rule for
 * best values; the comparison against the poster), `table.md` (the headline table, the AOPC
 * columns of every further fill when the evaluation had several, the
 * comparison, the final q_i spread per SCAAT group and the fronts' undominated groups as GitHub
 * Markdown, for docs), `figures/<id>.png` (the fronts, sweep-front.ts, and
 * SCAAT's q_i per group, sweep-q.ts), `results.json` (the evaluated cells as runs, for
 * `scaat report`/`compare` per run), `report.html` last.
 */
import path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { renderFigures, svgToPng } from './figures.js';
import { sweepCommandLine } from './from-sweep.js';
import type { SweepResults } from './from-sweep.js';
import { renderReport, renderSweepReport } from './render-html.js';
import type { RenderOptions, SweepRenderOptions } from './render-html.js';
import { RESULTS_SCHEMA_VERSION } from './run-results.js';
import type { RunResults } from './run-results.js';
import { buildPosterComparison, formatPosterComparisonMarkdown, formatPosterComparisonText, POSTER_EXPECTED, POSTER_RULE, posterOneSidedParams } from './poster-comparison.js';
import type { PosterComparison } from './poster-comparison.js';
import { buildControlComparison, CONTROL_RULE, formatControlComparisonMarkdown, formatControlComparisonText } from './control-comparison.js';
import type { ControlComparison } from './control-comparison.js';
import { formatFrontsMarkdown, formatFrontsText, renderSweepFigures, sweepFrontSpecs } from './sweep-front.js';
import type { FrontSpec } from './sweep-front.js';
import { formatSweepQMarkdown, renderSweepQFigures, sweepQRows } from './sweep-q.js';
import type { SweepQRow } from './sweep-q.js';
import { BEST_RULE, buildSweepTable, formatSweepTableMarkdown, formatSweepTableText } from './sweep-table.js';
import type { SweepTableModel } from './sweep-table.js';

/** What {@link writeReport} wrote. */
export interface WrittenReport {
  /** Path of report.html. */
  readonly html: string;
  /** Paths of the figure PNGs. */
  readonly pngs: readonly string[];
  /** Path of the results.json copy. */
  readonly results: string;
  /** Ids of the figures rendered. */
  readonly figureIds: readonly string[];
}

/** Options of {@link writeReport}. */
export interface WriteReportOptions extends Omit<RenderOptions, 'pngPaths'> {
  /** Write PNGs of the figures. @default true */
  readonly png?: boolean;
  /** PNG zoom factor relative to the SVG size. @default 2 */
  readonly pngZoom?: number;
}

/** Renders `results` into `outDir` (created if needed). */
export async function writeReport(results: RunResults, outDir: string, options: WriteReportOptions = {}): Promise<WrittenReport> {
  const { png = true, pngZoom = 2, ...render } = options;
  const figures = await renderFigures(results);
  const pngs: string[] = [];
  const pngPaths: Record<string, string> = {};
  if (png) {
    for (const f of figures) {
      const rel = `figures/${f.id}.png`;
      const file = path.join(outDir, rel);
      await writeFileAtomic(file, svgToPng(f.svg, pngZoom));
      pngs.push(file);
      pngPaths[f.id] = rel;
    }
  }
  const resultsFile = path.join(outDir, 'results.json');
  await writeJsonAtomic(resultsFile, results);
  const html = path.join(outDir, 'report.html');
  await writeFileAtomic(html, renderReport(results, figures, { ...render, pngPaths }));
  return { html, pngs, results: resultsFile, figureIds: figures.map((f) => f.id) };
}

/** What {@link writeSweepReport} wrote. */
export interface WrittenSweepReport {
  readonly html: string;
  /** summary.json: the table with every metric. */
  readonly summary: string;
  /** table.md: the headline table and the comparison against the poster, as Markdown. */
  readonly markdown: string;
  /** results.json, when a cell has an evaluation. */
  readonly results?: string;
  /** Paths of the figure PNGs (the fronts and the q_i figures). */
  readonly pngs: readonly string[];
  /** Ids of the figures rendered. */
  readonly figureIds: readonly string[];
  /** The table (every metric). */
  readonly table: SweepTableModel;
  /** For the terminal: the headline table (mean ± std over seeds), the further fills, the comparison against the poster, the q_i spread and the fronts' groups not dominated. */
  readonly text: string;
}

/** Heads the table of the AOPC fills after the first (table.md and the terminal). */
export const FURTHER_FILLS_NOTE =
  "AOPC in the evaluation's further fills (the table above has the first fill's; same groups and seeds, best marked by the same rule):";

/** The parts of a sweep's report, each computed once ({@link sweepReportParts}). */
export interface SweepReportParts {
  /** Every metric (summary.json, the HTML tables, the fronts and the q_i figures). */
  readonly table: SweepTableModel;
  /** The headline metrics, a metric's first variant (table.md, the terminal, both comparisons). */
  readonly headline: SweepTableModel;
  /** AOPC in the evaluation's further fills (no columns with one fill). */
  readonly further: SweepTableModel;
  readonly poster: readonly PosterComparison[];
  readonly control: readonly ControlComparison[];
  readonly qRows: readonly SweepQRow[];
  readonly fronts: readonly FrontSpec[];
}

/** The parts of `sweep`'s report (pure). */
export function sweepReportParts(sweep: SweepResults): SweepReportParts {
  const table = buildSweepTable(sweep, { metrics: 'all' });
  const headline = buildSweepTable(sweep, { metrics: 'headline' });
  return {
    table,
    headline,
    further: buildSweepTable(sweep, { metrics: 'further-variants' }),
    poster: buildPosterComparison(headline, posterOneSidedParams(sweep.grid)),
    control: buildControlComparison(headline, sweep),
    qRows: sweepQRows(sweep, table),
    fronts: sweepFrontSpecs(sweep, table),
  };
}

/**
 * A sweep's table.md (pure): the command, the headline table, the further AOPC fills' table, the
 * comparison against the poster, SCAAT against its control, the final q_i spread and the fronts'
 * groups that no other dominates.
 */
export function sweepMarkdown(sweep: SweepResults, parts: SweepReportParts = sweepReportParts(sweep)): string {
  const { headline, further, poster, control, qRows, fronts } = parts;
  const rerun = `${sweepCommandLine(sweep)}, reported by \`scaat report ${sweep.dir}\`.\n`;
  const furtherMd = further.columns.length > 0 ? `${FURTHER_FILLS_NOTE}\n\n${formatSweepTableMarkdown(further, { brief: true })}` : '';
  return [rerun, formatSweepTableMarkdown(headline), furtherMd, formatPosterComparisonMarkdown(poster), formatControlComparisonMarkdown(control), formatSweepQMarkdown(qRows), formatFrontsMarkdown(fronts)].filter(Boolean).join('\n');
}

/** Renders a sweep's report into `outDir` (created if needed). */
export async function writeSweepReport(sweep: SweepResults, outDir: string, options: Omit<SweepRenderOptions, 'pngPaths'>): Promise<WrittenSweepReport> {
  const parts = sweepReportParts(sweep);
  const { table, headline, further, poster, control, qRows } = parts;
  const summary = path.join(outDir, 'summary.json');
  await writeJsonAtomic(summary, { rule: BEST_RULE, ...table, poster: { expected: POSTER_EXPECTED, rule: POSTER_RULE, comparisons: poster }, control: { rule: CONTROL_RULE, comparisons: control } });
  const markdown = path.join(outDir, 'table.md');
  await writeFileAtomic(markdown, sweepMarkdown(sweep, parts));
  const runs = sweep.cells.flatMap((c) => (c.run ? [c.run] : []));
  let results: string | undefined;
  if (runs.length > 0) {
    results = path.join(outDir, 'results.json');
    const doc: RunResults = {
      schemaVersion: RESULTS_SCHEMA_VERSION,
      title: sweep.title ?? options.defaultTitle,
      ...(sweep.command !== undefined ? { command: sweep.command } : {}),
      ...(sweep.comment !== undefined ? { notes: [sweep.comment] } : {}),
      runs,
    };
    await writeJsonAtomic(results, doc);
  }
  const figures = { fronts: await renderSweepFigures(sweep, table, parts.fronts), q: await renderSweepQFigures(sweep, table) };
  const pngs: string[] = [];
  const pngPaths: Record<string, string> = {};
  for (const f of [...figures.fronts, ...figures.q]) {
    const rel = `figures/${f.id}.png`;
    const file = path.join(outDir, rel);
    await writeFileAtomic(file, svgToPng(f.svg));
    pngs.push(file);
    pngPaths[f.id] = rel;
  }
  const html = path.join(outDir, 'report.html');
  await writeFileAtomic(html, renderSweepReport(sweep, table, { ...options, pngPaths }, figures, parts));
  const furtherText = further.columns.length > 0 ? `${FURTHER_FILLS_NOTE}\n${formatSweepTableText(further, { brief: true })}` : '';
  const text = [formatSweepTableText(headline), furtherText, formatPosterComparisonText(poster), formatControlComparisonText(control), formatSweepQMarkdown(qRows).trimEnd(), formatFrontsText(parts.fronts)]
    .filter(Boolean)
    .join('\n\n');
  return { html, summary, markdown, ...(results !== undefined ? { results } : {}), pngs, figureIds: [...figures.fronts, ...figures.q].map((f) => f.id), table, text };
}

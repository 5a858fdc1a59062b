/**
 * Writes a report folder: `report.html` (self-contained), `figures/<id>.png` and `results.json`
 * (the merged input, so the folder alone can regenerate the report). Every file is written
 * atomically (temp file + rename), figures first and the HTML last.
 */
import path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { renderFigures, svgToPng } from './figures.js';
import { renderReport } from './render-html.js';
import type { RenderOptions } from './render-html.js';
import type { RunResults } from './results.js';

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

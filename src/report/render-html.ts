/**
 * `renderReport(results, figures)`: the report as one self-contained HTML document (pure: no fs,
 * no clock, no network; styles inline, figures inline SVG with data-URI images, no scripts).
 *
 * Sections: title and notes → the paper's table (per saliency method, metrics ↓/↑ across runs,
 * clean accuracy, best value marked) → all other metrics → figures → what is missing →
 * reproducibility (per run: trainer, seed, backend, versions, timings, the resolved config).
 *
 * `renderSweepReport(sweep, table)`: a sweep folder's report: per partition the groups of cells
 * that differ only in their seed, every metric as mean ± std over seeds, best marked only where
 * the seed spread separates it (sweep-table.ts BEST_RULE), groups with a cell whose training logged
 * a warning marked ⚠ and the warnings listed under the table → each SCAAT group against its regular
 * group and the poster's figures (poster-comparison.ts) → the fronts of clean accuracy against
 * AOPC_rel and entropy (sweep-front.ts) → SCAAT's q_i per epoch, one seed per group (sweep-q.ts)
 * → every cell and its status → reproducibility (the command, the grid, the evaluation settings).
 */
import { escapeHtml } from './_html.js';
import type { Figure } from './figures.js';
import { missingFigures } from './figures.js';
import { methodLabel, metricKey, runLabel, TRAINER_INFO } from './run-results.js';
import type { RunResult, RunResults } from './run-results.js';
import { wholeGridCommand } from './from-sweep.js';
import type { SweepResults } from './from-sweep.js';
import { buildPosterComparison, POSTER_HEADER, POSTER_HEADING, POSTER_RULE, posterComparisonTitle, posterRowCells, SPREAD_NOTE, posterOneSidedParams } from './poster-comparison.js';
import type { PosterComparison } from './poster-comparison.js';
import { buildControlComparison, CONTROL_HEADER, CONTROL_HEADING, CONTROL_RULE, controlRowCells, controlSummary, controlTitle } from './control-comparison.js';
import type { ControlComparison } from './control-comparison.js';
import { BEST_RULE, EVALUATION_WARNING_MARK, EVALUATION_WARNINGS_NOTE, TRAINING_WARNING_MARK, TRAINING_WARNINGS_NOTE, buildSweepTable, columnMethodLabel, formatColumnStat, sweepEvaluationWarnings, sweepTrainingWarnings } from './sweep-table.js';
import type { SweepTableModel } from './sweep-table.js';
import { arrow, buildTable, formatPercent, formatValue, orderRuns, tableCaveats, uniqueLabels } from './table.js';
import type { TableModel, TableRow } from './table.js';

/** Options of {@link renderReport}. */
export interface RenderOptions {
  /** ISO date shown as "generated at" (default: results.createdAt; none when both are absent). */
  readonly generatedAt?: string;
  /** scaat version shown in the footer. */
  readonly scaatVersion?: string;
  /** Where each figure's PNG lives relative to the HTML (id → path), for "PNG" links. */
  readonly pngPaths?: Readonly<Record<string, string>>;
}

const STYLE = `
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:24px auto;max-width:1180px;padding:0 16px;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
h3{font-size:1.05em;margin-top:1.2em}
.meta{color:#555;font-size:.92em}.note{background:#fff8e1;border-left:4px solid #f0c000;padding:6px 10px;margin:6px 0}
table{border-collapse:collapse;margin:8px 0 4px;font-size:.93em}
th,td{border:1px solid #ddd;padding:4px 9px;text-align:right;vertical-align:top}
th{background:#f5f5f5}td.l,th.l{text-align:left}
td.best{font-weight:bold;background:#e8f5e9}td.undefined{color:#8a5a00;font-style:italic}
ul.caveats{font-size:.88em;color:#6b4a00;background:#fff8e1;padding:6px 10px 6px 28px;margin:6px 0}
tr.sep td{border-top:2px solid #999}
.legend{font-size:.85em;color:#555}
figure{margin:18px 0;overflow-x:auto}figure svg{max-width:100%;height:auto}
figcaption{font-size:.9em;color:#444;max-width:900px}
details{margin:6px 0}pre{background:#f7f7f7;padding:8px;overflow-x:auto;font-size:.85em}
code{font-size:.92em}footer{margin-top:3em;color:#777;font-size:.85em}
`;

/** Renders the report (pure). `figures` come from `renderFigures(results)`. */
export function renderReport(results: RunResults, figures: readonly Figure[], options: RenderOptions = {}): string {
  const title = results.title ?? 'SCAAT report';
  const generatedAt = options.generatedAt ?? results.createdAt;
  const headline = buildTable(results, { metrics: 'headline', posterUnits: true });
  const all = buildTable(results, { metrics: 'all', posterUnits: true });
  const extraRows = all.sections.some((s, i) => s.rows.length > (headline.sections[i]?.rows.length ?? 0));
  const missing = missingFigures(results);

  const body = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="meta">${[
      generatedAt ? `generated ${escapeHtml(generatedAt)}` : '',
      results.command ? `by <code>${escapeHtml(results.command)}</code>` : '',
      `${results.runs.length} run${results.runs.length === 1 ? '' : 's'}`,
    ]
      .filter(Boolean)
      .join(' · ')}</p>`,
    ...(results.notes ?? []).map((n) => `<p class="note">${escapeHtml(n)}</p>`),
    renderSummary(results),
    `<h2 id="table">Saliency quality</h2>`,
    `<p class="legend">Rows: metrics per saliency method (↓ lower is better, ↑ higher is better); columns: trainers. ` +
      `The best value in each row is <b>bold</b>. Metric values are means over the evaluated images; AOPC_lerf is in the poster's unit, ×10⁻³.</p>`,
    renderTable(headline, 'paper-table'),
    renderCaveats(all, results),
    extraRows ? `<h3>All metrics</h3>${renderTable(all, 'all-metrics')}` : '',
    renderEvaluationParams(results),
    `<h2 id="figures">Figures</h2>`,
    ...figures.map((f) => renderFigure(f, options.pngPaths?.[f.id])),
    missing.length > 0
      ? `<h3>Not in these results</h3><ul class="missing">${missing.map((m) => `<li>${escapeHtml(m)}</li>`).join('')}</ul>`
      : '',
    `<h2 id="reproduce">Reproducibility</h2>`,
    renderReproducibility(results),
    `<footer>Generated by scaat${options.scaatVersion ? ` ${escapeHtml(options.scaatVersion)}` : ''} (<code>scaat report</code>). ` +
      `Self-contained: this file loads nothing from the network.</footer>`,
  ];
  return htmlPage(title, body);
}

function renderSummary(results: RunResults): string {
  const runs = orderRuns(results.runs);
  const labels = uniqueLabels(runs);
  const rows = runs.map((r, i) => {
    const ds = r.dataset ? describeDataset(r.dataset) : '';
    const epochs = r.training?.epochs.length;
    const ev = r.evaluation;
    return `<tr><td class="l">${escapeHtml(labels[i])}</td><td class="l"><code>${escapeHtml(r.id)}</code></td><td class="l">${escapeHtml(r.trainer)}</td>` +
      `<td class="l">${escapeHtml(r.model ?? '')}</td><td class="l">${escapeHtml(ds)}</td><td>${escapeHtml(trainImages(r.config))}</td><td>${epochs ?? '—'}</td>` +
      `<td>${ev?.numImages ?? '—'}</td><td>${r.seed ?? '—'}</td><td class="l">${weightsCell(r)}</td></tr>`;
  });
  const trainers = [...new Set(runs.map((r) => r.trainer))].filter((t) => TRAINER_INFO[t]);
  const legend = trainers.map((t) => `<b>${escapeHtml(t)}</b>: ${escapeHtml(TRAINER_INFO[t]!.description)}`).join('<br>');
  return `<h2 id="runs">Runs</h2><table class="runs"><thead><tr><th class="l">column</th><th class="l">id</th><th class="l">trainer</th>` +
    `<th class="l">model</th><th class="l">dataset</th><th>train images</th><th>epochs</th><th>eval images</th><th>seed</th>` +
    `<th class="l" title="SHA-256 of the weights evaluated">weights</th></tr></thead><tbody>${rows.join('')}</tbody></table>` +
    (legend ? `<p class="legend trainers">${legend}</p>` : '');
}

/** The evaluated weights' SHA-256 prefix (full hash on hover) and their checkpoint, or '—'. */
function weightsCell(r: RunResult): string {
  if (!r.weights) return '—';
  const c = r.weights.checkpoint;
  return `<code title="SHA-256 ${escapeHtml(r.weights.sha256)}">${escapeHtml(r.weights.sha256.slice(0, 12))}</code>` +
    (c ? ` (checkpoint ${escapeHtml(c.name)}, step ${c.step})` : '');
}

/** e.g. "mnist, 28×28×1 (test split: 10000)". */
function describeDataset(d: Readonly<Record<string, unknown>>): string {
  const name = d['name'] ?? d['format'] ?? '';
  const shape = Array.isArray(d['shape']) ? (d['shape'] as unknown[]).join('×') : '';
  const size = d['size'];
  const split = typeof d['split'] === 'string' ? d['split'] : undefined;
  const count = size !== undefined ? ` (${split ? `${split} split: ` : ''}${String(size)})` : '';
  return `${[name, shape].filter((x) => x !== '').join(', ')}${count}`;
}

/** Training samples from the resolved config's `trainLimit` (0 = all), when it has one. */
function trainImages(config: Readonly<Record<string, unknown>>): string {
  const n = config['trainLimit'];
  return typeof n === 'number' ? (n > 0 ? String(n) : 'all') : '—';
}

function renderTable(t: TableModel, id: string): string {
  if (t.sections.length === 0 && t.accuracy.values.every((v) => v === null)) {
    return `<p class="missing">No evaluation in these results (run <code>scaat evaluate</code>).</p>`;
  }
  const head = `<thead><tr><th class="l">method</th><th class="l">metric</th>${t.columns.map((c) => `<th>${escapeHtml(c.label)}</th>`).join('')}</tr></thead>`;
  const rows: string[] = [rowHtml('', t.accuracy, formatPercent, '')];
  for (const s of t.sections) {
    s.rows.forEach((r, k) => rows.push(rowHtml(k === 0 ? `${s.label} (${s.short})` : '', r, formatValue, k === 0 ? 'sep' : '')));
  }
  return `<table id="${id}" class="metrics">${head}<tbody>${rows.join('')}</tbody></table>`;
}

/** Undefined values with their reasons, and the evaluations' and trainings' warnings, under the paper's table. */
function renderCaveats(all: TableModel, results: RunResults): string {
  const caveats = tableCaveats(all, results);
  return caveats.length > 0 ? `<ul class="caveats">${caveats.map((c) => `<li>${escapeHtml(c)}</li>`).join('')}</ul>` : '';
}

function rowHtml(method: string, r: TableRow, fmt: (v: number | null) => string, cls: string): string {
  const label = `${r.label} ${arrow(r.direction)}`.trim();
  const cells = r.values.map((v, i) => {
    const best = r.best.includes(i);
    const reason = r.undefinedReasons[i];
    if (reason) return `<td class="undefined" title="${escapeHtml(reason)}" data-metric="${escapeHtml(r.key)}">undefined</td>`;
    return `<td${best ? ' class="best" title="best in row"' : ''} data-metric="${escapeHtml(r.key)}">${escapeHtml(fmt(v))}</td>`;
  });
  return `<tr${cls ? ` class="${cls}"` : ''}><td class="l">${escapeHtml(method)}</td><td class="l">${escapeHtml(label)}</td>${cells.join('')}</tr>`;
}

/** The settings every metric was computed with (from the first run that has them), per method. */
function renderEvaluationParams(results: RunResults): string {
  const items: string[] = [];
  for (const r of orderRuns(results.runs)) {
    const ev = r.evaluation;
    if (!ev) continue;
    const parts: string[] = [];
    if (ev.split || ev.numImages !== undefined) parts.push(`${ev.numImages ?? '?'} images of the ${ev.split ?? '?'} split`);
    for (const m of ev.methods) {
      const metricParams = m.metrics
        .filter((v) => v.params && Object.keys(v.params).length > 0)
        .map((v) => `${metricKey(v)} ${compact(v.params)}`);
      parts.push(
        `${methodLabel(m)}${m.params ? ` ${compact(m.params)}` : ''}${metricParams.length ? `; ${metricParams.join('; ')}` : ''}${m.seconds !== undefined ? `; ${m.seconds.toFixed(1)} s` : ''}`,
      );
    }
    if (ev.params) parts.push(`evaluation ${compact(ev.params)}`);
    items.push(`<li><b>${escapeHtml(runLabel(r))}</b> (<code>${escapeHtml(r.id)}</code>): ${parts.map(escapeHtml).join(' · ')}</li>`);
  }
  return items.length ? `<details><summary>Evaluation settings</summary><ul>${items.join('')}</ul></details>` : '';
}

function renderFigure(f: Figure, png: string | undefined): string {
  return `<figure id="fig-${escapeHtml(f.id)}" data-figure="${escapeHtml(f.id)}"><h3>${escapeHtml(f.title)}</h3>${stripXmlProlog(f.svg)}` +
    `<figcaption>${escapeHtml(f.caption)}${png ? ` (<a href="${escapeHtml(png)}">PNG</a>)` : ''}</figcaption></figure>`;
}

function renderReproducibility(results: RunResults): string {
  const runs = orderRuns(results.runs);
  const labels = uniqueLabels(runs);
  const rows = runs.map((r, i) => {
    const b = r.backend ?? {};
    const versions = Object.entries(r.versions ?? {}).map(([k, v]) => `${k} ${v}`).join(', ');
    const timings = Object.entries(r.timings ?? {}).map(([k, v]) => `${k} ${formatSeconds(v)}`).join(', ');
    return `<tr><td class="l">${escapeHtml(labels[i])}</td><td>${r.seed ?? '—'}</td>` +
      `<td class="l">${escapeHtml(String(b['name'] ?? '—'))}${b['threads'] !== undefined ? ` · ${escapeHtml(String(b['threads']))} thread(s)` : ''}${b['accelerator'] && b['accelerator'] !== 'none' ? ` · ${escapeHtml(String(b['accelerator']))}` : ''}</td>` +
      `<td class="l">${escapeHtml(String(b['machine'] ?? '—'))}</td><td class="l">${escapeHtml(versions || [b['tfjsVersion'] ? `tfjs ${b['tfjsVersion']}` : '', b['node'] ? `node ${b['node']}` : ''].filter(Boolean).join(', ') || '—')}</td>` +
      `<td class="l">${escapeHtml(timings || '—')}</td><td class="l">${escapeHtml(r.createdAt ?? '—')}</td></tr>`;
  });
  const table = `<table class="repro"><thead><tr><th class="l">run</th><th>seed</th><th class="l">backend</th><th class="l">machine</th>` +
    `<th class="l">versions</th><th class="l">timings</th><th class="l">date</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
  const configs = runs.map((r, i) => renderRunDetails(r, labels[i]!)).join('');
  return `${table}<p class="legend">Rerun a column with its resolved config below (e.g. save it as <code>config.json</code> and run <code>scaat train --config config.json</code>).</p>${configs}`;
}

function renderRunDetails(r: RunResult, label: string): string {
  const lines = [
    r.command ? `<p>command: <code>${escapeHtml(r.command)}</code></p>` : '',
    r.source ? `<p>results read from <code>${escapeHtml(r.source)}</code></p>` : '',
    `<pre>${escapeHtml(JSON.stringify(r.config, null, 2))}</pre>`,
    r.backend ? `<p>backend</p><pre>${escapeHtml(JSON.stringify(r.backend, null, 2))}</pre>` : '',
  ];
  return `<details class="config" data-run="${escapeHtml(r.id)}"><summary>Resolved config: ${escapeHtml(label)} (<code>${escapeHtml(r.id)}</code>)</summary>${lines.join('')}</details>`;
}

function compact(o: Readonly<Record<string, unknown>> | undefined): string {
  if (!o) return '';
  return `{${Object.entries(o).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ')}}`;
}

/** '12.3 s', '4 min 05 s', '1 h 02 min'. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '—';
  if (s < 59.95) return `${s.toFixed(1)} s`;
  const t = Math.round(s);
  if (t < 3600) return `${Math.floor(t / 60)} min ${String(t % 60).padStart(2, '0')} s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

function stripXmlProlog(svg: string): string {
  return svg.replace(/^<\?xml[^>]*>\s*/, '');
}

/** Options of {@link renderSweepReport}. */
export interface SweepRenderOptions {
  /** Title when the grid has none. */
  readonly defaultTitle: string;
  readonly generatedAt?: string;
  readonly scaatVersion?: string;
  /** Where each figure's PNG lives relative to the HTML (id → path), for "PNG" links. */
  readonly pngPaths?: Readonly<Record<string, string>>;
}

/** The figures of a sweep's report. */
export interface SweepFigures {
  /** renderSweepFigures(sweep, table) (sweep-front.ts). */
  readonly fronts?: readonly Figure[];
  /** renderSweepQFigures(sweep, table) (sweep-q.ts). */
  readonly q?: readonly Figure[];
}

/**
 * Renders a sweep's report (pure); `table` from buildSweepTable(sweep, {metrics: 'all'});
 * `comparisons`: the comparisons against the poster and the control, when the caller has them
 * (write-report.ts sweepReportParts).
 */
export function renderSweepReport(
  sweep: SweepResults,
  table: SweepTableModel,
  options: SweepRenderOptions,
  figures: SweepFigures = {},
  comparisons?: { readonly poster: readonly PosterComparison[]; readonly control: readonly ControlComparison[] },
): string {
  const { fronts = [], q = [] } = figures;
  const headline = comparisons === undefined ? buildSweepTable(sweep, { metrics: 'headline' }) : undefined;
  const poster = comparisons?.poster ?? buildPosterComparison(headline!, posterOneSidedParams(sweep.grid));
  const control = comparisons?.control ?? buildControlComparison(headline!, sweep);
  const title = sweep.title ?? options.defaultTitle;
  const evaluated = sweep.cells.filter((c) => c.run).length;
  const counts = new Map<string, number>();
  for (const c of sweep.cells) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  const rerun = wholeGridCommand(sweep);
  const body = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="meta">${[
      options.generatedAt ? `generated ${escapeHtml(options.generatedAt)}` : '',
      `grid <code>${escapeHtml(sweep.gridFile)}</code>`,
      `${sweep.cells.length} cells: ${[...counts].map(([k, v]) => `${v} ${escapeHtml(k)}`).join(', ')}; ${evaluated} with a current evaluation`,
    ].filter(Boolean).join(' · ')}</p>`,
    sweep.comment ? `<p class="note">${escapeHtml(sweep.comment)}</p>` : '',
    `<h2 id="table">Results over seeds</h2>`,
    `<p class="legend">Rows: groups of cells that differ only in <code>${escapeHtml(table.seedAxis)}</code>; columns: clean accuracy and each saliency method's metrics ` +
      `(↓ lower is better, ↑ higher is better), each the mean over the evaluated images of a cell. ${escapeHtml(BEST_RULE)}</p>`,
    ...table.partitions.map((p, i) => `${p.title ? `<h3>${escapeHtml(p.title)}</h3>` : ''}${renderSweepPartition(table, i)}`),
    renderSweepTrainingWarnings(table),
    poster.length > 0 ? `<h2 id="poster">${escapeHtml(POSTER_HEADING)}</h2><p class="legend">${escapeHtml(POSTER_RULE)}</p>` : '',
    ...poster.map(renderPosterComparison),
    control.length > 0 ? `<h2 id="control">${escapeHtml(CONTROL_HEADING)}</h2><p class="legend">${escapeHtml(CONTROL_RULE)}</p>` : '',
    ...control.map(renderControlComparison),
    fronts.length > 0 ? `<h2 id="figures">Fronts: clean accuracy against saliency quality</h2>` : '',
    ...fronts.map((f) => renderFigure(f, options.pngPaths?.[f.id])),
    q.length > 0 ? `<h2 id="q-distribution">SCAAT's q_i over epochs</h2>` : '',
    ...q.map((f) => renderFigure(f, options.pngPaths?.[f.id])),
    `<h2 id="cells">Cells</h2>`,
    renderSweepCells(sweep),
    `<h2 id="reproduce">Reproducibility</h2>`,
    `<p>Every cell is a run folder of <code>scaat train</code> under <code>${escapeHtml(sweep.dir)}</code> (config.json, log.jsonl, model/, eval.json). ` +
      `Rerun or continue the study with <code>${escapeHtml(rerun)}</code> (finished cells are skipped); regenerate this report with <code>scaat report ${escapeHtml(sweep.dir)}</code>.</p>`,
    `<details open><summary>Grid (${escapeHtml(sweep.gridFile)})</summary><pre>${escapeHtml(JSON.stringify(sweep.grid, null, 2))}</pre></details>`,
    `<details><summary>Evaluation settings of every cell</summary><pre>${escapeHtml(JSON.stringify(sweep.evaluation, null, 2))}</pre></details>`,
    `<footer>Generated by scaat${options.scaatVersion ? ` ${escapeHtml(options.scaatVersion)}` : ''} (<code>scaat report</code>). Self-contained: this file loads nothing from the network.</footer>`,
  ];
  return htmlPage(title, body);
}

function renderSweepPartition(t: SweepTableModel, pi: number): string {
  const p = t.partitions[pi]!;
  if (p.groups.every((g) => g.evaluated === 0)) return `<p class="missing">No cell of this partition has an evaluation yet.</p>`;
  const methods = [...new Set(t.columns.flatMap((c) => (c.method !== undefined ? [c.method] : [])))];
  const head1 = `<tr><th class="l" rowspan="2">group</th><th rowspan="2">${escapeHtml(t.seedAxis === 'seed' ? 'seeds' : t.seedAxis)}</th>` +
    t.columns.filter((c) => c.method === undefined).map((c) => `<th rowspan="2">${escapeHtml(`${c.label} ${arrow(c.direction)}`.trim())}</th>`).join('') +
    methods.map((m) => `<th colspan="${t.columns.filter((c) => c.method === m).length}" style="text-align:center">${escapeHtml(columnMethodLabel(t.columns.find((c) => c.method === m)!))}</th>`).join('') + '</tr>';
  const ordered = [...t.columns.map((c, j) => ({ c, j })).filter(({ c }) => c.method === undefined), ...methods.flatMap((m) => t.columns.map((c, j) => ({ c, j })).filter(({ c }) => c.method === m))];
  const head2 = `<tr>${ordered.filter(({ c }) => c.method !== undefined).map(({ c }) => `<th>${escapeHtml(`${c.label} ${arrow(c.direction)}`.trim())}</th>`).join('')}</tr>`;
  const rows = p.groups.map((g, gi) => {
    const cells = ordered.map(({ c, j }) => {
      const best = p.best[j] === gi;
      return `<td${best ? ' class="best" title="best: separated from the runner-up by more than the seed spread"' : ''} data-column="${escapeHtml(c.key)}">${escapeHtml(formatColumnStat(p.stats[gi]![j]!, c.key))}</td>`;
    });
    const seeds = g.evaluated === g.cells.length ? String(g.cells.length) : `${g.evaluated}/${g.cells.length}`;
    const mark = (g.warnings ? ` <span class="warn" title="its mean includes a cell whose training logged a warning (listed under the table)">${TRAINING_WARNING_MARK}</span>` : '') +
      (g.evaluationWarnings ? ` <span class="warn" title="its mean includes a cell whose evaluation warned (listed under the table)">${EVALUATION_WARNING_MARK}</span>` : '');
    return `<tr><td class="l">${escapeHtml(g.label)}${mark}</td><td>${escapeHtml(seeds)}</td>${cells.join('')}</tr>`;
  });
  return `<table class="metrics sweep" data-partition="${escapeHtml(p.title)}"><thead>${head1}${head2}</thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The cells' training and evaluation warnings under the sweep's table; '' when none. */
function renderSweepTrainingWarnings(t: SweepTableModel): string {
  const list = (id: string, note: string, lines: readonly string[]) =>
    lines.length === 0 ? '' : `<p class="legend" id="${id}">${escapeHtml(note)}</p><ul class="caveats ${id}">${lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>`;
  return list('training-warnings', TRAINING_WARNINGS_NOTE, sweepTrainingWarnings(t)) + list('evaluation-warnings', EVALUATION_WARNINGS_NOTE, sweepEvaluationWarnings(t));
}

function renderPosterComparison(c: PosterComparison): string {
  const left = new Set(['measure', 'method', 'poster', 'verdict']);
  const head = POSTER_HEADER.map((h) => `<th${left.has(h) ? ' class="l"' : ''}>${escapeHtml(h === 'seeds' ? 'seeds (regular / SCAAT)' : h)}</th>`).join('');
  const rows = c.rows.map((r) => {
    const cells = posterRowCells(r).map((x, k) => `<td${left.has(POSTER_HEADER[k]!) ? ' class="l"' : ''}>${escapeHtml(x)}</td>`).join('');
    return `<tr data-column="${escapeHtml(r.column)}" data-verdict="${escapeHtml(r.verdict)}">${cells}</tr>`;
  });
  return `<h3>${escapeHtml(posterComparisonTitle(c))}</h3><table class="poster"><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>` +
    (c.rows.some((r) => r.spread) ? `<p class="legend">${escapeHtml(SPREAD_NOTE)}</p>` : '');
}

function renderControlComparison(c: ControlComparison): string {
  const left = new Set<string>(['measure', 'method', 'better']);
  const head = CONTROL_HEADER.map((h) => `<th${left.has(h) ? ' class="l"' : ''}>${escapeHtml(h === 'seeds' ? 'seeds (SCAAT / control)' : h)}</th>`).join('');
  const rows = c.rows.map((r) => {
    const cells = controlRowCells(r).map((x, k) => `<td${left.has(CONTROL_HEADER[k]!) ? ' class="l"' : ''}>${escapeHtml(x)}</td>`).join('');
    return `<tr data-column="${escapeHtml(r.column)}" data-verdict="${escapeHtml(r.verdict)}">${cells}</tr>`;
  });
  return `<h3>${escapeHtml(controlTitle(c))}</h3><p class="legend">${escapeHtml(`${controlSummary(c)}.`)}</p><table class="poster"><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function renderSweepCells(sweep: SweepResults): string {
  const rows = sweep.cells.map((c) =>
    `<tr><td class="l"><code>${escapeHtml(c.name)}</code></td><td class="l">${escapeHtml(c.status)}${c.error ? `: ${escapeHtml(c.error)}` : ''}</td>` +
      `<td>${c.run ? 'yes' : 'no'}</td><td class="l">${c.source ? `<code>${escapeHtml(c.source)}</code>` : ''}</td></tr>`,
  );
  return `<table class="cells"><thead><tr><th class="l">cell</th><th class="l">status</th><th>evaluated</th><th class="l">fine-tuned from</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The self-contained page around the sections (empty ones dropped). */
function htmlPage(title: string, body: readonly string[]): string {
  return (
    `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
    `<title>${escapeHtml(title)}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n` +
    body.filter(Boolean).join('\n') +
    `\n</body>\n</html>\n`
  );
}

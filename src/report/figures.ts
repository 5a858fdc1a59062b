/**
 * The report's figures: vega-lite specs built from {@link RunResults} (pure), rendered to SVG by
 * vega in Node (no canvas, no network), and to PNG by resvg.
 *
 * Typical steps:
 * 1. `figureSpecs(results)` → the vega-lite specs of the figures the results have data for;
 * 2. `renderFigures(results)` → `{id, title, caption, svg}` for each, plus the example grid;
 * 3. `svgToPng(figure.svg)` → PNG bytes (the CLI writes them next to report.html).
 *
 * Figures (each omitted, with a reason in {@link missingFigures}, when the data is absent):
 * - `entropy-distribution`: histograms of per-image saliency entropy, per method, one colour per run;
 * - `robustness`: accuracy when the q lowest-saliency pixels are attacked or noised;
 * - `aopc-curves`: the mean MoRF / LeRF perturbation curves behind AOPC;
 * - `q-distribution`: SCAAT's q_i histogram per epoch (which regime the ratio search is in);
 * - `training-curves`: per-epoch loss, accuracy and the other logged numbers;
 * - `examples`: example images with each run's saliency maps per method (see example-grid.ts).
 */
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';
import { exampleGridSvg } from './example-grid.js';
import { METHOD_LABELS, methodLabel } from './run-results.js';
import type { RunResults } from './run-results.js';
import { orderRuns, uniqueLabels } from './table.js';

/** A figure ready to embed: inline SVG plus what it shows. */
export interface Figure {
  /** File-name-safe id ('entropy-distribution', …); the PNG is `figures/<id>.png`. */
  readonly id: string;
  readonly title: string;
  /** One or two sentences: what is plotted and how to read it. */
  readonly caption: string;
  /** A standalone SVG document (no external references). */
  readonly svg: string;
}

/** A figure's vega-lite spec before rendering. */
export interface FigureSpec {
  readonly id: string;
  readonly title: string;
  readonly caption: string;
  readonly spec: TopLevelSpec;
}

/** Colours of runs, in column order (Tableau 10, as vega's default category scheme). */
export const PALETTE = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];

const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

/** The shared vega-lite config of every figure (fonts, white background). */
export const CONFIG = {
  font: FONT,
  background: 'white',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
  header: { labelFontSize: 12, titleFontSize: 12 },
} as const;

/** Keys of an epoch record that are not curves (bookkeeping), by their last dotted part. */
const NOT_A_CURVE = new Set(['epoch', 'step', 'steps', 'seconds', 'time', 'timeSeconds', 'elapsed', 'timestamp', 'samples', 'count', 'samplesPerSecond', 'freshSaliency', 'std']);

/** Curves shown first, in this order (train/loop.ts and SCAAT's epoch summary keys); others follow. */
const CURVE_ORDER = ['train.loss', 'test.loss', 'loss', 'train.acc', 'test.acc', 'acc', 'trainer.advAcc', 'train.advAcc', 'trainer.q.mean', 'trainer.qAtMax', 'trainer.qAtMin', 'lr'];

/** The run labels and their colours, shared by every figure so a run keeps its colour. */
function runColors(results: RunResults): { domain: string[]; range: string[]; label: Map<string, string> } {
  const runs = orderRuns(results.runs);
  const domain = uniqueLabels(runs);
  const label = new Map(runs.map((r, i) => [r.id, domain[i]!] as const));
  return { domain, range: domain.map((_, i) => PALETTE[i % PALETTE.length]!), label };
}

/** The vega-lite specs of the data-driven figures the results have data for (pure). */
export function figureSpecs(results: RunResults): FigureSpec[] {
  const colors = runColors(results);
  const color = (title = 'run') => ({
    field: 'run',
    type: 'nominal' as const,
    title,
    scale: { domain: colors.domain, range: colors.range },
    sort: colors.domain,
  });
  const specs: FigureSpec[] = [];
  const methodOrder = [...Object.values(METHOD_LABELS)];

  // 1) Saliency-entropy distributions.
  const entropyRows: Record<string, unknown>[] = [];
  for (const r of results.runs) {
    for (const m of r.evaluation?.methods ?? []) {
      for (const v of m.perImage?.['entropy'] ?? []) {
        if (v !== null) entropyRows.push({ run: colors.label.get(r.id), method: methodLabel(m), entropy: v });
      }
    }
  }
  if (entropyRows.length > 0) {
    specs.push({
      id: 'entropy-distribution',
      title: 'Saliency entropy per image',
      caption:
        'Histogram of the per-image entropy (bits) of the 8-bit saliency map, per method; lower entropy = sparser, more concentrated maps.',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        config: CONFIG,
        data: { values: entropyRows },
        facet: { column: { field: 'method', type: 'nominal', title: null, sort: methodOrder } },
        spec: {
          width: 230,
          height: 160,
          mark: { type: 'bar', opacity: 0.55, binSpacing: 0 },
          encoding: {
            x: { field: 'entropy', type: 'quantitative', bin: { maxbins: 30 }, title: 'saliency entropy (bits) ↓' },
            y: { aggregate: 'count', type: 'quantitative', title: 'images', stack: null },
            color: color(),
          },
        },
      } as TopLevelSpec,
    });
  }

  // 2) Low-saliency robustness curves.
  const robRows: Record<string, unknown>[] = [];
  for (const r of results.runs) {
    for (const m of r.evaluation?.methods ?? []) {
      for (const c of m.robustness ?? []) {
        c.ratios.forEach((q, i) => {
          const acc = c.accuracy[i];
          if (acc !== null && acc !== undefined) robRows.push({ run: colors.label.get(r.id), method: methodLabel(m), kind: c.kind, q, accuracy: acc });
        });
      }
    }
  }
  if (robRows.length > 0) {
    specs.push({
      id: 'robustness',
      title: 'Low-saliency robustness',
      caption:
        "Accuracy when the fraction q of lowest-saliency pixels (by each method's map) is perturbed, by the masked attack (top) or by uniform noise (bottom). A model whose low-saliency pixels are truly irrelevant keeps its accuracy to large q.",
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        config: CONFIG,
        data: { values: robRows },
        facet: {
          column: { field: 'method', type: 'nominal', title: null, sort: methodOrder },
          row: { field: 'kind', type: 'nominal', title: null, sort: ['attack', 'noise'] },
        },
        spec: {
          width: 220,
          height: 140,
          mark: { type: 'line', point: { filled: true, size: 25 } },
          encoding: {
            x: { field: 'q', type: 'quantitative', title: 'q (share of pixels perturbed)' },
            y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
            color: color(),
          },
        },
      } as TopLevelSpec,
    });
  }

  // 2b) Mean AOPC curves (MoRF should fall fast, LeRF stay flat). An evaluation of several fills
  //     gives each fill its own rows of panels ('MoRF, black fill'); one fill, the rows MoRF and LeRF.
  const aopcRows: Record<string, unknown>[] = [];
  const fills = new Set<string>();
  const byFill = results.runs.some((r) => (r.evaluation?.methods ?? []).some((m) => (m.aopcMore?.length ?? 0) > 0));
  const orders: string[] = [];
  for (const r of results.runs) {
    for (const m of r.evaluation?.methods ?? []) {
      for (const c of m.aopc ? [m.aopc, ...(m.aopcMore ?? [])] : []) {
        fills.add(`${c.fill} fill, ${c.patchSize}×${c.patchSize} patches`);
        for (const [name, curve] of [['MoRF', c.morf], ['LeRF', c.lerf]] as const) {
          const order = byFill ? `${name}, ${c.fill} fill` : name;
          if (!orders.includes(order)) orders.push(order);
          curve.forEach((drop, k) => aopcRows.push({ run: colors.label.get(r.id), method: methodLabel(m), order, k, drop }));
        }
      }
    }
  }
  if (aopcRows.length > 0) {
    specs.push({
      id: 'aopc-curves',
      title: 'AOPC perturbation curves',
      caption:
        `Mean drop of the explained class's probability after replacing the k most relevant (MoRF, top: a faithful map drops fast) or least relevant (LeRF, bottom: a faithful map stays flat) patches (${[...fills].join('; ')}). AOPC_morf and AOPC_lerf are the means of these curves.`,
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        config: CONFIG,
        data: { values: aopcRows },
        facet: {
          column: { field: 'method', type: 'nominal', title: null, sort: methodOrder },
          row: { field: 'order', type: 'nominal', title: null, sort: byFill ? orders : ['MoRF', 'LeRF'] },
        },
        spec: {
          width: 220,
          height: 130,
          mark: { type: 'line', point: { filled: true, size: 16 } },
          encoding: {
            x: { field: 'k', type: 'quantitative', title: 'patches replaced (k)' },
            y: { field: 'drop', type: 'quantitative', title: 'p(x⁰) − p(xᵏ)' },
            color: color(),
          },
        },
      } as TopLevelSpec,
    });
  }

  // 3) q_i distribution over epochs.
  const qRows: Record<string, unknown>[] = [];
  for (const r of results.runs) {
    for (const e of r.training?.q ?? []) {
      const total = e.histogram.counts.reduce((a, b) => a + b, 0) || 1;
      const mean = e.mean ?? histogramMean(e.histogram.edges, e.histogram.counts);
      e.histogram.counts.forEach((c, i) => {
        qRows.push({
          run: colors.label.get(r.id),
          epoch: e.epoch + 1,
          q0: e.histogram.edges[i],
          q1: e.histogram.edges[i + 1],
          fraction: c / total,
          mean,
        });
      });
    }
  }
  if (qRows.length > 0) {
    // Zoom to the occupied bins (to 0.1): early in training q_i moves by γ per visit only.
    const occupied = qRows.filter((row) => (row['fraction'] as number) > 0);
    const qLo = Math.max(0, Math.floor(Math.min(...occupied.map((row) => row['q0'] as number)) * 10 - 1e-9) / 10);
    const qHi = Math.min(1, Math.ceil(Math.max(...occupied.map((row) => row['q1'] as number)) * 10 - 1e-9) / 10);
    const shown = qRows.filter((row) => (row['q1'] as number) > qLo && (row['q0'] as number) < qHi);
    qRows.length = 0;
    qRows.push(...shown);
    specs.push({
      id: 'q-distribution',
      title: 'SCAAT irrelevant-pixel ratio q_i over epochs',
      caption:
        'Share of training samples per q_i bin at the end of each epoch (colour; the axis is zoomed to the occupied range), with the mean (white line). q_i climbing steadily to q_max means the masked attack rarely succeeds (ε too small: SCAAT drifts toward whole-image adversarial training); a spread distribution means the search adapts per sample.',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        config: CONFIG,
        data: { values: qRows },
        facet: { column: { field: 'run', type: 'nominal', title: null } },
        spec: {
          width: 260,
          height: 170,
          layer: [
            {
              mark: { type: 'rect' },
              encoding: {
                x: { field: 'epoch', type: 'ordinal', title: 'epoch' },
                y: { field: 'q0', type: 'quantitative', title: 'q_i', scale: { domain: [qLo, qHi], nice: false } },
                y2: { field: 'q1' },
                color: { field: 'fraction', type: 'quantitative', title: 'share', scale: { scheme: 'viridis' }, legend: { format: '.0%' } },
              },
            },
            {
              mark: { type: 'line', color: 'white', strokeWidth: 2, point: { color: 'white', size: 20 } },
              encoding: {
                x: { field: 'epoch', type: 'ordinal' },
                y: { field: 'mean', type: 'quantitative', aggregate: 'mean' },
              },
            },
          ],
        },
      } as TopLevelSpec,
    });
  }

  // 4) Training curves: every finite number an epoch record carries.
  const curveRows: Record<string, unknown>[] = [];
  for (const r of results.runs) {
    for (const e of r.training?.epochs ?? []) {
      for (const [k, v] of Object.entries(e)) {
        if (NOT_A_CURVE.has(k.slice(k.lastIndexOf('.') + 1)) || typeof v !== 'number' || !Number.isFinite(v)) continue;
        curveRows.push({ run: colors.label.get(r.id), epoch: e.epoch + 1, measure: k, value: v });
      }
    }
  }
  if (curveRows.length > 0) {
    // Drop flat series (e.g. a constant learning rate: nothing to see) and a trainer summary
    // that repeats a training mean ('trainer.acc' = 'train.acc').
    const series = new Map<string, Map<string, number>>();
    for (const row of curveRows) {
      const m = row['measure'] as string;
      if (!series.has(m)) series.set(m, new Map());
      series.get(m)!.set(`${String(row['run'])}@${String(row['epoch'])}`, row['value'] as number);
    }
    // Every point of `a` is in `b` with the same value (to float summation order).
    const covered = (a: Map<string, number>, b: Map<string, number>) =>
      [...a].every(([k, v]) => b.has(k) && Math.abs(b.get(k)! - v) <= 1e-6 * Math.max(1, Math.abs(v)));
    const drop = new Set<string>();
    for (const [m, values] of series) {
      if (new Set(values.values()).size <= 1) drop.add(m);
      const twin = m.startsWith('trainer.') ? series.get(`train.${m.slice('trainer.'.length)}`) : undefined;
      if (twin && covered(values, twin)) drop.add(m);
    }
    const kept = curveRows.filter((row) => !drop.has(row['measure'] as string));
    curveRows.length = 0;
    curveRows.push(...kept);
  }
  if (curveRows.length > 0) {
    const present = new Set(curveRows.map((row) => row['measure'] as string));
    const measures = [...CURVE_ORDER.filter((m) => present.has(m)), ...[...present].filter((m) => !CURVE_ORDER.includes(m))];
    specs.push({
      id: 'training-curves',
      title: 'Training curves',
      caption: 'Per-epoch averages logged by the training loop: loss and accuracy on the training batches (train.*) and the test split (test.*), and trainer-specific numbers (e.g. SCAAT\'s adversarial accuracy inside the mask and mean q_i). Series that stay constant (such as a constant learning rate) are left out.',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        config: CONFIG,
        data: { values: curveRows },
        facet: { field: 'measure', type: 'nominal', title: null, sort: measures },
        columns: 4,
        resolve: { scale: { y: 'independent' } },
        spec: {
          width: 180,
          height: 130,
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
            y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
            color: color(),
          },
        },
      } as TopLevelSpec,
    });
  }
  return specs;
}

/** Why each data-driven figure is absent (empty when all are present). */
export function missingFigures(results: RunResults): string[] {
  const have = new Set(figureSpecs(results).map((f) => f.id));
  const why: Record<string, string> = {
    'entropy-distribution': 'Saliency-entropy distributions: no run has per-image entropies (evaluation.methods[].perImage.entropy).',
    robustness: 'Low-saliency robustness curves: no run has them (evaluation.methods[].robustness).',
    'aopc-curves': 'AOPC curves: no run has them (evaluation.methods[].aopc).',
    'q-distribution': 'q_i distribution: no run logged it (training.q; SCAAT runs only).',
    'training-curves': 'Training curves: no run has a training log (training.epochs).',
  };
  const out = Object.entries(why).filter(([id]) => !have.has(id)).map(([, text]) => text);
  if (!results.runs.some((r) => (r.examples?.length ?? 0) > 0)) out.push('Example saliency maps: no run has examples.');
  return out;
}

/** Renders one vega-lite spec to a standalone SVG string (vega's headless SVG renderer). */
export async function renderSpecSvg(spec: TopLevelSpec): Promise<string> {
  const vg = compile(spec).spec;
  const view = new vega.View(vega.parse(vg), { renderer: 'none', logLevel: vega.Warn });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Every figure the results have data for, rendered to SVG (data figures, then the example grid). */
export async function renderFigures(results: RunResults): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const f of figureSpecs(results)) {
    figures.push({ id: f.id, title: f.title, caption: f.caption, svg: await renderSpecSvg(f.spec) });
  }
  const grid = exampleGridSvg(results);
  if (grid) figures.push(grid);
  return figures;
}

/** Rasterises an SVG (with embedded data-URI images) to PNG at `zoom`× (resvg; system fonts). */
export function svgToPng(svg: string, zoom = 2): Uint8Array {
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: zoom },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return new Uint8Array(r.render().asPng());
}

function histogramMean(edges: readonly number[], counts: readonly number[]): number {
  let s = 0;
  let n = 0;
  counts.forEach((c, i) => {
    s += c * (edges[i]! + edges[i + 1]!) / 2;
    n += c;
  });
  return n > 0 ? s / n : Number.NaN;
}

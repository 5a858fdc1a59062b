/**
 * The example grid: for a few evaluation images, the image and each run's saliency map per method,
 * as one SVG with embedded PNGs (so the same figure is inlined in the HTML and rasterised to PNG).
 *
 *   rows: example images (aligned across runs by their index in the evaluation split)
 *   columns: the image, then per run (regular, SCAAT, baselines) one map per method (VG, SG, IG)
 */
import { escapeHtml } from './_html.js';
import { colorbar, encodePng, heatmapPng, imagePng, pngDataUri } from './heatmap.js';
import { METHOD_LABELS, METHOD_SHORT } from './run-results.js';
import type { Example, RunResults } from './run-results.js';
import { orderRuns, uniqueLabels } from './table.js';
import type { Figure } from './figures.js';

/** Options of {@link exampleGridSvg}. */
export interface ExampleGridOptions {
  /** At most this many example rows. @default 8 */
  readonly maxExamples?: number;
  /** Target cell size in px (the image is enlarged by the nearest integer factor). @default 64 */
  readonly cell?: number;
}

const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

/** The example grid figure, or undefined when no run has examples. */
export function exampleGridSvg(results: RunResults, { maxExamples = 8, cell = 64 }: ExampleGridOptions = {}): Figure | undefined {
  const runs = orderRuns(results.runs).filter((r) => (r.examples?.length ?? 0) > 0);
  if (runs.length === 0) return undefined;
  const labels = uniqueLabels(runs);

  // Example indices in the first run's order, then any others; methods known-first.
  const indices: number[] = [];
  const byRun = runs.map((r) => new Map<number, Example>((r.examples ?? []).map((e) => [e.index, e])));
  for (const m of byRun) for (const i of m.keys()) if (!indices.includes(i)) indices.push(i);
  const rows = indices.slice(0, maxExamples);
  const known = Object.keys(METHOD_LABELS);
  const methods: string[] = [];
  for (const r of runs) for (const e of r.examples ?? []) for (const k of Object.keys(e.maps)) if (!methods.includes(k)) methods.push(k);
  methods.sort((a, b) => rank(known, a) - rank(known, b));

  const first = byRun.flatMap((m) => [...m.values()])[0]!;
  const scale = Math.max(1, Math.round(cell / first.image.width));
  const S = Math.min(first.image.width * scale, 128);
  const gap = 4;
  const groupGap = 14;
  const left = 8;
  const labelW = 70;
  const top = 44;
  const rowH = S + 16;
  const groupW = methods.length * (S + gap) - gap;
  const x0 = left + labelW + S + groupGap;
  const width = x0 + runs.length * (groupW + groupGap) + left;
  const barH = 40;
  const height = top + rows.length * rowH + barH;

  const parts: string[] = [];
  const text = (x: number, y: number, s: string, attrs = '', size = 11) =>
    parts.push(`<text x="${x}" y="${y}" font-family="${FONT}" font-size="${size}" ${attrs}>${escapeHtml(s)}</text>`);
  const image = (x: number, y: number, png: Uint8Array, title: string) =>
    parts.push(`<image x="${x}" y="${y}" width="${S}" height="${S}" href="${pngDataUri(png)}" image-rendering="optimizeSpeed"><title>${escapeHtml(title)}</title></image>`);

  // Headers: run labels over their method groups, method short names below.
  text(left + labelW + S / 2, top - 8, 'image', 'text-anchor="middle" fill="#444"');
  runs.forEach((_, j) => {
    const gx = x0 + j * (groupW + groupGap);
    text(gx + groupW / 2, 14, labels[j]!, 'text-anchor="middle" font-weight="bold"');
    parts.push(`<line x1="${gx}" y1="20" x2="${gx + groupW}" y2="20" stroke="#888" stroke-width="1"/>`);
    methods.forEach((m, k) => text(gx + k * (S + gap) + S / 2, top - 8, METHOD_SHORT[m] ?? m, 'text-anchor="middle" fill="#444"'));
  });

  rows.forEach((index, i) => {
    const y = top + i * rowH;
    const ex = byRun.map((m) => m.get(index)).find((e) => e !== undefined)!;
    const cls = ex.className ?? (ex.label !== undefined ? String(ex.label) : '');
    text(left, y + S / 2 - 2, `#${index}`, 'fill="#444"');
    if (cls) text(left, y + S / 2 + 12, `class ${cls}`, 'fill="#444"');
    image(left + labelW, y, imagePng(ex.image, { scale }), `image #${index}${cls ? ` (class ${cls})` : ''}`);
    runs.forEach((_run, j) => {
      const gx = x0 + j * (groupW + groupGap);
      const e = byRun[j]!.get(index);
      methods.forEach((m, k) => {
        const x = gx + k * (S + gap);
        const map = e?.maps[m];
        if (map) image(x, y, heatmapPng(map, { scale }), `${labels[j]} · ${METHOD_LABELS[m] ?? m} · #${index}`);
        else parts.push(`<rect x="${x}" y="${y}" width="${S}" height="${S}" fill="#eee"/>`);
      });
      if (e?.predicted !== undefined) {
        text(gx + groupW, y + S + 11, `predicted ${e.predicted}${e.label !== undefined && e.predicted !== e.label ? ' ✗' : ''}`, 'text-anchor="end" fill="#666"', 9);
      }
    });
  });

  // Colour bar.
  const by = top + rows.length * rowH + 10;
  const barW = 160;
  parts.push(`<image x="${x0}" y="${by}" width="${barW}" height="10" href="${pngDataUri(encodePng(colorbar(barW, 1), barW, 1, 3))}" preserveAspectRatio="none"/>`);
  text(x0 - 6, by + 9, 'least salient', 'text-anchor="end" fill="#444"');
  text(x0 + barW + 6, by + 9, 'most salient (99th percentile)', 'fill="#444"');

  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect width="${width}" height="${height}" fill="white"/>${parts.join('')}</svg>`;
  return {
    id: 'examples',
    title: 'Example saliency maps',
    caption:
      `Saliency maps (Σ over channels of |attribution|, scaled so the 99th percentile is the brightest) of the same evaluation images for each run and method (${methods
        .map((m) => `${METHOD_SHORT[m] ?? m} = ${METHOD_LABELS[m] ?? m}`)
        .join(', ')}). Sparser, object-shaped maps are better.`,
    svg,
  };
}

function rank(list: readonly string[], key: string): number {
  const i = list.indexOf(key);
  return i < 0 ? list.length : i;
}

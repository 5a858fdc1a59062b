import { describe, expect, it } from 'vitest';
import { threeRunsJson } from '../../test/fixtures/index.js';
import { exampleGridSvg } from './example-grid.js';
import { figureSpecs, missingFigures, renderFigures, svgToPng } from './figures.js';
import { decodePng } from './heatmap.js';
import { parseResults } from './run-results.js';
import type { RunResults } from './run-results.js';

const results = () => parseResults(threeRunsJson());

describe('figureSpecs', () => {
  it('has one figure per kind of data in the fixture', () => {
    expect(figureSpecs(results()).map((f) => f.id)).toEqual(['entropy-distribution', 'robustness', 'aopc-curves', 'q-distribution', 'training-curves']);
    expect(missingFigures(results())).toEqual([]);
  });

  it('puts every per-image entropy, curve point and q bin in the data', () => {
    const r = results();
    const specs = Object.fromEntries(figureSpecs(r).map((f) => [f.id, f.spec as unknown as { data: { values: Record<string, unknown>[] } }]));
    // 3 runs × 3 methods × 60 images.
    expect(specs['entropy-distribution']!.data.values).toHaveLength(3 * 3 * 60);
    // 3 runs × 3 methods × 2 kinds × 10 ratios.
    expect(specs['robustness']!.data.values).toHaveLength(3 * 3 * 2 * 10);
    // SCAAT only: 4 epochs × 10 bins; shares per epoch sum to 1.
    const q = specs['q-distribution']!.data.values;
    expect(q).toHaveLength(40);
    const epoch1 = q.filter((row) => row['epoch'] === 1).reduce((s, row) => s + (row['fraction'] as number), 0);
    expect(epoch1).toBeCloseTo(1, 12);
    expect(new Set(q.map((row) => row['run']))).toEqual(new Set(['SCAAT']));
  });

  it('draws the AOPC curves of each fill in its own rows when an evaluation has several fills', () => {
    type Spec = { data: { values: Array<Record<string, unknown>> }; facet: { row: { sort: string[] } } };
    const aopcSpec = (r: RunResults) => figureSpecs(r).find((f) => f.id === 'aopc-curves')! as unknown as { spec: Spec; caption: string };
    const one = aopcSpec(results());
    expect(one.spec.facet.row.sort).toEqual(['MoRF', 'LeRF']);
    const r = results();
    const two: RunResults = {
      ...r,
      runs: r.runs.map((run) => ({
        ...run,
        evaluation: { ...run.evaluation!, methods: run.evaluation!.methods.map((m) => ({ ...m, aopcMore: [{ ...m.aopc!, fill: 'black', morf: m.aopc!.morf.map((v) => v / 2) }] })) },
      })),
    };
    const both = aopcSpec(two);
    expect(both.spec.facet.row.sort).toEqual(['MoRF, uniform fill', 'LeRF, uniform fill', 'MoRF, black fill', 'LeRF, black fill']);
    const rows = both.spec.data.values;
    expect(rows).toHaveLength(2 * one.spec.data.values.length);
    expect(rows.filter((x) => x['order'] === 'MoRF, uniform fill').map((x) => x['drop'])).toEqual(one.spec.data.values.filter((x) => x['order'] === 'MoRF').map((x) => x['drop']));
    expect(rows.filter((x) => x['order'] === 'MoRF, black fill').map((x) => x['drop'])).toEqual(one.spec.data.values.filter((x) => x['order'] === 'MoRF').map((x) => (x['drop'] as number) / 2));
    expect(both.caption).toContain('black fill, ');
  });

  it('omits a figure without data and says why', () => {
    const r = results();
    const noQ: RunResults = { ...r, runs: r.runs.map((run) => ({ ...run, training: { epochs: run.training!.epochs } })) };
    expect(figureSpecs(noQ).map((f) => f.id)).not.toContain('q-distribution');
    expect(missingFigures(noQ)).toEqual(['q_i distribution: no run logged it (training.q; SCAAT runs only).']);
  });
});

describe('rendering', () => {
  it('renders every figure to a standalone SVG and a PNG of twice its size', async () => {
    const figures = await renderFigures(results());
    expect(figures.map((f) => f.id)).toEqual(['entropy-distribution', 'robustness', 'aopc-curves', 'q-distribution', 'training-curves', 'examples']);
    for (const f of figures) {
      expect(f.svg.startsWith('<svg'), f.id).toBe(true);
      expect(f.svg, f.id).not.toMatch(/(href|src)="(https?:)?\/\//);
      const w = Number(/width="(\d+(?:\.\d+)?)"/.exec(f.svg)![1]);
      const h = Number(/height="(\d+(?:\.\d+)?)"/.exec(f.svg)![1]);
      const png = decodePng(svgToPng(f.svg, 2));
      expect([png.width, png.height], f.id).toEqual([Math.round(2 * w), Math.round(2 * h)]);
      // Not blank: a real figure has many non-white pixels.
      let ink = 0;
      for (let i = 0; i < png.rgba.length; i += 4) if (png.rgba[i]! < 200 || png.rgba[i + 1]! < 200 || png.rgba[i + 2]! < 200) ink++;
      expect(ink / (png.width * png.height), f.id).toBeGreaterThan(0.01);
    }
  });

  it('lays out the example grid as examples × (image + runs × methods)', () => {
    const grid = exampleGridSvg(results())!;
    // 4 examples × (1 image + 3 runs × 3 methods) + the colour bar.
    expect((grid.svg.match(/<image /g) ?? []).length).toBe(4 * (1 + 3 * 3) + 1);
    expect(grid.svg.indexOf('>Regular<')).toBeLessThan(grid.svg.indexOf('>SCAAT<'));
    expect(exampleGridSvg({ ...results(), runs: results().runs.map(({ examples: _e, ...r }) => r) })).toBeUndefined();
  });
});

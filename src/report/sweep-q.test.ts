import { describe, expect, it } from 'vitest';
import type { QEpoch, RunResult } from './run-results.js';
import { formatSweepQMarkdown, histogramSpread, renderSweepQFigures, sweepQRows, sweepQSpecs } from './sweep-q.js';
import { buildSweepTable } from './sweep-table.js';
import type { SweepTableCell } from './sweep-table.js';

/** q_i histograms over [0.5, 0.55, 0.6]: one epoch per pair of counts. */
const qLog = (...counts: Array<[number, number]>): QEpoch[] => counts.map((c, epoch) => ({ epoch, histogram: { edges: [0.5, 0.55, 0.6], counts: c } }));
const cell = (params: Record<string, string>, run?: { q?: QEpoch[] }): SweepTableCell => {
  const name = Object.entries(params).map(([k, v]) => `${k}=${v}`).join('__');
  const r: RunResult | undefined = run && {
    id: name, trainer: params['trainer']!, label: name, config: {}, seed: Number(params['seed']),
    ...(run.q ? { training: { epochs: [], q: run.q } } : {}),
    evaluation: { cleanAccuracy: 0.9, methods: [] },
  };
  return { name, params, ...(r ? { run: r } : {}) };
};

// MNIST: SCAAT at ε 0.3 (seed 0 evaluated without a q_i log, seed 1 with one, seed 2 not evaluated),
// SCAAT at ε 0.1 (seed 0), regular, and a PGD-AT cell with a q_i log (not SCAAT: no figure);
// CIFAR: one SCAAT cell.
const cells: SweepTableCell[] = [
  cell({ data: 'mnist', trainer: 'regular', seed: '0' }, {}),
  cell({ data: 'mnist', trainer: 'scaat', epsilon: '0.3', seed: '0' }, {}),
  cell({ data: 'mnist', trainer: 'scaat', epsilon: '0.3', seed: '1' }, { q: qLog([1, 3], [0, 4]) }),
  cell({ data: 'mnist', trainer: 'scaat', epsilon: '0.3', seed: '2' }),
  cell({ data: 'mnist', trainer: 'scaat', epsilon: '0.1', seed: '0' }, { q: qLog([2, 2]) }),
  cell({ data: 'mnist', trainer: 'pgd-at', epsilon: '0.3', seed: '0' }, { q: qLog([2, 2]) }),
  cell({ data: 'cifar', trainer: 'scaat', seed: '0' }, { q: qLog([4, 0], [3, 1]) }),
];
const sweep = { cells, seedAxis: 'seed', partitionAxis: 'data' };
const table = buildSweepTable(sweep);

describe('sweepQSpecs', () => {
  const specs = sweepQSpecs(sweep, table);

  it('has one q_i figure per group of SCAAT cells with a q_i log', () => {
    expect(specs.map((s) => s.id)).toEqual(['q-distribution-mnist-trainer_scaat_epsilon_0.3', 'q-distribution-mnist-trainer_scaat_epsilon_0.1', 'q-distribution-cifar-trainer_scaat']);
    expect(specs[0]!.title).toBe("data = mnist: SCAAT's q_i over epochs, trainer=scaat epsilon=0.3");
  });

  it("shows the group's first seed with a q_i log, and says which", () => {
    const rows = (specs[0]!.spec as unknown as { data: { values: Array<{ run: string; epoch: number; q0: number; fraction: number }> } }).data.values;
    // Seed 1's histograms: [1, 3] of 4 samples, then [0, 4] (seed 0 has no log, seed 2 no evaluation).
    expect(rows.map((r) => [r.run, r.epoch, r.q0, r.fraction])).toEqual([
      ['data=mnist__trainer=scaat__epsilon=0.3__seed=1', 1, 0.5, 0.25], ['data=mnist__trainer=scaat__epsilon=0.3__seed=1', 1, 0.55, 0.75],
      ['data=mnist__trainer=scaat__epsilon=0.3__seed=1', 2, 0.5, 0], ['data=mnist__trainer=scaat__epsilon=0.3__seed=1', 2, 0.55, 1],
    ]);
    expect(specs[0]!.caption).toContain('its first seed with a q_i log (seed 1, cell data=mnist__trainer=scaat__epsilon=0.3__seed=1); 1 other evaluated cell of the group is not shown.');
    expect(specs[1]!.caption).toContain('(seed 0, cell data=mnist__trainer=scaat__epsilon=0.1__seed=0); the group has no other evaluated cell.');
  });

  it('is empty for a sweep without SCAAT cells', () => {
    const regular = { ...sweep, cells: cells.filter((c) => c.params['trainer'] !== 'scaat') };
    expect(sweepQSpecs(regular, buildSweepTable(regular))).toEqual([]);
  });
});

describe('renderSweepQFigures', () => {
  it('renders each to an SVG', async () => {
    const figures = await renderSweepQFigures(sweep, table);
    expect(figures.map((f) => f.id)).toEqual(sweepQSpecs(sweep, table).map((s) => s.id));
    for (const f of figures) expect(f.svg).toMatch(/^<svg[^>]*>.*<rect/s);
  });
});

describe('histogramSpread', () => {
  it("is the largest bin's share and the bins with at least 5 % of the samples", () => {
    expect(histogramSpread({ edges: [0, 0.5, 1], counts: [0, 40] })).toEqual({ topBinShare: 1, bars: 1 });
    // 100 samples: 60, 30, 5 (exactly 5 %: a bar), 4, 1
    expect(histogramSpread({ edges: [0, 0.2, 0.4, 0.6, 0.8, 1], counts: [60, 30, 5, 4, 1] })).toEqual({ topBinShare: 0.6, bars: 3 });
    expect(histogramSpread({ edges: [0, 1], counts: [0] }).bars).toBe(0);
  });
});

describe('sweepQRows', () => {
  it("takes each SCAAT group's final epoch, per seed, mean ± std over the seeds with a log", () => {
    const q = (counts: [number, number], mean: number, median: number): QEpoch => ({ epoch: 2, histogram: { edges: [0.5, 0.55, 0.6], counts }, mean, median });
    const two: SweepTableCell[] = [
      // seed 0: [1, 3] → share 0.75, 2 bars; seed 1: [0, 4] → 1, 1 bar (its first epoch is not the final one)
      cell({ trainer: 'scaat', seed: '0' }, { q: [{ epoch: 0, histogram: { edges: [0.5, 0.55, 0.6], counts: [4, 0] } }, q([1, 3], 0.55, 0.56)] }),
      cell({ trainer: 'scaat', seed: '1' }, { q: [q([0, 4], 0.57, 0.58)] }),
      cell({ trainer: 'regular', seed: '0' }, {}),
    ];
    const s = { cells: two, seedAxis: 'seed', partitionAxis: 'data' };
    const rows = sweepQRows(s, buildSweepTable(s));
    expect(rows).toHaveLength(1);
    const r = rows[0]!;
    expect(r.group).toBe('trainer=scaat');
    expect(r.binWidth).toBeCloseTo(0.05, 12);
    expect(r.topBinShare.n).toBe(2);
    expect(r.topBinShare.mean).toBeCloseTo(0.875, 12);
    expect(r.topBinShare.std).toBeCloseTo(Math.SQRT1_2 * 0.25, 12); // sample std of {0.75, 1}
    expect(r.bars.mean).toBe(1.5);
    expect(r.mean.mean).toBeCloseTo(0.56, 12);
    expect(r.median.mean).toBeCloseTo(0.57, 12);
    const md = formatSweepQMarkdown(rows);
    expect(md).toContain('| trainer=scaat | 2 | 0.560 ± 0.0141 | 0.570 ± 0.0141 | 87.5 ± 17.7 % | 1.50 ± 0.707 |');
    expect(md).toContain('bins 0.05 wide');
  });

  it('has a row per partition and group with a q_i log, none for a sweep without one', () => {
    expect(sweepQRows(sweep, table).map((r) => `${r.partition}: ${r.group}`)).toEqual([
      'data = mnist: trainer=scaat epsilon=0.3', 'data = mnist: trainer=scaat epsilon=0.1', 'data = cifar: trainer=scaat',
    ]);
    const regular = { ...sweep, cells: cells.filter((c) => c.params['trainer'] !== 'scaat') };
    expect(formatSweepQMarkdown(sweepQRows(regular, buildSweepTable(regular)))).toBe('');
  });
});

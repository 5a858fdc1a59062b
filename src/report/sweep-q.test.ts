import { describe, expect, it } from 'vitest';
import type { QEpoch, RunResult } from './run-results.js';
import { renderSweepQFigures, sweepQSpecs } from './sweep-q.js';
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

import { describe, expect, it } from 'vitest';
import { decodePng } from './heatmap.js';
import { svgToPng } from './figures.js';
import type { RunResult } from './run-results.js';
import { UNDOMINATED_NOTE, formatFrontsMarkdown, formatFrontsText, renderSweepFigures, sweepFrontSpecs, undominated } from './sweep-front.js';
import type { FrontRow } from './sweep-front.js';
import { buildSweepTable, seedStat } from './sweep-table.js';
import type { SweepTableCell } from './sweep-table.js';

/** A run with clean accuracy, and per method entropy and AOPC_rel (null: undefined). */
function run(name: string, trainer: string, acc: number, vg: [number, number | null], sg: [number, number | null]): RunResult {
  const metrics = ([entropy, rel]: [number, number | null]) => [{ name: 'entropy', value: entropy }, { name: 'aopc-rel', value: rel }];
  return {
    id: name, trainer, config: {}, seed: 0,
    evaluation: { cleanAccuracy: acc, methods: [{ method: 'vanilla-gradient', metrics: metrics(vg) }, { method: 'smooth-grad', metrics: metrics(sg) }] },
  };
}
const cell = (params: Record<string, string>, acc: number, vg: [number, number | null], sg: [number, number | null]): SweepTableCell => {
  const name = Object.entries(params).map(([k, v]) => `${k}=${v.replace('/', '_')}`).join('__');
  return { name, params, run: run(name, params['trainer']!, acc, vg, sg) };
};

// MNIST: regular (2 seeds), SCAAT at ε 0.3 and 8/255 (written in that order; 2 seeds each), PGD-AT
// at 0.1 and 8/255 (one seed; AOPC_rel undefined at 0.1 for VG), SGT (1 seed). The ε axis is
// `*.epsilon` (parameter `epsilon`). CIFAR: SCAAT through `scaat.epsilon`, two attacks.
const cells: SweepTableCell[] = [
  cell({ data: 'mnist', trainer: 'regular', seed: '0' }, 0.99, [6.0, 4], [5.0, 8]),
  cell({ data: 'mnist', trainer: 'regular', seed: '1' }, 0.97, [6.4, 6], [5.2, 10]),
  cell({ data: 'mnist', trainer: 'scaat', epsilon: '0.3', seed: '0' }, 0.95, [3.0, 100], [2.0, 50]),
  cell({ data: 'mnist', trainer: 'scaat', epsilon: '0.3', seed: '1' }, 0.93, [3.2, 140], [2.2, 70]),
  cell({ data: 'mnist', trainer: 'scaat', epsilon: '8/255', seed: '0' }, 0.985, [4.0, 20], [3.0, 15]),
  cell({ data: 'mnist', trainer: 'scaat', epsilon: '8/255', seed: '1' }, 0.975, [4.2, 30], [3.4, 25]),
  cell({ data: 'mnist', trainer: 'pgd-at', epsilon: '0.1', seed: '0' }, 0.96, [5.0, null], [4.0, 12]),
  cell({ data: 'mnist', trainer: 'pgd-at', epsilon: '8/255', seed: '0' }, 0.98, [5.5, 9], [4.5, 11]),
  cell({ data: 'mnist', trainer: 'sgt', seed: '0' }, 0.99, [5.8, 5], [4.8, 7]),
  cell({ data: 'cifar', trainer: 'scaat', 'scaat.epsilon': '16/255', attack: 'pgd', seed: '0' }, 0.7, [5, 3], [4, 2]),
  cell({ data: 'cifar', trainer: 'scaat', 'scaat.epsilon': '4/255', attack: 'pgd', seed: '0' }, 0.8, [6, 2], [5, 1]),
  cell({ data: 'cifar', trainer: 'scaat', 'scaat.epsilon': '4/255', attack: 'fgsm-rs', seed: '0' }, 0.82, [6.5, 1.5], [5.5, 1.2]),
];
const sweep = { cells, seedAxis: 'seed', partitionAxis: 'data' };
const table = buildSweepTable(sweep);
const rowsOf = (id: string) => (sweepFrontSpecs(sweep, table).find((f) => f.id === id)!.spec as unknown as { data: { values: FrontRow[] } }).data.values;

describe('sweepFrontSpecs', () => {
  it('has an AOPC_rel and an entropy front per partition', () => {
    expect(sweepFrontSpecs(sweep, table).map((f) => f.id)).toEqual(['front-aopc-rel-mnist', 'front-entropy-mnist', 'front-aopc-rel-cifar', 'front-entropy-cifar']);
  });

  it("plots each group's mean ± std over seeds, the numbers of the table", () => {
    const rows = rowsOf('front-entropy-mnist');
    const scaat03 = rows.find((r) => r.method === 'Vanilla Gradient' && r.trainer === 'SCAAT' && r.along === '0.3')!;
    const acc = seedStat([0.95, 0.93]);
    const ent = seedStat([3.0, 3.2]);
    expect(scaat03).toMatchObject({ accuracy: acc.mean, accuracyStd: acc.std, value: ent.mean, valueStd: ent.std, n: 2, variant: '', group: 'trainer=scaat epsilon=0.3' });
    expect(scaat03.valueLo).toBeCloseTo(3.1 - Math.SQRT2 * 0.1, 12);
    expect(scaat03.accuracyHi).toBeCloseTo(0.94 + Math.SQRT2 * 0.01, 12);
    // Every row equals the table's statistics of its group.
    const p = table.partitions[0]!;
    const col = (key: string) => table.columns.findIndex((c) => c.key === key);
    for (const r of rows) {
      const gi = p.groups.findIndex((g) => g.label === r.group);
      const key = r.method === 'Vanilla Gradient' ? 'vanilla-gradient/entropy' : 'smooth-grad/entropy';
      expect([r.accuracy, r.accuracyStd, r.value, r.valueStd, r.n]).toEqual([p.stats[gi]![col('clean-accuracy')]!.mean, p.stats[gi]![col('clean-accuracy')]!.std, p.stats[gi]![col(key)]!.mean, p.stats[gi]![col(key)]!.std, p.stats[gi]![col(key)]!.n]);
    }
    expect(rows).toHaveLength(2 * 6); // 2 methods × 6 groups
    // An accuracy bar stops at 100 % (and at 0): 0.99 and 0.50, std 0.35
    const wide = [cell({ data: 'x', trainer: 'sgt', seed: '0' }, 0.99, [5, 2], [5, 2]), cell({ data: 'x', trainer: 'sgt', seed: '1' }, 0.5, [5, 2], [5, 2])];
    const wideRow = (sweepFrontSpecs({ ...sweep, cells: wide }, buildSweepTable({ ...sweep, cells: wide })).find((f) => f.id.startsWith('front-entropy'))!.spec as unknown as { data: { values: FrontRow[] } }).data.values[0]!;
    expect(wideRow.accuracyStd! > 0.745 - 0.5).toBe(true);
    expect(wideRow.accuracyHi).toBe(1);
    expect(wideRow.accuracyLo).toBeCloseTo(0.745 - wideRow.accuracyStd!, 12);
    // One seed: no spread, no bar.
    expect(rows.find((r) => r.trainer === 'Saliency guided')!.valueStd).toBeNull();
  });

  it('orders the points of each trainer by ε, read as numbers and fractions', () => {
    const order = (rows: readonly FrontRow[], trainer: string, method = 'Vanilla Gradient') =>
      rows.filter((r) => r.trainer === trainer && r.method === method).sort((a, b) => a.order - b.order).map((r) => r.along);
    const mnist = rowsOf('front-entropy-mnist');
    expect(order(mnist, 'SCAAT')).toEqual(['8/255', '0.3']); // 0.031 < 0.3, although the grid lists 0.3 first
    expect(order(mnist, 'PGD-AT')).toEqual(['8/255', '0.1']);
    expect(order(mnist, 'Regular')).toEqual(['']);
    // `scaat.epsilon` is the ε too; another parameter (attack) makes another line.
    const cifar = rowsOf('front-aopc-rel-cifar');
    expect(cifar.filter((r) => r.method === 'Vanilla Gradient').map((r) => [r.variant, r.along, r.order])).toEqual([
      ['attack=pgd', '16/255', 1], ['attack=pgd', '4/255', 0], ['attack=fgsm-rs', '4/255', 0],
    ]);
  });

  it('a partition without ε joins each trainer\'s points by training length (an epochs axis), labelled in epochs', () => {
    const c = [
      cell({ trainer: 'regular', epochs: '16', seed: '0' }, 0.75, [7, 2], [7, 3]),
      cell({ trainer: 'regular', epochs: '2', seed: '0' }, 0.6, [7.2, 1.5], [7.1, 2]),
      cell({ trainer: 'scaat', epochs: '4', seed: '0' }, 0.66, [6.8, 6], [6.5, 9]),
      cell({ trainer: 'scaat', epochs: '16', seed: '0' }, 0.7, [6.2, 20], [6.1, 30]),
      cell({ trainer: 'scaat', epochs: '2', seed: '0' }, 0.58, [7, 3], [6.9, 4]),
    ];
    const s = { cells: c, seedAxis: 'seed', partitionAxis: 'data' };
    const f = sweepFrontSpecs(s, buildSweepTable(s));
    const rows = (f[0]!.spec as unknown as { data: { values: FrontRow[] } }).data.values.filter((r) => r.method === 'Vanilla Gradient');
    const line = (trainer: string) => rows.filter((r) => r.trainer === trainer).sort((a, b) => a.order - b.order).map((r) => [r.along, r.variant, r.value]);
    expect(line('SCAAT')).toEqual([['2 ep', '', 3], ['4 ep', '', 6], ['16 ep', '', 20]]); // 2 < 4 < 16 as numbers, not as text
    expect(line('Regular')).toEqual([['2 ep', '', 1.5], ['16 ep', '', 2]]);
    expect(f[0]!.caption).toContain('joined in order of its training length (labelled in epochs)');
    // with an ε in the partition, ε is the line's axis and the length another setting
    const mixed = [...c, cell({ trainer: 'scaat', epsilon: '0.1', epochs: '2', seed: '0' }, 0.5, [6, 5], [6, 5])];
    const m = { cells: mixed, seedAxis: 'seed', partitionAxis: 'data' };
    const fm = sweepFrontSpecs(m, buildSweepTable(m));
    expect(fm[0]!.caption).toContain('in order of its ε (labelled)');
    expect((fm[0]!.spec as unknown as { data: { values: FrontRow[] } }).data.values.find((r) => r.along === '0.1')!.variant).toBe('epochs=2');
  });

  it('leaves out undefined AOPC_rel, counts it in the caption, and says which way is better', () => {
    const rows = rowsOf('front-aopc-rel-mnist');
    expect(rows.filter((r) => r.method === 'Vanilla Gradient')).toHaveLength(5);
    expect(rows.filter((r) => r.method === 'SmoothGrad')).toHaveLength(6);
    expect(rows.some((r) => r.trainer === 'PGD-AT' && r.along === '0.1' && r.method === 'Vanilla Gradient')).toBe(false);
    const f = sweepFrontSpecs(sweep, table);
    expect(f[0]!.caption).toContain('Left out: VG: 1 group with AOPC_rel undefined in every seed.');
    expect(f[0]!.caption).toContain('Better is right (higher clean accuracy, on the evaluated sample) and up');
    expect(f[1]!.caption).toContain('and down (lower entropy');
    expect(f[1]!.caption).not.toContain('Left out');
    expect((f[0]!.spec as unknown as { spec: { layer: Array<{ mark: { type: string }; encoding: { y?: { scale?: { type?: string } } } }> } }).spec.layer.find((l) => l.mark.type === 'line')!.encoding.y!.scale!.type).toBe('log');
  });

  it('draws an error bar reaching below 0 on the log scale to the lowest value shown, and leaves out means ≤ 0', () => {
    const c = [
      cell({ trainer: 'scaat', epsilon: '0.1', seed: '0' }, 0.9, [1, 1], [1, -1]),
      cell({ trainer: 'scaat', epsilon: '0.1', seed: '1' }, 0.9, [1, 9], [1, -2]),
      cell({ trainer: 'scaat', epsilon: '0.2', seed: '0' }, 0.9, [1, 2], [1, 2]),
    ];
    const s = { cells: c, seedAxis: 'seed', partitionAxis: 'data' };
    const f = sweepFrontSpecs(s, buildSweepTable(s));
    expect(f.map((x) => x.id)).toEqual(['front-aopc-rel', 'front-entropy']);
    const rows = (f[0]!.spec as unknown as { data: { values: FrontRow[] } }).data.values;
    expect(rows.map((r) => [r.method, r.along, r.value])).toEqual([['Vanilla Gradient', '0.1', 5], ['Vanilla Gradient', '0.2', 2], ['SmoothGrad', '0.2', 2]]);
    expect(rows[0]!.valueLo).toBe(2); // 5 − 5.66 < 0 → the lowest value shown
    expect(f[0]!.caption).toContain('SG: 1 group with a mean ≤ 0 (not on a log scale)');
  });
});

describe('undominated', () => {
  const pt = (accuracy: number, value: number) => ({ accuracy, value });
  it('keeps the points no other beats on both axes (one strictly), ties on both kept', () => {
    const a = pt(0.9, 10), b = pt(0.8, 20), c = pt(0.8, 10), d = pt(0.9, 10), e = pt(0.95, 1);
    // c: a has more accuracy at the same value; a and d tie on both: neither dominates the other
    expect(undominated([a, b, c, d, e], true)).toEqual([a, b, d, e]);
    // lower is better: c (0.8, 10) is beaten by a (0.9, 10); e (0.95, 1) beats a, b, c and d
    expect(undominated([a, b, c, d, e], false)).toEqual([e]);
    expect(undominated([], true)).toEqual([]);
    expect(undominated([b], false)).toEqual([b]);
  });

  it('ties means that differ by rounding only: (0.1 + 0.2) / 2 and 0.15', () => {
    const mean = (0.1 + 0.2) / 2;
    expect(mean).not.toBe(0.15);
    const x = pt(mean, 5), y = pt(0.15, 5), z = pt(0.15, 6);
    expect(undominated([x, y], true)).toEqual([x, y]); // tied on both axes
    expect(undominated([x, z], true)).toEqual([z]); // z: the same accuracy, a higher measure
    expect(undominated([x, z], false)).toEqual([x]);
  });
});

describe('the fronts\' undominated groups', () => {
  it('per front and method, from the groups\' means; in the caption and as a Markdown table', () => {
    const specs = sweepFrontSpecs(sweep, table);
    const rel = specs.find((f) => f.id === 'front-aopc-rel-mnist')!;
    // VG AOPC_rel means (accuracy, AOPC_rel): regular (0.98, 5), SCAAT 0.3 (0.94, 120), SCAAT 8/255 (0.98, 25),
    // PGD-AT 8/255 (0.98, 9), SGT (0.99, 5); PGD-AT 0.1 has none. SGT beats regular (more accuracy, the same
    // AOPC_rel), SCAAT 8/255 beats PGD-AT 8/255 (the same accuracy, more AOPC_rel) and regular.
    expect(rel.undominated.find((u) => u.method === 'Vanilla Gradient')!.groups).toEqual(['trainer=scaat epsilon=0.3', 'trainer=scaat epsilon=8/255', 'trainer=sgt']);
    expect(rel.caption).toContain(`${UNDOMINATED_NOTE} Vanilla Gradient: trainer=scaat epsilon=0.3; trainer=scaat epsilon=8/255; trainer=sgt.`);
    // entropy (lower is better), VG: regular (0.98, 6.2), SCAAT 0.3 (0.94, 3.1), SCAAT 8/255 (0.98, 4.1), PGD-AT 0.1 (0.96, 5.0), PGD-AT 8/255 (0.98, 5.5), SGT (0.99, 5.8)
    const ent = specs.find((f) => f.id === 'front-entropy-mnist')!;
    expect(ent.undominated.find((u) => u.method === 'Vanilla Gradient')!.groups).toEqual(['trainer=scaat epsilon=0.3', 'trainer=scaat epsilon=8/255', 'trainer=sgt']);
    const md = formatFrontsMarkdown(specs);
    expect(md).toContain('| partition | measure | method | groups |');
    expect(md).toContain('| data = mnist | AOPC_rel | VG | trainer=scaat epsilon=0.3; trainer=scaat epsilon=8/255; trainer=sgt |');
    // PGD-AT at 0.1 has no VG AOPC_rel: left out of that figure, and said so
    expect(rel.leftOut).toEqual(['VG: 1 group with AOPC_rel undefined in every seed']);
    expect(md).toContain('Not on the figure of data = mnist: AOPC\\_rel: VG: 1 group with AOPC\\_rel undefined in every seed.');
    // a mean ≤ 0 is not on the log-scale figure, but is compared: the most accurate group with a
    // negative AOPC_rel is not dominated
    const neg = [cell({ data: 'x', trainer: 'regular', seed: '0' }, 0.99, [6, -0.5], [6, 1]), cell({ data: 'x', trainer: 'scaat', seed: '0' }, 0.9, [5, 10], [5, 10])];
    const negRel = sweepFrontSpecs({ ...sweep, cells: neg }, buildSweepTable({ ...sweep, cells: neg })).find((f) => f.id.startsWith('front-aopc-rel'))!;
    expect(negRel.undominated.find((u) => u.method === 'Vanilla Gradient')!.groups).toEqual(['trainer=regular', 'trainer=scaat']);
    expect(negRel.leftOut).toEqual(['VG: 1 group with a mean ≤ 0 (not on a log scale)']);
    // '|' and '\\' in a group label stay inside their cell
    const piped = [cell({ data: 'x', trainer: 'scaat', note: 'a|b\\c', seed: '0' }, 0.9, [5, 10], [5, 10])];
    expect(formatFrontsMarkdown(sweepFrontSpecs({ ...sweep, cells: piped }, buildSweepTable({ ...sweep, cells: piped })))).toContain('| AOPC_rel | VG | trainer=scaat note=a\\|b\\\\c |');
    expect(formatFrontsMarkdown([])).toBe('');
    const text = formatFrontsText(specs);
    expect(text.split('\n')[0]).toBe(UNDOMINATED_NOTE);
    expect(text).toContain('  data = mnist, AOPC_rel, VG: trainer=scaat epsilon=0.3; trainer=scaat epsilon=8/255; trainer=sgt');
    expect(text).toContain('  (not on the figure of data = mnist: AOPC_rel: VG: 1 group with AOPC_rel undefined in every seed)');
    expect(formatFrontsText([])).toBe('');
  });
});

describe('sweepFrontSpecs with metric variants', () => {
  it('plots AOPC_rel when the evaluation names its variant (every real evaluation: "uniform fill")', () => {
    const variantRun = (name: string, acc: number, rel: number): RunResult => ({
      id: name, trainer: 'scaat', config: {}, seed: 0,
      evaluation: { cleanAccuracy: acc, methods: [{ method: 'vanilla-gradient', metrics: [{ name: 'entropy', value: 4 }, { name: 'aopc-rel', variant: 'uniform fill', value: rel }] }] },
    });
    const c: SweepTableCell[] = [
      { name: 'a', params: { trainer: 'scaat', epsilon: '0.1' }, run: variantRun('a', 0.9, 20) },
      { name: 'b', params: { trainer: 'scaat', epsilon: '0.3' }, run: variantRun('b', 0.8, 60) },
    ];
    const s = { cells: c, seedAxis: 'seed', partitionAxis: 'data' };
    const f = sweepFrontSpecs(s, buildSweepTable(s));
    expect(f.map((x) => x.id)).toEqual(['front-aopc-rel', 'front-entropy']);
    const rows = (f[0]!.spec as unknown as { data: { values: FrontRow[] } }).data.values;
    expect(rows.map((r) => [r.along, r.accuracy, r.value])).toEqual([['0.1', 0.9, 20], ['0.3', 0.8, 60]]);
    expect(f[0]!.caption).toContain('Measure: AOPC_rel (uniform fill).');
    expect(f[1]!.caption).not.toContain('Measure:');
  });
});

describe('sweepFrontSpecs with several AOPC fills', () => {
  it("plots the first fill's AOPC_rel and names it", () => {
    const twoFills = (name: string, epsilon: string, acc: number, rel: [number, number]): SweepTableCell => ({
      name, params: { trainer: 'scaat', epsilon },
      run: {
        id: name, trainer: 'scaat', config: {}, seed: 0,
        evaluation: {
          cleanAccuracy: acc,
          methods: [{
            method: 'vanilla-gradient',
            metrics: [{ name: 'entropy', value: 4 }, { name: 'aopc-rel', variant: 'uniform fill', value: rel[0] }, { name: 'aopc-rel', variant: 'black fill', value: rel[1] }],
          }],
        },
      },
    });
    const s = { cells: [twoFills('a', '0.1', 0.9, [20, 200]), twoFills('b', '0.3', 0.8, [60, 600])], seedAxis: 'seed', partitionAxis: 'data' };
    const f = sweepFrontSpecs(s, buildSweepTable(s));
    const rows = (f[0]!.spec as unknown as { data: { values: FrontRow[] } }).data.values;
    expect(rows.map((r) => [r.along, r.value])).toEqual([['0.1', 20], ['0.3', 60]]);
    expect(f[0]!.caption).toContain('Measure: AOPC_rel (uniform fill).');
    expect(f[0]!.caption).not.toContain('black fill');
  });
});

describe('the fronts\' ε labels', () => {
  it('go above the point for the first setting and below it for the second (no overprint); one layer per setting present', () => {
    type Layer = { transform?: Array<{ filter: string }>; mark: { type: string; dy?: number } };
    const layers = (id: string) => ((sweepFrontSpecs(sweep, table).find((f) => f.id === id)!.spec as unknown as { spec: { layer: Layer[] } }).spec.layer).filter((l) => l.mark.type === 'text');
    // cifar: two attacks (two settings) → two label layers; mnist: one setting → one
    expect(layers('front-entropy-cifar').map((l) => l.mark.dy)).toEqual([-6, 10]);
    expect(layers('front-entropy-mnist').map((l) => l.mark.dy)).toEqual([-6]);
  });
});

describe("the fronts' accuracy axis", () => {
  // two groups whose logs end at test accuracies 0.99 and 0.97 (evaluated samples: 0.95 and 0.98)
  const logged = (trainer: string, clean: number, test: number | null): SweepTableCell => {
    const c = cell({ trainer, seed: '0' }, clean, [5, 10], [4, 8]);
    return { ...c, run: { ...c.run!, training: { epochs: [{ epoch: 0, 'test.acc': 0.5 }, { epoch: 1, ...(test !== null ? { 'test.acc': test } : {}) }] } } };
  };
  const specOf = (cells: SweepTableCell[]) => {
    const s = { cells, seedAxis: 'seed', partitionAxis: 'data' };
    return sweepFrontSpecs(s, buildSweepTable(s)).find((f) => f.id.startsWith('front-entropy'))!;
  };

  it('is the test accuracy of the last epoch where every group has one', () => {
    const f = specOf([logged('regular', 0.95, 0.99), logged('scaat', 0.98, 0.97)]);
    const rows = (f.spec as unknown as { data: { values: FrontRow[] } }).data.values;
    expect(rows.map((r) => [r.method, r.trainer, r.accuracy])).toEqual([
      ['Vanilla Gradient', 'Regular', 0.99], ['Vanilla Gradient', 'SCAAT', 0.97], ['SmoothGrad', 'Regular', 0.99], ['SmoothGrad', 'SCAAT', 0.97],
    ]);
    expect(f.title).toBe('test accuracy of the last epoch against saliency entropy (bits)');
    expect(f.caption).toContain('Better is right (higher test accuracy of the last epoch, on the test split the training loop evaluates)');
    // by the test accuracy regular dominates (0.99, entropy 5 against 0.97, 5); by the sample's SCAAT would (below)
    expect(f.undominated.map((u) => u.groups)).toEqual([['trainer=regular'], ['trainer=regular']]);
  });

  it("is the evaluated sample's clean accuracy where a group has no logged test accuracy, or not for every seed", () => {
    const two = (trainer: string, seed: string, test: number | null) => ({ ...logged(trainer, 0.95, test), name: `${trainer}-${seed}`, params: { trainer, seed } });
    expect(specOf([two('regular', '0', 0.99), two('regular', '1', null), two('scaat', '0', 0.97), two('scaat', '1', 0.96)]).title).toBe('clean accuracy against saliency entropy (bits)');
    expect(specOf([two('regular', '0', 0.99), two('regular', '1', 0.98), two('scaat', '0', 0.97), two('scaat', '1', 0.96)]).title).toBe('test accuracy of the last epoch against saliency entropy (bits)');
    const f = specOf([logged('regular', 0.95, 0.99), logged('scaat', 0.98, null)]);
    expect(f.title).toBe('clean accuracy against saliency entropy (bits)');
    expect((f.spec as unknown as { data: { values: FrontRow[] } }).data.values.map((r) => r.accuracy).sort()).toEqual([0.95, 0.95, 0.98, 0.98]);
    // by the sample's accuracy SCAAT (0.98, entropy 5) dominates regular (0.95, 5)
    expect(f.undominated.map((u) => u.groups)).toEqual([['trainer=scaat'], ['trainer=scaat']]);
  });
});

describe("the fronts' setting legend", () => {
  it('lists the named settings only: a group without one (regular beside an attack axis) adds no blank entry', async () => {
    const s = { cells: [...cells.slice(9), cell({ data: 'cifar', trainer: 'regular', seed: '0' }, 0.85, [7, 1], [6, 1])], seedAxis: 'seed', partitionAxis: 'data' };
    type Line = { mark: { type: string }; encoding: { strokeDash?: { sort: string[]; legend: { values: string[] } } } };
    const spec = sweepFrontSpecs(s, buildSweepTable(s)).find((f) => f.id.startsWith('front-entropy'))!.spec as unknown as { spec: { layer: Line[] } };
    const dash = spec.spec.layer.find((l) => l.mark.type === 'line')!.encoding.strokeDash!;
    expect(dash.sort).toEqual(['attack=pgd', 'attack=fgsm-rs', '']);
    expect(dash.legend.values).toEqual(['attack=pgd', 'attack=fgsm-rs']);
    // rendered: the two named settings in the legend
    const svg = (await renderSweepFigures(s, buildSweepTable(s))).find((f) => f.id.startsWith('front-entropy'))!.svg;
    expect(svg).toContain('attack=pgd');
    expect(svg).toContain('attack=fgsm-rs');
  });
});

describe('renderSweepFigures', () => {
  it('renders every front to a standalone, non-blank SVG', async () => {
    const figures = await renderSweepFigures(sweep, table);
    expect(figures).toHaveLength(4);
    for (const f of figures) {
      expect(f.svg.startsWith('<svg'), f.id).toBe(true);
      expect(f.svg, f.id).not.toMatch(/(href|src)="(https?:)?\/\//);
      expect(f.svg, f.id).toContain('SCAAT');
      const png = decodePng(svgToPng(f.svg, 1));
      let ink = 0;
      for (let i = 0; i < png.rgba.length; i += 4) if (png.rgba[i]! < 200 || png.rgba[i + 1]! < 200 || png.rgba[i + 2]! < 200) ink++;
      expect(ink / (png.width * png.height), f.id).toBeGreaterThan(0.01);
    }
    expect(figures[0]!.svg).toContain('8/255');
  });
});

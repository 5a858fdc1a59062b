import { describe, expect, it } from 'vitest';
import type { RunResult } from './run-results.js';
import { buildPosterComparison } from './poster-comparison.js';
import { BEST_RULE, EVALUATION_WARNINGS_NOTE, TRAINING_WARNINGS_NOTE, buildSweepTable, formatSeedStat, formatSweepTableMarkdown, formatSweepTableText, seedStat, separatedBest } from './sweep-table.js';
import type { SweepTableCell, SweepTableModel } from './sweep-table.js';

/** A run with clean accuracy and vanilla-gradient entropy (↓) and AOPC_rel (↑). */
function run(name: string, acc: number, entropy: number, rel: number | null): RunResult {
  return {
    id: name, trainer: 'x', config: {}, seed: 0, timings: { train: 10 * acc },
    evaluation: { cleanAccuracy: acc, methods: [{ method: 'vanilla-gradient', metrics: [{ name: 'entropy', value: entropy }, { name: 'aopc-rel', value: rel }, { name: 'aopc-morf', value: 0.1 }] }] },
  };
}
const cell = (data: string, trainer: string, seed: number, values?: [number, number, number | null]): SweepTableCell => {
  const name = `data=${data}__trainer=${trainer}__seed=${seed}`;
  return { name, params: { data, trainer, seed: String(seed) }, ...(values ? { run: run(name, ...values) } : {}) };
};

describe('seedStat', () => {
  it('is the mean and the sample standard deviation (n − 1) of the defined values', () => {
    expect(seedStat([1, 2, 3])).toEqual({ mean: 2, std: 1, n: 3 });
    const s = seedStat([null, 4, 6, undefined, NaN]);
    expect(s.mean).toBe(5);
    expect(s.std).toBeCloseTo(Math.SQRT2, 14);
    expect(s.n).toBe(2);
    expect(seedStat([7])).toEqual({ mean: 7, std: null, n: 1 });
    expect(seedStat([null])).toEqual({ mean: null, std: null, n: 0 });
  });
});

describe('separatedBest', () => {
  const st = (...v: number[]) => seedStat(v);
  it('marks the best mean only when it is further from the runner-up than the sum of their standard deviations', () => {
    // means 1.1 and 2.1, std 0.1414 each: 1 > 0.283 → the lower one (index 1) for ↓, the higher for ↑.
    expect(separatedBest([st(2, 2.2), st(1, 1.2), st(5, 9)], 'lower-is-better')).toBe(1);
    expect(separatedBest([st(2, 2.2), st(1, 1.2)], 'higher-is-better')).toBe(0);
    // means 1.5 and 1.7, std 0.707 and 0.141: 0.2 < 0.85 → a tie, nothing marked.
    expect(separatedBest([st(1, 2), st(1.6, 1.8)], 'lower-is-better')).toBeNull();
    // exactly the spread apart (|3 − 1| = 1 + 1) is not more than it.
    expect(separatedBest([st(0, 2), st(2, 4)], 'lower-is-better')).toBeNull();
    // one seed: no spread to compare with; one group: nothing to compare; no direction.
    expect(separatedBest([st(1), st(5, 5.1)], 'lower-is-better')).toBeNull();
    expect(separatedBest([st(1, 1.1)], 'lower-is-better')).toBeNull();
    expect(separatedBest([st(1, 1.1), st(5, 5.1)], undefined)).toBeNull();
    // equal means are a tie.
    expect(separatedBest([st(1, 1), st(1, 1)], 'lower-is-better')).toBeNull();
  });
});

describe('buildSweepTable', () => {
  const cells: SweepTableCell[] = [
    cell('mnist', 'regular', 0, [0.98, 6.0, 2]),
    cell('mnist', 'regular', 1, [0.96, 6.2, 4]),
    cell('mnist', 'scaat', 0, [0.97, 4.0, 30]),
    cell('mnist', 'scaat', 1, [0.97, 4.2, null]),
    cell('mnist', 'scaat', 2),
    cell('cifar', 'regular', 0, [0.6, 5.0, 1]),
  ];
  const t = buildSweepTable({ cells, seedAxis: 'seed', partitionAxis: 'data' }, { metrics: 'headline' });

  it('groups cells that differ only in the seed, per partition, with mean ± std per column', () => {
    expect(t.columns.map((c) => c.key)).toEqual(['clean-accuracy', 'train-seconds', 'vanilla-gradient/entropy', 'vanilla-gradient/aopc-rel']);
    expect(t.partitions.map((p) => p.title)).toEqual(['data = mnist', 'data = cifar']);
    const [mnist, cifar] = t.partitions;
    expect(mnist!.groups.map((g) => [g.label, g.cells.length, g.evaluated])).toEqual([['trainer=regular', 2, 2], ['trainer=scaat', 3, 2]]);
    expect(mnist!.groups.map((g) => g.missing)).toEqual([[], ['data=mnist__trainer=scaat__seed=2']]);
    expect(mnist!.stats[0]![0]!.mean).toBeCloseTo(0.97, 12);
    expect(mnist!.stats[0]![0]!.std).toBeCloseTo(Math.SQRT2 * 0.01, 12);
    expect(mnist!.stats[1]![1]).toEqual(seedStat([9.7, 9.7])); // training time: a cost, never marked
    expect(mnist!.stats[1]![2]).toEqual(seedStat([4.0, 4.2]));
    expect(mnist!.stats[1]![3]).toEqual({ mean: 30, std: null, n: 1 }); // AOPC_rel undefined for one seed
    // entropy ↓: 4.1 ± 0.141 vs 6.1 ± 0.141 → SCAAT; accuracy: a tie; AOPC_rel: one seed only → none.
    expect(mnist!.best).toEqual([null, null, 1, null]);
    expect(cifar!.groups.map((g) => g.label)).toEqual(['trainer=regular']);
    expect(cifar!.best).toEqual([null, null, null, null]);
  });

  it('prints each partition and method with the mark after separated values only, and states the rule', () => {
    const text = formatSweepTableText(t);
    expect(text).toContain('data = mnist: 2 groups, 4 of 5 cells evaluated');
    expect(text).toMatch(/trainer=scaat\s+2\/3\s+97\.0 ± 0\.0 %\s+9\.70 ± 0\s+4\.10 ± 0\.141\*\s+30\.0\n/);
    expect(text).toMatch(/trainer=regular\s+2\s+97\.0 ± 1\.4 %\s+9\.70 ± 0\.141\s+6\.10 ± 0\.141\s+3\.00 ± 1\.41\n/);
    expect((text.match(/\*/g) ?? []).length).toBe(2); // the one best value, and the rule's own '*'
    expect(text).toContain('more than the sum of their two standard deviations');
  });

  it('formats one value, mean ± std, accuracy in percent, and nothing', () => {
    expect(formatSeedStat({ mean: 0.5, std: null, n: 1 })).toBe('0.500');
    expect(formatSeedStat({ mean: 0.9731, std: 0.0042, n: 3 }, true)).toBe('97.3 ± 0.4 %');
    expect(formatSeedStat({ mean: null, std: null, n: 0 })).toBe('—');
  });
});

describe('the test accuracy column (the last epoch the training loop logged)', () => {
  /** A run whose log has per-epoch test accuracies `accs` (null: an epoch without one). */
  const logged = (name: string, clean: number, accs: Array<number | null>): SweepTableCell => ({
    name,
    params: { trainer: name.split('-')[0]!, seed: name.split('-')[1]! },
    run: {
      id: name, trainer: 'x', config: {}, seed: 0,
      training: { epochs: accs.map((a, epoch) => ({ epoch, 'train.acc': 0.5, ...(a !== null ? { 'test.acc': a } : {}) })) },
      evaluation: { cleanAccuracy: clean, methods: [{ method: 'vanilla-gradient', metrics: [{ name: 'entropy', value: 5 }] }] },
    },
  });

  it("takes each seed's last epoch, not the best or the mean, beside the sample's clean accuracy", () => {
    // regular: last epochs 0.9912 and 0.9902 (an earlier 0.995 is not the last); scaat: 0.9894 and 0.9906
    const cells = [logged('regular-0', 0.994, [0.98, 0.995, 0.9912]), logged('regular-1', 0.99, [0.97, 0.9902]), logged('scaat-0', 0.988, [0.9894]), logged('scaat-1', 0.992, [0.98, 0.9906])];
    const t = buildSweepTable({ cells, seedAxis: 'seed', partitionAxis: 'data' }, { metrics: 'headline' });
    expect(t.columns.map((c) => [c.key, c.label, c.direction])).toEqual([
      ['clean-accuracy', 'Clean accuracy', 'higher-is-better'],
      ['test-accuracy', 'Test accuracy (last epoch)', 'higher-is-better'],
      ['vanilla-gradient/entropy', 'Entropy (bits)', 'lower-is-better'],
    ]);
    const [regular, scaat] = t.partitions[0]!.stats;
    expect(regular![1]!.mean).toBeCloseTo(0.9907, 12);
    expect(regular![1]!.std).toBeCloseTo(0.001 / Math.SQRT2, 12);
    expect(scaat![1]!.mean).toBeCloseTo(0.99, 12);
    // shown as a percentage, as the clean accuracy, with two decimals (0.9907 ± 0.000707; 0.01 points is one image in 10 000)
    expect(formatSweepTableMarkdown(t)).toMatch(/\| trainer=regular \| 2 \| 99\.2 ± 0\.3 % \| 99\.07 ± 0\.07 % \| 5\.00 ± 0 \|/);
    // the poster's accuracy figure applies to it too: 99.07 % → 99.00 %, −0.07 points (within 1.5)
    const row = buildPosterComparison(t, [])[0]!.rows.find((r) => r.metric === 'test-accuracy')!;
    expect([row.measured, row.verdict]).toEqual(['−0.07 pt', 'meets']);
  });

  it('is absent where no run logged a test accuracy, and null for a run whose last epoch has none', () => {
    const none = buildSweepTable({ cells: [logged('regular-0', 0.99, [null])], seedAxis: 'seed', partitionAxis: 'data' });
    expect(none.columns.map((c) => c.key)).not.toContain('test-accuracy');
    const mixed = buildSweepTable({ cells: [logged('regular-0', 0.99, [0.98]), logged('regular-1', 0.99, [0.97, null])], seedAxis: 'seed', partitionAxis: 'data' });
    expect(mixed.partitions[0]!.stats[0]![1]).toEqual({ mean: 0.98, std: null, n: 1 });
  });
});

describe('formatSweepTableMarkdown', () => {
  const col = (key: string, label: string, direction: 'lower-is-better' | 'higher-is-better' | undefined, method?: string) =>
    ({ key, label, direction, metric: key.slice(key.indexOf('/') + 1), headline: true, ...(method !== undefined ? { method } : {}) });
  // Written by hand: two partitions; a best value only in VG entropy of MNIST; a pipe in a group label.
  const model: SweepTableModel = {
    seedAxis: 'seed',
    partitionAxis: 'data',
    columns: [
      col('clean-accuracy', 'Clean accuracy', 'higher-is-better'),
      col('train-seconds', 'Training time (s)', undefined),
      col('vanilla-gradient/entropy', 'Entropy (bits)', 'lower-is-better', 'vanilla-gradient'),
      col('vanilla-gradient/aopc-rel (uniform fill)', 'AOPC_rel (uniform fill)', 'higher-is-better', 'vanilla-gradient'),
      col('smooth-grad/entropy', 'Entropy (bits)', 'lower-is-better', 'smooth-grad'),
    ],
    partitions: [
      {
        title: 'data = mnist',
        groups: [
          { label: 'trainer=regular', params: { trainer: 'regular' }, cells: ['r0', 'r1'], evaluated: 2, missing: [] },
          { label: 'trainer=scaat', params: { trainer: 'scaat' }, cells: ['s0', 's1', 's2'], evaluated: 2, missing: ['s2'] },
        ],
        stats: [
          [{ mean: 0.97, std: 0.014, n: 2 }, { mean: 12, std: 1, n: 2 }, { mean: 6.1, std: 0.141, n: 2 }, { mean: 3, std: 1.41, n: 2 }, { mean: 5, std: null, n: 1 }],
          [{ mean: 0.97, std: 0, n: 2 }, { mean: 40, std: 2, n: 2 }, { mean: 4.1, std: 0.141, n: 2 }, { mean: 30, std: null, n: 1 }, { mean: null, std: null, n: 0 }],
        ],
        best: [null, null, 1, null, null],
      },
      {
        title: 'data = cifar',
        groups: [{ label: 'trainer=regular note=a|b', params: { trainer: 'regular', note: 'a|b' }, cells: ['c0'], evaluated: 1, missing: [] }],
        stats: [[{ mean: 0.6, std: null, n: 1 }, { mean: 50, std: null, n: 1 }, { mean: 5, std: null, n: 1 }, { mean: 1, std: null, n: 1 }, { mean: 4.5, std: null, n: 1 }]],
        best: [null, null, null, null, null],
      },
    ],
  };

  it('writes one table per partition with the text table\'s values, best values in bold, the cells left out, the methods and the rule', () => {
    expect(formatSweepTableMarkdown(model)).toBe([
      '### data = mnist',
      '',
      '2 groups, 4 of 5 cells evaluated.',
      '',
      '| group | seeds | Clean accuracy ↑ | Training time (s) | VG Entropy (bits) ↓ | VG AOPC_rel (uniform fill) ↑ | SG Entropy (bits) ↓ |',
      '|---|---:|---:|---:|---:|---:|---:|',
      '| trainer=regular | 2 | 97.0 ± 1.4 % | 12.0 ± 1.00 | 6.10 ± 0.141 | 3.00 ± 1.41 | 5.00 |',
      '| trainer=scaat | 2/3 | 97.0 ± 0.0 % | 40.0 ± 2.00 | **4.10 ± 0.141** | 30.0 | — |',
      '',
      'Without a current evaluation (not in the table): `s2`.',
      '',
      '### data = cifar',
      '',
      '1 group, 1 of 1 cells evaluated.',
      '',
      '| group | seeds | Clean accuracy ↑ | Training time (s) | VG Entropy (bits) ↓ | VG AOPC_rel (uniform fill) ↑ | SG Entropy (bits) ↓ |',
      '|---|---:|---:|---:|---:|---:|---:|',
      '| trainer=regular note=a\\|b | 1 | 60.0 % | 50.0 | 5.00 | 1.00 | 4.50 |',
      '',
      'Saliency methods: Vanilla Gradient (VG), SmoothGrad (SG).',
      '',
      BEST_RULE,
      '',
    ].join('\n'));
  });

  it('marks the same values as the text table', () => {
    const text = formatSweepTableText(model);
    expect(text).toMatch(/trainer=scaat\s+2\/3\s+97\.0 ± 0\.0 %\s+40\.0 ± 2\.00\s+4\.10 ± 0\.141\*\s+30\.0\n/);
    expect(formatSweepTableMarkdown(model).match(/\*\*[^*]+\*\*/g)).toEqual(['**4.10 ± 0.141**']);
  });

  it('has no heading without a partition axis', () => {
    const one: SweepTableModel = { ...model, partitionAxis: 'data', partitions: [{ ...model.partitions[1]!, title: '' }] };
    expect(formatSweepTableMarkdown(one).startsWith('1 group, 1 of 1 cells evaluated.\n\n| group |')).toBe(true);
  });
});

describe('buildSweepTable with several AOPC fills', () => {
  /** VG metrics of an evaluation with fills uniform then black (the black values a tenth of the uniform ones). */
  const twoFills = (name: string, lerf: number, rel: number): SweepTableCell => {
    const fills = (metric: string, uniform: number) => [
      { name: metric, variant: 'uniform fill', value: uniform },
      { name: metric, variant: 'black fill', value: uniform / 10 },
    ];
    const metrics = [{ name: 'entropy', value: 5 }, ...fills('aopc-morf', 0.3), ...fills('aopc-lerf', lerf), ...fills('aopc-rel', rel)];
    return { name, params: { trainer: 'scaat', seed: name }, run: { id: name, trainer: 'scaat', config: {}, seed: 0, evaluation: { cleanAccuracy: 0.9, methods: [{ method: 'vanilla-gradient', metrics }] } } };
  };
  const sweep = { cells: [twoFills('0', 0.01, 30), twoFills('1', 0.03, 10)], seedAxis: 'seed', partitionAxis: 'data' };

  it("'all': a column per fill, in the metric's order and then the fills'; 'headline': the first fill's only", () => {
    const all = buildSweepTable(sweep);
    expect(all.columns.map((c) => c.key)).toEqual([
      'clean-accuracy', 'vanilla-gradient/entropy',
      'vanilla-gradient/aopc-lerf (uniform fill)', 'vanilla-gradient/aopc-lerf (black fill)',
      'vanilla-gradient/aopc-rel (uniform fill)', 'vanilla-gradient/aopc-rel (black fill)',
      'vanilla-gradient/aopc-morf (uniform fill)', 'vanilla-gradient/aopc-morf (black fill)',
    ]);
    expect(all.columns.map((c) => c.label).slice(2, 4)).toEqual(['AOPC_lerf (uniform fill)', 'AOPC_lerf (black fill)']);
    const stats = all.partitions[0]!.stats[0]!;
    expect(stats.slice(2).map((s) => s.mean)).toEqual([0.02, 0.002, 20, 2, 0.3, 0.03]);
    expect(stats[3]).toEqual(seedStat([0.001, 0.003]));
    const headline = buildSweepTable(sweep, { metrics: 'headline' });
    expect(headline.columns.map((c) => c.key)).toEqual(['clean-accuracy', 'vanilla-gradient/entropy', 'vanilla-gradient/aopc-lerf (uniform fill)', 'vanilla-gradient/aopc-rel (uniform fill)']);
    expect(headline.partitions[0]!.stats[0]!.slice(2)).toEqual([stats[2], stats[4]]);
    expect(formatSweepTableMarkdown(all)).toContain('VG AOPC_lerf (black fill) ↓');
  });

  it("'further-variants': the headline metrics in the fills after the first, no accuracy; with the headline table, every fill once", () => {
    const all = buildSweepTable(sweep);
    const headline = buildSweepTable(sweep, { metrics: 'headline' });
    const further = buildSweepTable(sweep, { metrics: 'further-variants' });
    expect(further.columns.map((c) => c.key)).toEqual(['vanilla-gradient/aopc-lerf (black fill)', 'vanilla-gradient/aopc-rel (black fill)']);
    // the same statistics as the whole table's columns of those keys
    const allStats = all.partitions[0]!.stats[0]!;
    expect(further.partitions[0]!.stats[0]).toEqual(further.columns.map((c) => allStats[all.columns.findIndex((a) => a.key === c.key)]));
    const headlineAopc = headline.columns.filter((c) => c.metric.startsWith('aopc')).map((c) => c.key);
    const allHeadlineAopc = all.columns.filter((c) => c.metric === 'aopc-lerf' || c.metric === 'aopc-rel').map((c) => c.key);
    expect([...headlineAopc, ...further.columns.map((c) => c.key)].sort()).toEqual([...allHeadlineAopc].sort());
    const md = formatSweepTableMarkdown(further, { brief: true });
    expect(md.split('\n')[0]).toBe('| group | seeds | VG AOPC_lerf (black fill) ↓ | VG AOPC_rel (black fill) ↑ |');
    expect(md).not.toContain('cells evaluated');
    expect(md).not.toContain(BEST_RULE);
    expect(formatSweepTableText(further, { brief: true })).not.toContain(BEST_RULE);
    // one fill: nothing further
    const oneFill = { ...sweep, cells: [cell('mnist', 'scaat', 0, [0.9, 5, 10])] };
    expect(buildSweepTable(oneFill, { metrics: 'further-variants' }).columns).toEqual([]);
  });
});

describe('training warnings in the sweep table', () => {
  const collapsed = {
    code: 'constant-predictor',
    epochs: [2, 3, 4, 5],
    message: 'epoch 6: the model predicts class 0 for all 8 test samples (a constant predictor, test accuracy 0.2500)',
  };
  const base = [cell('mnist', 'regular', 0, [0.98, 6.0, 2]), cell('mnist', 'regular', 1, [0.96, 6.2, 4]), cell('mnist', 'sgt', 0, [0.25, 1.0, 1]), cell('mnist', 'sgt', 1, [0.95, 5.0, 3])];
  const warned = base.map((c) => (c.name === 'data=mnist__trainer=sgt__seed=0' ? { ...c, run: { ...c.run!, trainingWarnings: [collapsed] } } : c));
  const sweep = (cells: SweepTableCell[]) => buildSweepTable({ cells, seedAxis: 'seed', partitionAxis: 'data' }, { metrics: 'headline' });

  it('keeps the warned cell in its group\'s statistics and records it on the group only', () => {
    const t = sweep(warned);
    const [regular, sgt] = t.partitions[0]!.groups;
    expect(regular!.warnings).toBeUndefined();
    expect(sgt!.warnings).toEqual([{ cell: 'data=mnist__trainer=sgt__seed=0', warnings: [collapsed] }]);
    expect(t.partitions[0]!.stats[1]![0]!.mean).toBeCloseTo(0.6, 12); // (0.25 + 0.95) / 2
  });

  it('marks the group and lists the warning, with 1-based epochs, under the text table', () => {
    const text = formatSweepTableText(sweep(warned));
    expect(text).toMatch(/\n {2}trainer=sgt ⚠\s+2\s+60\.0 ± 49\.5 %/);
    expect(text).toMatch(/\n {2}trainer=regular\s+2\s+97\.0/);
    expect(text).toContain(
      `${TRAINING_WARNINGS_NOTE}\n  - data=mnist__trainer=sgt__seed=0 (group trainer=sgt, data = mnist): constant predictor at epochs 3–6 ` +
        `(last: epoch 6: the model predicts class 0 for all 8 test samples (a constant predictor, test accuracy 0.2500)); its group's mean includes it\n\n${BEST_RULE}`,
    );
  });

  it('marks the group and lists the warning in the Markdown, the cell as code and the rest escaped', () => {
    const md = formatSweepTableMarkdown(sweep(warned));
    expect(md).toContain('\n| trainer=sgt ⚠ | 2 | 60.0 ± 49.5 % |');
    expect(md).toContain('\n| trainer=regular | 2 | 97.0 ± 1.4 % |');
    expect(md).toContain(
      '\n\n- `data=mnist__trainer=sgt__seed=0` (group trainer=sgt, data = mnist): constant predictor at epochs 3–6 ' +
        "(last: epoch 6: the model predicts class 0 for all 8 test samples (a constant predictor, test accuracy 0.2500)); its group's mean includes it\n\n",
    );
    expect(md.split('\n').filter((l) => l.startsWith('Training warnings'))).toHaveLength(1);
  });

  it('changes nothing when no cell has a warning', () => {
    const t = sweep(base);
    expect(t.partitions[0]!.groups.every((g) => !('warnings' in g))).toBe(true);
    const empty = base.map((c) => ({ ...c, run: { ...c.run!, trainingWarnings: [] } }));
    expect(formatSweepTableText(sweep(empty))).toBe(formatSweepTableText(t));
    expect(formatSweepTableMarkdown(sweep(empty))).toBe(formatSweepTableMarkdown(t));
    expect(formatSweepTableText(t)).not.toMatch(/⚠|Training warnings/);
    expect(formatSweepTableMarkdown(t)).not.toMatch(/⚠|Training warnings/);
  });
});

describe('evaluation warnings in the sweep table', () => {
  const constant = 'entropy, vanilla-gradient: 3 of 8 maps are constant (every score equal): the mean is over the other 5';
  const base = [cell('mnist', 'regular', 0, [0.98, 6.0, 2]), cell('mnist', 'regular', 1, [0.96, 6.2, 4]), cell('mnist', 'sgt', 0, [0.25, 1.0, 1]), cell('mnist', 'sgt', 1, [0.95, 5.0, 3])];
  const warnedRun = (c: SweepTableCell): SweepTableCell => ({ ...c, run: { ...c.run!, evaluation: { ...c.run!.evaluation!, warnings: [constant] } } });
  const warned = base.map((c) => (c.name === 'data=mnist__trainer=sgt__seed=1' ? warnedRun(c) : c));
  const sweep = (cells: SweepTableCell[]) => buildSweepTable({ cells, seedAxis: 'seed', partitionAxis: 'data' }, { metrics: 'headline' });

  it('records the cell on its group only, its values kept in the statistics', () => {
    const t = sweep(warned);
    const [regular, sgt] = t.partitions[0]!.groups;
    expect(regular!.evaluationWarnings).toBeUndefined();
    expect(sgt!.evaluationWarnings).toEqual([{ cell: 'data=mnist__trainer=sgt__seed=1', warnings: [constant] }]);
    expect(sgt!.warnings).toBeUndefined(); // not a training warning
    expect(t.partitions[0]!.stats[1]![0]!.mean).toBeCloseTo(0.6, 12);
  });

  it('marks the group with its own mark and lists the warning under the text and Markdown tables, after the training warnings', () => {
    const both = warned.map((c) => (c.name === 'data=mnist__trainer=sgt__seed=0' ? { ...c, run: { ...c.run!, trainingWarnings: [{ code: 'constant-predictor', epochs: [1], message: 'm' }] } } : c));
    const text = formatSweepTableText(sweep(both));
    expect(text).toMatch(/\n {2}trainer=sgt ⚠ ‡\s+2\s+60\.0 ± 49\.5 %/);
    const line = `data=mnist__trainer=sgt__seed=1 (group trainer=sgt, data = mnist): ${constant}; its group's mean includes it`;
    expect(text).toContain(`${EVALUATION_WARNINGS_NOTE}\n  - ${line}\n\n${BEST_RULE}`);
    expect(text.indexOf(TRAINING_WARNINGS_NOTE)).toBeLessThan(text.indexOf(EVALUATION_WARNINGS_NOTE));
    const md = formatSweepTableMarkdown(sweep(warned));
    expect(md).toContain('\n| trainer=sgt ‡ | 2 | 60.0 ± 49.5 % |');
    expect(md).toContain('\n\n- `data=mnist__trainer=sgt__seed=1` (group trainer=sgt, data = mnist): entropy, vanilla-gradient: 3 of 8 maps');
    expect(md).not.toContain('Training warnings');
  });

  it('lists a warning that several cells of a group share once, naming them all', () => {
    const t = sweep(base.map((c) => (c.name.includes('sgt') ? warnedRun(c) : c)));
    expect(formatSweepTableText(t)).toContain(`  - data=mnist__trainer=sgt__seed=0, data=mnist__trainer=sgt__seed=1 (group trainer=sgt, data = mnist): ${constant}; its group's mean includes it\n`);
    expect(formatSweepTableMarkdown(t)).toContain('\n- `data=mnist__trainer=sgt__seed=0`, `data=mnist__trainer=sgt__seed=1` (group trainer=sgt, data = mnist): entropy');
  });

  it('changes nothing when no evaluation warned', () => {
    const empty = base.map((c) => ({ ...c, run: { ...c.run!, evaluation: { ...c.run!.evaluation!, warnings: [] } } }));
    expect(formatSweepTableMarkdown(sweep(empty))).toBe(formatSweepTableMarkdown(sweep(base)));
    expect(formatSweepTableText(sweep(base))).not.toMatch(/‡|Evaluation warnings/);
  });
});

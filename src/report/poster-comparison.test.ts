import { describe, expect, it } from 'vitest';
import {
  buildPosterComparison,
  formatPosterComparisonMarkdown,
  formatPosterComparisonText,
  POSTER_EXPECTED,
  POSTER_RULE,
  SPREAD_NOTE,
  fineTuningParams,
  posterOneSidedParams,
  trainerOptionParams,
} from './poster-comparison.js';
import { buildSweepTable } from './sweep-table.js';
import type { SeedStat, SweepColumn, SweepGroup, SweepTableCell, SweepTableModel } from './sweep-table.js';

const col = (key: string, label: string, method?: string): SweepColumn => ({
  key, label, metric: key.includes('/') ? key.slice(key.indexOf('/') + 1).replace(/ \(.*\)$/, '') : key, direction: undefined, headline: true,
  ...(method !== undefined ? { method } : {}),
});
const COLUMNS: SweepColumn[] = [
  col('clean-accuracy', 'Clean accuracy'),
  col('train-seconds', 'Training time (s)'),
  col('vanilla-gradient/entropy', 'Entropy (bits)', 'vanilla-gradient'),
  col('vanilla-gradient/size (jpeg q75)', 'Size (KB) (jpeg q75)', 'vanilla-gradient'),
  col('vanilla-gradient/aopc-lerf (uniform fill)', 'AOPC_lerf (uniform fill)', 'vanilla-gradient'),
  col('vanilla-gradient/aopc-rel (uniform fill)', 'AOPC_rel (uniform fill)', 'vanilla-gradient'),
  col('vanilla-gradient/aopc-morf (uniform fill)', 'AOPC_morf (uniform fill)', 'vanilla-gradient'),
  col('smooth-grad/aopc-rel (uniform fill)', 'AOPC_rel (uniform fill)', 'smooth-grad'),
];
/** Means in the order of COLUMNS (null: undefined in every seed); n seeds each. */
const stats = (n: number, ...means: (number | null)[]): SeedStat[] => means.map((mean) => ({ mean, std: null, n: mean === null ? 0 : n }));
const group = (params: Record<string, string>, evaluated: number): SweepGroup => ({
  label: Object.entries(params).map(([k, v]) => `${k}=${v}`).join(' '), params, cells: [], evaluated, missing: [],
});

// MNIST: regular (3 seeds) and SCAAT at ε 0.3 (2 seeds, `*.epsilon`: drops out of regular cells);
// PGD-AT and a SCAAT group at another lr have no partner. CIFAR: regular and SCAAT at lr 0.01,
// SCAAT with `scaat.steps`, every measure the other way.
const model: SweepTableModel = {
  seedAxis: 'seed',
  partitionAxis: 'data',
  columns: COLUMNS,
  partitions: [
    {
      title: 'data = mnist',
      groups: [group({ trainer: 'regular' }, 3), group({ trainer: 'scaat', epsilon: '0.3' }, 2), group({ trainer: 'pgd-at', epsilon: '0.3' }, 2), group({ trainer: 'scaat', epsilon: '0.3', lr: '0.01' }, 1)],
      stats: [
        stats(3, 0.99, 100, 20, 2.0, 0.004, 50, 0.2, 40),
        stats(2, 0.975, 300, 17, 1.5, 0.0005, 600, 0.3, null),
        stats(2, 0.9, 300, 10, 1, 0.001, 100, 0.1, 100),
        stats(1, 0.9, 300, 10, 1, 0.001, 100, 0.1, 100),
      ],
      best: COLUMNS.map(() => null),
    },
    {
      title: 'data = cifar',
      groups: [group({ trainer: 'scaat', lr: '0.01', 'scaat.steps': '3' }, 3), group({ trainer: 'regular', lr: '0.01' }, 3)],
      stats: [stats(3, 0.78, 300, 5.5, 1.0, 0.002, 5, 0.1, -1), stats(3, 0.8, 100, 5, 1.0, 0.001, 10, 0.1, 10)],
      best: COLUMNS.map(() => null),
    },
  ],
};
const OPTIONS = ['epsilon', 'scaat.steps'];

describe('POSTER_EXPECTED', () => {
  it('holds issue 13\'s figures', () => {
    expect(POSTER_EXPECTED).toEqual({
      entropy: { kind: 'percent', nearer: -15, further: -20 },
      size: { kind: 'percent', nearer: -35, further: -45 },
      'aopc-lerf': { kind: 'divide', least: 10 },
      'aopc-rel': { kind: 'times', least: 10 },
      'clean-accuracy': { kind: 'points', within: 1.5 },
      'test-accuracy': { kind: 'points', within: 1.5 },
    });
  });
});

describe('trainerOptionParams', () => {
  it('names the parameters of a grid\'s trainer-option axes as the cells carry them', () => {
    expect(trainerOptionParams({ axes: { trainer: ['regular', 'scaat'], '*.epsilon': [0.1], seed: [0, 1] } })).toEqual(['epsilon']);
    expect(trainerOptionParams({ axes: [{ 'scaat.steps': [3], lr: [1] }, { '*.attack': ['pgd'] }, { 'scaat.steps': [5] }] })).toEqual(['scaat.steps', 'attack']);
    expect(trainerOptionParams({ axes: { trainer: ['regular'] } })).toEqual([]);
    expect(trainerOptionParams(undefined)).toEqual([]);
  });
});

describe('fineTuningParams', () => {
  // studies/mnist-finetune.json's axes: from scratch, then SCAAT from the regular cell's weights
  const FINETUNE = {
    axes: [
      { trainer: ['regular', 'scaat'], seed: [0, 1, 2] },
      { trainer: ['scaat'], seed: [0, 1, 2], model: { 'from-regular': { cell: { trainer: 'regular' } } }, epochs: [1, 3], 'scaat.warmupEpochs': [0] },
    ],
  };

  it('names every axis but trainer and seed of an axes object whose model axis fine-tunes from a cell', () => {
    expect(fineTuningParams(FINETUNE)).toEqual(['model', 'epochs', 'scaat.warmupEpochs']);
    expect(posterOneSidedParams(FINETUNE)).toEqual(['scaat.warmupEpochs', 'model', 'epochs']);
    // the model axis as a list of values, as grid.ts also takes it
    expect(fineTuningParams({ axes: [{ trainer: ['scaat'], seed: [0], model: [{ cell: { trainer: 'regular' } }], epochs: [2] }] })).toEqual(['model', 'epochs']);
    // a model axis of paths (no cell reference) and grids without one fine-tune nothing
    expect(fineTuningParams({ axes: { trainer: ['scaat'], model: ['runs/a'], epochs: [1] } })).toEqual([]);
    expect(fineTuningParams({ axes: { trainer: ['scaat'], model: { a: 'runs/a', b: 'runs/b' }, epochs: [1] } })).toEqual([]);
    expect(fineTuningParams({ axes: { trainer: ['regular', 'scaat'], epochs: [4, 8] } })).toEqual([]);
    expect(fineTuningParams(undefined)).toEqual([]);
  });

  it('lets a fine-tuned SCAAT group meet the regular group it starts from, the from-scratch pair unchanged', () => {
    const ft: SweepTableModel = {
      seedAxis: 'seed',
      partitionAxis: '',
      columns: COLUMNS,
      partitions: [{
        title: '',
        groups: [
          group({ trainer: 'regular' }, 3),
          group({ trainer: 'scaat' }, 3),
          group({ trainer: 'scaat', model: 'from-regular', epochs: '1', 'scaat.warmupEpochs': '0' }, 3),
        ],
        stats: [stats(3, 0.99, 100, 20, 2, 0.004, 50, 0.2, 40), stats(3, 0.98, 300, 16, 1.6, 0.0004, 500, 0.2, 400), stats(3, 0.99, 150, 17, 1.8, 0.002, 100, 0.2, 80)],
        best: COLUMNS.map(() => null),
      }],
    };
    expect(buildPosterComparison(ft, posterOneSidedParams(FINETUNE)).map((c) => [c.scaat.label, c.regular.label])).toEqual([
      ['trainer=scaat', 'trainer=regular'],
      ['trainer=scaat model=from-regular epochs=1 scaat.warmupEpochs=0', 'trainer=regular'],
    ]);
    // entropy 20 → 17 (−15 %), AOPC_rel 50 → 100 (×2), from the regular group's means
    const rows = buildPosterComparison(ft, posterOneSidedParams(FINETUNE))[1]!.rows;
    expect(rows.map((r) => r.measured).slice(0, 4)).toEqual(['−15.0 %', '−10.0 %', '÷2.00', '×2.00']);
    // with the trainer options alone the fine-tuned group has no partner
    expect(buildPosterComparison(ft, trainerOptionParams(FINETUNE)).map((c) => c.scaat.label)).toEqual(['trainer=scaat']);
  });
});

describe('buildPosterComparison', () => {
  const comparisons = buildPosterComparison(model, OPTIONS);

  it('pairs each SCAAT group with the regular group of the same other parameters, trainer options aside', () => {
    expect(comparisons.map((c) => [c.partition, c.scaat, c.regular])).toEqual([
      ['data = mnist', { label: 'trainer=scaat epsilon=0.3', evaluated: 2 }, { label: 'trainer=regular', evaluated: 3 }],
      ['data = cifar', { label: 'trainer=scaat lr=0.01 scaat.steps=3', evaluated: 3 }, { label: 'trainer=regular lr=0.01', evaluated: 3 }],
    ]);
    // Without knowing that epsilon is a trainer option, SCAAT at ε 0.3 is another setting than regular.
    expect(buildPosterComparison(model, ['scaat.steps']).map((c) => c.partition)).toEqual(['data = cifar']);
  });

  it('measures % changes, the two AOPC ratios and the accuracy difference from the means (computed by hand)', () => {
    const [mnist, cifar] = comparisons;
    // One row per poster measure and method (AOPC_morf and training time have no poster figure), accuracy last.
    expect(mnist!.rows.map((r) => [r.method ?? '', r.label])).toEqual([
      ['vanilla-gradient', 'Entropy (bits)'], ['vanilla-gradient', 'Size (KB) (jpeg q75)'], ['vanilla-gradient', 'AOPC_lerf (uniform fill)'],
      ['vanilla-gradient', 'AOPC_rel (uniform fill)'], ['smooth-grad', 'AOPC_rel (uniform fill)'], ['', 'Clean accuracy'],
    ]);
    // entropy 20 → 17: −15 % (the poster's nearer end: meets); size 2 → 1.5: −25 % (short of −35 %);
    // AOPC_lerf 0.004 / 0.0005 = 8 (short of ÷10); AOPC_rel 600 / 50 = 12 (meets); SG AOPC_rel:
    // SCAAT undefined in every seed; accuracy 97.5 − 99 = −1.5 points (within 1.5: meets).
    expect(mnist!.rows.map((r) => [r.measured, r.expected, r.verdict, r.reason])).toEqual([
      ['−15.0 %', '−15 to −20 %', 'meets', undefined],
      ['−25.0 %', '−35 to −45 %', 'falls short', undefined],
      ['÷8.00', '÷10 or more', 'falls short', undefined],
      ['×12.0', '×10 or more', 'meets', undefined],
      ['—', '×10 or more', 'undefined', 'SCAAT: no seed has a value'],
      ['−1.50 pt', 'within about 1.5 points', 'meets', undefined],
    ]);
    expect(mnist!.rows.map((r) => r.change)).toEqual([-15, -25, expect.closeTo(8, 12), expect.closeTo(12, 12), null, expect.closeTo(-1.5, 12)]);
    expect(mnist!.rows[0]!.regular).toEqual({ mean: 20, std: null, n: 3 });
    expect(mnist!.rows[0]!.scaat).toEqual({ mean: 17, std: null, n: 2 });
    // CIFAR, the other way: entropy 5 → 5.5 = +10 %; size unchanged; AOPC_lerf 0.001 / 0.002 = 0.5;
    // AOPC_rel 5 / 10 = 0.5; SG AOPC_rel −1 (no ratio); accuracy 78 − 80 = −2 points.
    expect(cifar!.rows.map((r) => [r.measured, r.verdict, r.reason])).toEqual([
      ['+10.0 %', 'opposite direction', undefined],
      ['0.0 %', 'falls short', undefined],
      ['÷0.500', 'opposite direction', undefined],
      ['×0.500', 'opposite direction', undefined],
      ['—', 'undefined', 'SCAAT: mean ≤ 0'],
      ['−2.00 pt', 'falls short', undefined],
    ]);
  });

  it('finds nothing in a sweep without a trainer parameter', () => {
    const trainerless: SweepTableModel = {
      ...model,
      partitions: [{ ...model.partitions[0]!, groups: [group({ epsilon: '0.1' }, 2), group({ epsilon: '0.3' }, 2), group({ epsilon: '8/255' }, 2), group({ epsilon: '1' }, 1)] }],
    };
    const none = buildPosterComparison(trainerless, OPTIONS);
    expect(none).toEqual([]);
    expect(formatPosterComparisonText(none)).toBe('');
    expect(formatPosterComparisonMarkdown(none)).toBe('');
  });
});

describe('formatPosterComparisonText / formatPosterComparisonMarkdown', () => {
  const [mnist] = buildPosterComparison(model, OPTIONS);

  it('prints the measured change beside the poster\'s figure and the verdict, with the seeds of each side', () => {
    const text = formatPosterComparisonText([mnist!]);
    const lines = text.split('\n');
    expect(lines[0]).toBe('Against the poster (regular → SCAAT)');
    expect(lines[1]).toBe('data = mnist: trainer=scaat epsilon=0.3 (2 seeds) vs trainer=regular (3 seeds)');
    expect(lines[2]).toMatch(/^ {2}measure +method +seeds +regular +SCAAT +measured +poster +verdict$/);
    expect(lines[3]).toMatch(/^ {2}Entropy \(bits\) +VG +3 \/ 2 +20\.0 +17\.0 +−15\.0 % +−15 to −20 % +meets$/);
    expect(lines[7]).toMatch(/^ {2}AOPC_rel \(uniform fill\) +SG +3 \/ 0 +40\.0 +— +— +×10 or more +undefined \(SCAAT: no seed has a value\)$/);
    expect(lines[8]).toMatch(/^ {2}Clean accuracy +3 \/ 2 +99\.0 % +97\.5 % +−1\.50 pt +within about 1\.5 points +meets$/);
    expect(lines.at(-1)).toBe(POSTER_RULE);
  });

  it('writes the same rows as a Markdown table', () => {
    expect(formatPosterComparisonMarkdown([mnist!])).toBe([
      '### Against the poster (regular → SCAAT)',
      '',
      '**data = mnist: trainer=scaat epsilon=0.3 (2 seeds) vs trainer=regular (3 seeds)**',
      '',
      '| measure | method | seeds | regular | SCAAT | measured | poster | verdict |',
      '|---|---|---:|---:|---:|---:|---|---|',
      '| Entropy (bits) | VG | 3 / 2 | 20.0 | 17.0 | −15.0 % | −15 to −20 % | meets |',
      '| Size (KB) (jpeg q75) | VG | 3 / 2 | 2.00 | 1.50 | −25.0 % | −35 to −45 % | falls short |',
      '| AOPC_lerf (uniform fill) | VG | 3 / 2 | 0.00400 | 0.000500 | ÷8.00 | ÷10 or more | falls short |',
      '| AOPC_rel (uniform fill) | VG | 3 / 2 | 50.0 | 600 | ×12.0 | ×10 or more | meets |',
      '| AOPC_rel (uniform fill) | SG | 3 / 0 | 40.0 | — | — | ×10 or more | undefined (SCAAT: no seed has a value) |',
      '| Clean accuracy |  | 3 / 2 | 99.0 % | 97.5 % | −1.50 pt | within about 1.5 points | meets |',
      '',
      POSTER_RULE,
      '',
    ].join('\n'));
  });
});

describe('seed spread', () => {
  // Regular's AOPC_lerf 0.004 ± 0.001; SCAAT's 0.0005 ± 0.0008 (std above its mean: ÷8 is not settled);
  // SCAAT's AOPC_rel 600 ± 600 (std equal to the mean: not above it); accuracy ± 0.1 points.
  const spreadModel: SweepTableModel = {
    seedAxis: 'seed',
    partitionAxis: 'data',
    columns: [COLUMNS[0]!, COLUMNS[4]!, COLUMNS[5]!],
    partitions: [{
      title: '',
      groups: [group({ trainer: 'regular' }, 3), group({ trainer: 'scaat' }, 3)],
      stats: [
        [{ mean: 0.99, std: 0.001, n: 3 }, { mean: 0.004, std: 0.001, n: 3 }, { mean: 50, std: 10, n: 3 }],
        [{ mean: 0.99, std: 0.001, n: 3 }, { mean: 0.0005, std: 0.0008, n: 3 }, { mean: 600, std: 600, n: 3 }],
      ],
      best: [null, null, null],
    }],
  };
  const [c] = buildPosterComparison(spreadModel, []);

  it('marks a change whose side has a seed standard deviation above its mean, and explains the mark once', () => {
    expect(c!.rows.map((r) => [r.label, r.measured, r.verdict, r.spread])).toEqual([
      ['AOPC_lerf (uniform fill)', '÷8.00', 'falls short', true],
      ['AOPC_rel (uniform fill)', '×12.0', 'meets', false],
      ['Clean accuracy', '0.00 pt', 'meets', false],
    ]);
    const md = formatPosterComparisonMarkdown([c!]);
    expect(md).toContain('| AOPC_lerf (uniform fill) | VG | 3 / 3 | 0.00400 | 0.000500 | ÷8.00 † | ÷10 or more | falls short |\n| AOPC_rel');
    expect(md).toContain(`| 0.00 pt | within about 1.5 points | meets |\n\n${SPREAD_NOTE}\n\n${POSTER_RULE}`);
    expect(formatPosterComparisonText([c!])).toContain(`  ${SPREAD_NOTE}\n\n${POSTER_RULE}`);
    expect(formatPosterComparisonMarkdown(buildPosterComparison(model, OPTIONS))).not.toContain('†');
  });
});

describe('buildPosterComparison with several AOPC fills', () => {
  /** A cell whose VG evaluation has AOPC_lerf and AOPC_rel with fills uniform then black. */
  const cell = (trainer: string, seed: number, entropy: number, lerf: [number, number], rel: [number, number]): SweepTableCell => {
    const name = `trainer=${trainer}__seed=${seed}`;
    const metrics = [
      { name: 'entropy', value: entropy },
      { name: 'aopc-lerf', variant: 'uniform fill', value: lerf[0] }, { name: 'aopc-lerf', variant: 'black fill', value: lerf[1] },
      { name: 'aopc-rel', variant: 'uniform fill', value: rel[0] }, { name: 'aopc-rel', variant: 'black fill', value: rel[1] },
    ];
    return { name, params: { trainer, seed: String(seed) }, run: { id: name, trainer, config: {}, seed, evaluation: { cleanAccuracy: 0.9, methods: [{ method: 'vanilla-gradient', metrics }] } } };
  };
  // uniform: AOPC_lerf ÷20, AOPC_rel ×20 (meets); black: ÷2, ×2 (falls short)
  const sweep = { cells: [cell('regular', 0, 6, [0.02, 0.002], [5, 50]), cell('scaat', 0, 4, [0.001, 0.001], [100, 100])], seedAxis: 'seed', partitionAxis: 'data' };

  it('compares each measure once per method, in the first fill, from the headline table and from the whole table alike', () => {
    for (const metrics of ['headline', 'all'] as const) {
      const [c] = buildPosterComparison(buildSweepTable(sweep, { metrics }), []);
      expect(c!.rows.map((r) => [r.column, r.measured, r.verdict]), metrics).toEqual([
        ['vanilla-gradient/entropy', '−33.3 %', 'meets'],
        ['vanilla-gradient/aopc-lerf (uniform fill)', '÷20.0', 'meets'],
        ['vanilla-gradient/aopc-rel (uniform fill)', '×20.0', 'meets'],
        ['clean-accuracy', '0.00 pt', 'meets'],
      ]);
    }
  });
});

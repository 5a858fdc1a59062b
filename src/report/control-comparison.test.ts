import { describe, expect, it } from 'vitest';
import { CONTROL_RULE, buildControlComparison, controlMismatch, controlSummary, controlVerdict, formatControlComparisonMarkdown, formatControlComparisonText } from './control-comparison.js';
import type { RunResult } from './run-results.js';
import { buildSweepTable, seedStat } from './sweep-table.js';
import type { SweepTableCell } from './sweep-table.js';

/** A cell with clean accuracy and VG entropy (↓) and AOPC_rel (↑; null: undefined). */
function cell(trainer: string, epsilon: string | undefined, seed: number, acc: number, entropy: number, rel: number | null): SweepTableCell {
  const params: Record<string, string> = { trainer, ...(epsilon !== undefined ? { epsilon } : {}), seed: String(seed) };
  const name = Object.entries(params).map(([k, v]) => `${k}=${v.replace('/', '_')}`).join('__');
  const run: RunResult = {
    id: name, trainer, config: {}, seed,
    evaluation: { cleanAccuracy: acc, methods: [{ method: 'vanilla-gradient', metrics: [{ name: 'entropy', value: entropy }, { name: 'aopc-rel', value: rel }] }] },
  };
  return { name, params, run };
}

describe('controlVerdict', () => {
  const two = (a: number, b: number) => seedStat([a, b]);
  it('beyond the seed spread, within it, by the means with one seed, equal, undefined', () => {
    // means 5 and 3, stds √2·0.1 each: |Δ| = 2 > 0.28
    expect(controlVerdict(two(4.9, 5.1), two(2.9, 3.1), 'higher-is-better')).toBe('SCAAT');
    expect(controlVerdict(two(4.9, 5.1), two(2.9, 3.1), 'lower-is-better')).toBe('control');
    // means 5 and 4.5, stds √2·1 and √2·0.1: |Δ| = 0.5 ≤ 1.56
    expect(controlVerdict(two(4, 6), two(4.4, 4.6), 'higher-is-better')).toBe('within the seed spread');
    expect(controlVerdict(seedStat([5]), two(2.9, 3.1), 'higher-is-better')).toBe('SCAAT, by the means');
    expect(controlVerdict(seedStat([5]), seedStat([6]), 'higher-is-better')).toBe('control, by the means');
    expect(controlVerdict(seedStat([5]), seedStat([5]), 'higher-is-better')).toBe('equal means');
    expect(controlVerdict(seedStat([null]), seedStat([5]), 'higher-is-better')).toBe('undefined');
  });
});

describe('buildControlComparison', () => {
  // ε 0.1: SCAAT and PGD-AT, 2 seeds each; ε 1: SCAAT only (no control there); regular: no pair
  const cells = [
    cell('regular', undefined, 0, 0.99, 6, 5), cell('regular', undefined, 1, 0.99, 6, 5),
    cell('scaat', '0.1', 0, 0.98, 4.0, 50), cell('scaat', '0.1', 1, 0.96, 4.2, 70),
    cell('pgd-at', '0.1', 0, 0.90, 6.0, 60), cell('pgd-at', '0.1', 1, 0.88, 6.2, null),
    cell('scaat', '1', 0, 0.95, 5, 900),
  ];
  const table = buildSweepTable({ cells, seedAxis: 'seed', partitionAxis: 'data' }, { metrics: 'headline' });
  const [c, ...rest] = buildControlComparison(table, { cells });

  it('pairs SCAAT with the control of the same ε only, and compares every measure with a direction', () => {
    expect(rest).toEqual([]);
    expect(c!.scaat).toEqual({ label: 'trainer=scaat epsilon=0.1', evaluated: 2 });
    expect(c!.control).toEqual({ label: 'trainer=pgd-at epsilon=0.1', evaluated: 2 });
    // accuracy 0.97 ± 0.014 vs 0.89 ± 0.014: SCAAT; entropy 4.1 vs 6.1 (↓, stds 0.14): SCAAT;
    // AOPC_rel 60 ± 14.1 (2 seeds) vs 60 (1 seed): equal means
    expect(c!.rows.map((r) => [r.column, r.verdict])).toEqual([
      ['clean-accuracy', 'SCAAT'],
      ['vanilla-gradient/entropy', 'SCAAT'],
      ['vanilla-gradient/aopc-rel', 'equal means'],
    ]);
    expect(controlSummary(c!)).toBe('of 3 measures, the control is better on 0, SCAAT on 2, 0 within the seed spread, 1 with equal means');
  });

  it('formats the pair as Markdown and as text, with the rule', () => {
    const md = formatControlComparisonMarkdown([c!]);
    expect(md).toContain('**trainer=scaat epsilon=0.1 vs trainer=pgd-at epsilon=0.1**: of 3 measures, the control is better on 0, SCAAT on 2, 0 within the seed spread, 1 with equal means.');
    expect(md).toContain('| Clean accuracy |  | 2 / 2 | 97.0 ± 1.4 % | 89.0 ± 1.4 % | SCAAT |');
    expect(md).toContain('| AOPC_rel | VG | 2 / 1 | 60.0 ± 14.1 | 60.0 | equal means |');
    expect(md.trimEnd().endsWith(CONTROL_RULE)).toBe(true);
    expect(formatControlComparisonText([c!])).toContain('  trainer=scaat epsilon=0.1 vs trainer=pgd-at epsilon=0.1: of 3 measures, the control is better on 0, SCAAT on 2');
    expect(formatControlComparisonMarkdown([])).toBe('');
    // one seed a side: the means alone, and no counts of the seed-spread rule
    const one = buildSweepTable({ cells: [cells[2]!, cells[4]!], seedAxis: 'seed', partitionAxis: 'data' }, { metrics: 'headline' });
    expect(controlSummary(buildControlComparison(one, { cells: [cells[2]!, cells[4]!] })[0]!)).toBe('of 3 measures, by the means alone (one seed): the control on 1, SCAAT on 2');
    expect(formatControlComparisonText([])).toBe('');
  });
});

describe('controlMismatch', () => {
  const step = { attack: 'fgsm-rs', epsilon: 8 / 255, alpha: 'auto', steps: 7, randomStart: true, validBox: 'project', loss: 'clean+adv', lambda: 1, sharedBackward: false, attackGradient: 'fresh' };
  // what the pgd-at trainer resolves for the same step (alpha 'auto' → 1.25·ε for FGSM-RS)
  const control = { ...step, alpha: 1.25 * (8 / 255), attackGradientCacheMiB: 1024 };

  it('reads α \'auto\' as its value and a missing option as its default', () => {
    // SCAAT's 'auto' at FGSM-RS is 1.25·ε: a control with another α is not its control
    expect(controlMismatch(step, { ...control, alpha: 0.1 })).toEqual(['alpha']);
    expect(controlMismatch({ ...step, attack: 'pgd' }, { ...control, attack: 'pgd', alpha: (8 / 255) / 4 })).toEqual([]);
    expect(controlMismatch({ ...step, attack: 'pgd' }, { ...control, attack: 'pgd' })).toEqual(['alpha']); // 1.25·ε is not PGD's ε/4
    // a config written before sharedBackward and attackGradient existed: their defaults
    const { sharedBackward: _s, attackGradient: _a, ...old } = control;
    expect(controlMismatch(step, old)).toEqual([]);
    expect(controlMismatch({ ...step, attackGradient: 'train-backward' }, old)).toEqual(['attackGradient']);
  });

  it('is empty for the control of the same step, whatever SCAAT-only options or the cache say', () => {
    expect(controlMismatch({ ...step, saliencySource: 'train-backward', warmupEpochs: 2 }, control)).toEqual([]);
    // ε within a relative 1e-9 (computed differently), steps that FGSM-RS ignores, λ that 'adv-only' ignores
    expect(controlMismatch({ ...step, epsilon: 0.0313725490196078 }, control)).toEqual([]);
    expect(controlMismatch({ ...step, steps: 1 }, control)).toEqual([]);
    expect(controlMismatch({ ...step, loss: 'adv-only', lambda: 2 }, { ...control, loss: 'adv-only' })).toEqual([]);
    // 'noise' takes neither α nor steps
    expect(controlMismatch({ ...step, attack: 'noise', alpha: 0.5 }, { ...control, attack: 'noise', steps: 3 })).toEqual([]);
  });

  it('names each option of the step that differs', () => {
    expect(controlMismatch(step, { ...control, loss: 'adv-only' })).toEqual(['loss']);
    expect(controlMismatch(step, { ...control, attackGradient: 'train-backward', sharedBackward: true })).toEqual(['sharedBackward', 'attackGradient']);
    expect(controlMismatch(step, { ...control, epsilon: 16 / 255 })).toEqual(['epsilon']);
    expect(controlMismatch({ ...step, loss: 'clean+adv', lambda: 2 }, control)).toEqual(['lambda']);
    // PGD: the steps act; a written α is compared
    expect(controlMismatch({ ...step, attack: 'pgd', steps: 7 }, { ...control, attack: 'pgd', alpha: (8 / 255) / 4, steps: 10 })).toEqual(['steps']);
    expect(controlMismatch({ ...step, alpha: 0.01 }, { ...control, alpha: 0.02 })).toEqual(['alpha']);
    expect(controlMismatch(step, { ...control, attack: 'pgd' })).toEqual(['attack']);
  });
});

describe('buildControlComparison with several SCAAT variants and their controls', () => {
  // cifar10-cheap's shape: two SCAAT variants (one-pass: attackGradient + 'adv-only'; two-forward:
  // attackGradient alone) and their two controls, each variant an axis of its own trainer's options
  const base = { attack: 'fgsm-rs', epsilon: 8 / 255, alpha: 'auto', steps: 7, randomStart: true, validBox: 'project', loss: 'clean+adv', lambda: 1, sharedBackward: false, attackGradient: 'fresh' };
  function variant(trainer: 'scaat' | 'pgd-at', options: Record<string, string>, seed: number, acc: number): SweepTableCell {
    const params: Record<string, string> = { trainer, ...Object.fromEntries(Object.entries(options).map(([k, v]) => [`${trainer}.${k}`, v])), seed: String(seed) };
    const name = Object.entries(params).map(([k, v]) => `${k}=${v}`).join('__');
    const resolved = { ...base, ...(trainer === 'pgd-at' ? { alpha: 1.25 * (8 / 255) } : {}), ...options };
    const run: RunResult = {
      id: name, trainer, config: { trainer, trainerOptions: { [trainer]: resolved } }, seed,
      evaluation: { cleanAccuracy: acc, methods: [{ method: 'vanilla-gradient', metrics: [{ name: 'entropy', value: 5 }] }] },
    };
    return { name, params, run };
  }
  const onePass = { attackGradient: 'train-backward', loss: 'adv-only' };
  const twoForward = { attackGradient: 'train-backward' };
  const cells = [0, 1].flatMap((seed) => [
    variant('scaat', { ...onePass, saliencySource: 'train-backward' }, seed, 0.9),
    variant('pgd-at', onePass, seed, 0.8),
    variant('scaat', { ...twoForward, saliencySource: 'train-backward' }, seed, 0.9),
    variant('pgd-at', twoForward, seed, 0.8),
  ]);
  const table = buildSweepTable({ cells, seedAxis: 'seed', partitionAxis: 'data' }, { metrics: 'headline' });
  const grid = { axes: [{ 'scaat.attackGradient': ['train-backward'], 'scaat.loss': ['adv-only'], 'scaat.saliencySource': ['train-backward'] }, { 'pgd-at.attackGradient': ['train-backward'], 'pgd-at.loss': ['adv-only'] }] };

  it('pairs each variant with its own control only', () => {
    const pairs = buildControlComparison(table, { cells, grid }).map((c) => [c.scaat.label, c.control.label]);
    expect(pairs).toEqual([
      ['trainer=scaat scaat.attackGradient=train-backward scaat.loss=adv-only scaat.saliencySource=train-backward', 'trainer=pgd-at pgd-at.attackGradient=train-backward pgd-at.loss=adv-only'],
      ['trainer=scaat scaat.attackGradient=train-backward scaat.saliencySource=train-backward', 'trainer=pgd-at pgd-at.attackGradient=train-backward'],
    ]);
  });

  it('without the runs\' configurations pairs by the grid\'s parameters alone (every variant with every control)', () => {
    const bare = cells.map((c) => ({ ...c, run: { ...c.run!, config: {} } }));
    expect(buildControlComparison(buildSweepTable({ cells: bare, seedAxis: 'seed', partitionAxis: 'data' }, { metrics: 'headline' }), { cells: bare, grid })).toHaveLength(4);
  });
});

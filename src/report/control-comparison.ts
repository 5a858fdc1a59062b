/**
 * SCAAT against its fair control (issue 13: "where SCAAT does not beat the fair PGD-AT control, the
 * report says so plainly"): every SCAAT group against each whole-image PGD-AT group of its partition
 * that is its control: the same other parameters (the same ε and attack on an ε axis;
 * poster-comparison.ts pairedGroups) and, where both groups have a run's resolved configuration,
 * the same step (CONTROL_STEP_OPTIONS, the options scaat/config.ts pgdAtControlOptions carries
 * over), so a grid of several SCAAT variants and their controls pairs each variant with its own;
 * measure by measure (clean accuracy and the headline table's metrics per saliency method, a
 * metric's first column), which side is better: beyond the seed spread when both sides have two or
 * more seeds (the table's rule: the means differ by more than the sum of the two standard
 * deviations), else by the means alone, said so.
 *
 * Pure: the numbers are buildSweepTable's, the configurations the runs' (plain JSON: the report
 * room does not import the trainers).
 */
import { METHOD_SHORT, methodLabel } from './run-results.js';
import { pairedGroups, trainerOptionParams } from './poster-comparison.js';
import type { GroupRef, PosterComparison } from './poster-comparison.js';
import { formatColumnStat, markdownRow } from './sweep-table.js';
import type { Direction } from './run-results.js';
import type { SeedStat, SweepGroup, SweepTableCell, SweepTableModel } from './sweep-table.js';

/** Which side a measure favours: beyond the seed spread, by the means only (a side with one seed), or neither. */
export type ControlVerdict = 'SCAAT' | 'control' | 'SCAAT, by the means' | 'control, by the means' | 'within the seed spread' | 'equal means' | 'undefined';

export interface ControlRow {
  /** The table column's key. */
  readonly column: string;
  readonly label: string;
  readonly method?: string;
  readonly scaat: SeedStat;
  readonly control: SeedStat;
  readonly verdict: ControlVerdict;
}

/** A SCAAT group against a whole-image control group. */
export interface ControlComparison extends Omit<PosterComparison, 'regular' | 'rows'> {
  readonly control: GroupRef;
  readonly rows: readonly ControlRow[];
}

/** The section's heading (table.md, the terminal, the HTML). */
export const CONTROL_HEADING = 'SCAAT against the whole-image control (same other settings)';

/** How the verdicts are reached (table.md, the terminal, the HTML). */
export const CONTROL_RULE =
  'A side is better on a measure when its mean is better and, with at least two seeds on both sides, the two means differ by more than the sum of their standard deviations (else: within the seed spread); with one seed on a side the means alone decide, marked "by the means".';

/**
 * The options of SCAAT's step that its whole-image control takes over (scaat/config.ts
 * pgdAtControlOptions, less the memory cap of kept signs): a PGD-AT group whose resolved options
 * differ from a SCAAT group's in one of them is not that group's control.
 */
export const CONTROL_STEP_OPTIONS = ['attack', 'epsilon', 'alpha', 'steps', 'randomStart', 'validBox', 'loss', 'lambda', 'sharedBackward', 'attackGradient'] as const;

/**
 * The defaults both trainers give these options (method.md §2.3–2.6; the schemas of scaat/config.ts
 * and train/pgd-at.ts, which test/integration/control-options.test.ts checks this against): a
 * config.json written before an option existed is read as having its default.
 */
export const CONTROL_STEP_DEFAULTS: Readonly<Record<(typeof CONTROL_STEP_OPTIONS)[number], unknown>> = {
  attack: 'pgd',
  epsilon: 8 / 255,
  alpha: 'auto',
  steps: 7,
  randomStart: true,
  validBox: 'project',
  loss: 'clean+adv',
  lambda: 1,
  sharedBackward: false,
  attackGradient: 'fresh',
};

/**
 * α of 'auto' for an attack at ε (attacks/registry.ts defaultAlpha, method.md §2.3: ε/4 for PGD,
 * 1.25·ε for FGSM-RS, 0 for noise; test/integration/control-options.test.ts checks the two agree):
 * the report room reads JSON and does not import the attacks.
 */
export function autoAlpha(attack: unknown, epsilon: number): number | undefined {
  return attack === 'pgd' ? epsilon / 4 : attack === 'fgsm-rs' ? 1.25 * epsilon : attack === 'noise' ? 0 : undefined;
}

/**
 * The step options (of {@link CONTROL_STEP_OPTIONS}) in which a PGD-AT run's resolved `pgd-at`
 * options differ from a SCAAT run's resolved `scaat` options: [] when the PGD-AT run is the SCAAT
 * run's whole-image control. An option missing from a side (a config written before it existed)
 * has its default ({@link CONTROL_STEP_DEFAULTS}); α 'auto' its value ({@link autoAlpha}). Options
 * that do not act are not compared: `steps` unless the attack is 'pgd' (FGSM-RS takes one, 'noise'
 * none), `alpha` for 'noise', `lambda` under the loss 'adv-only'. Numbers are equal within a
 * relative 1e-9 (ε written as 8/255 on both sides).
 */
export function controlMismatch(scaat: Readonly<Record<string, unknown>>, control: Readonly<Record<string, unknown>>): string[] {
  const value = (side: Readonly<Record<string, unknown>>, k: (typeof CONTROL_STEP_OPTIONS)[number]): unknown => {
    const v = Object.hasOwn(side, k) ? side[k] : CONTROL_STEP_DEFAULTS[k];
    if (k !== 'alpha' || v !== 'auto') return v;
    const epsilon = value(side, 'epsilon');
    return typeof epsilon === 'number' ? autoAlpha(value(side, 'attack'), epsilon) : undefined;
  };
  const [s, c] = [(k: (typeof CONTROL_STEP_OPTIONS)[number]) => value(scaat, k), (k: (typeof CONTROL_STEP_OPTIONS)[number]) => value(control, k)];
  const acts = (k: (typeof CONTROL_STEP_OPTIONS)[number]): boolean => {
    if (k === 'steps') return s('attack') === 'pgd' || c('attack') === 'pgd';
    if (k === 'alpha') return s('attack') !== 'noise' && c('attack') !== 'noise';
    if (k === 'lambda') return s('loss') !== 'adv-only' || c('loss') !== 'adv-only';
    return true;
  };
  const same = (a: unknown, b: unknown): boolean =>
    typeof a === 'number' && typeof b === 'number' ? Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b)) : a === b;
  return CONTROL_STEP_OPTIONS.filter((k) => acts(k) && !same(s(k), c(k)));
}

/** A group's resolved options of `trainer` (its first cell with a run that has them), if any. */
function trainerOptionsOf(group: SweepGroup, trainer: string, runs: ReadonlyMap<string, SweepTableCell['run']>): Readonly<Record<string, unknown>> | undefined {
  for (const name of group.cells) {
    const options = (runs.get(name)?.config as { trainerOptions?: Record<string, unknown> } | undefined)?.trainerOptions?.[trainer];
    if (typeof options === 'object' && options !== null) return options as Readonly<Record<string, unknown>>;
  }
  return undefined;
}

/**
 * Every SCAAT group against every PGD-AT group of its partition that is its control (the same other
 * parameters of the grid, poster-comparison.ts pairedGroups; and the same step by
 * {@link controlMismatch} where both groups have a run's resolved configuration); `table` is a
 * headline table of `sweep` (buildSweepTable with metrics 'headline'): its columns with a
 * direction are compared.
 */
export function buildControlComparison(table: SweepTableModel, sweep: { readonly cells: readonly SweepTableCell[]; readonly grid?: unknown }): ControlComparison[] {
  const columns = table.columns.map((c, j) => ({ c, j })).filter(({ c }) => c.direction !== undefined);
  const runs = new Map(sweep.cells.map((c) => [c.name, c.run]));
  const fair = (scaat: SweepGroup, control: SweepGroup): boolean => {
    const [s, c] = [trainerOptionsOf(scaat, 'scaat', runs), trainerOptionsOf(control, 'pgd-at', runs)];
    return s === undefined || c === undefined || controlMismatch(s, c).length === 0;
  };
  return pairedGroups(table, trainerOptionParams(sweep.grid), 'scaat', 'pgd-at', fair).map(({ partition: p, first: si, second: ci }) => ({
    partition: p.title,
    scaat: { label: p.groups[si]!.label, evaluated: p.groups[si]!.evaluated },
    control: { label: p.groups[ci]!.label, evaluated: p.groups[ci]!.evaluated },
    rows: columns.map(({ c, j }) => ({
      column: c.key,
      label: c.label,
      ...(c.method !== undefined ? { method: c.method } : {}),
      scaat: p.stats[si]![j]!,
      control: p.stats[ci]![j]!,
      verdict: controlVerdict(p.stats[si]![j]!, p.stats[ci]![j]!, c.direction!),
    })),
  }));
}

/** The verdict of one measure (see {@link CONTROL_RULE}). */
export function controlVerdict(scaat: SeedStat, control: SeedStat, direction: Direction): ControlVerdict {
  if (scaat.mean === null || control.mean === null) return 'undefined';
  if (scaat.mean === control.mean) return 'equal means';
  const scaatBetter = direction === 'higher-is-better' ? scaat.mean > control.mean : scaat.mean < control.mean;
  if (scaat.n < 2 || control.n < 2 || scaat.std === null || control.std === null) return scaatBetter ? 'SCAAT, by the means' : 'control, by the means';
  if (Math.abs(scaat.mean - control.mean) <= scaat.std + control.std) return 'within the seed spread';
  return scaatBetter ? 'SCAAT' : 'control';
}

/** The pair's one-line summary: how many measures each side wins, beyond the spread and by the means. */
export function controlSummary(c: ControlComparison): string {
  const count = (v: ControlVerdict) => c.rows.filter((r) => r.verdict === v).length;
  // the counts beyond and within the seed spread where some measure has two seeds a side
  const spreadJudged = count('control') + count('SCAAT') + count('within the seed spread') > 0;
  const parts = spreadJudged ? [`the control is better on ${count('control')}`, `SCAAT on ${count('SCAAT')}`, `${count('within the seed spread')} within the seed spread`] : [];
  const byMeans = count('control, by the means') + count('SCAAT, by the means');
  if (byMeans > 0) parts.push(`by the means alone (one seed): the control on ${count('control, by the means')}, SCAAT on ${count('SCAAT, by the means')}`);
  if (count('equal means') > 0) parts.push(`${count('equal means')} with equal means`);
  if (count('undefined') > 0) parts.push(`${count('undefined')} undefined`);
  return `of ${c.rows.length} measures, ${parts.join(', ')}`;
}

/** The columns of a pair's table. */
export const CONTROL_HEADER = ['measure', 'method', 'seeds', 'SCAAT', 'control', 'better'] as const;
const HEADER: readonly string[] = CONTROL_HEADER;

/** A row's cells, in the order of {@link CONTROL_HEADER}. */
export function controlRowCells(r: ControlRow): string[] {
  const method = r.method === undefined ? '' : METHOD_SHORT[r.method] ?? methodLabel({ method: r.method });
  return [r.label, method, `${r.scaat.n} / ${r.control.n}`, formatColumnStat(r.scaat, r.column), formatColumnStat(r.control, r.column), r.verdict];
}

/** The pair's title: '<partition>: <SCAAT group> vs <control group>'. */
export function controlTitle(c: ControlComparison): string {
  return `${c.partition ? `${c.partition}: ` : ''}${c.scaat.label} vs ${c.control.label}`;
}

/** table.md's section ('' without pairs). */
export function formatControlComparisonMarkdown(comparisons: readonly ControlComparison[]): string {
  if (comparisons.length === 0) return '';
  const out = [`### ${CONTROL_HEADING}`, ''];
  for (const c of comparisons) {
    out.push(`**${controlTitle(c)}**: ${controlSummary(c)}.`, '', markdownRow(HEADER), '|---|---|---:|---:|---:|---|', ...c.rows.map((r) => markdownRow(controlRowCells(r))), '');
  }
  out.push(CONTROL_RULE);
  return `${out.join('\n')}\n`;
}

/** The same as plain text for the terminal ('' without pairs). */
export function formatControlComparisonText(comparisons: readonly ControlComparison[]): string {
  if (comparisons.length === 0) return '';
  const out = [`${CONTROL_HEADING}:`];
  for (const c of comparisons) {
    out.push(`  ${controlTitle(c)}: ${controlSummary(c)}`);
    const lines = [HEADER, ...c.rows.map(controlRowCells)];
    const widths = HEADER.map((_, k) => Math.max(...lines.map((l) => [...l[k]!].length)));
    for (const l of lines) out.push(`    ${l.map((x, k) => x + ' '.repeat(widths[k]! - [...x].length)).join('  ').trimEnd()}`);
  }
  out.push(CONTROL_RULE);
  return out.join('\n');
}

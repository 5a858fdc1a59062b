/**
 * SCAAT against its fair control (issue 13: "where SCAAT does not beat the fair PGD-AT control, the
 * report says so plainly"): every SCAAT group against each whole-image PGD-AT group of its partition
 * with the same other parameters (the same ε and attack on an ε axis; poster-comparison.ts
 * pairedGroups), measure by measure (clean accuracy and the headline table's metrics per saliency
 * method, a metric's first column), which side is better: beyond the seed spread when both sides
 * have two or more seeds (the table's rule: the means differ by more than the sum of the two
 * standard deviations), else by the means alone, said so.
 *
 * Pure: the numbers are buildSweepTable's.
 */
import { METHOD_SHORT, methodLabel } from './run-results.js';
import { pairedGroups } from './poster-comparison.js';
import type { GroupRef, PosterComparison } from './poster-comparison.js';
import { formatSeedStat, markdownRow } from './sweep-table.js';
import type { Direction } from './run-results.js';
import type { SeedStat, SweepTableModel } from './sweep-table.js';

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
 * Every SCAAT group against every PGD-AT group of its partition with the same other parameters
 * (`trainerOptions`: poster-comparison.ts trainerOptionParams); `table` is a headline table
 * (buildSweepTable with metrics 'headline'): its columns with a direction are compared.
 */
export function buildControlComparison(table: SweepTableModel, trainerOptions: readonly string[]): ControlComparison[] {
  const columns = table.columns.map((c, j) => ({ c, j })).filter(({ c }) => c.direction !== undefined);
  return pairedGroups(table, trainerOptions, 'scaat', 'pgd-at').map(({ partition: p, first: si, second: ci }) => ({
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
  const percent = r.column === 'clean-accuracy';
  const method = r.method === undefined ? '' : METHOD_SHORT[r.method] ?? methodLabel({ method: r.method });
  return [r.label, method, `${r.scaat.n} / ${r.control.n}`, formatSeedStat(r.scaat, percent), formatSeedStat(r.control, percent), r.verdict];
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

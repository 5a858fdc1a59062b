/**
 * The sweep report's q_i figures: SCAAT's q_i histogram per epoch (figures.ts `q-distribution`,
 * the same figure as a run's report) for each group of SCAAT cells, from its first seed with a q_i
 * log (the first such cell of the group in grid order); the caption says which cell it is. One
 * seed per group keeps the report short: the q_i search is the same rule in every seed, and the
 * groups (ε, attack, search variant, …) are what differ.
 *
 * Beside the figures, {@link sweepQRows} puts every seed's final q_i distribution into numbers
 * (mean ± std over seeds): whether q_i adapted per sample or ended as one bar.
 *
 * Pure: the specs are figures.ts figureSpecs of that one run; rendering is renderSpecSvg.
 */
import { figureSpecs, renderSpecSvg } from './figures.js';
import type { Figure, FigureSpec } from './figures.js';
import { RESULTS_SCHEMA_VERSION } from './run-results.js';
import type { Histogram } from './run-results.js';
import { formatSeedStat, markdownRow, seedStat } from './sweep-table.js';
import type { SeedStat, SweepGroup, SweepPartition, SweepTableCell, SweepTableModel } from './sweep-table.js';

/** A partition value or group label as a file-name part ([A-Za-z0-9.+-] and '_'). */
function idPart(s: string): string {
  return s.replace(/[^A-Za-z0-9.+-]+/g, '_').replace(/^_+|_+$/g, '');
}

/**
 * Each partition's groups with their evaluated SCAAT cells (trainer 'scaat', grid order), groups
 * without one left out: what the q_i figures and the q_i table are made of.
 */
function scaatGroups(
  sweep: { readonly cells: readonly SweepTableCell[] },
  table: SweepTableModel,
): Array<{ partition: SweepPartition; group: SweepGroup; cells: SweepTableCell[] }> {
  const byName = new Map(sweep.cells.map((c) => [c.name, c] as const));
  return table.partitions.flatMap((partition) =>
    partition.groups.flatMap((group) => {
      const cells = group.cells.flatMap((name) => {
        const c = byName.get(name);
        return c?.run?.trainer === 'scaat' ? [c] : [];
      });
      return cells.length > 0 ? [{ partition, group, cells }] : [];
    }),
  );
}

/**
 * One `q-distribution` figure spec per group of SCAAT cells (trainer 'scaat') that has a cell
 * with a current evaluation and a q_i log; ids `q-distribution-<partition>-<group>`.
 */
export function sweepQSpecs(sweep: { readonly cells: readonly SweepTableCell[] }, table: SweepTableModel): FigureSpec[] {
  const ids = new Set<string>();
  const specs: FigureSpec[] = [];
  for (const { partition: p, group: g, cells: scaat } of scaatGroups(sweep, table)) {
    const value = p.title.includes(' = ') ? p.title.slice(p.title.indexOf(' = ') + 3) : '';
    const first = scaat.find((c) => (c.run!.training?.q?.length ?? 0) > 0);
    if (!first) continue;
    const run = first.run!;
    const q = figureSpecs({ schemaVersion: RESULTS_SCHEMA_VERSION, runs: [{ id: run.id, trainer: run.trainer, ...(run.label !== undefined ? { label: run.label } : {}), config: {}, seed: run.seed, training: { epochs: [], q: run.training!.q! } }] })
      .find((f) => f.id === 'q-distribution')!;
    const base = ['q-distribution', idPart(value), idPart(g.label)].filter(Boolean).join('-');
    let id = base;
    for (let k = 2; ids.has(id); k++) id = `${base}-${k}`;
    ids.add(id);
    const seed = first.params[table.seedAxis];
    const others = scaat.length - 1;
    specs.push({
      id,
      title: `${p.title ? `${p.title}: ` : ''}SCAAT's q_i over epochs, ${g.label}`,
      caption:
        `${q.caption} One figure per group of SCAAT cells: this is its first ${table.seedAxis} with a q_i log ` +
        `(${seed !== undefined ? `${table.seedAxis} ${seed}, ` : ''}cell ${first.name}); ${others === 0 ? 'the group has no other evaluated cell.' : `${others} other evaluated cell${others === 1 ? ' of the group is' : 's of the group are'} not shown.`}`,
      spec: q.spec,
    });
  }
  return specs;
}

/** The sweep's q_i figures rendered to SVG (see {@link sweepQSpecs}). */
export async function renderSweepQFigures(sweep: { readonly cells: readonly SweepTableCell[] }, table: SweepTableModel): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const f of sweepQSpecs(sweep, table)) figures.push({ id: f.id, title: f.title, caption: f.caption, svg: await renderSpecSvg(f.spec) });
  return figures;
}

/** A bin holding at least this share of the samples counts as a bar in {@link SweepQRow.bars}. */
export const Q_BAR_SHARE = 0.05;

/**
 * The final epoch's q_i distribution of one group of SCAAT cells, each a {@link SeedStat} over the
 * group's seeds with a q_i log: its mean and median, the share of samples in the histogram's
 * largest bin, and the number of bins holding at least {@link Q_BAR_SHARE} of the samples. One bar
 * (every sample at about the same q) reads as share ≈ 100 %, 1 bar.
 */
export interface SweepQRow {
  /** The partition's title ('' without a partition axis). */
  readonly partition: string;
  readonly group: string;
  /** Width of the histogram's bins (the run's `ratioHistogramBins`: 0.05 for 20). */
  readonly binWidth: number;
  readonly mean: SeedStat;
  readonly median: SeedStat;
  readonly topBinShare: SeedStat;
  readonly bars: SeedStat;
}

/** Share of the samples in the largest bin, and the bins holding at least {@link Q_BAR_SHARE} of them. */
export function histogramSpread(h: Histogram): { topBinShare: number; bars: number } {
  const total = h.counts.reduce((a, c) => a + c, 0);
  if (total === 0) return { topBinShare: NaN, bars: 0 };
  return { topBinShare: Math.max(...h.counts) / total, bars: h.counts.filter((c) => c / total >= Q_BAR_SHARE).length };
}

/** One {@link SweepQRow} per group of SCAAT cells with a q_i log, in the table's order. */
export function sweepQRows(sweep: { readonly cells: readonly SweepTableCell[] }, table: SweepTableModel): SweepQRow[] {
  const rows: SweepQRow[] = [];
  for (const { partition: p, group: g, cells } of scaatGroups(sweep, table)) {
    const finals = cells.flatMap((c) => {
      const q = c.run!.training?.q;
      return q && q.length > 0 ? [q[q.length - 1]!] : [];
    });
    if (finals.length === 0) continue;
    const spread = finals.map((e) => histogramSpread(e.histogram));
    const edges = finals[0]!.histogram.edges;
    rows.push({
      partition: p.title,
      group: g.label,
      binWidth: edges.length > 1 ? edges[1]! - edges[0]! : NaN,
      mean: seedStat(finals.map((e) => e.mean)),
      median: seedStat(finals.map((e) => e.median)),
      topBinShare: seedStat(spread.map((s) => s.topBinShare)),
      bars: seedStat(spread.map((s) => s.bars)),
    });
  }
  return rows;
}

/** The rows as a Markdown section ('' when there are none). */
export function formatSweepQMarkdown(rows: readonly SweepQRow[]): string {
  if (rows.length === 0) return '';
  const width = rows[0]!.binWidth;
  const lines = [
    `### q_i at the end of training (SCAAT cells; mean ± std over seeds)`,
    '',
    `Largest bin: the share of the training samples in the most populated bin of the final epoch's q_i histogram (bins ${Number.isFinite(width) ? `${+width.toFixed(4)} wide` : 'as logged'}); bars: bins holding at least ${Q_BAR_SHARE * 100} % of the samples. One bar, every sample at about the same q, reads as 100 %, 1.`,
    '',
    markdownRow(['group', 'seeds', 'mean q', 'median q', 'largest bin', 'bars']),
    markdownRow(['---', '---:', '---:', '---:', '---:', '---:']),
  ];
  for (const r of rows) {
    const label = r.partition ? `${r.partition}: ${r.group}` : r.group;
    lines.push(markdownRow([label, String(r.topBinShare.n), formatSeedStat(r.mean), formatSeedStat(r.median), formatSeedStat(r.topBinShare, true), formatSeedStat(r.bars)]));
  }
  return `${lines.join('\n')}\n`;
}

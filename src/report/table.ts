/**
 * The paper's table as data, and as text for the terminal or Markdown.
 *
 * Columns are runs (regular first, then SCAAT, then the baselines, in {@link TRAINER_INFO} order);
 * sections are saliency methods; rows are metrics with their direction (↓ lower is better,
 * ↑ higher is better). Clean accuracy comes first. In every row with a direction and at least
 * two values, the best value is marked (ties: all of them).
 */
import {
  HEADLINE_METRICS,
  METHOD_LABELS,
  METHOD_SHORT,
  METRIC_INFO,
  TRAINER_INFO,
  firstVariants,
  methodLabel,
  metricDirection,
  metricKey,
  metricLabel,
  runLabel,
} from './run-results.js';
import type { Direction, RunResult, RunResults, TrainingWarning } from './run-results.js';

/** A column of the table. */
export interface TableColumn {
  readonly id: string;
  readonly label: string;
  readonly trainer: string;
}

/** A row: one metric (and variant) of one method across the columns. */
export interface TableRow {
  /** `${metric}` or `${metric} (${variant})`. */
  readonly key: string;
  readonly metric: string;
  readonly label: string;
  readonly direction: Direction | undefined;
  /** One per column; null where the run lacks the value or the value is undefined. */
  readonly values: readonly (number | null)[];
  /** One per column: why a null value is undefined (not merely missing), else null. */
  readonly undefinedReasons: readonly (string | null)[];
  /** Column indices holding the best value (empty when there is no direction or fewer than two values). */
  readonly best: readonly number[];
  /** Whether the metric is one of the paper's four. */
  readonly headline: boolean;
}

/** The rows of one saliency method. */
export interface TableSection {
  readonly method: string;
  readonly label: string;
  readonly short: string;
  readonly rows: readonly TableRow[];
}

/** The whole table. */
export interface TableModel {
  readonly columns: readonly TableColumn[];
  /** Clean accuracy in [0, 1] per column (↑). */
  readonly accuracy: TableRow;
  readonly sections: readonly TableSection[];
}

/** Options of {@link buildTable}. */
export interface TableOptions {
  /**
   * 'headline': the paper's four metrics only, one row each per method (a metric's first variant,
   * e.g. AOPC's first fill: {@link firstVariants}); 'all': every metric and variant in the results.
   * @default 'all'
   */
  readonly metrics?: 'headline' | 'all';
  /**
   * Show AOPC_lerf in the poster's unit, ×10⁻³ (values × 1000, label 'AOPC_lerf (×10⁻³)'), as the
   * paper's table does. @default false
   */
  readonly posterUnits?: boolean;
}

/** Metrics the paper's table shows in a scaled unit: key → [factor, unit label]. */
export const POSTER_UNITS: Readonly<Record<string, readonly [number, string]>> = { 'aopc-lerf': [1000, '×10⁻³'] };

/** Runs in column order: known trainers by {@link TRAINER_INFO} order, others after, stable. */
export function orderRuns(runs: readonly RunResult[]): RunResult[] {
  const rank = (t: string) => TRAINER_INFO[t]?.order ?? Object.keys(TRAINER_INFO).length;
  return runs
    .map((r, i) => ({ r, i }))
    .sort((a, b) => rank(a.r.trainer) - rank(b.r.trainer) || a.i - b.i)
    .map(({ r }) => r);
}

/** Builds the table from results (pure). */
export function buildTable(results: RunResults, { metrics = 'all', posterUnits = false }: TableOptions = {}): TableModel {
  const runs = orderRuns(results.runs);
  const labels = uniqueLabels(runs);
  const columns: TableColumn[] = runs.map((r, i) => ({ id: r.id, label: labels[i]!, trainer: r.trainer }));

  const accValues = runs.map((r) => r.evaluation?.cleanAccuracy ?? null);
  const accuracy = makeRow('clean-accuracy', 'clean-accuracy', 'Clean accuracy', 'higher-is-better', accValues, accValues.map(() => null), false);

  // Methods in first-seen order, known ones first.
  const methodKeys: string[] = [];
  for (const r of runs) for (const m of r.evaluation?.methods ?? []) if (!methodKeys.includes(m.method)) methodKeys.push(m.method);
  const known = Object.keys(METHOD_LABELS);
  methodKeys.sort((a, b) => rankOf(known, a) - rankOf(known, b));

  const sections: TableSection[] = methodKeys.map((method) => {
    // Row keys in first-seen order, then sorted by the metric's known order.
    const rowInfo = new Map<string, { metric: string; label: string; direction: Direction | undefined }>();
    for (const r of runs) {
      const m = r.evaluation?.methods.find((x) => x.method === method);
      for (const v of metrics === 'headline' ? firstVariants(m?.metrics ?? []) : (m?.metrics ?? [])) {
        if (metrics === 'headline' && !HEADLINE_METRICS.includes(v.name)) continue;
        const key = metricKey(v);
        if (!rowInfo.has(key)) {
          const unit = posterUnits ? POSTER_UNITS[v.name] : undefined;
          const name = unit ? `${metricLabel(v)} (${unit[1]})` : metricLabel(v);
          const label = v.variant ? `${name} (${v.variant})` : name;
          rowInfo.set(key, { metric: v.name, label, direction: metricDirection(v) });
        }
      }
    }
    const keys = [...rowInfo.keys()].sort((a, b) => {
      const oa = METRIC_INFO[rowInfo.get(a)!.metric]?.order ?? 99;
      const ob = METRIC_INFO[rowInfo.get(b)!.metric]?.order ?? 99;
      return oa - ob;
    });
    const rows = keys.map((key) => {
      const info = rowInfo.get(key)!;
      const found = runs.map((r) => {
        const m = r.evaluation?.methods.find((x) => x.method === method);
        return m?.metrics.find((x) => metricKey(x) === key);
      });
      const factor = posterUnits ? (POSTER_UNITS[info.metric]?.[0] ?? 1) : 1;
      const values = found.map((v) => (v?.value === null || v?.value === undefined ? null : v.value * factor));
      const reasons = found.map((v) => (v?.value === null && v.undefinedReason ? v.undefinedReason : null));
      return makeRow(key, info.metric, info.label, info.direction, values, reasons, HEADLINE_METRICS.includes(info.metric));
    });
    const first = runs.flatMap((r) => r.evaluation?.methods ?? []).find((m) => m.method === method)!;
    return { method, label: methodLabel(first), short: METHOD_SHORT[method] ?? method, rows };
  });
  return { columns, accuracy, sections };
}

/** Indices of the best values in `values` under `direction` (all ties; none if < 2 values). */
export function bestIndices(values: readonly (number | null)[], direction: Direction | undefined): number[] {
  if (!direction) return [];
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (present.length < 2) return [];
  const target = direction === 'lower-is-better' ? Math.min(...present) : Math.max(...present);
  return values.flatMap((v, i) => (v === target ? [i] : []));
}

/** ↓ for lower-is-better, ↑ for higher-is-better, '' otherwise. */
export function arrow(direction: Direction | undefined): string {
  return direction === 'lower-is-better' ? '↓' : direction === 'higher-is-better' ? '↑' : '';
}

/**
 * A number for a table cell: three significant digits, no exponent below 1e-4
 * (e.g. 5.61, 4.20, 78.1, 1030, 0.00320); '—' for a missing value.
 */
export function formatValue(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 100) return v.toFixed(a >= 1000 ? 0 : 1).replace(/\.0$/, '');
  if (a >= 1e-4) return v.toPrecision(3);
  return v.toExponential(2);
}

/** Accuracy in [0, 1] as a percentage with one decimal ('97.7 %'). */
export function formatPercent(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return `${(v * 100).toFixed(1)} %`;
}

/**
 * The table as aligned plain text for the terminal; best values carry a trailing '*'.
 * @example
 * formatTableText(buildTable(results, {metrics: 'headline'}))
 * // method  metric           Regular   SCAAT
 * //         Clean accuracy ↑ 97.7 %    97.1 %
 * // VG      Entropy (bits) ↓ 6.31      5.02*
 */
export function formatTableText(table: TableModel): string {
  const header = ['method', 'metric', ...table.columns.map((c) => c.label)];
  const lines: string[][] = [header];
  lines.push(['', `${table.accuracy.label} ↑`, ...table.accuracy.values.map((v, i) => mark(formatPercent(v), table.accuracy.best.includes(i)))]);
  for (const s of table.sections) {
    s.rows.forEach((row, k) => {
      const label = `${row.label} ${arrow(row.direction)}`.trim();
      lines.push([k === 0 ? s.short : '', label, ...row.values.map((v, i) => mark(formatCell(row, i), row.best.includes(i)))]);
    });
  }
  const widths = header.map((_, j) => Math.max(...lines.map((l) => [...l[j]!].length)));
  return lines.map((l) => l.map((c, j) => c + ' '.repeat(widths[j]! - [...c].length)).join('  ').trimEnd()).join('\n');
}

/** The table as GitHub Markdown; best values in bold. */
export function formatTableMarkdown(table: TableModel): string {
  const head = `| method | metric | ${table.columns.map((c) => c.label).join(' | ')} |`;
  const sep = `|---|---|${table.columns.map(() => '---:').join('|')}|`;
  const rows = [
    `| | ${table.accuracy.label} ↑ | ${table.accuracy.values.map((v, i) => bold(formatPercent(v), table.accuracy.best.includes(i))).join(' | ')} |`,
  ];
  for (const s of table.sections) {
    for (const row of s.rows) {
      rows.push(
        `| ${s.short} | ${`${row.label} ${arrow(row.direction)}`.trim()} | ${row.values.map((_, i) => bold(formatCell(row, i), row.best.includes(i))).join(' | ')} |`,
      );
    }
  }
  return [head, sep, ...rows].join('\n');
}

function makeRow(
  key: string,
  metric: string,
  label: string,
  direction: Direction | undefined,
  values: (number | null)[],
  undefinedReasons: (string | null)[],
  headline: boolean,
): TableRow {
  return { key, metric, label, direction, values, undefinedReasons, best: bestIndices(values, direction), headline };
}

/** A metric cell: {@link formatValue}, or 'undefined' where the value is undefined rather than missing. */
export function formatCell(row: TableRow, column: number): string {
  return row.undefinedReasons[column] ? 'undefined' : formatValue(row.values[column]);
}

/**
 * What a reader of the table must know: every undefined cell with its reason ('undefined: …') and
 * every run's evaluation warning ('warning (run): …'), in column order, then every run's training
 * warning ('training warning (run): constant predictor at epochs 3–6 (last: …)').
 */
export function tableCaveats(table: TableModel, results: RunResults): string[] {
  const runs = orderRuns(results.runs);
  return [
    ...undefinedNotes(table).map((n) => `undefined: ${n}`),
    ...runs.flatMap((r, i) => (r.evaluation?.warnings ?? []).map((w) => `warning (${table.columns[i]?.label ?? r.id}): ${w}`)),
    ...runs.flatMap((r, i) => (r.trainingWarnings ?? []).map((w) => `training warning (${table.columns[i]?.label ?? r.id}): ${describeTrainingWarning(w)}`)),
  ];
}

/** What the report says of the known training warning codes (others: the code, dashes as spaces). */
const TRAINING_WARNING_GLOSS: Readonly<Record<string, string>> = {
  'constant-predictor': 'constant predictor',
  'attack-overfit': 'training attack overfitted (advAcc above clean accuracy)',
};

/**
 * One line for a training warning: what it is, at which epochs (1-based, as the log's messages
 * count them; consecutive epochs as a range) and the last message.
 * @example describeTrainingWarning({code: 'constant-predictor', epochs: [2, 3, 4, 5], message: 'epoch 6: …'})
 *   // 'constant predictor at epochs 3–6 (last: epoch 6: …)'
 */
export function describeTrainingWarning(w: TrainingWarning): string {
  const what = TRAINING_WARNING_GLOSS[w.code] ?? w.code.replace(/-/g, ' ');
  const ranges: string[] = [];
  for (let i = 0; i < w.epochs.length; ) {
    let j = i;
    while (j + 1 < w.epochs.length && w.epochs[j + 1] === w.epochs[j]! + 1) j++;
    ranges.push(j === i ? String(w.epochs[i]! + 1) : `${w.epochs[i]! + 1}–${w.epochs[j]! + 1}`);
    i = j + 1;
  }
  const at = w.epochs.length === 0 ? '' : ` at epoch${w.epochs.length > 1 ? 's' : ''} ${ranges.join(', ')}`;
  return `${what}${at}${w.message ? ` (last: ${w.message})` : ''}`;
}

/** Every undefined cell of the table with its reason: 'VG AOPC_rel, SCAAT: AOPC_lerf mean … ≤ 1e-5 …'. */
export function undefinedNotes(table: TableModel): string[] {
  const out: string[] = [];
  for (const s of table.sections) {
    for (const row of s.rows) {
      row.undefinedReasons.forEach((r, i) => {
        if (r) out.push(`${s.short} ${row.label}, ${table.columns[i]!.label}: ${r}`);
      });
    }
  }
  return out;
}

function rankOf(list: readonly string[], key: string): number {
  const i = list.indexOf(key);
  return i < 0 ? list.length : i;
}

/** Column labels ({@link runLabel}), with the run id appended where two runs would share a label. */
export function uniqueLabels(runs: readonly RunResult[]): string[] {
  const base = runs.map((r) => runLabel(r));
  return base.map((l, i) => (base.filter((x) => x === l).length > 1 ? `${l} (${runs[i]!.id})` : l));
}

function mark(s: string, best: boolean): string {
  return best ? `${s}*` : s;
}

function bold(s: string, best: boolean): string {
  return best ? `**${s}**` : s;
}

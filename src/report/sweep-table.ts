/**
 * The table of a sweep (`scaat report <sweep folder>`): cells that differ only in their seed form a
 * group, and every metric is shown as mean ± standard deviation over the group's seeds.
 *
 * Groups are compared within a partition (one per value of the partition axis, `data`: accuracy
 * on MNIST and on CIFAR-10 are not comparable). In each partition and column the best group is
 * marked only when the evidence separates it from the runner-up (see {@link BEST_RULE}); anything
 * closer is a tie and nothing is marked.
 *
 * Pure (no fs): the loader is from-sweep.ts.
 */
import { arrow, describeTrainingWarning, formatValue } from './table.js';
import { HEADLINE_METRICS, METHOD_LABELS, METHOD_SHORT, METRIC_INFO, firstVariants, methodLabel, metricDirection, metricKey, metricVariantLabel } from './run-results.js';
import type { Direction, RunResult, TrainingWarning } from './run-results.js';

/** The rule by which a best value is marked, as the report states it. */
export const BEST_RULE =
  'Values are mean ± sample standard deviation (n − 1) over seeds. A best value is marked (* in text, bold in HTML and Markdown) only when its mean differs from the runner-up\'s ' +
  'by more than the sum of their two standard deviations, both over at least two seeds; otherwise the row has no best (a tie within the seed spread).';

/** One cell of a sweep as the table needs it. */
export interface SweepTableCell {
  readonly name: string;
  /** Axis name → value as shown (the seed and partition axes among them). */
  readonly params: Readonly<Record<string, string>>;
  /** Its results, when it has a current evaluation. */
  readonly run?: RunResult;
}

/** Mean and spread of one metric over a group's seeds. */
export interface SeedStat {
  /** Mean over the seeds where the value is defined; null when none. */
  readonly mean: number | null;
  /** Sample standard deviation (n − 1); null when n < 2. */
  readonly std: number | null;
  /** Seeds with a defined value. */
  readonly n: number;
}

/** A column: clean accuracy, training time, or one metric (and variant) of one saliency method. */
export interface SweepColumn {
  readonly key: string;
  /** Saliency method key; undefined for clean accuracy and training time. */
  readonly method?: string;
  readonly metric: string;
  readonly label: string;
  readonly direction: Direction | undefined;
  readonly headline: boolean;
}

/** An evaluated cell whose training logged warnings (its values are in its group's statistics). */
export interface SweepCellWarnings {
  readonly cell: string;
  readonly warnings: readonly TrainingWarning[];
}

/** Shown after the label of a group whose statistics include a cell with training warnings. */
export const TRAINING_WARNING_MARK = '⚠';

/** The heading of the list of training warnings under a sweep's table. */
export const TRAINING_WARNINGS_NOTE =
  `Training warnings (${TRAINING_WARNING_MARK} after a group: its mean ± std includes a cell whose training logged a warning; read its spread with that in mind):`;

/** An evaluated cell whose evaluation warned (eval.json's `warnings`: e.g. constant maps left out of a mean). */
export interface SweepCellEvaluationWarnings {
  readonly cell: string;
  readonly warnings: readonly string[];
}

/** Shown after the label of a group whose statistics include a cell whose evaluation warned. */
export const EVALUATION_WARNING_MARK = '‡';

/** The heading of the list of evaluation warnings under a sweep's table. */
export const EVALUATION_WARNINGS_NOTE =
  `Evaluation warnings (${EVALUATION_WARNING_MARK} after a group: its mean ± std includes a cell whose evaluation warned, e.g. of maps left out of a metric; read its values with that in mind):`;

/** Cells that differ only in their seed. */
export interface SweepGroup {
  /** The group's parameters (the seed and partition axes left out), e.g. "trainer=scaat epsilon=0.3"; '(all)' when none. */
  readonly label: string;
  readonly params: Readonly<Record<string, string>>;
  readonly cells: readonly string[];
  /** How many of them have an evaluation. */
  readonly evaluated: number;
  /** The cells without a current evaluation (left out of the statistics), in grid order. */
  readonly missing: readonly string[];
  /** The evaluated cells whose training logged warnings, in grid order; absent when none. */
  readonly warnings?: readonly SweepCellWarnings[];
  /** The evaluated cells whose evaluation warned, in grid order; absent when none. */
  readonly evaluationWarnings?: readonly SweepCellEvaluationWarnings[];
}

/** The groups of one partition value and their statistics. */
export interface SweepPartition {
  /** e.g. "data = mnist", or '' when the sweep has no partition axis. */
  readonly title: string;
  readonly groups: readonly SweepGroup[];
  /** stats[group][column]. */
  readonly stats: ReadonlyArray<readonly SeedStat[]>;
  /** Per column: the index of the group marked best, or null (no direction, a tie, too few seeds). */
  readonly best: ReadonlyArray<number | null>;
}

/** The whole table. */
export interface SweepTableModel {
  readonly columns: readonly SweepColumn[];
  readonly partitions: readonly SweepPartition[];
  readonly seedAxis: string;
  readonly partitionAxis: string;
}

/** Mean ± sample standard deviation of the defined values. */
export function seedStat(values: readonly (number | null | undefined)[]): SeedStat {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { mean: null, std: null, n: 0 };
  const mean = v.reduce((s, x) => s + x, 0) / n;
  const std = n >= 2 ? Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : null;
  return { mean, std, n };
}

/**
 * The index of the best of `stats` under `direction` when {@link BEST_RULE} separates it from the
 * runner-up: |mean₁ − mean₂| > std₁ + std₂ with both over ≥ 2 seeds; else null.
 */
export function separatedBest(stats: readonly SeedStat[], direction: Direction | undefined): number | null {
  if (!direction) return null;
  const ranked = stats
    .map((s, i) => ({ s, i }))
    .filter(({ s }) => s.mean !== null)
    .sort((a, b) => (direction === 'lower-is-better' ? a.s.mean! - b.s.mean! : b.s.mean! - a.s.mean!));
  if (ranked.length < 2) return null;
  const [first, second] = [ranked[0]!.s, ranked[1]!.s];
  if (first.std === null || second.std === null) return null;
  return Math.abs(first.mean! - second.mean!) > first.std + second.std ? ranked[0]!.i : null;
}

/**
 * Builds the table (pure). 'headline': accuracy and the paper's four metrics, one column each per
 * method (a metric's first variant, e.g. AOPC's first fill); 'all': every metric and variant
 * (AOPC with several fills: a column per fill); 'further-variants': the headline metrics' variants
 * after their first (AOPC_lerf and AOPC_rel in each further fill), without accuracy and time, so
 * that the headline table and this one together show every fill (no columns: no further fill).
 */
export function buildSweepTable(
  sweep: { readonly cells: readonly SweepTableCell[]; readonly seedAxis: string; readonly partitionAxis: string },
  { metrics = 'all' }: { readonly metrics?: SweepTableMetrics } = {},
): SweepTableModel {
  const { seedAxis, partitionAxis } = sweep;
  const columns = sweepColumns(sweep.cells.flatMap((c) => (c.run ? [c.run] : [])), metrics);
  const byPartition = new Map<string, SweepTableCell[]>();
  for (const c of sweep.cells) {
    const p = c.params[partitionAxis] ?? '';
    byPartition.set(p, [...(byPartition.get(p) ?? []), c]);
  }
  const partitions = [...byPartition].map(([value, cells]): SweepPartition => {
    const groups = new Map<string, { params: Record<string, string>; cells: SweepTableCell[] }>();
    for (const c of cells) {
      const params = Object.fromEntries(Object.entries(c.params).filter(([k]) => k !== seedAxis && k !== partitionAxis));
      const key = JSON.stringify(params);
      const g = groups.get(key) ?? { params, cells: [] };
      g.cells.push(c);
      groups.set(key, g);
    }
    const list = [...groups.values()];
    const stats = list.map((g) => columns.map((col) => seedStat(g.cells.map((c) => (c.run ? columnValue(c.run, col) : null)))));
    return {
      title: value === '' ? '' : `${partitionAxis} = ${value}`,
      groups: list.map((g) => {
        const warnings = g.cells.flatMap((c): SweepCellWarnings[] => (c.run?.trainingWarnings?.length ? [{ cell: c.name, warnings: c.run.trainingWarnings }] : []));
        const evaluationWarnings = g.cells.flatMap((c): SweepCellEvaluationWarnings[] => (c.run?.evaluation?.warnings?.length ? [{ cell: c.name, warnings: c.run.evaluation.warnings }] : []));
        return {
          label: Object.entries(g.params).map(([k, v]) => `${k}=${v}`).join(' ') || '(all)',
          params: g.params,
          cells: g.cells.map((c) => c.name),
          evaluated: g.cells.filter((c) => c.run).length,
          missing: g.cells.filter((c) => !c.run).map((c) => c.name),
          ...(warnings.length > 0 ? { warnings } : {}),
          ...(evaluationWarnings.length > 0 ? { evaluationWarnings } : {}),
        };
      }),
      stats,
      best: columns.map((col, j) => separatedBest(stats.map((row) => row[j]!), col.direction)),
    };
  });
  return { columns, partitions, seedAxis, partitionAxis };
}

/** Column key of the training time (seconds of the run's epochs: its cost; no best is marked). */
export const TRAIN_SECONDS = 'train-seconds';

/**
 * Column key of the test accuracy the training loop logged after its last epoch (log.jsonl's
 * `test.acc`: on the whole test split unless the run set `evalLimit`), beside the clean accuracy of
 * the evaluated sample (the images every saliency metric is measured on): on MNIST's 500-image
 * sample one image is 0.2 points, on the 10 000 test images 0.01.
 */
export const TEST_ACCURACY = 'test-accuracy';

/** Whether a column holds an accuracy (shown as a percentage). */
export function isAccuracyColumn(key: string): boolean {
  return key === 'clean-accuracy' || key === TEST_ACCURACY;
}

/**
 * A column's mean ± std as every table shows it: accuracies in % (the test accuracy, on the whole
 * test split, with two decimals: 0.01 points is one image in 10 000), the rest by formatValue.
 */
export function formatColumnStat(s: SeedStat, key: string): string {
  return formatSeedStat(s, isAccuracyColumn(key), key === TEST_ACCURACY ? 2 : 1);
}

/** The `test.acc` of a run's last logged epoch, or null. */
export function lastTestAccuracy(run: RunResult): number | null {
  const last = run.training?.epochs.at(-1);
  const acc = last?.['test.acc'];
  return typeof acc === 'number' && Number.isFinite(acc) ? acc : null;
}

/** Which columns a sweep table has (see {@link buildSweepTable}). */
export type SweepTableMetrics = 'headline' | 'all' | 'further-variants';

/** Clean accuracy, training time (when recorded), then each method's metrics (known methods and metrics in the paper's order). */
function sweepColumns(runs: readonly RunResult[], metrics: SweepTableMetrics): SweepColumn[] {
  const columns: SweepColumn[] = metrics === 'further-variants' ? [] : [{ key: 'clean-accuracy', metric: 'clean-accuracy', label: 'Clean accuracy', direction: 'higher-is-better', headline: true }];
  if (metrics !== 'further-variants' && runs.some((r) => lastTestAccuracy(r) !== null)) {
    columns.push({ key: TEST_ACCURACY, metric: TEST_ACCURACY, label: 'Test accuracy (last epoch)', direction: 'higher-is-better', headline: true });
  }
  if (metrics !== 'further-variants' && runs.some((r) => r.timings?.['train'] !== undefined)) {
    columns.push({ key: TRAIN_SECONDS, metric: TRAIN_SECONDS, label: 'Training time (s)', direction: undefined, headline: true });
  }
  const methods: string[] = [];
  for (const r of runs) for (const m of r.evaluation?.methods ?? []) if (!methods.includes(m.method)) methods.push(m.method);
  const known = Object.keys(METHOD_LABELS);
  const rank = (m: string) => (known.includes(m) ? known.indexOf(m) : known.length);
  methods.sort((a, b) => rank(a) - rank(b));
  for (const method of methods) {
    const seen = new Map<string, SweepColumn>();
    for (const r of runs) {
      const all = r.evaluation?.methods.find((m) => m.method === method)?.metrics ?? [];
      // headline: one column per metric, its first variant (AOPC's first fill); all: every variant;
      // further-variants: the headline metrics' variants that are not their first
      const first = firstVariants(all);
      const chosen = metrics === 'headline' ? first : metrics === 'further-variants' ? all.filter((v) => !first.includes(v)) : all;
      for (const v of chosen) {
        const headline = HEADLINE_METRICS.includes(v.name);
        if (metrics !== 'all' && !headline) continue;
        const key = `${method}/${metricKey(v)}`;
        if (!seen.has(key)) seen.set(key, { key, method, metric: v.name, label: metricVariantLabel(v), direction: metricDirection(v), headline });
      }
    }
    columns.push(...[...seen.values()].sort((a, b) => (METRIC_INFO[a.metric]?.order ?? 99) - (METRIC_INFO[b.metric]?.order ?? 99)));
  }
  return columns;
}

/** A run's value in a column (null where it has none). */
function columnValue(run: RunResult, col: SweepColumn): number | null {
  if (col.key === TRAIN_SECONDS) return run.timings?.['train'] ?? null;
  if (col.key === TEST_ACCURACY) return lastTestAccuracy(run);
  if (col.method === undefined) return run.evaluation?.cleanAccuracy ?? null;
  const m = run.evaluation?.methods.find((x) => x.method === col.method);
  const v = m?.metrics.find((x) => `${col.method}/${metricKey(x)}` === col.key);
  return v?.value ?? null;
}

/** One training warning of an evaluated cell, with where the cell sits in the table. */
interface WarningEntry {
  /** The cells that gave this warning (several where a group's seeds warned alike). */
  readonly cells: readonly string[];
  readonly group: string;
  readonly partition: string;
  readonly text: string;
}

function warningEntries(t: SweepTableModel, kind: 'training' | 'evaluation' = 'training'): WarningEntry[] {
  return t.partitions.flatMap((p) =>
    p.groups.flatMap((g) =>
      kind === 'training'
        ? (g.warnings ?? []).flatMap((c) => c.warnings.map((w) => ({ cells: [c.cell], group: g.label, partition: p.title, text: describeTrainingWarning(w) })))
        : sameWarnings((g.evaluationWarnings ?? []).flatMap((c) => c.warnings.map((w) => ({ cells: [c.cell], group: g.label, partition: p.title, text: w })))),
    ),
  );
}

/** One entry per warning text of a group, its cells joined (`a, b`): an evaluation setting that warns warns for every seed alike. */
function sameWarnings(entries: readonly WarningEntry[]): WarningEntry[] {
  const byText = new Map<string, WarningEntry[]>();
  for (const e of entries) byText.set(e.text, [...(byText.get(e.text) ?? []), e]);
  return [...byText.values()].map((es) => ({ ...es[0]!, cells: es.flatMap((e) => e.cells) }));
}

const INCLUDED = "its group's mean includes it";

/**
 * The table's training warnings as text lines, one per warning of an evaluated cell, in partition
 * and group order: "seed=0__trainer=sgt (group trainer=sgt): constant predictor at epochs 3–6
 * (last: …); its group's mean includes it". Empty when no cell has one.
 */
export function sweepTrainingWarnings(t: SweepTableModel): string[] {
  return warningLines(t, 'training');
}

/** A kind of warning of the table's cells as text lines, one per entry (warningEntries). */
function warningLines(t: SweepTableModel, kind: 'training' | 'evaluation'): string[] {
  return warningEntries(t, kind).map((e) => `${e.cells.join(', ')} (group ${e.group}${e.partition ? `, ${e.partition}` : ''}): ${e.text}; ${INCLUDED}`);
}

/** The table's evaluation warnings as text lines, as {@link sweepTrainingWarnings}'s. Empty when no cell has one. */
export function sweepEvaluationWarnings(t: SweepTableModel): string[] {
  return warningLines(t, 'evaluation');
}

/** A group's label with {@link TRAINING_WARNING_MARK} when it has cells with training warnings, {@link EVALUATION_WARNING_MARK} with evaluation warnings. */
export function groupLabel(g: SweepGroup): string {
  return `${g.label}${g.warnings ? ` ${TRAINING_WARNING_MARK}` : ''}${g.evaluationWarnings ? ` ${EVALUATION_WARNING_MARK}` : ''}`;
}

/** 'mean ± std' (three significant digits; accuracy in percent), the mean alone for one seed, '—' for none. */
export function formatSeedStat(s: SeedStat, percent = false, decimals = 1): string {
  if (s.mean === null) return '—';
  const f = (v: number) => (percent ? (100 * v).toFixed(decimals) : formatValue(v));
  return `${f(s.mean)}${s.std !== null ? ` ± ${f(s.std)}` : ''}${percent ? ' %' : ''}`;
}

/** The display name of a column's method ('Vanilla Gradient (VG)'), '' for accuracy. */
export function columnMethodLabel(col: SweepColumn): string {
  if (col.method === undefined) return '';
  return `${methodLabel({ method: col.method })}${METHOD_SHORT[col.method] ? ` (${METHOD_SHORT[col.method]})` : ''}`;
}

/**
 * The table as plain text: per partition and saliency method, groups as rows, clean accuracy and
 * the method's metrics as columns, '*' after a best value; when cells have training warnings,
 * {@link TRAINING_WARNING_MARK} after their groups' labels and the warnings listed (evaluation
 * warnings likewise, {@link EVALUATION_WARNING_MARK}); the rule last.
 * `brief`: the tables alone (no warnings list, no rule), for a table that follows another of the
 * same sweep (the further fills after the headline table).
 */
export function formatSweepTableText(t: SweepTableModel, { brief = false }: { readonly brief?: boolean } = {}): string {
  const out: string[] = [];
  const methods = [...new Set(t.columns.flatMap((c) => (c.method !== undefined ? [c.method] : [])))];
  for (const p of t.partitions) {
    const evaluated = p.groups.reduce((s, g) => s + g.evaluated, 0);
    const cells = p.groups.reduce((s, g) => s + g.cells.length, 0);
    out.push(`${p.title ? `${p.title}: ` : ''}${p.groups.length} group${p.groups.length === 1 ? '' : 's'}, ${evaluated} of ${cells} cells evaluated`);
    for (const method of methods.length > 0 ? methods : [undefined]) {
      const cols = t.columns.map((c, j) => ({ c, j })).filter(({ c }) => c.method === undefined || c.method === method);
      const header = ['group', t.seedAxis === 'seed' ? 'seeds' : t.seedAxis, ...cols.map(({ c }) => `${c.label} ${c.direction === 'lower-is-better' ? '↓' : c.direction === 'higher-is-better' ? '↑' : ''}`.trim())];
      const rows = p.groups.map((g, gi) => [
        groupLabel(g),
        g.evaluated === g.cells.length ? String(g.cells.length) : `${g.evaluated}/${g.cells.length}`,
        ...cols.map(({ c, j }) => `${formatColumnStat(p.stats[gi]![j]!, c.key)}${p.best[j] === gi ? '*' : ''}`),
      ]);
      if (method !== undefined) out.push(`  ${columnMethodLabel(t.columns.find((c) => c.method === method)!)}`);
      const lines = [header, ...rows];
      const widths = header.map((_, k) => Math.max(...lines.map((l) => [...l[k]!].length)));
      for (const l of lines) out.push(`  ${l.map((c, k) => c + ' '.repeat(widths[k]! - [...c].length)).join('  ').trimEnd()}`);
    }
    out.push('');
  }
  if (brief) return out.join('\n').trimEnd();
  const warnings = sweepTrainingWarnings(t);
  if (warnings.length > 0) out.push(TRAINING_WARNINGS_NOTE, ...warnings.map((w) => `  - ${w}`), '');
  const evaluationWarnings = sweepEvaluationWarnings(t);
  if (evaluationWarnings.length > 0) out.push(EVALUATION_WARNINGS_NOTE, ...evaluationWarnings.map((w) => `  - ${w}`), '');
  out.push(BEST_RULE);
  return out.join('\n');
}

/**
 * The table as GitHub Markdown, for docs to include verbatim: per partition a `###` heading (none
 * without a partition axis), the counts, one table (group, seeds, clean accuracy, training time,
 * then each saliency method's metrics, headed by the method's short name), best values in bold,
 * and the cells without a current evaluation; the cells' training warnings (their groups marked
 * {@link TRAINING_WARNING_MARK}) and evaluation warnings ({@link EVALUATION_WARNING_MARK}), the
 * methods' names and the rule last. The values and marks are
 * those of {@link formatSweepTableText}. `brief`: the tables alone (partition titles in bold, not as
 * headings; no counts, no list of cells without an evaluation, no warnings, methods or rule), for a
 * table that follows another of the same sweep.
 */
export function formatSweepTableMarkdown(t: SweepTableModel, { brief = false }: { readonly brief?: boolean } = {}): string {
  const out: string[] = [];
  const methods = [...new Set(t.columns.flatMap((c) => (c.method !== undefined ? [c.method] : [])))];
  const ordered = [
    ...t.columns.map((c, j) => ({ c, j })).filter(({ c }) => c.method === undefined),
    ...methods.flatMap((m) => t.columns.map((c, j) => ({ c, j })).filter(({ c }) => c.method === m)),
  ];
  for (const p of t.partitions) {
    // brief: a bold title, not a heading (the partition's heading is the full table's)
    if (p.title) out.push(brief ? `**${markdownText(p.title)}**` : `### ${markdownCell(p.title)}`, '');
    const evaluated = p.groups.reduce((s, g) => s + g.evaluated, 0);
    const cells = p.groups.reduce((s, g) => s + g.cells.length, 0);
    if (!brief) out.push(`${p.groups.length} group${p.groups.length === 1 ? '' : 's'}, ${evaluated} of ${cells} cells evaluated.`, '');
    const header = ['group', t.seedAxis === 'seed' ? 'seeds' : t.seedAxis, ...ordered.map(({ c }) => {
      const short = c.method === undefined ? '' : `${METHOD_SHORT[c.method] ?? methodLabel({ method: c.method })} `;
      return `${short}${c.label} ${arrow(c.direction)}`.trim();
    })];
    out.push(markdownRow(header), `|---|---:|${ordered.map(() => '---:').join('|')}|`);
    p.groups.forEach((g, gi) => {
      const values = ordered.map(({ c, j }) => {
        const v = formatColumnStat(p.stats[gi]![j]!, c.key);
        return p.best[j] === gi ? `**${v}**` : v;
      });
      out.push(markdownRow([groupLabel(g), g.evaluated === g.cells.length ? String(g.cells.length) : `${g.evaluated}/${g.cells.length}`, ...values]));
    });
    const missing = p.groups.flatMap((g) => g.missing);
    if (missing.length > 0 && !brief) out.push('', `Without a current evaluation (not in the table): ${missing.map((n) => `\`${n}\``).join(', ')}.`);
    out.push('');
  }
  if (brief) return `${out.join('\n').trimEnd()}\n`;
  const entries = (kind: 'training' | 'evaluation') =>
    warningEntries(t, kind).map((e) => `- ${e.cells.map((c) => `\`${c}\``).join(', ')} (group ${markdownText(e.group)}${e.partition ? `, ${markdownText(e.partition)}` : ''}): ${markdownText(e.text)}; ${INCLUDED}`);
  const warnings = entries('training');
  if (warnings.length > 0) out.push(markdownText(TRAINING_WARNINGS_NOTE), '', ...warnings, '');
  const evaluationWarnings = entries('evaluation');
  if (evaluationWarnings.length > 0) out.push(markdownText(EVALUATION_WARNINGS_NOTE), '', ...evaluationWarnings, '');
  if (methods.length > 0) out.push(`Saliency methods: ${methods.map((m) => columnMethodLabel(t.columns.find((c) => c.method === m)!)).join(', ')}.`, '');
  out.push(BEST_RULE);
  return `${out.join('\n')}\n`;
}

/** A Markdown table row; '|' and '\' inside a cell escaped. */
export function markdownRow(cells: readonly string[]): string {
  return `| ${cells.map(markdownCell).join(' | ')} |`;
}

/** Text outside a table: Markdown's emphasis and code characters escaped. */
export function markdownText(s: string): string {
  return s.replace(/([\\`*_[\]<>])/g, '\\$1');
}

function markdownCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|');
}

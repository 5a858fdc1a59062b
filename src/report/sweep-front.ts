/**
 * The sweep report's fronts: per partition (`data`) and saliency method, each group of cells that
 * differ only in their seed (sweep-table.ts) as one point, accuracy on x (the test accuracy of the
 * last logged epoch where every group has it for every evaluated cell, else the evaluated sample's
 * clean accuracy) against AOPC_rel
 * (log scale) or saliency entropy on y, one colour per trainer, the points of one trainer joined
 * in order of its ε (the cell parameter `epsilon`, from a `*.epsilon` axis, or `<trainer>.epsilon`;
 * src/sweep/grid.ts names the axes) or, in a partition without ε, of its training length (an
 * `epochs` axis), error bars of ± the seed standard deviation where a group has ≥ 2 seeds. Groups
 * of a trainer that differ in another parameter too (e.g. `attack`) are separate lines, told apart
 * by their dash.
 *
 * Pure: the specs are built from buildSweepTable's groups and statistics (the same numbers as the
 * table); rendering is figures.ts renderSpecSvg.
 */
import type { TopLevelSpec } from 'vega-lite';
import { readNumber } from '../io/numbers.js';
import { CONFIG, PALETTE, renderSpecSvg } from './figures.js';
import type { Figure, FigureSpec } from './figures.js';
import { METHOD_SHORT, TRAINER_INFO, methodLabel } from './run-results.js';
import { markdownRow, markdownText, TEST_ACCURACY } from './sweep-table.js';
import type { SweepTableCell, SweepTableModel } from './sweep-table.js';

/** One point of a front: a group's means and seed standard deviations. */
export interface FrontRow {
  readonly method: string;
  /** The trainer's display label (TRAINER_INFO), the colour. */
  readonly trainer: string;
  /** The group's other parameters than trainer and the line's axis ('' when none): one line per value. */
  readonly variant: string;
  /** Its value on the line's axis as labelled: ε as the sweep shows it ('8/255'), or the training length ('16 ep'); '' when the group has none. */
  readonly along: string;
  /** Position along the line (ascending). */
  readonly order: number;
  readonly group: string;
  readonly accuracy: number;
  readonly accuracyStd: number | null;
  readonly value: number;
  readonly valueStd: number | null;
  /** Seeds behind `value`. */
  readonly n: number;
  /** Error bar ends: mean ∓ std (accuracy's within [0, 1]; on a log scale a lower end ≤ 0 is drawn to the axis' bottom). */
  readonly accuracyLo: number;
  readonly accuracyHi: number;
  readonly valueLo: number;
  readonly valueHi: number;
}

/** A front's groups that no other group of its method dominates (see {@link undominated}). */
export interface FrontUndominated {
  readonly method: string;
  /** Group labels, in the table's order. */
  readonly groups: readonly string[];
}

/** A front figure's spec with, per saliency method, its groups that no other dominates. */
export interface FrontSpec extends FigureSpec {
  /** The partition's title ('' without a partition axis). */
  readonly partition: string;
  /** The front's measure ('AOPC_rel', 'saliency entropy (bits)'). */
  readonly measure: string;
  readonly undominated: readonly FrontUndominated[];
  /** What the figure leaves out, as its caption says ('VG: 1 group with AOPC_rel undefined in every seed'); a group with a mean ≤ 0 is still compared for {@link undominated}. */
  readonly leftOut: readonly string[];
}

/** Two means are tied when they differ by at most this fraction of the larger: (0.1 + 0.2) / 2 ties 0.15. */
const TIE = 1e-9;

/**
 * The rows (one method's points) that no other row dominates: another dominates a row when its
 * mean accuracy is at least the row's and its mean measure at least as good (higher when
 * `higherIsBetter`), one of the two strictly better; means within a relative 1e-9 of each other
 * are tied (a mean over seeds carries rounding). Means only: with few seeds a dominated point may
 * lie within the seed spread of its dominator.
 */
export function undominated<R extends Pick<FrontRow, 'accuracy' | 'value'>>(rows: readonly R[], higherIsBetter: boolean): R[] {
  const tied = (a: number, b: number) => Math.abs(a - b) <= TIE * Math.max(Math.abs(a), Math.abs(b));
  const above = (a: number, b: number) => a > b && !tied(a, b);
  const better = (a: number, b: number) => (higherIsBetter ? above(a, b) : above(b, a));
  return rows.filter((r) =>
    !rows.some((o) => {
      if (o === r) return false;
      const acc = tied(o.accuracy, r.accuracy) ? 0 : o.accuracy > r.accuracy ? 1 : -1;
      const val = tied(o.value, r.value) ? 0 : better(o.value, r.value) ? 1 : -1;
      return acc >= 0 && val >= 0 && acc + val > 0;
    }),
  );
}

/** The two fronts: the metric on y, its scale and which way is better. */
const FRONTS = [
  { metric: 'aopc-rel', id: 'front-aopc-rel', label: 'AOPC_rel', log: true, higherIsBetter: true, better: 'up (higher AOPC_rel: more faithful maps)', corner: 'upper right' },
  { metric: 'entropy', id: 'front-entropy', label: 'saliency entropy (bits)', log: false, higherIsBetter: false, better: 'down (lower entropy: sparser maps)', corner: 'lower right' },
] as const;

/**
 * The front figures' specs (pure): per partition with an evaluated group, one for AOPC_rel and
 * one for entropy, faceted by saliency method; `table` from buildSweepTable(sweep).
 */
export function sweepFrontSpecs(sweep: { readonly cells: readonly SweepTableCell[] }, table: SweepTableModel): FrontSpec[] {
  const runTrainer = new Map(sweep.cells.flatMap((c) => (c.run ? [[c.name, c.run.trainer] as const] : [])));
  const clean = table.columns.findIndex((c) => c.key === 'clean-accuracy');
  const test = table.columns.findIndex((c) => c.key === TEST_ACCURACY);
  const methods = [...new Set(table.columns.flatMap((c) => (c.method !== undefined ? [c.method] : [])))];
  const ids = new Set<string>();
  const specs: FrontSpec[] = [];
  for (const p of table.partitions) {
    const value = p.title.includes(' = ') ? p.title.slice(p.title.indexOf(' = ') + 3) : '';
    const base = value.replace(/[^A-Za-z0-9.+-]+/g, '_').replace(/^_+|_+$/g, '');
    let suffix = base;
    for (let k = 2; ids.has(suffix); k++) suffix = `${base}-${k}`;
    ids.add(suffix);
    // Each group's trainer, place on the line's axis (ε; or the training length where no group
    // of the partition has an ε) and line (the parameters other than trainer and that axis).
    const trainerOf = (g: (typeof p.groups)[number]) => g.params['trainer'] ?? g.cells.map((c) => runTrainer.get(c)).find((t) => t !== undefined) ?? '';
    const epsKeyOf = (g: (typeof p.groups)[number], trainer: string) =>
      g.params['epsilon'] !== undefined ? 'epsilon' : g.params[`${trainer}.epsilon`] !== undefined ? `${trainer}.epsilon` : undefined;
    const byLength = !p.groups.some((g) => epsKeyOf(g, trainerOf(g)) !== undefined) && p.groups.some((g) => g.params['epochs'] !== undefined);
    const points = p.groups.map((g) => {
      const trainer = trainerOf(g);
      const key = byLength ? (g.params['epochs'] !== undefined ? 'epochs' : undefined) : epsKeyOf(g, trainer);
      const variant = Object.entries(g.params).filter(([k]) => k !== 'trainer' && k !== key).map(([k, v]) => `${k}=${v}`).join(' ');
      const raw = key !== undefined ? g.params[key]! : '';
      return { g, trainer, raw, along: raw === '' ? '' : byLength ? `${raw} ep` : raw, variant };
    });
    // Along each line by its axis (numbers and fractions ascending; other labels after, in grid order).
    const order = new Map<number, number>();
    const lines = new Map<string, number[]>();
    points.forEach((pt, i) => lines.set(`${pt.trainer}\u0000${pt.variant}`, [...(lines.get(`${pt.trainer}\u0000${pt.variant}`) ?? []), i]));
    for (const members of lines.values()) {
      const key = (i: number) => readNumber(points[i]!.raw) ?? Number.POSITIVE_INFINITY;
      [...members].sort((a, b) => key(a) - key(b) || a - b).forEach((i, k) => order.set(i, k));
    }
    const trainers = [...new Set(points.map((pt) => pt.trainer))]
      .sort((a, b) => (TRAINER_INFO[a]?.order ?? 99) - (TRAINER_INFO[b]?.order ?? 99))
      .map((t) => TRAINER_INFO[t]?.label ?? t);
    const variants = [...new Set(points.map((pt) => pt.variant))];
    // The accuracy axis: the test accuracy of the last epoch (the test split the loop evaluates: on
    // MNIST's 500-image sample one image is 0.2 points) where every evaluated cell logged one (a mean
    // over fewer seeds than the measure's would go unremarked), else the evaluated sample's.
    const useTest = test >= 0 && p.groups.every((g, i) => g.evaluated === 0 || p.stats[i]![test]!.n === g.evaluated);
    const acc = useTest ? test : clean;
    const accName = useTest ? 'test accuracy of the last epoch' : 'clean accuracy';
    for (const front of FRONTS) {
      const rows: FrontRow[] = [];
      // every group with a mean, for the groups not dominated (a mean ≤ 0 has no place on the log
      // scale, but is compared)
      const compared: Array<{ method: string; group: string; accuracy: number; value: number }> = [];
      const left: string[] = [];
      const measured = new Set<string>(); // labels of variant columns, named in the caption
      for (const method of methods) {
        // The metric's first column for the method: its key carries the variant when it has one ('aopc-rel (uniform fill)');
        // with several AOPC fills, the first fill's.
        const j = table.columns.findIndex((c) => c.method === method && c.metric === front.metric);
        if (j < 0) continue;
        if (table.columns[j]!.key !== `${method}/${front.metric}`) measured.add(table.columns[j]!.label);
        let undefinedGroups = 0;
        let notPositive = 0;
        points.forEach((pt, i) => {
          const a = p.stats[i]![acc]!;
          const y = p.stats[i]![j]!;
          if (pt.g.evaluated === 0 || a.mean === null) return;
          if (y.mean === null) return void undefinedGroups++;
          compared.push({ method: methodLabel({ method }), group: pt.g.label, accuracy: a.mean, value: y.mean });
          if (front.log && y.mean <= 0) return void notPositive++;
          rows.push({
            method: methodLabel({ method }),
            trainer: TRAINER_INFO[pt.trainer]?.label ?? pt.trainer,
            variant: pt.variant,
            along: pt.along,
            order: order.get(i)!,
            group: pt.g.label,
            accuracy: a.mean,
            accuracyStd: a.std,
            value: y.mean,
            valueStd: y.std,
            n: y.n,
            // accuracy is a fraction: a bar wider than the room to 0 or 100 % stops there
            accuracyLo: Math.max(0, a.mean - (a.std ?? 0)),
            accuracyHi: Math.min(1, a.mean + (a.std ?? 0)),
            valueLo: y.mean - (y.std ?? 0),
            valueHi: y.mean + (y.std ?? 0),
          });
        });
        const short = METHOD_SHORT[method] ?? methodLabel({ method });
        if (undefinedGroups > 0) left.push(`${short}: ${undefinedGroups} group${undefinedGroups === 1 ? '' : 's'} with ${front.label} undefined in every seed`);
        if (notPositive > 0) left.push(`${short}: ${notPositive} group${notPositive === 1 ? '' : 's'} with a mean ≤ 0 (not on a log scale)`);
      }
      if (rows.length === 0) continue;
      if (front.log) {
        // A lower error-bar end ≤ 0 has no place on a log scale: draw it to the lowest value shown.
        const floor = Math.min(...rows.flatMap((r) => [r.value, ...(r.valueLo > 0 ? [r.valueLo] : [])]));
        rows.forEach((r, k) => { if (r.valueLo <= 0) rows[k] = { ...r, valueLo: floor }; });
      }
      const byMethod = [...new Set(compared.map((r) => r.method))].map((method) => ({
        method,
        groups: undominated(compared.filter((r) => r.method === method), front.higherIsBetter).map((r) => r.group),
      }));
      specs.push({
        partition: p.title,
        measure: measured.size > 0 ? [...measured].join(', ') : front.label,
        undominated: byMethod,
        leftOut: left,
        id: suffix ? `${front.id}-${suffix}` : front.id,
        title: `${p.title ? `${p.title}: ` : ''}${accName} against ${front.label}`,
        caption:
          `Each point is a group of cells that differ only in ${table.seedAxis} (mean over its seeds, bars ± the seed standard deviation where it has two or more, accuracy's cut at 0 and 100 %), ` +
          `one colour per trainer; the points of a trainer are joined in order of its ${byLength ? 'training length (labelled in epochs)' : 'ε (labelled)'}, a dashed line for each other setting. ` +
          `Better is right (higher ${accName}, ${useTest ? 'on the test split the training loop evaluates' : 'on the evaluated sample'}) and ${front.better}: a front further to the ${front.corner} dominates.` +
          `${front.log ? ' AOPC_rel on a log scale.' : ''}${measured.size > 0 ? ` Measure: ${[...measured].join(', ')}.` : ''}` +
          `${left.length > 0 ? ` Left out: ${left.join('; ')}.` : ''}` +
          ` ${UNDOMINATED_NOTE} ${byMethod.map((u) => `${u.method}: ${u.groups.join('; ')}`).join('. ')}.`,
        spec: frontSpec(rows, front.label, front.log, trainers, variants, useTest ? 'test accuracy (last epoch)' : 'clean accuracy'),
      });
    }
  }
  return specs;
}

/** Introduces the groups that no other dominates (captions and table.md). */
export const UNDOMINATED_NOTE =
  'Not dominated (no other group of the method has at least its mean accuracy on the figure\'s axis, the test accuracy of the last epoch where every group has one, else the evaluated sample\'s clean accuracy, and at least as good a mean measure, one of them strictly better; means only, so a dominated point may lie within its dominator\'s seed spread):';

/** table.md's section on the fronts: per partition, measure and method, the groups no other dominates ('' without fronts). */
export function formatFrontsMarkdown(specs: readonly FrontSpec[]): string {
  if (specs.length === 0) return '';
  const partitioned = specs.some((x) => x.partition);
  const rows = specs.flatMap((f) => f.undominated.map((u) => markdownRow([...(partitioned ? [f.partition] : []), f.measure, shortOfLabel(u.method), u.groups.join('; ')])));
  const left = specs.flatMap((f) => (f.leftOut.length > 0 ? [markdownText(`Not on the figure of ${f.partition ? `${f.partition}: ` : ''}${f.measure}: ${f.leftOut.join('; ')}.`)] : []));
  return [
    '### The fronts: groups not dominated',
    '',
    UNDOMINATED_NOTE,
    '',
    `| ${partitioned ? 'partition | ' : ''}measure | method | groups |`,
    `|${partitioned ? '---|' : ''}---|---|---|`,
    ...rows,
    '',
    ...left.map((l) => `${l}\n`),
  ].join('\n');
}

/** The same as {@link formatFrontsMarkdown}, as plain text for the terminal ('' without fronts). */
export function formatFrontsText(specs: readonly FrontSpec[]): string {
  if (specs.length === 0) return '';
  const lines = specs.flatMap((f) => f.undominated.map((u) => `  ${f.partition ? `${f.partition}, ` : ''}${f.measure}, ${shortOfLabel(u.method)}: ${u.groups.join('; ')}`));
  const left = specs.flatMap((f) => (f.leftOut.length > 0 ? [`  (not on the figure of ${f.partition ? `${f.partition}: ` : ''}${f.measure}: ${f.leftOut.join('; ')})`] : []));
  return [UNDOMINATED_NOTE, ...lines, ...left].join('\n');
}

/** A method's short name from its display label ('Vanilla Gradient' → 'VG'). */
function shortOfLabel(label: string): string {
  const key = Object.keys(METHOD_SHORT).find((m) => methodLabel({ method: m }) === label);
  return key !== undefined ? METHOD_SHORT[key]! : label;
}

function frontSpec(rows: readonly FrontRow[], yTitle: string, log: boolean, trainers: readonly string[], variants: readonly string[], xTitle: string): TopLevelSpec {
  const color = { field: 'trainer', type: 'nominal' as const, title: 'trainer', scale: { domain: trainers, range: trainers.map((_, i) => PALETTE[i % PALETTE.length]!) }, sort: trainers };
  const x = { field: 'accuracy', type: 'quantitative' as const, title: `${xTitle} →`, scale: { zero: false }, axis: { format: '.1%' } };
  const y = { field: 'value', type: 'quantitative' as const, title: `${yTitle} ${log ? '↑' : '↓'}`, scale: log ? { type: 'log' as const } : { zero: false } };
  // The groups without another setting (regular, SGT beside an attack axis) have variant '': no legend entry of their own.
  const named = variants.filter((v) => v !== '');
  const dash = variants.length > 1 ? { strokeDash: { field: 'variant', type: 'nominal' as const, title: 'setting', sort: variants, legend: { values: named } } } : {};
  const methodOrder = rows.map((r) => r.method).filter((m, i, a) => a.indexOf(m) === i);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    data: { values: rows as unknown as Record<string, unknown>[] },
    facet: { column: { field: 'method', type: 'nominal', title: null, sort: methodOrder } },
    spec: {
      width: 280,
      height: 220,
      layer: [
        // Error bars where a group has ≥ 2 seeds, ε (or length) labels where a group has one (no layer without data: vega warns on empty extents).
        ...(rows.some((r) => r.accuracyStd !== null)
          ? [{ transform: [{ filter: 'datum.accuracyStd != null' }], mark: { type: 'rule', opacity: 0.6 }, encoding: { x: { ...x, field: 'accuracyLo' }, x2: { field: 'accuracyHi' }, y, color } }]
          : []),
        ...(rows.some((r) => r.valueStd !== null)
          ? [{ transform: [{ filter: 'datum.valueStd != null' }], mark: { type: 'rule', opacity: 0.6 }, encoding: { y: { ...y, field: 'valueLo' }, y2: { field: 'valueHi' }, x, color } }]
          : []),
        { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y, color, detail: { field: 'variant', type: 'nominal' }, order: { field: 'order', type: 'quantitative' }, ...dash } },
        { mark: { type: 'point', filled: true, size: 45, opacity: 1 }, encoding: { x, y, color } },
        ...(rows.some((r) => r.along !== '')
          ? // labels above the point, and below it for every second setting (dashed line), so that the
            // labels of two settings' points at the same place do not overprint each other
            [0, 1].filter((odd) => rows.some((r) => r.along !== '' && variants.indexOf(r.variant) % 2 === odd)).map((odd) => ({
              transform: [{ filter: `datum.along != '' && indexof(${JSON.stringify(variants)}, datum.variant) % 2 == ${odd}` }],
              mark: { type: 'text', dx: 5, dy: odd ? 10 : -6, align: 'left', fontSize: 9, color: '#444' },
              encoding: { x, y, text: { field: 'along', type: 'nominal' } },
            }))
          : []),
      ],
    },
  } as TopLevelSpec;
}

/** The sweep's front figures rendered to SVG (see {@link sweepFrontSpecs}; `specs`: those, when the caller has them). */
export async function renderSweepFigures(
  sweep: { readonly cells: readonly SweepTableCell[] },
  table: SweepTableModel,
  specs: readonly FrontSpec[] = sweepFrontSpecs(sweep, table),
): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const f of specs) figures.push({ id: f.id, title: f.title, caption: f.caption, svg: await renderSpecSvg(f.spec) });
  return figures;
}

/**
 * The sweep report's q_i figures: SCAAT's q_i histogram per epoch (figures.ts `q-distribution`,
 * the same figure as a run's report) for each group of SCAAT cells, from its first seed with a q_i
 * log (the first such cell of the group in grid order); the caption says which cell it is. One
 * seed per group keeps the report short: the q_i search is the same rule in every seed, and the
 * groups (ε, attack, search variant, …) are what differ.
 *
 * Pure: the specs are figures.ts figureSpecs of that one run; rendering is renderSpecSvg.
 */
import { figureSpecs, renderSpecSvg } from './figures.js';
import type { Figure, FigureSpec } from './figures.js';
import { RESULTS_SCHEMA_VERSION } from './run-results.js';
import type { SweepTableCell, SweepTableModel } from './sweep-table.js';

/** A partition value or group label as a file-name part ([A-Za-z0-9.+-] and '_'). */
function idPart(s: string): string {
  return s.replace(/[^A-Za-z0-9.+-]+/g, '_').replace(/^_+|_+$/g, '');
}

/**
 * One `q-distribution` figure spec per group of SCAAT cells (trainer 'scaat') that has a cell
 * with a current evaluation and a q_i log; ids `q-distribution-<partition>-<group>`.
 */
export function sweepQSpecs(sweep: { readonly cells: readonly SweepTableCell[] }, table: SweepTableModel): FigureSpec[] {
  const byName = new Map(sweep.cells.map((c) => [c.name, c] as const));
  const ids = new Set<string>();
  const specs: FigureSpec[] = [];
  for (const p of table.partitions) {
    const value = p.title.includes(' = ') ? p.title.slice(p.title.indexOf(' = ') + 3) : '';
    for (const g of p.groups) {
      const scaat = g.cells.flatMap((name) => {
        const c = byName.get(name);
        return c?.run?.trainer === 'scaat' ? [c] : [];
      });
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
  }
  return specs;
}

/** The sweep's q_i figures rendered to SVG (see {@link sweepQSpecs}). */
export async function renderSweepQFigures(sweep: { readonly cells: readonly SweepTableCell[] }, table: SweepTableModel): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const f of sweepQSpecs(sweep, table)) figures.push({ id: f.id, title: f.title, caption: f.caption, svg: await renderSpecSvg(f.spec) });
  return figures;
}

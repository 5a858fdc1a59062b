import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_TRAINERS } from '../scaat/registry.js';
import { expandGrid, parseGrid } from './grid.js';
import { keptToRetrain } from './run.js';
import { SWEEP_CELL_KIND } from './sweep-files.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'scaat-retrain-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// An epochs chain 1 → 2 → 4 of SCAAT and a fine-tuning cell from the regular run (grid.ts names them).
const grid = parseGrid(
  {
    base: { data: 'synthetic', model: 'mlp', schedule: 'constant' },
    axes: [
      { trainer: ['regular', 'scaat'], epochs: [1, 2, 4], seed: [0] },
      { trainer: ['scaat'], seed: [0], model: { ft: { cell: { trainer: 'regular', epochs: 1 } } }, epochs: [1] },
    ],
    evaluation: { limit: 8, methods: ['vanilla-gradient'] },
  },
  'g.json',
  ALL_TRAINERS,
);
const cells = expandGrid(grid, { out: 'unused', trainers: ALL_TRAINERS });
const [r1, , , s1, s2, s4, ft] = ['trainer=regular__epochs=1__seed=0', 'trainer=regular__epochs=2__seed=0', 'trainer=regular__epochs=4__seed=0', 'trainer=scaat__epochs=1__seed=0', 'trainer=scaat__epochs=2__seed=0', 'trainer=scaat__epochs=4__seed=0', 'trainer=scaat__epochs=1__seed=0__model=ft'];

/** A folder layout: `kept` cells complete in the results folder; in out, cells with a config only (started), a final model, or an eval.json. */
function layout(name: string, o: { kept: string[]; started?: string[]; trained?: string[]; evaluated?: string[] }) {
  const [results, out] = [path.join(tmp, name, 'results'), path.join(tmp, name, 'out')];
  for (const c of o.kept) {
    mkdirSync(path.join(results, c), { recursive: true });
    for (const f of ['config.json', 'log.jsonl', 'eval.json']) writeFileSync(path.join(results, c, f), '{}');
    writeFileSync(path.join(results, c, 'cell.json'), JSON.stringify({ kind: SWEEP_CELL_KIND, evaluation: grid.evaluation }));
  }
  const put = (file: string) => {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '{}');
  };
  for (const c of o.started ?? []) put(path.join(out, c, 'config.json'));
  for (const c of o.trained ?? []) put(path.join(out, c, 'model', 'model.json'));
  for (const c of o.evaluated ?? []) put(path.join(out, c, 'eval.json'));
  return (mine = cells) => Object.fromEntries(keptToRetrain(mine, out, results, grid.evaluation));
}

describe('keptToRetrain', () => {
  it('the sources of the cells still to train, transitively along a chain; a fine-tuning source too', () => {
    expect(cells.map((c) => c.name)).toEqual(expect.arrayContaining([r1!, s1!, s2!, s4!, ft!]));
    // everything kept but the 4-epoch SCAAT cell and the fine-tuning cell
    const retrain = layout('chain', { kept: cells.map((c) => c.name).filter((n) => n !== s4 && n !== ft) });
    expect(retrain()).toEqual({ [s2!]: s4, [s1!]: s2, [r1!]: ft });
    // nothing kept is needed when every cell is kept
    expect(layout('all', { kept: cells.map((c) => c.name) })()).toEqual({});
    // without a results folder, nothing
    expect(keptToRetrain(cells, path.join(tmp, 'none'), undefined, grid.evaluation).size).toBe(0);
  });

  it('not the source of a continuing cell that has started (it resumes from its own checkpoints), nor of a trained or evaluated one', () => {
    const kept = cells.map((c) => c.name).filter((n) => n !== s4 && n !== ft);
    expect(layout('started', { kept, started: [s4!] })()).toEqual({ [r1!]: ft });
    expect(layout('trained', { kept, trained: [s4!, ft!] })()).toEqual({});
    // an evaluation without a model trains nothing (MODEL_NOT_KEPT)
    expect(layout('evaluated', { kept, evaluated: [s4!, ft!] })()).toEqual({});
    // a fine-tuning cell that has started still needs its source's weights (checked on every start)
    expect(layout('ft-started', { kept, started: [ft!], trained: [s4!] })()).toEqual({ [r1!]: ft });
  });

  it('not the source of a cell that is copied from a --reuse folder (it trains nothing)', () => {
    const [results, out] = [path.join(tmp, 'chain', 'results'), path.join(tmp, 'chain', 'out')];
    // the layout of the first test: everything kept but s4 and ft; s4 copied from another sweep
    expect(Object.fromEntries(keptToRetrain(cells, out, results, grid.evaluation, new Set([s4!])))).toEqual({ [r1!]: ft });
  });

  it('only within the cells of this part (a source outside it is not retrained here)', () => {
    const retrain = layout('part', { kept: cells.map((c) => c.name).filter((n) => n !== s4) });
    expect(retrain(cells.filter((c) => c.name === s4 || c.name === s2))).toEqual({ [s2!]: s4 });
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_TRAINERS } from '../scaat/registry.js';
import type { TrainConfig } from '../train/config.js';
import { expandGrid, parseGrid } from './grid.js';
import { configDifferences, planReuse } from './reuse.js';

const out = mkdtempSync(path.join(os.tmpdir(), 'scaat-reuse-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

// An epochs chain 1 → 2 of regular training and a SCAAT cell fine-tuning the 1-epoch run.
const grid = parseGrid(
  {
    base: { data: 'synthetic', model: 'mlp', schedule: 'constant' },
    axes: [
      { trainer: ['regular'], epochs: [1, 2], seed: [0] },
      { trainer: ['scaat'], seed: [0], model: { ft: { cell: { trainer: 'regular', epochs: 1 } } }, epochs: [1] },
    ],
    evaluation: { limit: 8, methods: ['vanilla-gradient'] },
  },
  'g.json',
  ALL_TRAINERS,
);
const cells = expandGrid(grid, { out, trainers: ALL_TRAINERS });
const byName = (n: string) => cells.find((c) => c.name === n)!;
const [r1, r2, ft] = ['trainer=regular__epochs=1__seed=0', 'trainer=regular__epochs=2__seed=0', 'trainer=scaat__epochs=1__seed=0__model=ft'].map(byName);
const configOf = (c: { config: TrainConfig }) => c.config;
const other = (c: TrainConfig, change: Partial<TrainConfig>): TrainConfig => ({ ...c, ...change });

describe('reuse: the same run', () => {
  it("compares of trainerOptions only the run's own trainer's; backend and modelSha256 never", () => {
    const c = r1!.config;
    const scaatChanged = other(c, { trainerOptions: { ...c.trainerOptions, scaat: { ...(c.trainerOptions['scaat'] as object), lambda: 0.5 } } });
    expect(configDifferences(scaatChanged, c, new Set())).toEqual([]);
    const ownChanged = other(c, { trainerOptions: { ...c.trainerOptions, regular: { extra: 1 } } });
    expect(configDifferences(ownChanged, c, new Set())).toEqual(['trainerOptions']);
    expect(configDifferences(other(c, { backend: 'cpu', lr: 0.5 }), c, new Set(['backend', 'modelSha256']))).toEqual(['lr']);
  });

  it('plans a copy for each cell without a folder that a source is the same run as; a model-less source not for a cell another continues; never a fine-tuning cell', () => {
    const plan = (sources: Array<{ config: TrainConfig; model: boolean }>) =>
      Object.fromEntries([...planReuse(cells, out, sources.map((s, i) => ({ dir: `s${i}`, ...s })), configOf)].map(([k, v]) => [k, v.dir]));
    // a results-folder source (no model) of the 1-epoch run: r2 continues it and needs its weights
    expect(plan([{ config: r1!.config, model: false }])).toEqual({});
    expect(plan([{ config: r1!.config, model: true }])).toEqual({ [r1!.name]: 's0' });
    // the 2-epoch run: no cell continues it, a model-less copy does
    expect(plan([{ config: r2!.config, model: false }])).toEqual({ [r2!.name]: 's0' });
    // another seed or epochs: another run
    expect(plan([{ config: other(r2!.config, { seed: 1 }), model: true }, { config: other(r2!.config, { epochs: 3 }), model: true }])).toEqual({});
    // the fine-tuning cell, even given its own config
    expect(plan([{ config: ft!.config, model: true }])).toEqual({});
    // cells in `skip` (restored from the results folder) are left alone
    expect(planReuse(cells, out, [{ dir: 's0', config: r2!.config, model: true }], configOf, new Set([r2!.name])).size).toBe(0);
  });
});

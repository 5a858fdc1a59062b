import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_TRAINERS } from '../scaat/registry.js';
import type { TrainConfig } from '../train/config.js';
import { expandGrid, parseGrid } from './grid.js';
import { configDifferences, planReuse, reuseCell } from './reuse.js';
import { SWEEP_CELL_KIND, SWEEP_SCHEMA_VERSION } from './sweep-files.js';

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

  it('reuseCell copies the folder but its locks, temporaries and error.json, names this cell in cell.json; re-checks the source; never replaces a folder', async () => {
    const src = path.join(out, 'src-cell');
    const put = (f: string, text = '{}') => {
      mkdirSync(path.dirname(path.join(src, f)), { recursive: true });
      writeFileSync(path.join(src, f), text);
    };
    put('config.json', JSON.stringify(r2!.config));
    put('log.jsonl', '{"type":"end"}\n');
    put('eval.json');
    put('cell.json', JSON.stringify({ kind: SWEEP_CELL_KIND, schemaVersion: SWEEP_SCHEMA_VERSION, name: 'other-name', params: { epochs: '2' }, evaluation: grid.evaluation }));
    put('model/model.json');
    put('checkpoints/step-1/state.json');
    put('checkpoints/.tmp-123/state.json');
    put('.lock-1-0123456789abcdef');
    put('error.json');
    const dest = path.join(out, 'dest');
    mkdirSync(dest, { recursive: true });
    const record = { kind: SWEEP_CELL_KIND, schemaVersion: SWEEP_SCHEMA_VERSION, name: 'trainer=regular__seed=0', params: { trainer: 'regular', seed: '0' }, evaluation: grid.evaluation } as const;
    // a staging folder left by a copy killed part-way is removed
    mkdirSync(path.join(dest, '.trainer=regular__seed=0.reusing-1'));
    expect(await reuseCell(src, dest, record, r2!.config, ALL_TRAINERS)).toBeUndefined();
    const copy = path.join(dest, record.name);
    expect(readdirSync(dest)).toEqual([record.name]);
    expect(readdirSync(copy).sort()).toEqual(['cell.json', 'checkpoints', 'config.json', 'eval.json', 'log.jsonl', 'model']);
    expect(readdirSync(path.join(copy, 'checkpoints'))).toEqual(['step-1']);
    expect(JSON.parse(readFileSync(path.join(copy, 'cell.json'), 'utf8'))).toEqual({ ...record, reusedFrom: src });
    expect(readFileSync(path.join(copy, 'log.jsonl'), 'utf8')).toBe('{"type":"end"}\n');
    // the folder is there now: never replaced
    expect(await reuseCell(src, dest, record, r2!.config, ALL_TRAINERS)).toMatch(/appeared meanwhile$/);
    // the source changed since the plan: evaluated again with other settings, or another run (its lr)
    const other = { ...record, name: 'another' };
    put('cell.json', JSON.stringify({ kind: SWEEP_CELL_KIND, evaluation: { limit: 1 } }));
    expect(await reuseCell(src, dest, other, r2!.config, ALL_TRAINERS)).toMatch(/no longer evaluated with this grid's settings$/);
    put('cell.json', JSON.stringify({ kind: SWEEP_CELL_KIND, evaluation: grid.evaluation }));
    put('config.json', JSON.stringify({ ...r2!.config, lr: 0.5 }));
    expect(await reuseCell(src, dest, other, r2!.config, ALL_TRAINERS)).toMatch(/no longer the same run$/);
    expect(await reuseCell(path.join(out, 'nowhere'), dest, other, r2!.config, ALL_TRAINERS)).toMatch(/^copying it failed: /);
    expect(readdirSync(dest)).toEqual([record.name]); // nothing left by the refused copies
    expect(existsSync(path.join(dest, 'another'))).toBe(false);
  });
});

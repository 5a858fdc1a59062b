import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_TRAINERS } from '../scaat/registry.js';
import { expandGrid, parseGrid } from './grid.js';
import { dropParked, parkCell, parkedDir, parkedCells, unparkCell } from './results.js';
import { planStart } from './run.js';
import { SWEEP_CELL_KIND } from './sweep-files.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'scaat-park-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Writes `files` (relative path → content) under `dir`. */
function put(dir: string, files: Record<string, string>): void {
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), text);
  }
}
/** Every file under `dir`, relative, sorted. */
const files = (dir: string): string[] => (readdirSync(dir, { recursive: true, withFileTypes: true }) as Array<{ isFile(): boolean; parentPath: string; name: string }>)
  .filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();

// A run stopped part-way: two checkpoints, latest.json naming the second, a lock file and a temporary.
const stopped = {
  'config.json': '{"lr":0.1}',
  'log.jsonl': '{"type":"step"}\n',
  'checkpoints/latest.json': '{"name":"step-00000200"}',
  'checkpoints/step-00000100/weights.bin': 'old',
  'checkpoints/step-00000200/weights.bin': 'new',
  'checkpoints/step-00000200/state.json': '{}',
  '.lock-1-abc': '{}',
  'log.jsonl.tmp-1': 'partial',
};

describe('parking a stopped cell in the results folder', () => {
  it('keeps its config, log and latest checkpoint only; a trained cell its model too; nothing without a checkpoint', async () => {
    const out = path.join(root, 'a', 'out');
    const results = path.join(root, 'a', 'results');
    put(path.join(out, 'c1'), stopped);
    expect(await parkCell(out, results, 'c1')).toBe(true);
    expect(files(parkedDir(results, 'c1'))).toEqual(['checkpoints/latest.json', 'checkpoints/step-00000200/state.json', 'checkpoints/step-00000200/weights.bin', 'config.json', 'log.jsonl']);
    expect(readFileSync(path.join(parkedDir(results, 'c1'), 'checkpoints/step-00000200/weights.bin'), 'utf8')).toBe('new');

    // stopped while evaluating: the final model (and the final checkpoint, which a longer cell continues)
    put(path.join(out, 'c2'), { ...stopped, 'model/model.json': '{}', 'model/weights.bin': 'final' });
    expect(await parkCell(out, results, 'c2')).toBe(true);
    expect(files(parkedDir(results, 'c2'))).toContain('model/weights.bin');

    // started but no checkpoint yet: nothing to resume from, nothing parked
    put(path.join(out, 'c3'), { 'config.json': '{}', 'log.jsonl': '' });
    expect(await parkCell(out, results, 'c3')).toBe(false);
    expect(existsSync(parkedDir(results, 'c3'))).toBe(false);

    // parked again later: the new copy replaces the old one whole (the older checkpoint is not kept)
    put(path.join(out, 'c1'), { 'checkpoints/latest.json': '{"name":"step-00000300"}', 'checkpoints/step-00000300/weights.bin': 'newer' });
    expect(await parkCell(out, results, 'c1')).toBe(true);
    expect(files(parkedDir(results, 'c1'))).toEqual(['checkpoints/latest.json', 'checkpoints/step-00000300/weights.bin', 'config.json', 'log.jsonl']);
    expect(readdirSync(path.join(results, 'parked')).sort()).toEqual(['c1', 'c2']); // no staged leftovers
  });

  it('is moved into an --out without the cell, never over one there; dropped once saved', async () => {
    const out = path.join(root, 'b', 'out');
    const results = path.join(root, 'b', 'results');
    put(parkedDir(results, 'p'), { 'config.json': '{}', 'checkpoints/latest.json': '{"name":"s"}', 'checkpoints/s/weights.bin': 'w' });
    put(parkedDir(results, 'here'), { 'config.json': '{}' });
    put(path.join(out, 'here'), { 'config.json': '{"mine":1}' });
    put(parkedDir(results, 'done'), { 'config.json': '{}' });
    const evaluation = { limit: 8 };
    put(path.join(results, 'done'), { 'config.json': '{}', 'log.jsonl': '', 'eval.json': '{}', 'cell.json': JSON.stringify({ kind: SWEEP_CELL_KIND, evaluation }) });
    // 'done' is parked and kept: run.ts planStart decides (below)
    expect([...parkedCells(results, out, ['p', 'here', 'done', 'none'])]).toEqual(['p', 'done']);
    expect(parkedCells(undefined, out, ['p']).size).toBe(0);

    await unparkCell(results, out, 'p');
    expect(files(path.join(out, 'p'))).toEqual(['checkpoints/latest.json', 'checkpoints/s/weights.bin', 'config.json']);
    expect(existsSync(parkedDir(results, 'p'))).toBe(true); // kept until the cell's results are saved
    expect(parkedCells(results, out, ['p']).size).toBe(0); // --out has it now

    await dropParked(results, 'p');
    await dropParked(results, 'here');
    expect(readdirSync(path.join(results, 'parked'))).toEqual(['done']);
    await dropParked(results, 'done');
    expect(existsSync(path.join(results, 'parked'))).toBe(false); // the empty parked folder goes too
    await dropParked(results, 'never-parked'); // nothing to do
  });

  it('planStart: a parked cell is a started cell (a kept shorter run it continues is restored); a kept one resumes only where it must train again', () => {
    const grid = parseGrid(
      { base: { data: 'synthetic', model: 'mlp', schedule: 'constant' }, axes: { trainer: ['regular'], epochs: [1, 2], seed: [0] }, evaluation: { limit: 8, methods: ['vanilla-gradient'] } },
      'g.json',
      ALL_TRAINERS,
    );
    const out = path.join(root, 'c', 'out');
    const results = path.join(root, 'c', 'results');
    const cells = expandGrid(grid, { out, trainers: ALL_TRAINERS });
    const [short, long] = cells;
    expect(long!.continues).toBe(short!.name);
    put(path.join(results, short!.name), { 'config.json': '{}', 'log.jsonl': '', 'eval.json': '{}', 'cell.json': JSON.stringify({ kind: SWEEP_CELL_KIND, evaluation: grid.evaluation }) });
    const plan = () => planStart(cells, out, { results, sources: [], evaluation: grid.evaluation, configOf: (c) => c.config });
    // not parked: the longer cell must start from the shorter run's model, which the results folder lacks
    expect([...plan().retrain]).toEqual([[short!.name, long!.name]]);
    // parked part-way: it resumes from its own checkpoint and needs no model
    put(parkedDir(results, long!.name), { 'config.json': '{}', 'checkpoints/latest.json': '{"name":"s"}' });
    const p = plan();
    expect([...p.parked]).toEqual([long!.name]);
    expect(p.retrain.size).toBe(0);
    expect([...p.restore]).toEqual([short!.name]);

    // the kept shorter run, stopped while it trained again for the longer one: resumed from its parked checkpoint
    rmSync(parkedDir(results, long!.name), { recursive: true });
    put(parkedDir(results, short!.name), { 'config.json': '{}', 'checkpoints/latest.json': '{"name":"s"}' });
    const q = plan();
    expect([...q.parked]).toEqual([short!.name]);
    expect([...q.retrain]).toEqual([[short!.name, long!.name]]);
    expect(q.restore.size).toBe(0);
    // once the longer cell is kept too, nothing needs the shorter run's model: restored, its parked copy ignored
    put(path.join(results, long!.name), { 'config.json': '{}', 'log.jsonl': '', 'eval.json': '{}', 'cell.json': JSON.stringify({ kind: SWEEP_CELL_KIND, evaluation: grid.evaluation }) });
    const k = plan();
    expect(k.parked.size).toBe(0);
    expect(k.retrain.size).toBe(0);
    expect([...k.restore].sort()).toEqual([short!.name, long!.name].sort());
  });
});
